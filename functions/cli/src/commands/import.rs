//! `relance import`: patrons and loans from CSV exports into the embedded store.

use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use relance_core::import::{
    CsvInput, Encoding, ImportError, ImportOptions, ImportOutcome, ImportSummary,
};

use crate::context::{Context, LockWait};

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
    #[command(flatten)]
    pub lock: LockWait,
}

/// Exit status: 0 all imported (warnings allowed), 2 imported with rejects,
/// 1 nothing imported.
pub(crate) const IMPORTED_WITH_REJECTS: u8 = 2;

/// Runs the import and prints its summary.
pub fn run(config: &Path, args: ImportArgs) -> anyhow::Result<ExitCode> {
    if args.patrons.is_none() && args.loans.is_none() {
        anyhow::bail!("nothing to import: give --patrons FILE, --loans FILE or both");
    }
    if args.snapshot && args.loans.is_none() {
        anyhow::bail!("--snapshot needs --loans: the snapshot is the loans file");
    }
    let context = Context::load(config)?;
    let now = Utc::now();
    let stamp = now.with_timezone(&context.config.institution.timezone);
    // Absolute, because the summary and the imports table keep it and are read
    // from other folders; down to the nanosecond, because two imports may
    // share a second (the store never writes over an existing report either).
    let imports_dir = std::path::absolute(context.state_dir.join("imports"))
        .context("cannot locate the state folder")?;
    let rejects_path = imports_dir.join(format!(
        "rejects-{}-{:09}.csv",
        stamp.format("%Y%m%dT%H%M%S"),
        stamp.timestamp_subsec_nanos()
    ));
    let mut patrons = open(args.patrons.as_deref(), "patrons")?;
    let mut loans = open(args.loans.as_deref(), "loans")?;
    let total = [&patrons, &loans]
        .into_iter()
        .flatten()
        .map(|(_, file)| file.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    let _lock = context.lock("relance import", &args.lock)?;
    let store = context.store()?;
    let options = ImportOptions {
        snapshot: args.snapshot,
        force: args.force,
        strict: args.strict,
        now,
    };
    let bar = progress_bar(total);
    let mut progress = |bytes: u64| {
        if let Some(bar) = &bar {
            bar.set_position(bytes);
        }
    };
    let result = store.import(
        &context.config,
        patrons
            .as_mut()
            .map(|(name, file)| CsvInput { name, reader: file }),
        loans
            .as_mut()
            .map(|(name, file)| CsvInput { name, reader: file }),
        &options,
        &rejects_path,
        &mut progress,
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if result.is_err() && rejects_path.exists() {
        eprintln!(
            "Rows rejected before the failure: {}",
            rejects_path.display()
        );
    }
    let summary = result
        .map_err(|e| match e {
            // The core's refusal cannot know the command's flags.
            ImportError::SnapshotRefused(refused) => {
                anyhow::anyhow!("{refused} (rerun with --snapshot --force to close them)")
            }
            other => other.into(),
        })
        .context("import failed; the store is unchanged")?;
    print_summary(&summary);
    tracing::info!(
        batch = summary.batch,
        rejected = summary.rejected,
        "import finished"
    );
    Ok(match summary.outcome() {
        ImportOutcome::Complete => ExitCode::SUCCESS,
        ImportOutcome::Partial => ExitCode::from(IMPORTED_WITH_REJECTS),
        ImportOutcome::Nothing => ExitCode::FAILURE,
    })
}

/// The export's name as given on the command line, and the open file.
type Export = (String, File);

fn open(path: Option<&Path>, what: &str) -> anyhow::Result<Option<Export>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let file = File::open(path)
        .with_context(|| format!("cannot read the {what} file {}", path.display()))?;
    Ok(Some((path.display().to_string(), file)))
}

/// A byte progress bar on stderr, only when a person is watching it.
fn progress_bar(total: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{spinner} importing [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

pub(crate) fn print_summary(summary: &ImportSummary) {
    for (file, encoding) in &summary.encodings {
        if *encoding == Encoding::Windows1252 {
            println!(
                "{file}: not UTF-8, read as Windows-1252 (as Excel writes it in France); \
                 [import] encoding = \"utf-8\" refuses such files instead."
            );
        }
    }
    if !summary.committed {
        println!(
            "Nothing imported (--strict): {} row(s) rejected.",
            summary.rejected
        );
    } else {
        println!(
            "Patrons: {} new, {} updated.",
            summary.patrons_inserted, summary.patrons_updated
        );
        println!(
            "Loans:   {} new, {} updated.",
            summary.loans_inserted, summary.loans_updated
        );
        if summary.closed_by_snapshot > 0 {
            println!(
                "Snapshot: {} open loan(s) missing from the file closed as returned.",
                summary.closed_by_snapshot
            );
        }
        println!(
            "Rejected: {} row(s). Warnings: {}.",
            summary.rejected, summary.warnings
        );
    }
    if let Some(path) = &summary.rejects_file {
        println!(
            "Rejects and warnings (line, field, reason): {}",
            path.display()
        );
    }
}
