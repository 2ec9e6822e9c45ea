//! `relance run` and `relance resume`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use relance_core::ids::NoticeId;
use relance_core::ports::{Ledger, LoanStore, MailTransport, OutgoingMail};
use relance_core::report::RunSummary;
use relance_core::run_report::{RunReportInput, compose_run_report};
use relance_core::schedule::resume_watermark;
use relance_core::service::{Engine, RunPhase};
use relance_local::{Outbox, Store};
use serde::Serialize;

use crate::context::Context;

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

/// How long each phase of the run took, in milliseconds (a dry run only plans).
#[derive(Default, Serialize)]
struct Timings {
    plan: u128,
    emails: u128,
    letters: u128,
}

/// What `run --json` prints: the run's summary and its timings.
#[derive(Serialize)]
struct RunReport<'a> {
    #[serde(flatten)]
    summary: &'a RunSummary,
    timings_ms: Timings,
}

/// A single-threaded async runtime for the engine's ports.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .context("cannot start the async runtime")
}

/// Exit status: 0 when everything planned was delivered or kept for print,
/// 2 when some sends failed and stay pending for the next run.
pub fn run(config: &Path, args: RunArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::load(config)?;
    let store = ctx.store()?;
    let templates = ctx.templates()?;
    let outbox = Outbox::new(ctx.state_dir.join("outbox"));
    let engine = Engine {
        config: &ctx.config,
        templates: &templates,
        store: &store,
        ledger: &store,
        transport: &outbox,
        archive: &outbox,
    };
    let day = args.date.unwrap_or_else(|| ctx.today());
    let mut timings = Timings::default();
    let mut last = Instant::now();
    let observe = |phase: RunPhase| {
        let elapsed = last.elapsed().as_millis();
        last = Instant::now();
        match phase {
            RunPhase::Planned => timings.plan = elapsed,
            RunPhase::EmailsDelivered => timings.emails = elapsed,
            RunPhase::LettersDelivered => timings.letters = elapsed,
        }
    };
    let now = Utc::now();
    let rt = runtime()?;
    let summary = rt
        .block_on(engine.run_observed(day, args.dry_run, now, observe))
        .with_context(|| format!("the run for {day} stopped"))?;
    tracing::info!(
        run_day = %day,
        dry_run = args.dry_run,
        notices = summary.notices.values().sum::<usize>(),
        emails_sent = summary.emails_sent,
        letters_rendered = summary.letters_rendered,
        cancelled = summary.cancelled,
        failed = summary.failed,
        "run finished"
    );
    let report = if args.dry_run {
        None
    } else {
        Some(
            rt.block_on(send_report(&ctx, &store, &outbox, &summary, now))
                .with_context(|| {
                    format!(
                        "the run for {day} went through, but its report to the staff inbox \
                         could not be written (running {day} again writes it)"
                    )
                })?,
        )
    };
    if args.json {
        let report = RunReport {
            summary: &summary,
            timings_ms: timings,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_summary(&summary, &outbox.mail_dir(day));
        if let Some(path) = report {
            println!("Report to the staff inbox: {}", path.display());
        }
    }
    Ok(if summary.failed + summary.deferred > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Builds the run report and sends it to the staff inbox through the outbox
/// (`{run_day}/mail/report-{run_day}.eml`); returns where it went.
async fn send_report(
    ctx: &Context,
    store: &Store,
    outbox: &Outbox,
    summary: &RunSummary,
    now: DateTime<Utc>,
) -> anyhow::Result<std::path::PathBuf> {
    let day = summary.run_day;
    let notices = store.notices_on(day)?;
    let mut loan_ids: Vec<_> = notices
        .iter()
        .flat_map(|n| n.loans.iter().map(|l| l.loan_id.clone()))
        .collect();
    loan_ids.sort();
    loan_ids.dedup();
    let libraries = store
        .loans(&loan_ids)
        .await?
        .into_iter()
        .map(|l| (l.id, l.library))
        .collect();
    let last_import = store.last_import(&ctx.state_dir.join("imports"))?;
    let report = compose_run_report(&RunReportInput {
        config: &ctx.config,
        summary,
        notices: &notices,
        libraries: &libraries,
        last_import: last_import.as_ref(),
        sent_at: now,
    })?;
    let name = format!("report-{day}");
    outbox
        .send(&OutgoingMail {
            notice_id: NoticeId::derive(&format!("report|{day}")),
            run_day: day,
            name: name.clone(),
            from: ctx.config.mail.from.address.clone(),
            to: ctx.config.mail.staff_inbox.clone(),
            raw: report.raw,
        })
        .await?;
    tracing::info!(run_day = %day, notices = notices.len(), "run report written");
    Ok(outbox.mail_dir(day).join(format!("{name}.eml")))
}

fn print_summary(s: &RunSummary, mail_dir: &Path) {
    let days: Vec<_> = s.planned_days.iter().map(ToString::to_string).collect();
    let mode = if s.dry_run {
        " (dry run: nothing recorded or sent)"
    } else {
        ""
    };
    println!("Run day {}{mode}", s.run_day);
    if days.is_empty() {
        println!("  already planned: nothing new; pending notices retried");
    } else {
        println!("  planned days: {}", days.join(", "));
    }
    let notices: Vec<_> = s.notices.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let notices = if notices.is_empty() {
        "none".to_owned()
    } else {
        notices.join(", ")
    };
    println!("  new notices: {notices}");
    let skipped: Vec<_> = s.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
    if !skipped.is_empty() {
        println!("  skipped: {}", skipped.join(", "));
    }
    println!(
        "  emails sent {}, cancelled {}, failed {}, deferred {}, retried from earlier days {}",
        s.emails_sent, s.cancelled, s.failed, s.deferred, s.requeued
    );
    println!(
        "  letters rendered {} (print batches emailed to the libraries), still pending {}",
        s.letters_rendered, s.letters_pending
    );
    if s.print_fallbacks + s.fell_back_to_print > 0 {
        println!(
            "  print fallbacks: {} loans planned to print, {} emails turned into letters",
            s.print_fallbacks, s.fell_back_to_print
        );
    }
    if !s.dry_run && s.emails_sent + s.letters_rendered > 0 {
        println!(
            "Outbox: {}",
            mail_dir.parent().unwrap_or(mail_dir).display()
        );
    }
}

/// Sets the watermark so that the next run plans only that day, whatever the gap.
pub fn resume(config: &Path, args: ResumeArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::load(config)?;
    let store = ctx.store()?;
    let day = args.date.unwrap_or_else(|| ctx.today());
    let watermark = resume_watermark(day).context("date out of range")?;
    runtime()?.block_on(store.set_watermark(watermark))?;
    println!(
        "Resumed: the next run plans {day} only; nothing before it will be sent \
         (watermark set to {watermark})."
    );
    Ok(ExitCode::SUCCESS)
}
