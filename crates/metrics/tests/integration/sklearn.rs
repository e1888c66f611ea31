//! Cross-check against scikit-learn on random cases; skipped (with a message) when Python with
//! scikit-learn is not installed, failed under CI (which installs it). `PYTHON` picks the
//! interpreter.
//! `cargo xtask verify-metrics --cases N` runs the same check on more cases.

use crate::crosscheck;

use neurite_testing::{probe, require};
use std::path::Path;

/// Enough to hit every degenerate case several times while keeping CI fast (Python is the
/// slow side, about 0.1 s per case).
const CASES: usize = 120;

#[test]
fn metrics_match_scikit_learn() {
    let python = require!("metrics_match_scikit_learn", probe::sklearn());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sk_reference.py");
    let summary = crosscheck::run(CASES, 7, &python, &script).unwrap();
    eprintln!(
        "compared {} cases, {} values with scikit-learn; largest difference {:e}; {} mismatches",
        summary.cases,
        summary.values,
        summary.max_difference,
        summary.mismatches.len()
    );
    for m in summary.mismatches.iter().take(20) {
        eprintln!("{m}");
    }
    assert!(
        summary.mismatches.is_empty(),
        "{} mismatches with scikit-learn",
        summary.mismatches.len()
    );
    assert_eq!(summary.cases, CASES);
}
