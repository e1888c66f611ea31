//! `cargo xtask verify-metrics`: arrives with issue 7.

/// Arguments of `cargo xtask verify-metrics`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask verify-metrics` is not available yet (issue 7)")
}
