//! The mailer function: each SQS message names one email notice. The notice is
//! claimed with a lease (a conditional update: a duplicate delivery or a second
//! invocation finds it claimed or done), re-checked, rendered, sent through SES
//! and recorded. Throttling and transient failures fail that message only, which
//! SQS delivers again; a permanent rejection marks the address undeliverable and
//! the notice falls back to print.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Duration, Utc};
use relance_aws::Clients;
use relance_aws::dynamo::Dynamo;
use relance_aws::dynamo::ledger::Claim;
use relance_aws::env::{self, ConfigSource, SettingsError};
use relance_aws::mail::SesTransport;
use relance_aws::metrics::Metrics;
use relance_aws::queue::{MailMessage, decode};
use relance_core::config::Config;
use relance_core::email::Templates;
use relance_core::ids::NoticeId;
use relance_core::service::{Delivery, Engine};

/// How long a claim keeps other invocations off a notice: longer than one send
/// takes, shorter than the queue's visibility timeout (6 × the function's), so
/// that the message of an invocation that died is claimable when SQS shows it again.
pub const LEASE: Duration = Duration::minutes(2);

/// The mailer's environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `RELANCE_TABLE`: the DynamoDB table.
    pub table: String,
    /// `RELANCE_CONFIG`: where the institution's config is.
    pub config: ConfigSource,
    /// `RELANCE_SES_CONFIGURATION_SET`: the SES configuration set whose event
    /// destination reports bounces and complaints (optional).
    pub configuration_set: Option<String>,
}

impl Settings {
    /// Reads the environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Ok(Self {
            table: env::required("RELANCE_TABLE")?,
            config: ConfigSource::from_env()?,
            configuration_set: env::optional("RELANCE_SES_CONFIGURATION_SET"),
        })
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handled for good (sent, cancelled, fallen back to print, already done).
    Done(Option<Delivery>),
    /// To be delivered again by SQS (throttled, transient, claimed elsewhere).
    Retry(String),
}

/// The mailer with its clients and config, built once per Lambda instance.
pub struct Mailer {
    clients: Clients,
    settings: Settings,
    config: Config,
    templates: Templates,
    transport: SesTransport,
}

impl Mailer {
    /// Loads the config.
    pub async fn new(clients: Clients, settings: Settings) -> Result<Self, SettingsError> {
        let config = settings.config.load(&clients.s3).await?;
        let transport = SesTransport::new(&clients.ses, settings.configuration_set.clone());
        Ok(Self {
            clients,
            settings,
            config,
            templates: Templates::shipped(),
            transport,
        })
    }

    /// Handles a batch; the messages to deliver again are reported as failures.
    pub async fn handle(&self, event: SqsEvent, now: DateTime<Utc>) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        let mut counts = [0usize; 5];
        for message in &event.records {
            let outcome = self.handle_message(message, now).await;
            let slot = match &outcome {
                Outcome::Done(Some(Delivery::Sent(_))) => 0,
                Outcome::Done(Some(Delivery::Cancelled)) => 1,
                Outcome::Done(Some(Delivery::FellBackToPrint)) => 2,
                Outcome::Done(_) => 3,
                Outcome::Retry(_) => 4,
            };
            counts[slot] += 1;
            if let Outcome::Retry(_) = outcome {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message.message_id.clone().unwrap_or_default();
                response.batch_item_failures.push(failure);
            }
        }
        Metrics::of("mailer")
            .count("EmailsSent", counts[0])
            .count("Cancellations", counts[1])
            .count("PrintFallbacks", counts[2])
            .count("AlreadyHandled", counts[3])
            .count("Retries", counts[4])
            .emit();
        response
    }

    /// Handles one message.
    pub async fn handle_message(&self, message: &SqsMessage, now: DateTime<Utc>) -> Outcome {
        let body = message.body.as_deref().unwrap_or_default();
        let request: MailMessage = match decode(body) {
            Ok(request) => request,
            Err(e) => {
                // Malformed: retrying cannot help; the DLQ keeps it after maxReceiveCount.
                tracing::error!(message_id = ?message.message_id, error = %e, "unreadable message");
                return Outcome::Retry(e.to_string());
            }
        };
        match self.deliver(&request, now).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::error!(notice = %request.notice_id, error = %e, "delivery failed");
                Outcome::Retry(e.to_string())
            }
        }
    }

    async fn deliver(&self, request: &MailMessage, now: DateTime<Utc>) -> anyhow::Result<Outcome> {
        let id = NoticeId::parse(&request.notice_id)?;
        let dynamo = Dynamo::new(self.clients.dynamodb.clone(), &self.settings.table);
        let notice = match dynamo.claim(&id, now, LEASE).await? {
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
            store: &dynamo,
            ledger: &dynamo,
            transport: &self.transport,
            archive: &(),
        };
        // Days overdue are counted to the run day that queued the notice, as
        // `relance run` counts them, never to the wall clock of a late delivery.
        let delivery = engine.deliver_email(&notice, request.run_day, now).await?;
        // The run day's counters are a report: a failure to count is logged and
        // the delivery stands.
        if let Err(e) = dynamo
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
    }
}
