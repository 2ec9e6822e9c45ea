//! The letters function: each SQS message names a library and a run day. The
//! library's pending letters are re-checked and rendered into its print batch;
//! each letter, the batch and its manifest go to S3 under
//! `letters/{run_day}/{library}/` (encrypted), and the batch is mailed to the
//! library's inbox. A duplicate message finds nothing pending and sends nothing.
//! With `[source] recheck`, the letters' loans are checked against the library
//! system just before rendering (rules §15), within the day's budget of calls.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use relance_aws::Function;
use relance_aws::archive::S3Archive;
use relance_aws::dynamo::Dynamo;
use relance_aws::env::{self, SettingsError};
use relance_aws::fanout::FanOutBook;
use relance_aws::mail::SesTransport;
use relance_aws::metrics::Metrics;
use relance_aws::queue::{LetterMessage, decode, handle_batch};
use relance_aws::recheck::Recheck;
use relance_core::config::Config;
use relance_core::email::Templates;
use relance_core::ports::{
    Ledger, LetterArchive, LoanStore, LoanSystem, MailTransport, TransportError,
};
use relance_core::service::{Engine, RunError};
use relance_core::summary::RunSummary;
use relance_sources::Source;

/// How long after an invocation starts it may still ask the library system
/// about loans (`[source] recheck`): two minutes of its 300 s timeout, the
/// rest left to render, store and mail the batch.
pub const RECHECK_WINDOW: std::time::Duration = std::time::Duration::from_secs(120);

/// The letters function with its config and ports, built once per Lambda
/// instance: DynamoDB, S3, SES and the library system in production.
pub struct Letters<S = Dynamo, B = Dynamo, T = SesTransport, A = S3Archive, Y = Source> {
    config: Config,
    templates: Templates,
    store: Arc<S>,
    book: Arc<B>,
    transport: T,
    archive: A,
    recheck: Option<Recheck<Y>>,
}

impl Letters {
    /// The deployed function: its table and config, letters kept in `RELANCE_BUCKET`.
    pub async fn from_env() -> Result<Self, SettingsError> {
        let bucket = env::required("RELANCE_BUCKET")?;
        Ok(Self::new(Function::from_env().await?, &bucket).await)
    }

    /// The letters function of a function context, keeping letters in
    /// `bucket`, checking loans against the library system when `[source]
    /// recheck` is on.
    pub async fn new(function: Function, bucket: &str) -> Self {
        let recheck = Recheck::of(&function, RECHECK_WINDOW).await;
        Self::with_ports(
            function.config,
            function.templates,
            function.dynamo.clone(),
            function.dynamo,
            SesTransport::new(&function.clients.ses, None),
            S3Archive::new(function.clients.s3.clone(), bucket),
        )
        .with_recheck(recheck)
    }
}

impl<S, B, T, A> Letters<S, B, T, A> {
    /// The letters function over these ports, without the send-time check.
    pub fn with_ports(
        config: Config,
        templates: Templates,
        store: Arc<S>,
        book: Arc<B>,
        transport: T,
        archive: A,
    ) -> Self {
        Self {
            config,
            templates,
            store,
            book,
            transport,
            archive,
            recheck: None,
        }
    }

    /// The same function, checking loans at send time with `recheck`.
    pub fn with_recheck<Y>(self, recheck: Option<Recheck<Y>>) -> Letters<S, B, T, A, Y> {
        Letters {
            config: self.config,
            templates: self.templates,
            store: self.store,
            book: self.book,
            transport: self.transport,
            archive: self.archive,
            recheck,
        }
    }
}

impl<S, B, T, A, Y> Letters<S, B, T, A, Y>
where
    S: LoanStore + Ledger + Send + Sync,
    B: FanOutBook,
    T: MailTransport,
    A: LetterArchive,
    Y: LoanSystem,
{
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
        let (summary, refused) = match &self.recheck {
            // Boxed: the SDK's and the system's futures are large, and a
            // future holding both branches would be larger still.
            None => Box::pin(self.deliver(&*self.store, &request, now)).await?,
            Some(recheck) => {
                let budget = recheck.budget(&*self.book, &self.config, now);
                let store = recheck.store(&*self.store, &budget, now);
                let delivered = Box::pin(self.deliver(&store, &request, now)).await;
                budget.count("letters", &store.tally()).await;
                delivered?
            }
        };
        tracing::info!(
            library = %library,
            run_day = %request.run_day,
            letters = summary.letters_rendered,
            cancelled = summary.cancelled,
            failed = summary.failed,
            "letter batch"
        );
        let counted = self
            .book
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

    /// The engine's delivery of the library's letters, their loans read from `loans`.
    async fn deliver<L: LoanStore>(
        &self,
        loans: &L,
        request: &LetterMessage,
        now: DateTime<Utc>,
    ) -> Result<(RunSummary, Option<TransportError>), RunError> {
        let engine = Engine {
            config: &self.config,
            templates: &self.templates,
            store: loans,
            ledger: &*self.store,
            transport: &self.transport,
            archive: &self.archive,
        };
        // Rendering is CPU work on scoped threads; this function handles one
        // message at a time, so blocking its runtime thread meanwhile is harmless.
        engine
            .deliver_library_letters(&request.library, request.run_day, now)
            .await
    }
}

#[cfg(test)]
mod tests;
