//! The files a run writes at the end, tracked so that a failure (a full disk) says which were
//! written, complete, and which were not.

use std::path::{Path, PathBuf};

/// Every output, in the order the run writes them (the plots are one step).
pub const PLANNED: [&str; 7] = [
    "model.safetensors",
    "model.onnx",
    "history.json",
    "metrics.json",
    "plots (*.svg, misclassified.png)",
    "report.html",
    "run.json",
];

/// The outputs written so far.
pub struct Outputs {
    dir: PathBuf,
    written: Vec<&'static str>,
}

impl Outputs {
    /// Nothing written yet into `dir`.
    pub fn new(dir: &Path) -> Self {
        Outputs {
            dir: dir.to_path_buf(),
            written: Vec::new(),
        }
    }

    /// Runs `write` for output `name` (one of [`PLANNED`]); on failure the error says what was
    /// and was not written.
    pub fn write<T>(
        &mut self,
        name: &'static str,
        write: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        match write() {
            Ok(value) => {
                self.written.push(name);
                Ok(value)
            }
            Err(e) => Err(e.context(self.failure(name))),
        }
    }

    /// The first line of a failed run's error.
    fn failure(&self, failed: &str) -> String {
        let missing: Vec<&str> = PLANNED
            .iter()
            .copied()
            .filter(|p| !self.written.contains(p))
            .collect();
        let list = |names: &[&str]| {
            if names.is_empty() {
                String::from("none")
            } else {
                names.join(", ")
            }
        };
        format!(
            "writing {failed} into {} failed; written (complete): {}; not written: {} (files \
             are replaced whole, so none is partial and an older copy of a failed one survives)",
            self.dir.display(),
            list(&self.written),
            list(&missing),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_lists_what_was_and_was_not_written() {
        let mut outputs = Outputs::new(Path::new("runs/x"));
        outputs.write("model.safetensors", || Ok(())).unwrap();
        outputs.write("model.onnx", || Ok(())).unwrap();
        let err = outputs
            .write("history.json", || -> anyhow::Result<()> {
                Err(std::io::Error::from_raw_os_error(28).into())
            })
            .unwrap_err();
        let first = err.to_string();
        assert!(
            first.starts_with("writing history.json into runs/x failed; written (complete): model.safetensors, model.onnx; not written: history.json, metrics.json, plots"),
            "{first}"
        );
        assert!(
            format!("{err:#}").to_lowercase().contains("no space left"),
            "{err:#}"
        );
    }
}
