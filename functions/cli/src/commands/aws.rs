//! The commands of `--backend aws` whose local form works on the embedded
//! store's own tables: the same job on the deployment's DynamoDB table,
//! through the engine's ports (rules §13). Reading commands take no lock; the
//! table's conditional writes keep a `resume` from racing the planner.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use relance_aws::fanout::with_delivered;
use relance_core::calendar::shift;
use relance_core::ids::PatronId;
use relance_core::ladder::Channel;
use relance_core::notice::{Notice, NoticeStatus};
use relance_core::ports::Ledger;
use relance_core::schedule::resume_watermark;
use relance_core::service::Engine;
use relance_local::status::PendingCount;
use serde::Serialize;

use crate::backend::{Backend, Deployment};
use crate::commands::history::HistoryArgs;
use crate::commands::patron::export_with;
use crate::commands::run::{ResumeArgs, RunArgs, print_summary};
use crate::commands::status::{StatusArgs, print_last_runs, print_pending, print_waiting};
use crate::context::{Context, Home};

/// The deployment and its config, for a command that needs the table itself.
fn connect(config: &Path) -> anyhow::Result<(Context, Box<Deployment>)> {
    match Context::open_read(config, Backend::Aws)? {
        (ctx, Home::Aws(deployment)) => Ok((ctx, deployment)),
        (_, Home::Local(..)) => unreachable!("open_read(Aws) opens the deployment"),
    }
}

/// `relance run --dry-run --backend aws`: what the planner would plan for the
/// day, as its `{"dry_run": true}` event does; records and sends nothing.
pub fn dry_run(config: &Path, args: RunArgs) -> anyhow::Result<ExitCode> {
    let (ctx, deployment) = connect(config)?;
    let day = args.date.unwrap_or_else(|| ctx.today());
    ctx.check_day(day, args.force)?;
    let dynamo = &**deployment.dynamo();
    let engine = Engine {
        config: &ctx.config,
        templates: &deployment.function.templates,
        store: dynamo,
        ledger: dynamo,
        transport: &(),
        archive: &(),
    };
    let (summary, _) = deployment
        .runtime
        .block_on(engine.plan_and_record(day, true))
        .with_context(|| format!("the dry run of {day} stopped"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary, Path::new(""));
    }
    let watermark = deployment.runtime.block_on(dynamo.watermark())?;
    if let Some(warning) = ctx.watermark_warning(watermark) {
        eprintln!("{warning}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `relance resume --backend aws`: the planner's next run plans that day only.
pub fn resume(config: &Path, args: ResumeArgs) -> anyhow::Result<ExitCode> {
    let (ctx, deployment) = connect(config)?;
    let day = args.date.unwrap_or_else(|| ctx.today());
    ctx.check_day(day, args.force)?;
    let watermark = resume_watermark(day).context("date out of range")?;
    deployment
        .runtime
        .block_on(deployment.dynamo().set_watermark(watermark))?;
    println!(
        "Resumed: the planner's next run plans {day} only; nothing before it will be sent \
         (watermark set to {watermark} in {}).",
        deployment.dynamo().table()
    );
    Ok(ExitCode::SUCCESS)
}

/// What `status --backend aws --json` prints.
#[derive(Debug, Serialize)]
struct AwsStatus {
    table: String,
    watermark: Option<chrono::NaiveDate>,
    pending: Vec<PendingCount>,
    /// Pending notices that failed at least once.
    failing: Vec<Notice>,
    waiting_for_open_day: Vec<relance_core::summary::OpenDayWait>,
    /// The planner's manifests with what the fan-out delivered, newest first.
    last_runs: Vec<relance_core::summary::RunSummary>,
    warning: Option<String>,
}

/// `relance status --backend aws`: the watermark, the pending notices, the
/// letters waiting for an open day and the last runs with their deliveries.
pub fn status(config: &Path, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let (ctx, deployment) = connect(config)?;
    let rt = &deployment.runtime;
    let dynamo = &**deployment.dynamo();
    let today = ctx.today();
    let horizon = shift(today, 3660).context("date out of range")?;
    let watermark = rt.block_on(dynamo.watermark())?;
    let mut notices = rt.block_on(dynamo.pending_notices(Channel::Email, horizon))?;
    let letters = rt.block_on(dynamo.pending_notices(Channel::Letter, horizon))?;
    let waiting_for_open_day = ctx.config.letters_waiting(&letters, today);
    notices.extend(letters);
    let mut by_stage: BTreeMap<(&'static str, String), PendingCount> = BTreeMap::new();
    for notice in &notices {
        let entry = by_stage
            .entry((notice.channel.as_str(), notice.stage.to_string()))
            .or_insert_with(|| PendingCount {
                stage: notice.stage.to_string(),
                channel: notice.channel.as_str().to_owned(),
                count: 0,
                oldest_run_day: notice.run_day,
            });
        entry.count += 1;
        entry.oldest_run_day = entry.oldest_run_day.min(notice.run_day);
    }
    let mut runs = rt.block_on(dynamo.runs(args.runs))?;
    let days: Vec<_> = runs.iter().map(|r| r.run_day).collect();
    let mut delivered = rt.block_on(dynamo.delivered(&days))?;
    for run in &mut runs {
        if let Some(counters) = delivered.remove(&run.run_day) {
            with_delivered(run, &counters);
        }
    }
    let status = AwsStatus {
        table: dynamo.table().to_owned(),
        watermark,
        pending: by_stage.into_values().collect(),
        failing: notices.into_iter().filter(|n| n.attempts > 0).collect(),
        waiting_for_open_day,
        last_runs: runs,
        warning: ctx.watermark_warning(watermark),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(ExitCode::SUCCESS);
    }
    print_status(&ctx, &status);
    Ok(ExitCode::SUCCESS)
}

fn print_status(ctx: &Context, status: &AwsStatus) {
    if let Some(warning) = &status.warning {
        eprintln!("{warning}");
    }
    println!("Table: {}", status.table);
    match status.watermark {
        Some(day) => println!("Watermark: {day} (last run day fully planned)"),
        None => println!("Watermark: none (no run yet: the first run plans its own day only)"),
    }
    print_pending(&status.pending);
    print_waiting(&status.waiting_for_open_day);
    if !status.failing.is_empty() {
        println!("Pending after failed attempts (the mailer's log says why):");
        for n in &status.failing {
            println!(
                "  {} {} {} {} of {}, {} attempt(s)",
                n.reference, n.channel, n.stage, n.patron_id, n.run_day, n.attempts
            );
        }
    }
    // Deliveries as the mailer and the letters function counted them.
    print_last_runs(&ctx.config, &status.last_runs);
}

/// `relance history --backend aws`: a patron's notices, newest first, from
/// what the table holds about them (one Scan filtered on the patron: the table
/// has no index of a patron's notices, so it reads the whole table once).
pub fn history(config: &Path, args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let (_, deployment) = connect(config)?;
    let id = PatronId::parse(&args.patron_id)
        .with_context(|| format!("invalid patron id {:?}", args.patron_id))?;
    let mut export = deployment
        .runtime
        .block_on(export_with(&**deployment.dynamo(), &id))?;
    if export.is_empty() {
        anyhow::bail!("no patron {id} in the table");
    }
    export
        .notices
        .sort_by(|a, b| (b.run_day, &b.id).cmp(&(a.run_day, &a.id)));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&export)?);
        return Ok(ExitCode::SUCCESS);
    }
    let loans: HashMap<_, _> = export.loans.iter().map(|l| (&l.id, l)).collect();
    println!(
        "Patron {id}: {} notices, newest first",
        export.notices.len()
    );
    for n in &export.notices {
        let status = match &n.status {
            NoticeStatus::Sent { at, .. } => format!("sent {}", at.format("%Y-%m-%d %H:%M UTC")),
            NoticeStatus::Cancelled { reason } => format!("cancelled ({reason})"),
            NoticeStatus::Pending => "pending".to_owned(),
        };
        let library = n
            .library
            .as_ref()
            .map(|l| format!(" {l}"))
            .unwrap_or_default();
        println!(
            "\n{}  {} {}{library}  Réf. {}  {status}",
            n.run_day, n.stage, n.channel, n.reference
        );
        if let NoticeStatus::Sent { message_id, .. } = &n.status {
            println!("  message id: {message_id}");
        }
        if n.attempts > 0 {
            println!("  {} failed attempts", n.attempts);
        }
        for l in &n.loans {
            match loans.get(&l.loan_id) {
                Some(loan) => {
                    let returned = loan
                        .returned_at
                        .map(|at| format!("  (returned {})", at.format("%Y-%m-%d")))
                        .unwrap_or_default();
                    println!(
                        "  {:<10} {:<8} due {}  {} {}{returned}",
                        l.loan_id, loan.library, l.due_date, loan.item.barcode, loan.item.title
                    );
                }
                None => println!(
                    "  {:<10} due {}  (returned; purged from the table)",
                    l.loan_id, l.due_date
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
