//! `cargo xtask verify-metrics`: cross-checks neurite-metrics against scikit-learn.
//!
//! Generates random labelled scores (with ties, classes absent from the truth or never
//! predicted, all-equal scores, one-class binary labels), computes every metric in Rust and with
//! `crates/metrics/scripts/sk_reference.py`, and fails on any difference above 1e-12 (curves
//! point by point, report text exactly). Needs `python3 -m pip install scikit-learn numpy`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, bail};

#[path = "../../crates/metrics/tests/crosscheck/mod.rs"]
mod crosscheck;

/// Arguments of `cargo xtask verify-metrics`.
#[derive(clap::Args)]
pub struct Args {
    /// Number of random cases to compare.
    #[arg(long, default_value_t = 2000)]
    cases: usize,
    /// Seed of the random cases (the same seed gives the same cases on every machine).
    #[arg(long, default_value_t = 2024)]
    seed: u64,
    /// Python interpreter with scikit-learn and numpy installed.
    #[arg(long, default_value = "python3")]
    python: String,
    /// How many mismatches to print in full.
    #[arg(long, default_value_t = 10)]
    show: usize,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let ready = std::process::Command::new(&args.python)
        .args(["-c", "import sklearn, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        bail!(
            "`{}` cannot import scikit-learn and numpy; install them with \
             `{} -m pip install scikit-learn numpy` or pass --python",
            args.python,
            args.python
        );
    }
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/metrics/scripts/sk_reference.py");
    let started = Instant::now();
    let summary = crosscheck::run(args.cases, args.seed, &args.python, &script)
        .map_err(anyhow::Error::msg)
        .context("running the scikit-learn reference")?;
    for mismatch in summary.mismatches.iter().take(args.show) {
        eprintln!("{mismatch}");
    }
    println!(
        "verify-metrics: {} random cases (seed {}), {} values compared with scikit-learn, \
         largest difference {:e}, {} mismatches (tolerance {:e}), {:.1} s",
        summary.cases,
        args.seed,
        summary.values,
        summary.max_difference,
        summary.mismatches.len(),
        crosscheck::TOLERANCE,
        started.elapsed().as_secs_f64()
    );
    if !summary.mismatches.is_empty() {
        bail!("{} mismatches with scikit-learn", summary.mismatches.len());
    }
    Ok(())
}
