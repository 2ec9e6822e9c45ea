//! The letters function: each SQS message names a library and a run day. The
//! library's pending letters are re-checked and rendered into its print batch;
//! each letter, the batch and its manifest go to S3 under
//! `letters/{run_day}/{library}/` (encrypted), and the batch is mailed to the
//! library's inbox. A duplicate message finds nothing pending and sends nothing.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use relance_aws::Clients;
use relance_aws::archive::S3Archive;
use relance_aws::dynamo::Dynamo;
use relance_aws::env::{self, ConfigSource, SettingsError};
use relance_aws::mail::SesTransport;
use relance_aws::metrics::Metrics;
use relance_aws::queue::{LetterMessage, decode, handle_batch};
use relance_core::config::Config;
use relance_core::email::Templates;
use relance_core::service::{Engine, RunError};
use relance_core::summary::RunSummary;

/// The letters function's environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `RELANCE_TABLE`: the DynamoDB table.
    pub table: String,
    /// `RELANCE_BUCKET`: where letters are kept.
    pub bucket: String,
    /// `RELANCE_CONFIG`: where the institution's config is.
    pub config: ConfigSource,
}

impl Settings {
    /// Reads the environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Ok(Self {
            table: env::required("RELANCE_TABLE")?,
            bucket: env::required("RELANCE_BUCKET")?,
            config: ConfigSource::from_env()?,
        })
    }
}

/// The letters function with its clients and config, built once per Lambda instance.
pub struct Letters {
    clients: Clients,
    settings: Settings,
    config: Config,
    templates: Templates,
}

impl Letters {
    /// Loads the config.
    pub async fn new(clients: Clients, settings: Settings) -> Result<Self, SettingsError> {
        let config = settings.config.load(&clients.s3).await?;
        Ok(Self {
            clients,
            settings,
            config,
            templates: Templates::shipped(),
        })
    }

    /// Handles a batch; the messages to deliver again are reported as failures.
    pub async fn handle(&self, event: SqsEvent, now: DateTime<Utc>) -> SqsBatchResponse {
        let (response, _) = handle_batch(
            &event,
            |message| async move {
                let delivered = self.handle_message(message, now).await;
                if let Err(e) = &delivered {
                    tracing::error!(message_id = ?message.message_id, error = %e, "letter batch not delivered");
                }
                delivered
            },
            Result::is_err,
        )
        .await;
        response
    }

    /// Delivers the batch one message names; an error means "deliver the message again".
    pub async fn handle_message(
        &self,
        message: &SqsMessage,
        now: DateTime<Utc>,
    ) -> anyhow::Result<RunSummary> {
        let request: LetterMessage = decode(message.body.as_deref().unwrap_or_default())?;
        let library = &request.library;
        let dynamo = Dynamo::new(self.clients.dynamodb.clone(), &self.settings.table);
        let transport = SesTransport::new(&self.clients.ses, None);
        let archive = S3Archive::new(self.clients.s3.clone(), &self.settings.bucket);
        let engine = Engine {
            config: &self.config,
            templates: &self.templates,
            store: &dynamo,
            ledger: &dynamo,
            transport: &transport,
            archive: &archive,
        };
        // Rendering is CPU work on scoped threads; this function handles one
        // message at a time, so blocking its runtime thread meanwhile is harmless.
        let (summary, refused) = engine
            .deliver_library_letters(library, request.run_day, now)
            .await?;
        tracing::info!(
            library = %library,
            run_day = %request.run_day,
            letters = summary.letters_rendered,
            cancelled = summary.cancelled,
            failed = summary.failed,
            "letter batch"
        );
        let counted = dynamo
            .count_delivered(
                request.run_day,
                &[
                    ("letters_rendered", summary.letters_rendered as u64),
                    ("letters_cancelled", summary.cancelled as u64),
                    ("letter_batches", u64::from(summary.letters_rendered > 0)),
                ],
            )
            .await;
        if let Err(e) = counted {
            tracing::warn!(library = %library, error = %e, "letters not counted");
        }
        Metrics::of("letters")
            .count("LettersRendered", summary.letters_rendered)
            .count("Cancellations", summary.cancelled)
            .count("Failures", summary.failed)
            .emit();
        // Counted first: the parts of a batch that went before the refusal are sent.
        match refused {
            Some(error) => Err(RunError::Transport(error).into()),
            None => Ok(summary),
        }
    }
}
