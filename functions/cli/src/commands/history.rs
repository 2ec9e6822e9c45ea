//! `relance history`: a patron's notices, newest first.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use relance_core::ids::PatronId;

use relance_local::history::HistoryReply;

use crate::backend::Backend;
use crate::context::Context;

/// Show every notice of a patron.
#[derive(clap::Args)]
pub struct HistoryArgs {
    /// The patron's id, as in the library system.
    pub patron_id: String,
    /// Print as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Prints the patron's notices, their loans, channel, status and message id.
pub fn run(config: &Path, backend: Backend, args: HistoryArgs) -> anyhow::Result<ExitCode> {
    if backend == Backend::Aws {
        return crate::commands::aws::history(config, args);
    }
    let ctx = Context::load(config)?;
    let id = PatronId::parse(&args.patron_id)
        .with_context(|| format!("invalid patron id {:?}", args.patron_id))?;
    let Some(history) = ctx.read_store()?.history(&id)? else {
        anyhow::bail!("no patron {id} in the store");
    };
    tracing::info!(patron = %id, notices = history.notices.len(), "history read");
    if args.json {
        println!("{}", serde_json::to_string_pretty(&history)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Patron {} ({}): {} notices, newest first; address {}",
        history.patron_id,
        history.full_name,
        history.notices.len(),
        history.email_status
    );
    for n in &history.notices {
        let status = match (n.status.as_str(), &n.sent_at, &n.cancel_reason) {
            ("sent", Some(at), _) => format!("sent {}", at.format("%Y-%m-%d %H:%M UTC")),
            ("cancelled", _, Some(reason)) => format!("cancelled ({reason})"),
            (other, _, _) => other.to_owned(),
        };
        let library = n
            .library
            .as_deref()
            .map(|l| format!(" {l}"))
            .unwrap_or_default();
        println!(
            "\n{}  {} {}{library}  Réf. {}  {status}",
            n.run_day, n.stage, n.channel, n.reference
        );
        if let Some(message_id) = &n.message_id {
            println!("  message id: {message_id}");
        }
        if n.attempts > 0 {
            println!(
                "  {} failed attempts{}",
                n.attempts,
                n.last_error
                    .as_deref()
                    .map(|e| format!(", last: {e}"))
                    .unwrap_or_default()
            );
        }
        for l in &n.loans {
            let returned = match l.returned_at {
                Some(at) => format!("  (returned {})", at.format("%Y-%m-%d")),
                None if !l.in_store => "  (returned; purged from the store)".to_owned(),
                None => String::new(),
            };
            println!(
                "  {:<10} {:<8} due {}  {} {}{returned}",
                l.loan_id, l.library, l.due_date, l.barcode, l.title
            );
        }
        for reply in &n.replies {
            println!("  {}", reply_line(reply));
        }
    }
    if !history.other_replies.is_empty() {
        println!("\nOther mail from the patron:");
        for reply in &history.other_replies {
            println!("  {}", reply_line(reply));
        }
    }
    for feedback in &history.feedback {
        println!(
            "\n{}  {} reported by the sending service",
            feedback.at.format("%Y-%m-%d %H:%M UTC"),
            feedback.kind
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn reply_line(reply: &HistoryReply) -> String {
    format!(
        "{} received {}{}{}  ({})",
        reply.class,
        reply.received_at.format("%Y-%m-%d %H:%M UTC"),
        reply
            .linked_by
            .as_deref()
            .map(|by| format!(", linked by {by}"))
            .unwrap_or_default(),
        if reply.forwarded.is_some() {
            ", forwarded to staff"
        } else {
            ""
        },
        reply.source
    )
}
