//! `relance status`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use relance_core::calendar::shift;
use relance_core::config::Config;
use relance_core::ladder::Channel;
use relance_core::ports::Ledger as _;
use relance_core::staff_report::open_day_line;
use relance_core::summary::{OpenDayWait, RunSummary};
use relance_local::status::PendingCount;

use crate::backend::Backend;
use crate::context::Context;

/// Show the watermark, pending notices and the last runs.
#[derive(clap::Args)]
pub struct StatusArgs {
    /// How many of the last runs to show.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Print as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(config: &Path, backend: Backend, args: StatusArgs) -> anyhow::Result<ExitCode> {
    if backend == Backend::Aws {
        return crate::commands::aws::status(config, args);
    }
    let ctx = Context::load(config)?;
    let store = ctx.read_store()?;
    let status = store.status(args.runs)?;
    let unknown = ctx.unknown_libraries(&store)?;
    let watermark_warning = ctx.watermark_warning(status.watermark);
    let today = ctx.today();
    let horizon = shift(today, 3660).context("date out of range")?;
    let pending_letters = crate::commands::run::runtime()?
        .block_on(store.pending_notices(Channel::Letter, horizon))?;
    let waiting = ctx.config.letters_waiting(&pending_letters, today);
    if args.json {
        let mut json = serde_json::to_value(&status)?;
        json["unknown_libraries"] = serde_json::json!(unknown);
        json["waiting_for_open_day"] = serde_json::to_value(&waiting)?;
        json["warning"] = serde_json::json!(watermark_warning);
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(warning) = &watermark_warning {
        eprintln!("{warning}");
    }
    for code in &unknown {
        eprintln!("warning: {}", relance_core::summary::unknown_library(code));
    }
    match status.watermark {
        Some(day) => println!("Watermark: {day} (last run day fully planned)"),
        None => println!("Watermark: none (no run yet: the first run plans its own day only)"),
    }
    println!(
        "Store: {} patrons, {} open loans",
        status.patrons, status.open_loans
    );
    print_pending(&status.pending);
    print_waiting(&waiting);
    if !status.failing.is_empty() {
        println!("Why notices are pending (failed attempts, oldest first):");
        for f in &status.failing {
            let library = f
                .library
                .as_deref()
                .map(|l| format!(" {l}"))
                .unwrap_or_default();
            println!(
                "  {} {} {} {}{} of {}, {} attempt(s): {}",
                f.reference,
                f.channel,
                f.stage,
                f.patron_id,
                library,
                f.run_day,
                f.attempts,
                f.last_error.as_deref().unwrap_or("no reason recorded")
            );
        }
    }
    print_last_runs(&ctx.config, &status.last_runs);
    Ok(ExitCode::SUCCESS)
}

/// The pending notices, per stage and channel.
pub(crate) fn print_pending(pending: &[PendingCount]) {
    if pending.is_empty() {
        println!("Pending notices: none");
        return;
    }
    println!("Pending notices:");
    println!("  {:<20} {:<8} {:>7}  since", "stage", "channel", "count");
    for p in pending {
        println!(
            "  {:<20} {:<8} {:>7}  {}",
            p.stage, p.channel, p.count, p.oldest_run_day
        );
    }
}

/// The letters waiting for an open day of their library.
pub(crate) fn print_waiting(waiting: &[OpenDayWait]) {
    if waiting.is_empty() {
        return;
    }
    println!("Letters waiting for an open day of their library:");
    for wait in waiting {
        println!("  {}", open_day_line(wait, "to print on"));
    }
}

/// The last runs, oldest first, with their new notices per stage and deliveries.
pub(crate) fn print_last_runs(config: &Config, runs: &[RunSummary]) {
    if runs.is_empty() {
        return;
    }
    let stages: Vec<_> = config
        .ladder
        .stages()
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    println!("Last runs (new notices per stage):");
    let mut header = format!("  {:<10} {:>4}", "run day", "days");
    for stage in &stages {
        header.push_str(&format!(" {:>w$}", stage, w = stage.len().max(6)));
    }
    println!(
        "{header} {:>6} {:>7} {:>9} {:>6}",
        "emails", "letters", "cancelled", "failed"
    );
    for r in runs.iter().rev() {
        let mut line = format!(
            "  {:<10} {:>4}",
            r.run_day.to_string(),
            r.planned_days.len()
        );
        for stage in &stages {
            let n = r.notices.get(stage).copied().unwrap_or_default();
            line.push_str(&format!(" {:>w$}", n, w = stage.len().max(6)));
        }
        println!(
            "{line} {:>6} {:>7} {:>9} {:>6}",
            r.emails_sent, r.letters_rendered, r.cancelled, r.failed
        );
    }
}
