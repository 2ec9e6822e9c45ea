//! The inbound function: SES receiving stores each mail sent to the reply
//! address in S3 (`inbound/{SES message id}`) and invokes this function, which
//! reads it from there, classifies it, links it to its notice or patron, records
//! it and forwards what a person wrote to the staff inbox. A failure fails the
//! invocation, which Lambda retries (asynchronous invocation); receiving the
//! same mail again records and forwards nothing more.

use std::sync::Arc;

use anyhow::Context as _;
use aws_lambda_events::event::ses::{SimpleEmailEvent, SimpleEmailRecord, SimpleEmailVerdict};
use relance_aws::Function;
use relance_aws::archive::S3Archive;
use relance_aws::dynamo::Dynamo;
use relance_aws::env::{self, SettingsError};
use relance_aws::mail::SesTransport;
use relance_aws::metrics::Metrics;
use relance_core::config::Config;
use relance_core::inbound::{SenderCheck, Verdicts};
use relance_core::service::{Arrival, Mailroom, Received};

/// Where the receipt rule's S3 action puts mail: `{INBOUND_PREFIX}{message id}`.
pub const INBOUND_PREFIX: &str = "inbound/";

/// The inbound function with its clients and config, built once per instance.
pub struct Inbound {
    config: Config,
    dynamo: Arc<Dynamo>,
    archive: S3Archive,
    // Forwards go without the configuration set: a staff inbox's bounce is not
    // a patron's.
    transport: SesTransport,
}

impl Inbound {
    /// The deployed function: SES stores received mail in `RELANCE_BUCKET`.
    pub async fn from_env() -> Result<Self, SettingsError> {
        let bucket = env::required("RELANCE_BUCKET")?;
        Ok(Self::new(Function::from_env().await?, &bucket))
    }

    /// The inbound function of a function, reading mail from `bucket`.
    pub fn new(function: Function, bucket: &str) -> Self {
        Self {
            archive: S3Archive::new(function.clients.s3.clone(), bucket),
            transport: SesTransport::new(&function.clients.ses, None),
            config: function.config,
            dynamo: function.dynamo,
        }
    }

    /// Handles every mail of a receipt event; the first failure fails the
    /// invocation (the mails before it are recorded, so a retry skips them).
    pub async fn handle(&self, event: SimpleEmailEvent) -> anyhow::Result<Vec<Received>> {
        let mut received = Vec::with_capacity(event.records.len());
        for record in &event.records {
            received.push(self.receive(record).await?);
        }
        Ok(received)
    }

    async fn receive(&self, record: &SimpleEmailRecord) -> anyhow::Result<Received> {
        let mail = &record.ses.mail;
        let id = mail
            .message_id
            .as_deref()
            .filter(|id| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
            .context("a receipt event without a usable message id")?;
        let key = format!("{INBOUND_PREFIX}{id}");
        let raw = self
            .archive
            .get(&key)
            .await
            .with_context(|| format!("reading the received mail {key}"))?;
        let receipt = &record.ses.receipt;
        let mailroom = Mailroom {
            config: &self.config,
            store: &*self.dynamo,
            book: &*self.dynamo,
            transport: &self.transport,
        };
        let received = mailroom
            .receive(&Arrival {
                id,
                raw: &raw,
                source: &format!("s3://{}/{key}", self.archive.bucket()),
                verdicts: Verdicts {
                    spam: failed(&receipt.spam_verdict),
                    virus: failed(&receipt.virus_verdict),
                    spf: check(&receipt.spf_verdict),
                    dkim: check(&receipt.dkim_verdict),
                    dmarc: check(&receipt.dmarc_verdict),
                },
                received_at: receipt.timestamp,
                outbox_name: format!("forward-{id}"),
            })
            .await
            .with_context(|| format!("handling the received mail {key}"))?;
        let stored = &received.record;
        tracing::info!(
            reply = %stored.id,
            class = stored.class.as_str(),
            patron = stored.patron_id.as_ref().map(|p| p.as_str()),
            notice = stored.notice_id.as_ref().map(|n| n.as_str()),
            linked_by = stored.linked_by.map(|by| by.as_str()),
            forwarded = received.forwarded_now,
            "mail received"
        );
        Metrics::of("inbound")
            .dimension("Class", stored.class.as_str())
            .count("MailReceived", 1)
            .count("Forwarded", usize::from(received.forwarded_now))
            .emit();
        Ok(received)
    }
}

fn check(verdict: &SimpleEmailVerdict) -> Option<SenderCheck> {
    verdict.status.as_deref().and_then(SenderCheck::parse)
}

fn failed(verdict: &SimpleEmailVerdict) -> bool {
    verdict
        .status
        .as_deref()
        .is_some_and(|status| status.eq_ignore_ascii_case("FAIL"))
}
