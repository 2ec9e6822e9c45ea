//! The report function: once the day's fan-out is done (06:00 local by default),
//! sends the staff inbox the report `relance run` writes (rules §13): the run
//! day's counts per stage and library, deliveries, cancellations, failures and
//! what waits in the dead-letter queues, with the day's notices as CSV. Sent
//! once per run day however often it is invoked: the day's report is claimed
//! with a lease, then marked with SES's message id.

use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use relance_aws::Function;
use relance_aws::dynamo::Dynamo;
use relance_aws::env::{self, SettingsError};
use relance_aws::fanout::{Counters, FanOutBook, ReportClaim, with_delivered};
use relance_aws::mail::SesTransport;
use relance_aws::metrics::Metrics;
use relance_aws::queue::{Dispatch, Queue};
use relance_core::calendar::local_date;
use relance_core::config::Config;
use relance_core::ids::NoticeId;
use relance_core::ladder::Channel;
use relance_core::notice::NoticeStatus;
use relance_core::ports::{Ledger, LoanStore, MailTransport, OutgoingMail};
use relance_core::schedule::within_reach;
use relance_core::staff_report::{StaffReportInput, compose_staff_report, loan_libraries};
use relance_core::summary::RunSummary;
use serde::{Deserialize, Serialize};

/// How long a claim keeps another invocation from sending the same report.
pub const LEASE: Duration = Duration::minutes(5);

/// Run manifests read to find the run day's (a day's planner runs, retries
/// included, are among the latest).
const MANIFESTS_READ: usize = 20;

/// What the function is invoked with.
///
/// - EventBridge Scheduler: `{"scheduled_time": "<aws.scheduler.scheduled-time>"}`:
///   the report of that day (in the institution's timezone);
/// - `{"date": "2027-01-04"}`: the report of that run day.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportEvent {
    #[serde(default, alias = "time")]
    pub scheduled_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub date: Option<NaiveDate>,
}

/// What an invocation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportOutput {
    pub run_day: NaiveDate,
    /// False when the day's report had gone already (nothing sent again).
    pub sent_now: bool,
    /// SES's message id of the day's report.
    pub message_id: String,
    /// The notices of the day it lists.
    pub notices: usize,
}

/// The report function with its config and ports, built once per instance.
pub struct Report<S = Dynamo, B = Dynamo, T = SesTransport, Q = Queue> {
    config: Config,
    store: Arc<S>,
    book: Arc<B>,
    transport: T,
    /// Each dead-letter queue, by the name the report gives it.
    dead_letters: Vec<(String, Q)>,
}

impl Report {
    /// The deployed function: its table and config, SES, and the dead-letter
    /// queues of `RELANCE_MAIL_DLQ_URL`, `RELANCE_LETTER_DLQ_URL` and
    /// `RELANCE_FAILED_INVOCATIONS_URL` (each optional).
    pub async fn from_env() -> Result<Self, SettingsError> {
        let function = Function::from_env().await?;
        let queues: Vec<(String, String)> = [
            ("mail", env::optional("RELANCE_MAIL_DLQ_URL")),
            ("letters", env::optional("RELANCE_LETTER_DLQ_URL")),
            (
                "failed invocations",
                env::optional("RELANCE_FAILED_INVOCATIONS_URL"),
            ),
        ]
        .into_iter()
        .filter_map(|(name, url)| Some((name.to_owned(), url?)))
        .collect();
        Ok(Self::new(function, &queues))
    }

    /// The report function of a function, with these dead-letter queues (name, URL).
    pub fn new(function: Function, dead_letters: &[(String, String)]) -> Self {
        let queues = dead_letters
            .iter()
            .map(|(name, url)| (name.clone(), Queue::new(function.clients.sqs.clone(), url)))
            .collect();
        Self::with_ports(
            function.config,
            function.dynamo.clone(),
            function.dynamo,
            SesTransport::new(&function.clients.ses, None),
            queues,
        )
    }
}

impl<S, B, T, Q> Report<S, B, T, Q>
where
    S: LoanStore + Ledger + Send + Sync,
    B: FanOutBook,
    T: MailTransport,
    Q: Dispatch,
{
    /// The report function over these ports.
    pub fn with_ports(
        config: Config,
        store: Arc<S>,
        book: Arc<B>,
        transport: T,
        dead_letters: Vec<(String, Q)>,
    ) -> Self {
        Self {
            config,
            store,
            book,
            transport,
            dead_letters,
        }
    }

    /// The run day an event is for.
    pub fn run_day(&self, event: &ReportEvent, now: DateTime<Utc>) -> anyhow::Result<NaiveDate> {
        let tz = self.config.institution.timezone;
        match (event.date, event.scheduled_time) {
            (Some(day), None) => {
                let today = local_date(now, tz);
                anyhow::ensure!(
                    within_reach(day, today),
                    "{day} is more than a year from today ({today}): probably a typo"
                );
                Ok(day)
            }
            (None, Some(at)) => Ok(local_date(at, tz)),
            (Some(_), Some(_)) => anyhow::bail!("give either date or scheduled_time, not both"),
            (None, None) => anyhow::bail!(
                "the event has neither date nor scheduled_time \
                 (EventBridge Scheduler input: {{\"scheduled_time\": \"<aws.scheduler.scheduled-time>\"}})"
            ),
        }
    }

    /// Sends the run day's report unless it went already. An error fails the
    /// invocation, which Lambda retries; the claim's lease keeps two
    /// invocations from both sending it.
    pub async fn handle(
        &self,
        event: ReportEvent,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ReportOutput> {
        let run_day = self.run_day(&event, now)?;
        match self.book.claim_report(run_day, now, LEASE).await? {
            ReportClaim::Sent { message_id } => {
                tracing::info!(%run_day, "staff report sent already");
                return Ok(ReportOutput {
                    run_day,
                    sent_now: false,
                    message_id,
                    notices: 0,
                });
            }
            ReportClaim::Leased => {
                anyhow::bail!("the {run_day} report is being sent by another invocation")
            }
            ReportClaim::Claimed => {}
        }
        let notices = self.store.notices_on(run_day).await?;
        let libraries = loan_libraries(&*self.store, &notices).await?;
        let summary = self.summary(run_day, &notices).await?;
        let mut dead_letters = Vec::with_capacity(self.dead_letters.len());
        for (name, queue) in &self.dead_letters {
            let waiting = queue
                .waiting()
                .await
                .with_context(|| format!("the depth of the {name} dead-letter queue"))?;
            dead_letters.push((name.clone(), waiting));
        }
        let report = compose_staff_report(&StaffReportInput {
            config: &self.config,
            summary: &summary,
            notices: &notices,
            libraries: &libraries,
            last_import: None,
            dead_letters: &dead_letters,
            sent_at: now,
        })?;
        let message_id = self
            .transport
            .send(&OutgoingMail {
                notice_id: NoticeId::derive(&format!("report|{run_day}")),
                run_day,
                name: format!("report-{run_day}"),
                from: self.config.mail.from.address.clone(),
                to: self.config.mail.staff_inbox.clone(),
                raw: report.raw,
            })
            .await?;
        self.book.record_report(run_day, &message_id, now).await?;
        tracing::info!(%run_day, notices = notices.len(), "staff report sent");
        let waiting: u64 = dead_letters.iter().map(|(_, n)| n).sum();
        Metrics::of("report")
            .count("ReportsSent", 1)
            .count("DeadLetters", waiting as usize)
            .emit();
        Ok(ReportOutput {
            run_day,
            sent_now: true,
            message_id,
            notices: notices.len(),
        })
    }

    /// The planner's manifest of the day with what the fan-out delivered for it.
    async fn summary(
        &self,
        run_day: NaiveDate,
        notices: &[relance_core::notice::Notice],
    ) -> anyhow::Result<RunSummary> {
        let mut summary = self
            .book
            .runs(MANIFESTS_READ)
            .await?
            .into_iter()
            .find(|run| run.run_day == run_day)
            .unwrap_or_else(|| RunSummary {
                run_day,
                warnings: vec![format!(
                    "the planner recorded no run for {run_day}: was it invoked? \
                     (its failed invocations go to the failed-invocations queue)"
                )],
                ..RunSummary::default()
            });
        let delivered: Counters = self
            .book
            .delivered(&[run_day])
            .await?
            .remove(&run_day)
            .unwrap_or_default();
        with_delivered(&mut summary, &delivered);
        summary.letters_pending = notices
            .iter()
            .filter(|n| n.status == NoticeStatus::Pending && n.library.is_some())
            .count();
        summary.failed = notices
            .iter()
            .filter(|n| n.status == NoticeStatus::Pending && n.attempts > 0)
            .count();
        // Rules §14: the letters waiting for their library's next open day.
        let pending = self.store.pending_notices(Channel::Letter, run_day).await?;
        summary.waiting_for_open_day = self.config.letters_waiting(&pending, run_day);
        Ok(summary)
    }
}

#[cfg(test)]
mod tests;
