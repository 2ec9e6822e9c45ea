//! The run, composed from the ports: plan the days the watermark allows, record
//! the plan, then deliver what is pending. The same steps serve the `relance`
//! command and the Lambda functions.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::Config;
use crate::email::{self, EmailNotice, RenderError, Templates};
use crate::ladder::Channel;
use crate::model::{EmailStatus, Loan, Patron};
use crate::notice::{CancelReason, Notice, NoticeLoan};
use crate::plan::{Candidate, RunPlan, listing_order, plan};
use crate::ports::{Ledger, LoanStore, MailTransport, OutgoingMail, StoreError, TransportError};
use crate::report::RunSummary;
use crate::schedule::planned_days;

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store or ledger failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A template failed to render.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The transport failed in a way retrying will not fix.
    #[error(transparent)]
    Transport(TransportError),
    /// A notice refers to a patron the store does not have.
    #[error("notice {0} refers to patron {1}, who is not in the store")]
    MissingPatron(String, String),
}

/// After this many failed sends in a row the transport is taken as down and the
/// rest stays pending for the next run.
const MAX_CONSECUTIVE_FAILURES: usize = 5;

/// What became of one email notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted by the transport, with its message id.
    Sent(String),
    /// Every loan was returned or renewed since planning.
    Cancelled,
    /// The address does not work: the loans went to the print batch.
    FellBackToPrint,
    /// A failure that retrying may fix; the notice stays pending.
    Failed(String),
}

/// The engine with its adapters.
pub struct Engine<'a, S, L, T> {
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
}

impl<S: LoanStore, L: Ledger, T: MailTransport> Engine<'_, S, L, T> {
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
        let keys: Vec<_> = candidates.iter().map(Candidate::key).collect();
        let handled = self.ledger.handled(&keys).await?;
        let mut patron_ids: Vec<_> = candidates.iter().map(|c| c.loan.patron_id.clone()).collect();
        patron_ids.sort();
        patron_ids.dedup();
        let patrons: HashMap<_, _> = self
            .store
            .patrons(&patron_ids)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let plan = plan(&self.config.ladder, run_day, days, candidates, &patrons, &handled);
        Ok((plan, watermark))
    }

    /// Runs `run_day`: plans, records, delivers pending emails; with `dry_run`,
    /// reports what it would plan and records and sends nothing.
    pub async fn run(
        &self,
        run_day: NaiveDate,
        dry_run: bool,
        now: DateTime<Utc>,
    ) -> Result<RunSummary, RunError> {
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
            ..RunSummary::default()
        };
        if dry_run {
            summary.letters_pending = plan
                .notices
                .iter()
                .filter(|n| n.channel == Channel::Letter)
                .count();
            return Ok(summary);
        }
        if !plan.planned_days.is_empty() {
            self.ledger.record_plan(&plan, watermark).await?;
        }
        self.deliver_pending(run_day, now, &mut summary).await?;
        summary.letters_pending = self
            .ledger
            .pending_notices(Channel::Letter, run_day)
            .await?
            .len();
        self.ledger.record_run(&summary).await?;
        Ok(summary)
    }

    async fn deliver_pending(
        &self,
        run_day: NaiveDate,
        now: DateTime<Utc>,
        summary: &mut RunSummary,
    ) -> Result<(), RunError> {
        let pending = self.ledger.pending_notices(Channel::Email, run_day).await?;
        let mut failures_in_a_row = 0;
        for (i, notice) in pending.iter().enumerate() {
            if failures_in_a_row >= MAX_CONSECUTIVE_FAILURES {
                summary.deferred = pending.len() - i;
                break;
            }
            if notice.run_day < run_day {
                summary.requeued += 1;
            }
            match self.deliver_email(notice, run_day, now).await? {
                Delivery::Sent(_) => {
                    summary.emails_sent += 1;
                    failures_in_a_row = 0;
                }
                Delivery::Cancelled => summary.cancelled += 1,
                Delivery::FellBackToPrint => summary.fell_back_to_print += 1,
                Delivery::Failed(_) => {
                    summary.failed += 1;
                    failures_in_a_row += 1;
                }
            }
        }
        Ok(())
    }

    /// Delivers one pending email notice on `send_day`: re-checks its loans,
    /// renders it with the patron's current data, sends it and records the outcome.
    pub async fn deliver_email(
        &self,
        notice: &Notice,
        send_day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Delivery, RunError> {
        let patron = self
            .store
            .patrons(std::slice::from_ref(&notice.patron_id))
            .await?
            .pop()
            .ok_or_else(|| {
                RunError::MissingPatron(notice.id.to_string(), notice.patron_id.to_string())
            })?;
        let loans = self.recheck(notice).await?;
        if loans.is_empty() {
            self.ledger.cancel(&notice.id, CancelReason::NothingLeft).await?;
            return Ok(Delivery::Cancelled);
        }
        let Some(to) = patron.usable_email() else {
            self.fall_back(notice, &loans).await?;
            return Ok(Delivery::FellBackToPrint);
        };
        let other_overdue = self.other_overdue(&patron, &loans, send_day).await?;
        let stage = self.config.ladder.get(&notice.stage).ok_or_else(|| {
            StoreError::Corrupt(format!("notice {} has unknown stage {}", notice.id, notice.stage))
        })?;
        let composed = email::compose(
            self.templates,
            &EmailNotice {
                config: self.config,
                notice,
                stage,
                patron: &patron,
                to,
                loans: &loans,
                other_overdue: &other_overdue,
                send_day,
                sent_at: now,
            },
        )?;
        let mail = OutgoingMail {
            notice_id: notice.id.clone(),
            run_day: notice.run_day,
            name: notice.mail_name(),
            from: self.config.mail.from.address.clone(),
            to: to.clone(),
            raw: composed.raw,
        };
        match self.transport.send(&mail).await {
            Ok(message_id) => {
                self.ledger.record_sent(&notice.id, &message_id, now).await?;
                Ok(Delivery::Sent(message_id))
            }
            Err(TransportError::Rejected(reason)) => {
                self.store
                    .set_email_status(&patron.id, EmailStatus::Bouncing)
                    .await?;
                self.ledger.record_failure(&notice.id, &reason).await?;
                self.fall_back(notice, &loans).await?;
                Ok(Delivery::FellBackToPrint)
            }
            Err(TransportError::Throttled(e) | TransportError::Transient(e)) => {
                self.ledger.record_failure(&notice.id, &e).await?;
                Ok(Delivery::Failed(e))
            }
            Err(e @ TransportError::Unexpected(_)) => Err(RunError::Transport(e)),
        }
    }

    /// The notice's loans that are still open with the due date they were planned
    /// for, in listing order.
    async fn recheck(&self, notice: &Notice) -> Result<Vec<Loan>, RunError> {
        let planned: HashMap<_, _> = notice
            .loans
            .iter()
            .map(|l| (l.loan_id.clone(), l.due_date))
            .collect();
        let ids: Vec<_> = planned.keys().cloned().collect();
        let mut loans: Vec<Loan> = self
            .store
            .loans(&ids)
            .await?
            .into_iter()
            .filter(|l| l.is_open() && planned.get(&l.id) == Some(&l.due_date))
            .collect();
        loans.sort_by(listing_order);
        Ok(loans)
    }

    async fn other_overdue(
        &self,
        patron: &Patron,
        listed: &[Loan],
        day: NaiveDate,
    ) -> Result<Vec<Loan>, RunError> {
        let listed: HashSet<_> = listed.iter().map(|l| &l.id).collect();
        let mut others: Vec<Loan> = self
            .store
            .open_loans_of(&patron.id)
            .await?
            .into_iter()
            .filter(|l| !listed.contains(&l.id) && l.days_overdue(day) > 0)
            .collect();
        others.sort_by(listing_order);
        Ok(others)
    }

    async fn fall_back(&self, notice: &Notice, loans: &[Loan]) -> Result<(), RunError> {
        let mut by_library: BTreeMap<_, Vec<NoticeLoan>> = BTreeMap::new();
        for loan in loans {
            by_library.entry(loan.library.clone()).or_default().push(NoticeLoan {
                loan_id: loan.id.clone(),
                due_date: loan.due_date,
                stage: notice.stage.clone(),
            });
        }
        let letters: Vec<Notice> = by_library
            .into_iter()
            .map(|(library, loans)| {
                Notice::pending(
                    Notice::letter_id(&notice.patron_id, &library, notice.run_day),
                    notice.run_day,
                    notice.patron_id.clone(),
                    Channel::Letter,
                    notice.stage.clone(),
                    Some(library),
                    loans,
                )
            })
            .collect();
        self.ledger.fall_back_to_print(&notice.id, &letters).await?;
        Ok(())
    }
}
