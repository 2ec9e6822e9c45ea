//! The planner function: for a run day, plans what the watermark allows, records
//! the plan in the ledger, and queues one message per pending email notice and
//! one per library with pending letters. Delivery is the mailer's and the letters
//! function's.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use relance_aws::Function;
use relance_aws::dynamo::Dynamo;
use relance_aws::env::{self, SettingsError};
use relance_aws::fanout::FanOutBook;
use relance_aws::metrics::Metrics;
use relance_aws::queue::{Dispatch, LetterMessage, MailMessage, Queue};
use relance_core::calendar::local_date;
use relance_core::config::Config;
use relance_core::email::Templates;
use relance_core::ids::{LibraryCode, NoticeId};
use relance_core::ladder::Channel;
use relance_core::notice::Notice;
use relance_core::ports::{Ledger, LoanStore};
use relance_core::schedule::resume_watermark;
use relance_core::schedule::{FAR_DAYS, within_reach};
use relance_core::service::Engine;
use relance_core::summary::RunSummary;
use serde::{Deserialize, Serialize};

/// What the planner is invoked with: the schedule's time, or a console test event.
///
/// - EventBridge Scheduler: `{"scheduled_time": "<aws.scheduler.scheduled-time>"}`
///   (an EventBridge rule's `time` is accepted too);
/// - `{"date": "2026-11-29", "dry_run": true}`: plan a day, record nothing;
/// - `{"date": "2026-11-29", "resume": true}`: after a long stop, plan that day
///   only (nothing before it is ever sent), then run it;
/// - `{"status": true}`: the latest run manifests, newest first; nothing is planned;
/// - a `date` more than 366 days from today is refused unless `"force": true`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannerEvent {
    /// When the schedule fired; its date in the institution's timezone is the run day.
    #[serde(default, alias = "time")]
    pub scheduled_time: Option<DateTime<Utc>>,
    /// The run day, for console events.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Plan and report, record and queue nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Set the watermark to the day before first.
    #[serde(default)]
    pub resume: bool,
    /// Return the latest run manifests instead of planning.
    #[serde(default)]
    pub status: bool,
    /// Accept a `date` more than a year from today (rules §13: refused otherwise).
    #[serde(default)]
    pub force: bool,
}

/// How many run manifests a status event returns.
pub const STATUS_RUNS: usize = 10;

/// What a status event returns.
#[derive(Debug, Clone, Serialize)]
pub struct PlannerStatus {
    /// The last day fully planned.
    pub watermark: Option<NaiveDate>,
    /// The latest runs, newest first.
    pub runs: Vec<RunManifest>,
}

/// A run: what the planner planned and queued, and what the mailer and the
/// letters function have delivered for its run day so far.
#[derive(Debug, Clone, Serialize)]
pub struct RunManifest {
    /// The planner's summary (the keys of `relance run --json`).
    #[serde(flatten)]
    pub summary: RunSummary,
    /// The fan-out functions' counters for the run day: `sent`, `cancelled`,
    /// `fell_back_to_print`, `failed`, `letters_rendered`, `letter_batches`…
    pub delivered: BTreeMap<String, u64>,
}

/// The run summary (the same keys as `relance run --json`) and what was queued.
#[derive(Debug, Clone, Serialize)]
pub struct PlannerOutput {
    #[serde(flatten)]
    pub summary: RunSummary,
    /// Email notices queued for the mailer (new and still pending ones).
    pub emails_queued: usize,
    /// Library letter batches queued.
    pub letter_batches_queued: usize,
    /// DynamoDB read capacity units this invocation consumed.
    pub read_units: f64,
}

/// The planner with its config and ports, built once per Lambda instance:
/// DynamoDB and the two SQS queues in production.
pub struct Planner<S = Dynamo, B = Dynamo, Q = Queue> {
    config: Config,
    templates: Templates,
    store: Arc<S>,
    book: Arc<B>,
    /// The mailer's queue (`RELANCE_MAIL_QUEUE_URL`).
    mail_queue: Q,
    /// The letters function's queue (`RELANCE_LETTER_QUEUE_URL`).
    letter_queue: Q,
}

impl Planner {
    /// The deployed planner: the function's table and config, and its queues.
    pub async fn from_env() -> Result<Self, SettingsError> {
        let mail_queue = env::required("RELANCE_MAIL_QUEUE_URL")?;
        let letter_queue = env::required("RELANCE_LETTER_QUEUE_URL")?;
        Ok(Self::new(
            Function::from_env().await?,
            &mail_queue,
            &letter_queue,
        ))
    }

    /// The planner of a function, queueing to these queue URLs.
    pub fn new(function: Function, mail_queue_url: &str, letter_queue_url: &str) -> Self {
        let sqs = &function.clients.sqs;
        Self::with_ports(
            function.config,
            function.templates,
            function.dynamo.clone(),
            function.dynamo,
            (
                Queue::new(sqs.clone(), mail_queue_url),
                Queue::new(sqs.clone(), letter_queue_url),
            ),
        )
    }
}

impl<S, B, Q> Planner<S, B, Q>
where
    S: LoanStore + Ledger + Send + Sync,
    B: FanOutBook,
    Q: Dispatch,
{
    /// A planner over these ports; `queues` are the mailer's and the letters function's.
    pub fn with_ports(
        config: Config,
        templates: Templates,
        store: Arc<S>,
        book: Arc<B>,
        (mail_queue, letter_queue): (Q, Q),
    ) -> Self {
        Self {
            config,
            templates,
            store,
            book,
            mail_queue,
            letter_queue,
        }
    }

    /// The run day an event is for: its date, or the scheduled time's date in
    /// the institution's timezone — never the clock of a late retry.
    pub fn run_day(&self, event: &PlannerEvent) -> anyhow::Result<NaiveDate> {
        match (event.date, event.scheduled_time) {
            (Some(day), None) => {
                let today = local_date(Utc::now(), self.config.institution.timezone);
                if !event.force && !within_reach(day, today) {
                    anyhow::bail!(
                        "{day} is more than {FAR_DAYS} days from today ({today}): probably a \
                         typo; add \"force\": true to the event if you mean it"
                    );
                }
                Ok(day)
            }
            (None, Some(at)) => Ok(local_date(at, self.config.institution.timezone)),
            (Some(_), Some(_)) => anyhow::bail!("give either date or scheduled_time, not both"),
            (None, None) => anyhow::bail!(
                "the event has neither date nor scheduled_time \
                 (EventBridge Scheduler input: {{\"scheduled_time\": \"<aws.scheduler.scheduled-time>\"}})"
            ),
        }
    }

    /// Answers any event: a status event with the latest runs, any other by
    /// planning its run day.
    pub async fn invoke(&self, event: PlannerEvent) -> anyhow::Result<serde_json::Value> {
        if event.status {
            Ok(serde_json::to_value(self.status().await?)?)
        } else {
            Ok(serde_json::to_value(self.handle(event).await?)?)
        }
    }

    /// The watermark and the latest [`STATUS_RUNS`] run manifests.
    pub async fn status(&self) -> anyhow::Result<PlannerStatus> {
        let runs = self.book.runs(STATUS_RUNS).await?;
        let days: Vec<NaiveDate> = runs.iter().map(|r| r.run_day).collect();
        let mut delivered = self.book.delivered(&days).await?;
        Ok(PlannerStatus {
            watermark: self.store.watermark().await?,
            runs: runs
                .into_iter()
                .map(|summary| RunManifest {
                    delivered: delivered.remove(&summary.run_day).unwrap_or_default(),
                    summary,
                })
                .collect(),
        })
    }

    /// Plans, records and queues the run day of `event`.
    pub async fn handle(&self, event: PlannerEvent) -> anyhow::Result<PlannerOutput> {
        let run_day = self.run_day(&event)?;
        let units_before = self.book.read_units();
        let engine = Engine {
            config: &self.config,
            templates: &self.templates,
            store: &*self.store,
            ledger: &*self.store,
            transport: &(),
            archive: &(),
        };
        if event.resume && !event.dry_run {
            let watermark = resume_watermark(run_day).context("date out of range")?;
            self.store.set_watermark(watermark).await?;
            tracing::info!(%run_day, %watermark, "resumed: this run plans its own day only");
        }
        let (summary, plan) = engine.plan_and_record(run_day, event.dry_run).await?;
        let (emails_queued, letter_batches_queued) = if event.dry_run {
            (0, 0)
        } else {
            self.queue_pending(&plan.notices, run_day).await?
        };
        let output = PlannerOutput {
            summary,
            emails_queued,
            letter_batches_queued,
            read_units: self.book.read_units() - units_before,
        };
        tracing::info!(
            %run_day,
            dry_run = event.dry_run,
            planned_days = output.summary.planned_days.len(),
            notices = output.summary.notices.values().sum::<usize>(),
            emails_queued,
            letter_batches_queued,
            read_units = output.read_units,
            "planned"
        );
        if !event.dry_run {
            // The run's manifest: what was planned and queued (delivery counts
            // are the fan-out functions' metrics).
            self.book.record_run(&output.summary).await?;
            emit_metrics(&output);
        }
        Ok(output)
    }

    /// Queues every pending email notice up to the run day — those just planned
    /// and those a failed or lost delivery left pending — and one message per
    /// library with pending letters. The plan's own notices are queued from the
    /// plan: the index of pending notices is eventually consistent and may not
    /// list them yet. A notice queued twice is sent once: the mailer claims it.
    async fn queue_pending(
        &self,
        planned: &[Notice],
        run_day: NaiveDate,
    ) -> anyhow::Result<(usize, usize)> {
        let mut emails: BTreeSet<NoticeId> = BTreeSet::new();
        let mut libraries: BTreeSet<LibraryCode> = BTreeSet::new();
        let earlier_emails = self.store.pending_notices(Channel::Email, run_day).await?;
        let earlier_letters = self.store.pending_notices(Channel::Letter, run_day).await?;
        for notice in planned
            .iter()
            .chain(&earlier_emails)
            .chain(&earlier_letters)
        {
            match notice.channel {
                Channel::Email => {
                    emails.insert(notice.id.clone());
                }
                Channel::Letter => libraries.extend(notice.library.clone()),
            }
        }
        let emails: Vec<MailMessage> = emails
            .into_iter()
            .map(|notice_id| MailMessage { notice_id, run_day })
            .collect();
        let letters: Vec<LetterMessage> = libraries
            .into_iter()
            .map(|library| LetterMessage { run_day, library })
            .collect();
        self.mail_queue.send_all(&emails).await?;
        self.letter_queue.send_all(&letters).await?;
        Ok((emails.len(), letters.len()))
    }
}

/// The run's metrics: notices per stage, what was queued, print fallbacks, read units.
fn emit_metrics(output: &PlannerOutput) {
    for (stage, notices) in &output.summary.notices {
        Metrics::of("planner")
            .dimension("Stage", stage)
            .count("Notices", *notices)
            .emit();
    }
    Metrics::of("planner")
        .count("EmailsQueued", output.emails_queued)
        .count("LetterBatchesQueued", output.letter_batches_queued)
        .count("PrintFallbacks", output.summary.print_fallbacks)
        .value("ReadUnits", output.read_units)
        .emit();
}

#[cfg(test)]
mod tests;
