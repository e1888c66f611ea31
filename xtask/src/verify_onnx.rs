//! `cargo xtask verify-onnx`: checks the exported reference models with real ONNX tooling.
//!
//! Exports mlp, cnn and the every-layer model (`neurite_onnx::samples`) with a batch of inputs
//! and neurite's inference-mode outputs, then runs `crates/onnx/scripts/verify_onnx.py`:
//! `onnx.checker.check_model(full_check=True)`, onnxruntime inference, and the largest absolute
//! difference per model, failing above the tolerance. Needs
//! `python3 -m pip install numpy onnx onnxruntime`.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, bail};

/// Arguments of `cargo xtask verify-onnx`.
#[derive(clap::Args)]
pub struct Args {
    /// Write the models here and keep them (default: a temporary directory, removed after).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Inputs per model.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Seed of the weights and inputs.
    #[arg(long, default_value_t = 2024)]
    seed: u64,
    /// Largest accepted absolute difference between onnxruntime and neurite.
    #[arg(long, default_value_t = 1e-5)]
    tolerance: f64,
    /// Python interpreter with numpy, onnx and onnxruntime installed.
    #[arg(long, default_value = "python3")]
    python: String,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let ready = Command::new(&args.python)
        .args(["-c", "import numpy, onnx, onnxruntime"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        bail!(
            "`{0}` cannot import numpy, onnx and onnxruntime; install them with \
             `{0} -m pip install numpy onnx onnxruntime` or pass --python",
            args.python
        );
    }
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let (dir, temporary) = match &args.dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("neurite-verify-onnx-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = export_and_check(&args, &dir);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn export_and_check(args: &Args, dir: &std::path::Path) -> anyhow::Result<()> {
    let written = neurite::onnx::samples::write_reference_set(dir, args.batch, args.seed)
        .context("exporting the reference models")?;
    for w in &written {
        println!(
            "exported {} {:?} -> {:?}: {}",
            w.name,
            w.input_shape,
            w.output_shape,
            w.onnx.display()
        );
    }
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/onnx/scripts/verify_onnx.py");
    let status = Command::new(&args.python)
        .arg(&script)
        .arg(dir.join("manifest.json"))
        .arg("--tolerance")
        .arg(args.tolerance.to_string())
        .status()
        .with_context(|| format!("running {}", script.display()))?;
    if !status.success() {
        bail!("verify_onnx.py failed ({status})");
    }
    Ok(())
}
