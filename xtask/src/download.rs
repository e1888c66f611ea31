//! `cargo xtask download`: arrives with issue 6.

/// Arguments of `cargo xtask download`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask download` is not available yet (issue 6)")
}
