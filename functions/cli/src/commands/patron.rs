//! `relance patron export|erase`: a data protection request (rules §16). The
//! work is the [`PatronRecords`] port's, so the same commands serve any store;
//! the outbox files are the embedded home's own.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use relance_core::ids::PatronId;
use relance_core::ports::PatronRecords;
use relance_core::retention::{PatronErasure, PatronExport};
use relance_local::Outbox;

use crate::backend::Backend;
use crate::commands::run::runtime;
use crate::context::{Context, Home, LockWait};

/// What is stored about a patron, for their data protection requests.
#[derive(clap::Args)]
pub struct PatronArgs {
    #[command(subcommand)]
    pub command: PatronCommand,
}

#[derive(Subcommand)]
pub enum PatronCommand {
    /// Everything stored about a patron: their row, loans, notices, replies and
    /// bounce or complaint records.
    Export {
        /// The patron's id, as in the library system.
        patron_id: String,
        /// Print it all as one JSON object (otherwise a summary).
        #[arg(long)]
        json: bool,
    },
    /// Remove everything stored about a patron. Their markers stay, without
    /// personal data, so that no notice is sent twice.
    Erase {
        /// The patron's id, as in the library system.
        patron_id: String,
        /// Print what was removed as one JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        lock: LockWait,
    },
}

fn patron_id(text: &str) -> anyhow::Result<PatronId> {
    PatronId::parse(text).with_context(|| format!("invalid patron id {text:?}"))
}

/// Everything `records` holds about the patron.
pub async fn export_with(
    records: &impl PatronRecords,
    patron: &PatronId,
) -> anyhow::Result<PatronExport> {
    Ok(records.export_patron(patron).await?)
}

/// Erases the patron from `records`; returns what went, and what was there
/// just before (to find the patron's files).
pub async fn erase_with(
    records: &impl PatronRecords,
    patron: &PatronId,
) -> anyhow::Result<(PatronErasure, PatronExport)> {
    let before = records.export_patron(patron).await?;
    let erased = records.erase_patron(patron).await?;
    Ok((erased, before))
}

/// Runs `relance patron …`.
pub fn run(config: &Path, backend: Backend, args: PatronArgs) -> anyhow::Result<ExitCode> {
    if backend == Backend::Aws {
        return on_aws(config, args);
    }
    let ctx = Context::load(config)?;
    match args.command {
        PatronCommand::Export {
            patron_id: id,
            json,
        } => {
            let id = patron_id(&id)?;
            let store = ctx.read_store()?;
            let export = runtime()?.block_on(export_with(&store, &id))?;
            tracing::info!(patron = %id, loans = export.loans.len(), notices = export.notices.len(), "patron exported");
            if json {
                println!("{}", serde_json::to_string_pretty(&export)?);
            } else if export.is_empty() {
                println!("Nothing is stored about patron {id}.");
            } else {
                println!(
                    "Patron {id}: {} row, {} loans, {} notices, {} received mails, {} bounce or \
                     complaint records. Give --json for all of it.",
                    usize::from(export.patron.is_some()),
                    export.loans.len(),
                    export.notices.len(),
                    export.replies.len(),
                    export.feedback.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PatronCommand::Erase {
            patron_id: id,
            json,
            lock,
        } => {
            let id = patron_id(&id)?;
            let _lock = ctx.lock("relance patron erase", &lock)?;
            let store = ctx.store()?;
            let (erased, before) = runtime()?.block_on(erase_with(&store, &id))?;
            let outbox = Outbox::new(ctx.state_dir.join("outbox"));
            let stages: Vec<_> = ctx
                .config
                .ladder
                .stages()
                .iter()
                .map(|s| s.name.clone())
                .collect();
            let references: Vec<_> = before.notices.iter().map(|n| n.reference.clone()).collect();
            let files = outbox.erase_patron_files(&id, &stages, &references)?;
            let open = before
                .loans
                .iter()
                .filter(|l| l.returned_at.is_none())
                .count();
            tracing::info!(patron = %id, loans = erased.loans, notices = erased.notices, files, "patron erased");
            if json {
                let mut value = serde_json::to_value(erased)?;
                value["patron_id"] = serde_json::json!(id);
                value["outbox_files"] = serde_json::json!(files);
                value["open_loans"] = serde_json::json!(open);
                println!("{}", serde_json::to_string_pretty(&value)?);
                return Ok(ExitCode::SUCCESS);
            }
            if before.is_empty() && files == 0 {
                println!("Nothing is stored about patron {id}: nothing removed.");
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "Erased patron {id}: {} row, {} loans, {} notices, {} received mails, {} bounce \
                 or complaint records, {files} outbox files. {} markers kept, without personal \
                 data, so that nothing is sent twice.",
                erased.patrons,
                erased.loans,
                erased.notices,
                erased.replies,
                erased.feedback,
                erased.markers_kept
            );
            if open > 0 {
                println!(
                    "warning: {open} of these loans were open: the next import of the library \
                     system's export brings them back with the patron, unless they are closed \
                     or removed there."
                );
            }
            println!(
                "Print batches (batch.pdf) of past days keep their letters until [retention] \
                 letters days have passed."
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `relance patron … --backend aws`: the same on the deployment's table. The
/// patron's letter PDFs in the bucket go with the bucket's lifecycle rule.
fn on_aws(config: &Path, args: PatronArgs) -> anyhow::Result<ExitCode> {
    let (_, home) = Context::open_read(config, Backend::Aws)?;
    let Home::Aws(deployment) = home else {
        unreachable!("open_read(Aws) opens the deployment")
    };
    let dynamo = &**deployment.dynamo();
    match args.command {
        PatronCommand::Export { patron_id: id, .. } => {
            let id = patron_id(&id)?;
            let export = deployment.runtime.block_on(export_with(dynamo, &id))?;
            println!("{}", serde_json::to_string_pretty(&export)?);
        }
        PatronCommand::Erase { patron_id: id, .. } => {
            let id = patron_id(&id)?;
            let (erased, _) = deployment.runtime.block_on(erase_with(dynamo, &id))?;
            let mut value = serde_json::to_value(erased)?;
            value["patron_id"] = serde_json::json!(id);
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
