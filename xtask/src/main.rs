//! `cargo xtask <command>`: developer tasks for neurite (alias in `.cargo/config.toml`).
//!
//! Each command lives in its own module with its own `Args`; this file only dispatches.

mod bench;
mod download;
mod gradcheck;
mod train_mnist;
mod verify_metrics;
mod verify_onnx;

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

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Download(args) => download::run(args),
        Command::TrainMnist(args) => train_mnist::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Gradcheck(args) => gradcheck::run(args),
        Command::VerifyOnnx(args) => verify_onnx::run(args),
        Command::VerifyMetrics(args) => verify_metrics::run(args),
    }
}
