//! `relance inbound` and `relance feedback`: mail that comes back, on the
//! embedded store. Forwards to staff land in the outbox as `mail/forward-{n}.eml`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use relance_core::inbound::{Verdicts, digest, feedback};
use relance_core::service::{Arrival, Mailroom, record_feedback};
use relance_local::Outbox;
use serde_json::json;

use crate::commands::run::runtime;
use crate::context::Context;

/// Read a received mail: classify it, link it to its notice or patron, record it
/// and forward it to the staff inbox when a person wrote it.
#[derive(clap::Args)]
pub struct InboundArgs {
    /// The mail as received (`.eml`, RFC 5322).
    pub file: PathBuf,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Read a bounce or complaint event (SES's JSON): mark the patron's address so
/// that their next reminder falls back to a letter.
#[derive(clap::Args)]
pub struct FeedbackArgs {
    /// The event, as SES publishes it.
    pub file: PathBuf,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `relance inbound`.
pub fn inbound(config: &Path, args: InboundArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::load(config)?;
    let raw = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let store = ctx.store()?;
    let outbox = Outbox::new(ctx.state_dir.join("outbox"));
    let id = digest(&raw);
    let source = args.file.display().to_string();
    let arrival = Arrival {
        id: &id,
        raw: &raw,
        source: &source,
        verdicts: Verdicts::default(),
        received_at: Utc::now(),
        outbox_name: format!("forward-{}", store.forwards()? + 1),
    };
    let mailroom = Mailroom {
        config: &ctx.config,
        store: &store,
        book: &store,
        transport: &outbox,
    };
    let received = runtime()?.block_on(mailroom.receive(&arrival))?;
    let record = &received.record;
    tracing::info!(
        reply = %record.id,
        class = record.class.as_str(),
        patron = record.patron_id.as_ref().map(|p| p.as_str()),
        notice = record.notice_id.as_ref().map(|n| n.as_str()),
        forwarded = received.forwarded_now,
        "mail received"
    );
    let forward_file = record.forwarded.as_ref().map(|_| {
        outbox
            .mail_dir(relance_core::calendar::local_date(
                record.received_at,
                ctx.config.institution.timezone,
            ))
            .join(format!("{}.eml", arrival.outbox_name))
    });
    if args.json {
        let mut value = serde_json::to_value(record)?;
        value["forwarded_now"] = json!(received.forwarded_now);
        value["forward_file"] = json!(forward_file.filter(|_| received.forwarded_now));
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    let linked = match (&record.notice_id, &record.patron_id, record.linked_by) {
        (Some(notice), Some(patron), Some(by)) => {
            format!(
                "linked to notice {notice} of patron {patron} by {}",
                by.as_str()
            )
        }
        (None, Some(patron), Some(by)) => format!("linked to patron {patron} by {}", by.as_str()),
        _ => "linked to no patron".to_owned(),
    };
    println!(
        "{}: {}, {linked}",
        args.file.display(),
        record.class.as_str()
    );
    match (received.forwarded_now, forward_file) {
        (true, Some(file)) => println!("forwarded to staff: {}", file.display()),
        (false, Some(_)) => println!("already received and forwarded before: nothing done"),
        _ => println!("recorded, not forwarded ({} mail)", record.class.as_str()),
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `relance feedback`.
pub fn feedback(config: &Path, args: FeedbackArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::load(config)?;
    let json = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let event = feedback::parse(&json).with_context(|| format!("{}", args.file.display()))?;
    let Some(event) = event else {
        println!(
            "{}: not a bounce or complaint: nothing to do",
            args.file.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let store = ctx.store()?;
    let outcomes = runtime()?.block_on(record_feedback(&store, &store, &event))?;
    for outcome in &outcomes {
        tracing::info!(
            feedback = %outcome.record.id,
            kind = outcome.record.kind.as_str(),
            patron = outcome.record.patron_id.as_ref().map(|p| p.as_str()),
            new = outcome.new,
            "feedback recorded"
        );
    }
    if args.json {
        let records: Vec<_> = outcomes
            .iter()
            .map(|o| json!({"record": o.record, "new": o.new}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&records)?);
        return Ok(ExitCode::SUCCESS);
    }
    for outcome in &outcomes {
        let record = &outcome.record;
        let what = match &record.patron_id {
            Some(patron) => format!("patron {patron}"),
            None => "an address that is no patron's".to_owned(),
        };
        let repeated = if outcome.new {
            ""
        } else {
            " (already recorded)"
        };
        println!(
            "{}: {} for {what}{repeated}",
            args.file.display(),
            record.kind.as_str()
        );
    }
    Ok(ExitCode::SUCCESS)
}
