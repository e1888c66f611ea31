//! `cargo xtask train-mnist`: arrives with issue 9.

/// Arguments of `cargo xtask train-mnist`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask train-mnist` is not available yet (issue 9)")
}
