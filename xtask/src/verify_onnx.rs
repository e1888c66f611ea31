//! `cargo xtask verify-onnx`: arrives with issue 8.

/// Arguments of `cargo xtask verify-onnx`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask verify-onnx` is not available yet (issue 8)")
}
