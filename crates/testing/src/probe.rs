//! Probes for the optional tools: each returns what the test needs, or why it is missing and
//! the command that installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's `dataset-fashion-mnist` installs the four `.gz` files.
pub const DEBIAN_FASHION_MNIST: &str = "/usr/share/datasets/fashion-mnist";

/// The Python interpreter the cross-checks run: `$PYTHON`, else `python3`.
pub fn python_interpreter() -> String {
    std::env::var("PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// The interpreter, if it can import every one of `modules`; else why not, ending in `install`.
pub fn python(modules: &[&str], install: &str) -> Result<String, String> {
    let python = python_interpreter();
    let imports = format!("import {}", modules.join(", "));
    match Command::new(&python).args(["-c", &imports]).output() {
        Ok(out) if out.status.success() => Ok(python),
        Ok(_) => Err(format!(
            "`{python}` cannot import {} (install: {install})",
            modules.join(", ")
        )),
        Err(e) => Err(format!("cannot run `{python}`: {e} (install: {install})")),
    }
}

/// Python with scikit-learn and numpy (the metrics cross-check).
pub fn sklearn() -> Result<String, String> {
    python(
        &["sklearn", "numpy"],
        "python3 -m pip install scikit-learn numpy",
    )
}

/// Python with safetensors and numpy (model files read by the reference reader).
pub fn python_safetensors() -> Result<String, String> {
    python(
        &["numpy", "safetensors.numpy"],
        "python3 -m pip install numpy safetensors",
    )
}

/// Python with onnx and onnxruntime (the ONNX checker and runtime against neurite).
pub fn onnxruntime() -> Result<String, String> {
    python(
        &["numpy", "onnx", "onnxruntime"],
        "python3 -m pip install numpy onnx onnxruntime",
    )
}

/// Debian's Fashion-MNIST: the directory, if it holds the four files.
pub fn debian_fashion_mnist() -> Result<PathBuf, String> {
    let dir = Path::new(DEBIAN_FASHION_MNIST);
    let files = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ];
    match files.iter().find(|f| !dir.join(f).is_file()) {
        None => Ok(dir.to_path_buf()),
        Some(missing) => Err(format!(
            "{} not found (install: sudo apt-get install dataset-fashion-mnist)",
            dir.join(missing).display()
        )),
    }
}

/// Every probe above by name, for the summary of what a run skipped.
pub fn all() -> Vec<(&'static str, Result<String, String>)> {
    vec![
        ("scikit-learn (metrics cross-check)", sklearn()),
        ("Python safetensors (model files)", python_safetensors()),
        ("onnx + onnxruntime (ONNX export)", onnxruntime()),
        (
            "Debian Fashion-MNIST (real 70k data)",
            debian_fashion_mnist().map(|p| p.display().to_string()),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_module_names_itself_and_the_install_command() {
        let err = python(&["no_such_module_neurite"], "pip install it").unwrap_err();
        assert!(err.contains("no_such_module_neurite"), "{err}");
        assert!(err.ends_with("(install: pip install it)"), "{err}");
    }
}
