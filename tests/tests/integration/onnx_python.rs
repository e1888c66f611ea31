//! The exported reference models pass `onnx.checker.check_model(full_check=True)` and agree
//! with onnxruntime to 1e-5 (the same script `cargo xtask verify-onnx` runs). Skips, with a
//! message, when `python3` cannot import numpy, onnx and onnxruntime; fails under CI, which
//! installs them.

use neurite_testing::{probe, require};
use std::path::PathBuf;
use std::process::Command;

#[test]
fn onnx_checker_and_onnxruntime_agree_with_neurite() {
    let python = require!(
        "onnx_checker_and_onnxruntime_agree_with_neurite",
        probe::onnxruntime()
    );
    let dir = tempfile::tempdir().unwrap();
    neurite_onnx::samples::write_reference_set(dir.path(), 6, 21).unwrap();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/onnx/scripts/verify_onnx.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(dir.path().join("manifest.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("max abs diff").count(), 4, "{stdout}");
}
