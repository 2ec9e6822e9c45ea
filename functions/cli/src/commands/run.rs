//! `relance run` and `relance resume`.

use std::path::Path;
use std::process::ExitCode;

use chrono::NaiveDate;

/// Plan and deliver a run day.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The run day (YYYY-MM-DD); today in the institution's timezone by default.
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Report what would be planned; record and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Restart without retroactive processing.
#[derive(clap::Args)]
pub struct ResumeArgs {
    /// The day the next run plans alone; today by default.
    #[arg(long)]
    pub date: Option<NaiveDate>,
}

pub fn run(_config: &Path, _args: RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("run is being written")
}

pub fn resume(_config: &Path, _args: ResumeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("resume is being written")
}
