//! `relance sync`: every open loan and its patron pulled from the library
//! system's API (`[source]`, rules §15) and imported as a snapshot, through the
//! same pipeline as `relance import --snapshot` (the 20 % guard applies). A pull
//! that fails on the way imports nothing: the store stays as it was.

use std::io::Cursor;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use relance_core::import::{CsvInput, ImportError, ImportOptions, ImportOutcome};
use relance_sources::{Credentials, Pulled, Retry, Source, import_config};

use crate::commands::import::{IMPORTED_WITH_REJECTS, print_summary};
use crate::context::{Context, LockWait};

/// Pull open loans and patrons from the library system and import them as a snapshot.
#[derive(clap::Args)]
pub struct SyncArgs {
    /// Pull and say what was fetched; import nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Close even more than 20 % of the open loans.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub lock: LockWait,
}

/// Exit status as `relance import`'s: 0 all imported, 2 imported with
/// rejects, 1 nothing imported (a failed pull included).
pub fn run(config: &Path, args: SyncArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::load(config)?;
    let Some(settings) = ctx.config.source.as_ref() else {
        anyhow::bail!(
            "{} has no [source]: name the library system to pull from (see the README's \"Sources\")",
            config.display()
        );
    };
    let system = settings.system.name();
    let credentials = Credentials::from_env(settings)?;
    let source = Source::new(settings, credentials, Retry::PULL)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let pulled = rt.block_on(source.pull()).map_err(|e| {
        tracing::warn!(system, calls = source.calls(), "pull failed");
        anyhow::Error::new(e).context(format!(
            "the pull from {system} failed after {} call(s); nothing imported, the store is unchanged",
            source.calls()
        ))
    })?;
    print_pulled(&pulled);
    tracing::info!(
        system,
        loans = pulled.loans.rows.len(),
        patrons = pulled.patrons.rows.len(),
        pages = pulled.pages,
        calls = pulled.calls,
        "pulled"
    );
    if args.dry_run {
        println!("Dry run: nothing imported.");
        return Ok(ExitCode::SUCCESS);
    }
    let now = Utc::now();
    let stamp = now.with_timezone(&ctx.config.institution.timezone);
    let imports_dir = std::path::absolute(ctx.state_dir.join("imports"))
        .context("cannot locate the state folder")?;
    let rejects_path = imports_dir.join(format!(
        "rejects-sync-{}-{:09}.csv",
        stamp.format("%Y%m%dT%H%M%S"),
        stamp.timestamp_subsec_nanos()
    ));
    let (loans_name, patrons_name) = names(&pulled);
    let (loans_csv, patrons_csv) = (pulled.loans.to_csv(), pulled.patrons.to_csv());
    let _lock = ctx.lock("relance sync", &args.lock)?;
    let store = ctx.store()?;
    let options = ImportOptions {
        snapshot: true,
        force: args.force,
        strict: false,
        now,
    };
    let summary = store
        .import(
            &import_config(&ctx.config),
            Some(CsvInput {
                name: &patrons_name,
                reader: Cursor::new(patrons_csv),
            }),
            Some(CsvInput {
                name: &loans_name,
                reader: Cursor::new(loans_csv),
            }),
            &options,
            &rejects_path,
            &mut |_| {},
        )
        .map_err(|e| match e {
            ImportError::SnapshotRefused(refused) => {
                anyhow::anyhow!("{refused} (rerun with --force to close them)")
            }
            other => other.into(),
        })
        .context("import of the pull failed; the store is unchanged")?;
    print_summary(&summary);
    Ok(match summary.outcome() {
        ImportOutcome::Complete => ExitCode::SUCCESS,
        ImportOutcome::Partial => ExitCode::from(IMPORTED_WITH_REJECTS),
        ImportOutcome::Nothing => ExitCode::FAILURE,
    })
}

/// How the pulled tables are named in the summary and rejects.
fn names(pulled: &Pulled) -> (String, String) {
    let system = pulled.system.name();
    (format!("{system} loans"), format!("{system} patrons"))
}

fn print_pulled(pulled: &Pulled) {
    println!(
        "Pulled from {}: {} open loan(s), {} patron(s); {} page(s) of loans, {} call(s){}.",
        pulled.system.name(),
        pulled.loans.rows.len(),
        pulled.patrons.rows.len(),
        pulled.pages,
        pulled.calls,
        pulled
            .quota_left
            .map(|q| format!(", {q} left in the daily quota"))
            .unwrap_or_default()
    );
}
