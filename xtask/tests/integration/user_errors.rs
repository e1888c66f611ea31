//! A user's mistake gives its message and hint, never a stack backtrace, even with
//! `RUST_BACKTRACE=1` set as it often is on developers' machines: a missing dataset, a flag
//! value the command refuses, a value clap cannot parse.

use std::process::{Command, Output};

/// `cargo xtask ARGS` with backtraces switched on, in an empty working directory.
fn xtask_with_backtraces(args: &[&str]) -> Output {
    let work = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(work.path())
        .env("RUST_BACKTRACE", "1")
        .args(args)
        .output()
        .unwrap()
}

/// Asserts a failed run whose stderr holds every one of `wanted` and no backtrace.
fn refused_without_backtrace(run: &Output, wanted: &[&str]) {
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "must fail: {stderr}");
    assert_ne!(
        run.status.code(),
        Some(101),
        "a panic, not an error: {stderr}"
    );
    for text in wanted {
        assert!(stderr.contains(text), "'{text}' missing from: {stderr}");
    }
    assert!(
        !stderr.to_lowercase().contains("backtrace"),
        "a user error must not print a backtrace: {stderr}"
    );
}

#[test]
fn a_missing_dataset_names_the_directory_and_the_fix() {
    let empty = tempfile::tempdir().unwrap();
    let dir = empty.path().to_str().unwrap();
    let run = xtask_with_backtraces(&["train-mnist", "--offline", "--data", dir]);
    refused_without_backtrace(
        &run,
        &[
            "error: mnist is not complete in",
            dir,
            "Put the files there",
        ],
    );
}

#[test]
fn a_refused_flag_value_says_why() {
    let run = xtask_with_backtraces(&["train-mnist", "--offline", "--limit", "0"]);
    refused_without_backtrace(&run, &["error: --limit must be at least 1"]);
}

#[test]
fn an_unparsable_flag_value_gets_clap_usage() {
    let run = xtask_with_backtraces(&["train-mnist", "--epochs", "many"]);
    refused_without_backtrace(&run, &["invalid value 'many'", "--epochs"]);
    assert_eq!(run.status.code(), Some(2), "clap's usage-error status");
}
