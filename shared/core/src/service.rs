//! The run, composed from the ports: plan the days the watermark allows, record
//! the plan, then deliver what is pending. The same steps serve the `relance`
//! command and the Lambda functions.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::Config;
use crate::email::{RenderError, Templates};
use crate::ladder::Channel;
use crate::letter::LetterError;
use crate::plan::{Candidate, RunPlan, plan};
use crate::ports::{Ledger, LetterArchive, LoanStore, MailTransport, StoreError, TransportError};
use crate::schedule::planned_days;
use crate::summary::{RunSummary, unknown_library};

mod email;
mod letters;
mod mailroom;

pub use email::Delivery;
pub use mailroom::{Arrival, FeedbackOutcome, Mailroom, Received, record_feedback};

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store or ledger failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A template failed to render.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A letter failed to render.
    #[error(transparent)]
    Letter(#[from] LetterError),
    /// A letter notice names a library the config no longer has.
    #[error("library {0} is not in the config: add it to [[libraries]] (its notices stay pending)")]
    UnknownLibrary(String),
    /// The transport failed in a way retrying will not fix.
    #[error(transparent)]
    Transport(TransportError),
    /// A notice refers to a patron the store does not have.
    #[error("notice {0} refers to patron {1}, who is not in the store")]
    MissingPatron(String, String),
}

impl RunError {
    /// Whether the error belongs to one notice (its data, its rendering, its
    /// library) rather than to the store or the transport: that notice then fails
    /// alone, recorded with the reason, and the run goes on (rules §13).
    pub fn is_notice_fault(&self) -> bool {
        matches!(
            self,
            Self::Render(_)
                | Self::Letter(_)
                | Self::UnknownLibrary(_)
                | Self::MissingPatron(..)
                | Self::Store(StoreError::Corrupt { .. })
        )
    }
}

/// The phases of a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunPhase {
    /// The plan is decided and recorded.
    Planned,
    /// Pending emails were delivered.
    EmailsDelivered,
    /// Pending letters were rendered and their batches sent.
    LettersDelivered,
}

/// The engine with its adapters.
pub struct Engine<'a, S, L, T, A> {
    /// The institution's configuration.
    pub config: &'a Config,
    /// Email templates.
    pub templates: &'a Templates,
    /// Patrons and loans.
    pub store: &'a S,
    /// Notices, markers and watermark.
    pub ledger: &'a L,
    /// Where emails go.
    pub transport: &'a T,
    /// Where letters and print batches are kept.
    pub archive: &'a A,
}

/// Planning needs only the store and the ledger: the serverless planner runs it
/// with no transport or archive (`()`).
impl<S: LoanStore, L: Ledger, T, A> Engine<'_, S, L, T, A> {
    /// Plans the days the watermark allows for `run_day`, without recording anything.
    pub async fn plan(&self, run_day: NaiveDate) -> Result<(RunPlan, Option<NaiveDate>), RunError> {
        let watermark = self.ledger.watermark().await?;
        let days = planned_days(watermark, run_day, self.config.institution.catch_up_days);
        let mut candidates = Vec::new();
        for &day in &days {
            for stage in self.config.ladder.stages() {
                let Some(due) = stage.due_date_reaching_on(day) else {
                    continue;
                };
                for loan in self.store.open_loans_due_on(due).await? {
                    candidates.push(Candidate {
                        loan,
                        stage: stage.name.clone(),
                        day,
                    });
                }
            }
        }
        let unknown_libraries = candidates
            .iter()
            .map(|c| &c.loan.library)
            .filter(|code| self.config.library(code).is_none())
            .cloned()
            .collect();
        let keys: Vec<_> = candidates.iter().map(Candidate::key).collect();
        let handled = self.ledger.handled(&keys).await?;
        let mut patron_ids: Vec<_> = candidates
            .iter()
            .map(|c| c.loan.patron_id.clone())
            .collect();
        patron_ids.sort();
        patron_ids.dedup();
        let patrons: HashMap<_, _> = self
            .store
            .patrons(&patron_ids)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let mut plan = plan(
            &self.config.ladder,
            run_day,
            days,
            candidates,
            &patrons,
            &handled,
        );
        plan.unknown_libraries = unknown_libraries;
        Ok((plan, watermark))
    }

    /// Plans the days the watermark allows for `run_day` and records the plan
    /// (unless `dry_run`), delivering nothing: the first half of a run, which the
    /// serverless planner does before it queues the deliveries. Returns the
    /// summary and the plan.
    pub async fn plan_and_record(
        &self,
        run_day: NaiveDate,
        dry_run: bool,
    ) -> Result<(RunSummary, RunPlan), RunError> {
        let (plan, watermark) = self.plan(run_day).await?;
        let mut summary = RunSummary {
            run_day,
            planned_days: plan.planned_days.clone(),
            dry_run,
            notices: plan.notices_by_stage(),
            print_fallbacks: plan.print_fallbacks(&self.config.ladder),
            skipped: plan
                .skipped()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            warnings: plan
                .unknown_libraries
                .iter()
                .map(|code| unknown_library(code.as_str()))
                .collect(),
            ..RunSummary::default()
        };
        if dry_run {
            summary.letters_pending = plan
                .notices
                .iter()
                .filter(|n| n.channel == Channel::Letter)
                .count();
        } else if !plan.planned_days.is_empty() {
            self.ledger.record_plan(&plan, watermark).await?;
        }
        Ok((summary, plan))
    }
}

impl<S: LoanStore, L: Ledger, T: MailTransport, A: LetterArchive> Engine<'_, S, L, T, A> {
    /// Runs `run_day`: plans, records, delivers pending emails and letters; with `dry_run`,
    /// reports what it would plan and records and sends nothing.
    pub async fn run(
        &self,
        run_day: NaiveDate,
        dry_run: bool,
        now: DateTime<Utc>,
    ) -> Result<RunSummary, RunError> {
        self.run_observed(run_day, dry_run, now, |_| {}).await
    }

    /// [`Engine::run`], calling `observe` as each phase ends (the command times
    /// the phases with it; the engine itself never reads a clock).
    pub async fn run_observed(
        &self,
        run_day: NaiveDate,
        dry_run: bool,
        now: DateTime<Utc>,
        mut observe: impl FnMut(RunPhase) + Send,
    ) -> Result<RunSummary, RunError> {
        let (mut summary, _) = self.plan_and_record(run_day, dry_run).await?;
        observe(RunPhase::Planned);
        if dry_run {
            return Ok(summary);
        }
        self.deliver_emails(run_day, now, &mut summary).await?;
        observe(RunPhase::EmailsDelivered);
        self.deliver_letters(run_day, now, &mut summary).await?;
        observe(RunPhase::LettersDelivered);
        summary.letters_pending = self
            .ledger
            .pending_notices(Channel::Letter, run_day)
            .await?
            .len();
        self.ledger.record_run(&summary).await?;
        Ok(summary)
    }
}
