//! `cargo xtask <command>`: developer tasks for neurite (alias in `.cargo/config.toml`).
//!
//! Each command lives in its own module with its own `Args`; this file only dispatches.

mod bench;
mod download;
mod gradcheck;
mod train_mnist;
mod verify_metrics;
mod verify_onnx;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Developer tasks for neurite")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Download and verify MNIST / Fashion-MNIST.
    Download(download::Args),
    /// Train a reference model on MNIST or Fashion-MNIST and write a report.
    TrainMnist(train_mnist::Args),
    /// Benchmarks (GEMM, convolution, training) against this machine's peak and the peers.
    Bench(bench::Args),
    /// Finite-difference gradient checks of every layer and loss, with many cases.
    Gradcheck(gradcheck::Args),
    /// Check exported ONNX models with the onnx checker and onnxruntime (Python).
    VerifyOnnx(verify_onnx::Args),
    /// Cross-check neurite-metrics against scikit-learn (Python).
    VerifyMetrics(verify_metrics::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Download(args) => download::run(args),
        Command::TrainMnist(args) => train_mnist::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Gradcheck(args) => gradcheck::run(args),
        Command::VerifyOnnx(args) => verify_onnx::run(args),
        Command::VerifyMetrics(args) => verify_metrics::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}", user_error(&err));
            ExitCode::FAILURE
        }
    }
}

/// The text of an error a command returns: its message, then each cause on a line of its own.
///
/// An error returned from `main` would be printed with its Debug form, which includes the stack
/// backtrace anyhow captured whenever `RUST_BACKTRACE` is set, as it often is on developers'
/// machines. A returned error is the user's to fix (no network, a missing dataset, a bad flag
/// value), and a backtrace would bury its hint; a bug panics instead, and the panic hook still
/// prints its backtrace.
fn user_error(err: &anyhow::Error) -> String {
    let mut text = format!("error: {err}");
    for cause in err.chain().skip(1) {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    text
}
