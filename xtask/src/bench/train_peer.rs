//! The Python peers of `bench train`: Keras (on TensorFlow and on JAX) and PyTorch train the same
//! reference models through `xtask/peers/peer_train.py`, which prints one JSON line with its
//! figures. The benchmark owns its peers: the script and its pinned requirements live here.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use clap::ValueEnum;
use neurite::data::{DatasetInfo, FileKind, Resolver, Split};
use serde::Deserialize;

use super::train_report::Measurement;

/// Which peers `bench train` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PeerChoice {
    /// Every peer whose Python package imports (a note says which are skipped and why).
    Auto,
    /// No peer: neurite only.
    None,
    /// Keras on TensorFlow only; an error if it cannot run.
    Keras,
    /// Keras on JAX only; an error if it cannot run.
    KerasJax,
    /// PyTorch only; an error if it cannot run.
    Torch,
}

/// The environment variable naming the Python interpreter of the peers (default `python3`),
/// e.g. a virtual environment's `bin/python` holding the pinned frameworks.
pub const PYTHON_ENV: &str = "NEURITE_PEER_PYTHON";

/// The Python interpreter the peers run in.
fn python() -> String {
    std::env::var(PYTHON_ENV).unwrap_or_else(|_| "python3".to_string())
}

/// Where the peer script lives: `xtask/peers/peer_train.py`.
pub fn default_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/peer_train.py")
}

/// The peers to run: `auto` keeps those that can run (and says why others cannot), an explicit
/// choice must be able to run.
pub fn select(choice: PeerChoice, script: &Path) -> anyhow::Result<Vec<&'static str>> {
    let wanted: &[&'static str] = match choice {
        PeerChoice::None => return Ok(Vec::new()),
        PeerChoice::Auto => &["keras", "keras-jax", "torch"],
        PeerChoice::Keras => &["keras"],
        PeerChoice::KerasJax => &["keras-jax"],
        PeerChoice::Torch => &["torch"],
    };
    let strict = choice != PeerChoice::Auto;
    let readme = script.with_file_name("README.md");
    if !script.is_file() {
        let message = format!(
            "the peer script {} is not there; running neurite only",
            script.display()
        );
        if strict {
            bail!("{message}; pass --peer-script PATH or --peers none");
        }
        eprintln!("note: {message}");
        return Ok(Vec::new());
    }
    let mut chosen = Vec::new();
    for &framework in wanted {
        let module = match framework {
            "keras" => "keras, tensorflow",
            "keras-jax" => "keras, jax",
            _ => "torch",
        };
        if importable(module) {
            chosen.push(framework);
        } else {
            let message = format!(
                "`{python} -c \"import {module}\"` fails, so {framework} cannot run; install the peers with `{python} -m pip install -r {}` (see {}; {PYTHON_ENV} names another interpreter)",
                script.with_file_name("requirements.txt").display(),
                readme.display(),
                python = python(),
            );
            if strict {
                bail!("{message}");
            }
            eprintln!("note: {message}; skipping {framework}");
        }
    }
    Ok(chosen)
}

fn importable(module: &str) -> bool {
    Command::new(python())
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The one directory holding all four IDX files of `dataset`, as the peer script wants them.
pub fn data_dir(resolver: &Resolver, dataset: &DatasetInfo) -> anyhow::Result<PathBuf> {
    let mut dirs = Vec::new();
    for split in [Split::Train, Split::Test] {
        for kind in [FileKind::Images, FileKind::Labels] {
            let file = dataset.file(split, kind).with_context(|| {
                format!("{} lists no {kind:?} file for {split:?}", dataset.name)
            })?;
            let path = resolver.locate(dataset, file)?;
            let dir = path
                .parent()
                .with_context(|| format!("{} has no parent directory", path.display()))?
                .to_path_buf();
            dirs.push(dir);
        }
    }
    dirs.sort();
    dirs.dedup();
    match dirs.as_slice() {
        [dir] => Ok(dir.clone()),
        _ => bail!(
            "the {} files are spread over several directories ({}); the peer script needs them in one: pass --data DIR with all four in DIR/{}/",
            dataset.name,
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            dataset.name
        ),
    }
}

/// The settings shared by every peer run of one invocation.
pub struct PeerRunner {
    /// Path of `peer_train.py`.
    pub script: PathBuf,
    /// Directory with the IDX files.
    pub data: PathBuf,
    /// Training epochs.
    pub epochs: usize,
    /// Train on the first N images only.
    pub limit: Option<usize>,
    /// Seed for weights and shuffling.
    pub seed: u64,
}

impl PeerRunner {
    /// Trains `model` in `framework` with `threads` threads and returns its figures.
    pub fn run(&self, framework: &str, model: &str, threads: usize) -> anyhow::Result<Measurement> {
        let mut command = Command::new(python());
        command
            .arg(&self.script)
            .args(["--framework", framework, "--model", model, "--data"])
            .arg(&self.data)
            .args(["--epochs", &self.epochs.to_string()])
            .args(["--threads", &threads.to_string()])
            .args(["--seed", &self.seed.to_string()]);
        if let Some(n) = self.limit {
            command.args(["--limit-train", &n.to_string()]);
        }
        let output = command
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("starting {} {}", python(), self.script.display()))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "{framework} {model} ({threads} threads) failed with {}; the end of its error output:\n{}",
                output.status,
                tail(&String::from_utf8_lossy(&output.stderr), 20)
            );
        }
        // TensorFlow logs to stderr, but take the last JSON-looking line in case anything else
        // printed to stdout before it.
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .with_context(|| {
                format!(
                    "{framework} {model} printed no JSON line; its output was:\n{}",
                    tail(&stdout, 20)
                )
            })?;
        parse_output(line)
            .with_context(|| format!("reading the {framework} {model} result line: {line}"))
    }
}

/// The fields of `peer_train.py`'s JSON line that the benchmark uses.
#[derive(Deserialize)]
struct PeerOutput {
    framework: String,
    version: String,
    model: String,
    threads: usize,
    train_samples: usize,
    epoch_seconds: Vec<f64>,
    test_accuracy: f64,
    inference_samples_per_sec: f64,
}

/// Reads one result line of the peer script.
pub fn parse_output(line: &str) -> anyhow::Result<Measurement> {
    let out: PeerOutput = serde_json::from_str(line)?;
    if out.epoch_seconds.is_empty() {
        bail!("the peer reported no epoch times");
    }
    Ok(Measurement {
        model: out.model,
        framework: out.framework,
        version: Some(out.version),
        threads: out.threads,
        train_samples: out.train_samples,
        epoch_seconds_all: out.epoch_seconds,
        test_accuracy: out.test_accuracy,
        inference_samples_per_sec: out.inference_samples_per_sec,
    })
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"framework": "torch", "version": "torch 2.5.1", "model": "cnn", "threads": 2, "thread_pools": {"intra_op": 2}, "epochs": 3, "batch_size": 64, "seed": 0, "train_samples": 60000, "test_samples": 10000, "epoch_seconds": [31.2, 29.8, 30.1], "samples_per_sec": 1993.4, "train_loss": 0.31, "train_accuracy": 0.88, "test_loss": 0.33, "test_accuracy": 0.8812, "inference_samples_per_sec": 8000.5}"#;

    #[test]
    fn parses_the_peer_line() {
        let m = parse_output(LINE).unwrap();
        assert_eq!(m.framework, "torch");
        assert_eq!(m.model, "cnn");
        assert_eq!(m.threads, 2);
        assert_eq!(m.train_samples, 60_000);
        assert_eq!(m.epoch_seconds_all, vec![31.2, 29.8, 30.1]);
        assert_eq!(m.epoch_seconds(), 30.1);
        assert_eq!(m.test_accuracy, 0.8812);
        assert_eq!(m.version.as_deref(), Some("torch 2.5.1"));
    }

    #[test]
    fn rejects_lines_without_epochs_or_fields() {
        let no_epochs = LINE.replace("[31.2, 29.8, 30.1]", "[]");
        assert!(parse_output(&no_epochs).is_err());
        assert!(parse_output(r#"{"framework": "torch"}"#).is_err());
        assert!(parse_output("not json").is_err());
    }

    #[test]
    fn missing_script_is_an_error_only_when_asked_for() {
        let missing = Path::new("/nonexistent/peer_train.py");
        assert!(select(PeerChoice::Auto, missing).unwrap().is_empty());
        assert!(select(PeerChoice::None, missing).unwrap().is_empty());
        let err = select(PeerChoice::Torch, missing).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/peer_train.py"), "{err}");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
