//! `cargo xtask gradcheck`: arrives with issue 4.

/// Arguments of `cargo xtask gradcheck`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask gradcheck` is not available yet (issue 4)")
}
