//! `relance purge`: removes the personal data `[retention]` says is due (rules
//! §16); each `relance run` does the same after its report.

use std::path::Path;
use std::process::ExitCode;

use chrono::NaiveDate;
use relance_core::retention::PurgeCounts;
use relance_local::{Outbox, Store};

use crate::context::{Context, LockWait};

/// Remove what is past its retention period.
#[derive(clap::Args)]
pub struct PurgeArgs {
    /// The day ages are counted to (YYYY-MM-DD); today in the institution's timezone by default.
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Count what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the counts as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Accept a --date more than a year from today.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub lock: LockWait,
}

/// Purges the store and the outbox for `day`; hold the state folder's lock.
pub(crate) fn purge_due(
    ctx: &Context,
    store: &Store,
    outbox: &Outbox,
    day: NaiveDate,
    dry_run: bool,
) -> anyhow::Result<PurgeCounts> {
    let cutoffs = ctx
        .config
        .retention
        .cutoffs(day, ctx.config.institution.timezone);
    let mut counts = store.purge(&cutoffs, dry_run)?;
    (counts.letter_files, counts.mail_files) = outbox.purge(&cutoffs, dry_run)?;
    tracing::info!(
        run_day = %day,
        dry_run,
        returned_loans = counts.returned_loans,
        notices = counts.notices,
        markers = counts.markers,
        replies = counts.replies,
        feedback = counts.feedback,
        patrons = counts.patrons,
        letter_files = counts.letter_files,
        mail_files = counts.mail_files,
        "purge"
    );
    Ok(counts)
}

/// One line: `returned_loans 3, notices 12, …`, or `nothing`.
pub(crate) fn counts_line(counts: &PurgeCounts) -> String {
    let kinds: Vec<_> = counts
        .kinds()
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    if kinds.is_empty() {
        "nothing".to_owned()
    } else {
        kinds.join(", ")
    }
}

/// Runs `relance purge`.
pub fn run(config: &Path, args: PurgeArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::load(config)?;
    let day = args.date.unwrap_or_else(|| ctx.today());
    ctx.check_day(day, args.force)?;
    let _lock = ctx.lock("relance purge", &args.lock)?;
    let store = ctx.store()?;
    let outbox = Outbox::new(ctx.state_dir.join("outbox"));
    let counts = purge_due(&ctx, &store, &outbox, day, args.dry_run)?;
    if args.json {
        let mut value = serde_json::to_value(counts)?;
        value["run_day"] = serde_json::json!(day);
        value["dry_run"] = serde_json::json!(args.dry_run);
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    let r = &ctx.config.retention;
    let verb = if args.dry_run {
        "Would purge (dry run: nothing removed)"
    } else {
        "Purged"
    };
    println!("{verb} for {day}: {}", counts_line(&counts));
    println!(
        "  [retention] returned_loans {} days, notices {}, mail {}, letters {}, patrons {}",
        r.returned_loans, r.notices, r.mail, r.letters, r.patrons
    );
    Ok(ExitCode::SUCCESS)
}
