//! The mailer function: each SQS message names one email notice. The notice is
//! claimed with a lease (a conditional update: a duplicate delivery or a second
//! invocation finds it claimed or done), re-checked, rendered, sent through SES
//! and recorded. Throttling and transient failures fail that message only, which
//! SQS delivers again; a permanent rejection marks the address undeliverable and
//! the notice falls back to print. With `[source] recheck`, the loans are
//! checked against the library system just before sending (rules §15), once
//! per batch for a system that fails, within the day's budget of calls.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Duration, Utc};
use relance_aws::Function;
use relance_aws::dynamo::Dynamo;
use relance_aws::env::{self, SettingsError};
use relance_aws::fanout::{Claim, FanOutBook};
use relance_aws::mail::SesTransport;
use relance_aws::metrics::Metrics;
use relance_aws::queue::{MailMessage, decode, handle_batch};
use relance_aws::recheck::Recheck;
use relance_core::config::Config;
use relance_core::email::Templates;
use relance_core::ports::{Ledger, LoanStore, LoanSystem, MailTransport};
use relance_core::service::{Delivery, Engine};
use relance_sources::Source;

/// How long a claim keeps other invocations off a notice: longer than one send
/// takes, shorter than the queue's visibility timeout (6 × the function's), so
/// that the message of an invocation that died is claimable when SQS shows it again.
pub const LEASE: Duration = Duration::minutes(2);

/// How long after an invocation starts it may still ask the library system
/// about loans (`[source] recheck`): a check that fails or times out (about
/// 30 s at worst, and a failed system is not asked again in the batch) still
/// ends within the first minute, leaving the rest of the 90 s timeout to the
/// sends.
pub const RECHECK_WINDOW: std::time::Duration = std::time::Duration::from_secs(20);

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handled for good (sent, cancelled, fallen back to print, already done).
    Done(Option<Delivery>),
    /// To be delivered again by SQS (throttled, transient, claimed elsewhere).
    Retry(String),
}

/// How a batch's messages went, for the metrics.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Emails SES accepted.
    pub sent: usize,
    /// Notices whose loans were all returned or renewed.
    pub cancelled: usize,
    /// Notices turned into letters (the address was refused).
    pub fell_back_to_print: usize,
    /// Notices that cannot be rendered or sent (recorded with their reason).
    pub unsendable: usize,
    /// Messages whose notice was already sent, cancelled or missing.
    pub already_handled: usize,
    /// Messages left for SQS to deliver again.
    pub retries: usize,
    /// Notices held for an open day (rules §14): the next planner run queues them again.
    pub waiting_for_open_day: usize,
}

impl Tally {
    /// Counts each outcome once.
    pub fn of(outcomes: &[Outcome]) -> Self {
        let mut tally = Self::default();
        for outcome in outcomes {
            let count = match outcome {
                Outcome::Done(Some(Delivery::Sent(_))) => &mut tally.sent,
                Outcome::Done(Some(Delivery::Cancelled)) => &mut tally.cancelled,
                Outcome::Done(Some(Delivery::FellBackToPrint)) => &mut tally.fell_back_to_print,
                Outcome::Done(Some(Delivery::Unsendable(_))) => &mut tally.unsendable,
                Outcome::Done(Some(Delivery::WaitingForOpenDay(_))) => {
                    &mut tally.waiting_for_open_day
                }
                Outcome::Done(Some(Delivery::Failed(_)) | None) => &mut tally.already_handled,
                Outcome::Retry(_) => &mut tally.retries,
            };
            *count += 1;
        }
        tally
    }
}

/// The mailer with its config and ports, built once per Lambda instance:
/// DynamoDB, SES and the library system in production, in-memory ports in the
/// unit tests.
pub struct Mailer<S = Dynamo, B = Dynamo, T = SesTransport, Y = Source> {
    config: Config,
    templates: Templates,
    store: Arc<S>,
    book: Arc<B>,
    transport: T,
    recheck: Option<Recheck<Y>>,
}

impl Mailer {
    /// The deployed mailer: the function's table and config, SES with
    /// `RELANCE_SES_CONFIGURATION_SET` (the configuration set whose event
    /// destination reports bounces and complaints), when set.
    pub async fn from_env() -> Result<Self, SettingsError> {
        let function = Function::from_env().await?;
        Ok(Self::new(function, env::optional("RELANCE_SES_CONFIGURATION_SET")).await)
    }

    /// The mailer of a function, sending with `configuration_set`, checking
    /// loans against the library system when `[source] recheck` is on.
    pub async fn new(function: Function, configuration_set: Option<String>) -> Self {
        let recheck = Recheck::of(&function, RECHECK_WINDOW).await;
        let transport = SesTransport::new(&function.clients.ses, configuration_set);
        Self::with_ports(
            function.config,
            function.templates,
            function.dynamo.clone(),
            function.dynamo,
            transport,
        )
        .with_recheck(recheck)
    }
}

impl<S, B, T> Mailer<S, B, T> {
    /// A mailer over these ports, without the send-time check.
    pub fn with_ports(
        config: Config,
        templates: Templates,
        store: Arc<S>,
        book: Arc<B>,
        transport: T,
    ) -> Self {
        Self {
            config,
            templates,
            store,
            book,
            transport,
            recheck: None,
        }
    }

    /// The same mailer, checking loans at send time with `recheck`.
    pub fn with_recheck<Y>(self, recheck: Option<Recheck<Y>>) -> Mailer<S, B, T, Y> {
        Mailer {
            config: self.config,
            templates: self.templates,
            store: self.store,
            book: self.book,
            transport: self.transport,
            recheck,
        }
    }
}

impl<S, B, T, Y> Mailer<S, B, T, Y>
where
    S: LoanStore + Ledger + Send + Sync,
    B: FanOutBook,
    T: MailTransport,
    Y: LoanSystem,
{
    /// Handles a batch; the messages to deliver again are reported as failures.
    pub async fn handle(&self, event: SqsEvent, now: DateTime<Utc>) -> SqsBatchResponse {
        let (response, outcomes) = match &self.recheck {
            // Boxed: the SDK's and the system's futures are large, and a
            // future holding both branches would be larger still.
            None => Box::pin(self.handle_over(&*self.store, &event, now)).await,
            Some(recheck) => {
                // One check for the batch: a system that fails is not asked
                // again for the rest of it, which keeps the batch in its timeout.
                let budget = recheck.budget(&*self.book, &self.config, now);
                let store = recheck.store(&*self.store, &budget, now);
                let handled = Box::pin(self.handle_over(&store, &event, now)).await;
                budget.count("mailer", &store.tally()).await;
                handled
            }
        };
        let tally = Tally::of(&outcomes);
        Metrics::of("mailer")
            .count("EmailsSent", tally.sent)
            .count("Cancellations", tally.cancelled)
            .count("PrintFallbacks", tally.fell_back_to_print)
            .count("Unsendable", tally.unsendable)
            .count("AlreadyHandled", tally.already_handled)
            .count("Retries", tally.retries)
            .count("WaitingForOpenDay", tally.waiting_for_open_day)
            .emit();
        response
    }

    /// Handles one message (its loans as the table has them).
    pub async fn handle_message(&self, message: &SqsMessage, now: DateTime<Utc>) -> Outcome {
        self.handle_message_over(&*self.store, message, now).await
    }

    async fn handle_over<L: LoanStore>(
        &self,
        loans: &L,
        event: &SqsEvent,
        now: DateTime<Utc>,
    ) -> (SqsBatchResponse, Vec<Outcome>) {
        handle_batch(
            event,
            |message| self.handle_message_over(loans, message, now),
            |outcome| matches!(outcome, Outcome::Retry(_)),
        )
        .await
    }

    /// Handles one message, its loans read from `loans`.
    async fn handle_message_over<L: LoanStore>(
        &self,
        loans: &L,
        message: &SqsMessage,
        now: DateTime<Utc>,
    ) -> Outcome {
        let body = message.body.as_deref().unwrap_or_default();
        let request: MailMessage = match decode(body) {
            Ok(request) => request,
            Err(e) => {
                // Malformed: retrying cannot help; the DLQ keeps it after maxReceiveCount.
                tracing::error!(message_id = ?message.message_id, error = %e, "unreadable message");
                return Outcome::Retry(e.to_string());
            }
        };
        match self.deliver(loans, &request, now).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::error!(notice = %request.notice_id, error = %e, "delivery failed");
                Outcome::Retry(e.to_string())
            }
        }
    }

    async fn deliver<L: LoanStore>(
        &self,
        loans: &L,
        request: &MailMessage,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Outcome> {
        let id = &request.notice_id;
        let notice = match self.book.claim(id, now, LEASE).await? {
            Claim::Claimed(notice) => notice,
            Claim::Done | Claim::Missing => {
                tracing::info!(notice = %id, "nothing to send: already handled");
                return Ok(Outcome::Done(None));
            }
            Claim::Leased => return Ok(Outcome::Retry("claimed by another invocation".into())),
        };
        let engine = Engine {
            config: &self.config,
            templates: &self.templates,
            store: loans,
            ledger: &*self.store,
            transport: &self.transport,
            archive: &(),
        };
        // Days overdue are counted to the run day that queued the notice, as
        // `relance run` counts them, never to the wall clock of a late delivery.
        let delivery = engine.deliver_email(&notice, request.run_day, now).await?;
        // The run day's counters are a report: a failure to count is logged and
        // the delivery stands.
        if let Err(e) = self
            .book
            .count_delivered(request.run_day, &[(outcome_name(&delivery), 1)])
            .await
        {
            tracing::warn!(notice = %id, error = %e, "delivery not counted");
        }
        tracing::info!(notice = %id, stage = %notice.stage, outcome = ?outcome_name(&delivery), "email notice");
        Ok(match delivery {
            Delivery::Failed(reason) => Outcome::Retry(reason),
            other => Outcome::Done(Some(other)),
        })
    }
}

fn outcome_name(delivery: &Delivery) -> &'static str {
    match delivery {
        Delivery::Sent(_) => "sent",
        Delivery::Cancelled => "cancelled",
        Delivery::FellBackToPrint => "fell_back_to_print",
        Delivery::Failed(_) => "failed",
        Delivery::Unsendable(_) => "unsendable",
        Delivery::WaitingForOpenDay(_) => "waiting_for_open_day",
    }
}

#[cfg(test)]
mod tests;
