//! `relance sample`.

use std::path::PathBuf;
use std::process::ExitCode;

/// Write a realistic sample institution.
#[derive(clap::Args)]
pub struct SampleArgs {
    /// Folder to write relance.toml, patrons.csv and loans.csv into.
    #[arg(long)]
    pub out: PathBuf,
    /// Random seed: the same seed gives the same sample.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of loans.
    #[arg(long, default_value_t = 400)]
    pub loans: usize,
}

pub fn run(_args: SampleArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("sample is being written")
}
