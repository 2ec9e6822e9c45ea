//! `relance run` and `relance resume`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use relance_core::ids::NoticeId;
use relance_core::ports::{Ledger, MailTransport, OutgoingMail};
use relance_core::recheck::{CallsLeft, RecheckedStore};
use relance_core::retention::PurgeCounts;
use relance_core::schedule::resume_watermark;
use relance_core::service::{Engine, RunPhase};
use relance_core::staff_report::{StaffReportInput, compose_staff_report, loan_libraries};
use relance_core::summary::{RunSummary, unknown_library, wait_lines};
use relance_local::{Outbox, Store};
use relance_sources::{Credentials, Retry, Source};
use serde::Serialize;

use crate::backend::Backend;
use crate::context::{Context, LockWait};

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
    /// Accept a --date more than a year from today.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub lock: LockWait,
}

/// Restart without retroactive processing.
#[derive(clap::Args)]
pub struct ResumeArgs {
    /// The day the next run plans alone; today by default.
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Accept a --date more than a year from today.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub lock: LockWait,
}

/// How long each phase of the run took, in milliseconds (a dry run only plans).
#[derive(Default, Serialize)]
struct Timings {
    plan: u128,
    emails: u128,
    letters: u128,
}

/// What `run --json` prints: the run's summary, its timings and what it purged.
#[derive(Serialize)]
struct RunJson<'a> {
    #[serde(flatten)]
    summary: &'a RunSummary,
    timings_ms: Timings,
    purged: Option<PurgeCounts>,
}

/// A single-threaded async runtime for the engine's ports.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Exit status: 0 when everything planned was delivered or kept for print,
/// 2 when some notices failed (they stay pending for the next run) or staff must
/// fix something the run found, 1 when the run stopped.
pub fn run(config: &Path, backend: Backend, args: RunArgs) -> anyhow::Result<ExitCode> {
    if backend == Backend::Aws {
        return crate::commands::aws::dry_run(config, args);
    }
    let ctx = Context::load(config)?;
    let day = args.date.unwrap_or_else(|| ctx.today());
    ctx.check_day(day, args.force)?;
    let _lock = (!args.dry_run)
        .then(|| ctx.lock("relance run", &args.lock))
        .transpose()?;
    let store = if args.dry_run {
        ctx.read_store()?
    } else {
        ctx.store()?
    };
    let templates = ctx.templates()?;
    let outbox = Outbox::new(ctx.state_dir.join("outbox"));
    let rt = runtime()?;
    let now = Utc::now();
    // `[source] recheck`: the loans of each notice are asked about in the
    // library system just before sending (not on a dry run, which spends no calls).
    let system = recheck_source(&ctx, args.dry_run);
    let budget = system
        .as_ref()
        .map(|(_, max_calls)| CallsLeft::new(*max_calls));
    let rechecked = system
        .as_ref()
        .zip(budget.as_ref())
        .map(|((source, _), budget)| RecheckedStore::new(&store, source.as_ref(), budget, now));
    let warnings: Vec<String> = ctx
        .unknown_libraries(&store)?
        .iter()
        .map(|code| unknown_library(code))
        .collect();
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
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
    let outcome = match &rechecked {
        Some(rechecked) => rt.block_on(
            Engine {
                config: &ctx.config,
                templates: &templates,
                store: rechecked,
                ledger: &store,
                transport: &outbox,
                archive: &outbox,
            }
            .run_observed(day, args.dry_run, now, observe),
        ),
        None => rt.block_on(
            Engine {
                config: &ctx.config,
                templates: &templates,
                store: &store,
                ledger: &store,
                transport: &outbox,
                archive: &outbox,
            }
            .run_observed(day, args.dry_run, now, observe),
        ),
    };
    let (mut summary, stopped) = match outcome {
        Ok(summary) => (summary, None),
        Err(e) => {
            let error = anyhow::Error::new(e).context(format!(
                "the run for {day} stopped (store {})",
                ctx.store_path().display()
            ));
            let summary = RunSummary {
                run_day: day,
                dry_run: args.dry_run,
                stopped: Some(crate::error_text(&error)),
                ..RunSummary::default()
            };
            (summary, Some(error))
        }
    };
    if let Some(rechecked) = &rechecked {
        let tally = rechecked.tally();
        summary.not_rechecked = tally.not_rechecked;
        tracing::info!(
            calls = tally.calls,
            confirmed_open = tally.confirmed_open,
            returned = tally.returned.len(),
            not_rechecked = tally.not_rechecked,
            system_out = tally.system_out,
            "loans checked against the library system"
        );
        if let Some(error) = &tally.error {
            eprintln!("warning: the library system could not be asked before sending: {error}");
        }
    }
    for warning in warnings {
        if !summary.warnings.contains(&warning) {
            summary.warnings.push(warning);
        }
    }
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
    // The staff report is written whatever happened, a stopped run included.
    let report = if args.dry_run {
        None
    } else {
        match rt.block_on(send_report(&ctx, &store, &outbox, &summary, now)) {
            Ok(path) => Some(path),
            Err(e) => {
                let e = e.context(format!(
                    "the report of {day} to the staff inbox could not be written \
                     (running {day} again writes it)"
                ));
                if stopped.is_none() {
                    return Err(e);
                }
                eprintln!("error: {}", crate::error_text(&e));
                None
            }
        }
    };
    if let Some(error) = stopped {
        if let Some(path) = &report {
            eprintln!("Report to the staff inbox: {}", path.display());
        }
        return Err(error);
    }
    // What is past its retention period goes once the day's work and its
    // report are done (rules §16); a dry run purges nothing.
    let purged = (!args.dry_run)
        .then(|| crate::commands::purge::purge_due(&ctx, &store, &outbox, day, false))
        .transpose()
        .map_err(|e| {
            e.context(format!(
                "the run for {day} was delivered, but its purge failed \
                 (relance purge --date {day} tries again)"
            ))
        })?;
    if let Some(warning) = ctx.watermark_warning(rt.block_on(store.watermark())?) {
        eprintln!("{warning}");
    }
    if args.json {
        let report = RunJson {
            summary: &summary,
            timings_ms: timings,
            purged,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_summary(&summary, &outbox.mail_dir(day));
        if let Some(path) = report {
            println!("Report to the staff inbox: {}", path.display());
        }
        if let Some(purged) = purged.filter(|p| p.total() > 0) {
            println!(
                "Purged (past [retention]): {}",
                crate::commands::purge::counts_line(&purged)
            );
        }
    }
    Ok(
        if summary.failed + summary.deferred > 0 || !summary.warnings.is_empty() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        },
    )
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
    let libraries = loan_libraries(store, &notices).await?;
    let last_import = store.last_import(&ctx.state_dir.join("imports"))?;
    let report = compose_staff_report(&StaffReportInput {
        config: &ctx.config,
        summary,
        notices: &notices,
        libraries: &libraries,
        last_import: last_import.as_ref(),
        dead_letters: &[],
        sent_at: now,
    })?;
    // A report already written is never overwritten: running the day again
    // writes `report-{day}-2.eml`, and so on.
    let name = (1..)
        .map(|n| match n {
            1 => format!("report-{day}"),
            n => format!("report-{day}-{n}"),
        })
        .find(|name| !outbox.mail_dir(day).join(format!("{name}.eml")).exists())
        .expect("a free report name");
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

/// Failures listed one by one in the command's summary; all are in the report.
const FAILURES_PRINTED: usize = 10;

pub(crate) fn print_summary(s: &RunSummary, mail_dir: &Path) {
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
    if s.not_rechecked > 0 {
        println!(
            "  not checked against the library system before sending (budget spent or system out): {} loan(s)",
            s.not_rechecked
        );
    }
    if s.print_fallbacks + s.fell_back_to_print > 0 {
        println!(
            "  print fallbacks: {} loans planned to print, {} emails turned into letters",
            s.print_fallbacks, s.fell_back_to_print
        );
    }
    for line in wait_lines(&s.waiting_for_open_day, "to deliver on") {
        println!("  waiting for an open day: {line}");
    }
    for line in wait_lines(&s.delivered_after_closure, "delivered on") {
        println!("  delivered after waiting: {line}");
    }
    for f in s.failures.iter().take(FAILURES_PRINTED) {
        println!(
            "  failed: {} ({} {} to {}): {}",
            f.reference, f.channel, f.stage, f.patron_id, f.reason
        );
    }
    if s.failures.len() > FAILURES_PRINTED {
        println!(
            "  … and {} more failures, listed in the staff report",
            s.failures.len() - FAILURES_PRINTED
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
pub fn resume(config: &Path, backend: Backend, args: ResumeArgs) -> anyhow::Result<ExitCode> {
    if backend == Backend::Aws {
        return crate::commands::aws::resume(config, args);
    }
    let ctx = Context::load(config)?;
    let day = args.date.unwrap_or_else(|| ctx.today());
    ctx.check_day(day, args.force)?;
    let _lock = ctx.lock("relance resume", &args.lock)?;
    let store = ctx.store()?;
    let watermark = resume_watermark(day).context("date out of range")?;
    runtime()?.block_on(store.set_watermark(watermark))?;
    println!(
        "Resumed: the next run plans {day} only; nothing before it will be sent \
         (watermark set to {watermark})."
    );
    Ok(ExitCode::SUCCESS)
}

/// The library system to check loans against at send time, with the call
/// budget, when `[source] recheck` is on; a credential missing from the
/// environment is a warning, and notices then go as planned, counted unchecked.
fn recheck_source(ctx: &Context, dry_run: bool) -> Option<(Option<Source>, u32)> {
    let settings = ctx
        .config
        .source
        .as_ref()
        .filter(|s| s.recheck && !dry_run)?;
    let made = Credentials::from_env(settings)
        .and_then(|credentials| Source::new(settings, credentials, Retry::RECHECK));
    match made {
        Ok(source) => Some((Some(source), settings.max_calls_per_run)),
        Err(e) => {
            eprintln!("warning: [source] recheck is on, but {e}: notices go as planned, unchecked");
            Some((None, settings.max_calls_per_run))
        }
    }
}
