//! `relance import`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Import patrons and loans from CSV exports.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// patrons.csv
    #[arg(long)]
    pub patrons: Option<PathBuf>,
    /// loans.csv
    #[arg(long)]
    pub loans: Option<PathBuf>,
    /// The loans file lists every open loan: close the open loans it does not list.
    #[arg(long)]
    pub snapshot: bool,
    /// With --snapshot, close even more than 20 % of the open loans.
    #[arg(long, requires = "snapshot")]
    pub force: bool,
    /// Import nothing if any row is bad.
    #[arg(long)]
    pub strict: bool,
}

pub fn run(_config: &Path, _args: ImportArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("import is being written")
}
