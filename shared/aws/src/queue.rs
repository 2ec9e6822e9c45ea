//! SQS fan-out: the typed messages the planner sends to the `mailer` and
//! `letters` functions, and a [`Queue`] that sends them in batches of ten.

use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use chrono::NaiveDate;
use relance_core::ids::{LibraryCode, NoticeId};
use relance_core::ports::Cause;
use serde::de::{self, DeserializeOwned};
use serde::{Deserialize, Deserializer, Serialize};

use crate::sdk::backoff;

/// SendMessageBatch takes at most ten entries.
const BATCH_MAX: usize = 10;
/// Attempts of a batch before its failed entries make it fail.
const BATCH_ATTEMPTS: u32 = 8;

/// One email notice to send: the `mailer` function's message. Its ids are
/// checked when it is read, so a handler only ever sees valid ones.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct MailMessage {
    /// The notice to send (its content is read from the ledger).
    #[serde(deserialize_with = "notice_id")]
    pub notice_id: NoticeId,
    /// The run day that queued it: its days overdue are counted to this day and
    /// its delivery to this day's counters, as `relance run` does for a notice
    /// of an earlier day that it retries.
    pub run_day: NaiveDate,
}

/// One library's letters of a run day to render: the `letters` function's message.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct LetterMessage {
    /// The run day.
    pub run_day: NaiveDate,
    /// The owning library's code.
    pub library: LibraryCode,
}

/// Handles the messages of an SQS batch in turn and answers with the partial
/// batch response: the messages whose outcome `retry` says so are reported as
/// failures, for SQS to deliver again (and, after the queue's receive count, to
/// keep in its dead-letter queue); the others are deleted. Returns the outcomes
/// too, in order, for the handler's metrics.
pub async fn handle_batch<'e, O, F>(
    event: &'e SqsEvent,
    mut handle: impl FnMut(&'e SqsMessage) -> F,
    retry: impl Fn(&O) -> bool,
) -> (SqsBatchResponse, Vec<O>)
where
    F: Future<Output = O>,
{
    let mut response = SqsBatchResponse::default();
    let mut outcomes = Vec::with_capacity(event.records.len());
    for message in &event.records {
        let outcome = handle(message).await;
        if retry(&outcome) {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
        outcomes.push(outcome);
    }
    (response, outcomes)
}

/// A notice id from outside: as [`NoticeId::parse`] accepts it.
fn notice_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NoticeId, D::Error> {
    let text = String::deserialize(deserializer)?;
    NoticeId::parse(&text).map_err(|e| de::Error::custom(format!("notice_id {text:?}: {e}")))
}

/// A queue failure.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// A message could not be encoded or a body decoded.
    #[error("message encoding: {0}")]
    Encoding(#[from] serde_json::Error),
    /// SQS could not be reached, throttled, or kept failing some entries:
    /// retrying later may work. `sent` messages went out before the failure.
    #[error("queue unavailable after {sent} messages sent: {reason}")]
    Unavailable {
        /// Messages sent before the failure.
        sent: usize,
        /// What failed.
        reason: String,
        /// The SDK's error, when the request itself failed.
        #[source]
        source: Option<Cause>,
    },
    /// SQS refused entries for good (too large, invalid characters).
    #[error("queue refused messages after {sent} sent: {reason}")]
    Refused {
        /// Messages sent before the failure.
        sent: usize,
        /// What SQS said.
        reason: String,
    },
    /// Anything else (missing queue, permissions).
    #[error("queue error: {reason}")]
    Unexpected {
        /// What failed.
        reason: String,
        /// The SDK's error.
        #[source]
        source: Cause,
    },
}

/// Where messages go: a [`Queue`] in production, a [`MemoryQueue`] in unit tests.
pub trait Dispatch: Sync {
    /// Sends every message; returns how many were sent.
    fn send_all<T: Serialize + Sync>(
        &self,
        messages: &[T],
    ) -> impl Future<Output = Result<usize, QueueError>> + Send;

    /// About how many messages wait on it.
    fn waiting(&self) -> impl Future<Output = Result<u64, QueueError>> + Send;
}

/// The JSON bodies of the messages sent, in order: the unit tests' queue.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    bodies: std::sync::Mutex<Vec<String>>,
}

impl MemoryQueue {
    /// The messages sent so far, read back as `T`.
    pub fn sent<T: DeserializeOwned>(&self) -> Vec<T> {
        let bodies = self.bodies.lock().expect("memory queue lock");
        bodies
            .iter()
            .map(|body| serde_json::from_str(body).expect("a message this queue was sent"))
            .collect()
    }
}

impl Dispatch for MemoryQueue {
    async fn send_all<T: Serialize + Sync>(&self, messages: &[T]) -> Result<usize, QueueError> {
        let bodies = messages
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()?;
        let mut sent = self.bodies.lock().expect("memory queue lock");
        sent.extend(bodies);
        Ok(messages.len())
    }

    async fn waiting(&self) -> Result<u64, QueueError> {
        Ok(self.bodies.lock().expect("memory queue lock").len() as u64)
    }
}

impl Dispatch for Queue {
    async fn send_all<T: Serialize + Sync>(&self, messages: &[T]) -> Result<usize, QueueError> {
        Queue::send_all(self, messages).await
    }

    async fn waiting(&self) -> Result<u64, QueueError> {
        Queue::waiting(self).await
    }
}

/// A queue and its client.
#[derive(Debug, Clone)]
pub struct Queue {
    client: Client,
    url: String,
}

impl Queue {
    /// The queue at `url`.
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// The queue URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends every message as JSON, ten per SendMessageBatch; entries SQS fails
    /// for a passing reason are retried with backoff. Returns how many were sent.
    /// On failure, messages of the earlier batches have gone out: consumers are
    /// idempotent (the ledger), so the caller may send them all again.
    pub async fn send_all<T: Serialize>(&self, messages: &[T]) -> Result<usize, QueueError> {
        let bodies = messages
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()?;
        let mut sent = 0;
        for chunk in bodies.chunks(BATCH_MAX) {
            sent += self.send_batch(chunk, sent).await?;
        }
        Ok(sent)
    }

    async fn send_batch(&self, bodies: &[String], sent_before: usize) -> Result<usize, QueueError> {
        let mut pending: Vec<SendMessageBatchRequestEntry> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .build()
                    .expect("id and body are set")
            })
            .collect();
        let mut sent = 0;
        for attempt in 0..BATCH_ATTEMPTS {
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(pending.clone()))
                .send()
                .await
                .map_err(|e| queue_error(e, sent_before + sent))?;
            sent += out.successful().len();
            let failed = out.failed();
            if failed.is_empty() {
                return Ok(sent);
            }
            if let Some(refused) = failed.iter().find(|f| f.sender_fault()) {
                return Err(QueueError::Refused {
                    sent: sent_before + sent,
                    reason: format!(
                        "{}: {}",
                        refused.code(),
                        refused.message().unwrap_or_default()
                    ),
                });
            }
            pending.retain(|entry| failed.iter().any(|f| f.id() == entry.id()));
            if attempt + 1 < BATCH_ATTEMPTS {
                backoff(attempt).await;
            }
        }
        Err(QueueError::Unavailable {
            sent: sent_before + sent,
            reason: format!(
                "{} entries still failing after {BATCH_ATTEMPTS} attempts",
                pending.len()
            ),
            source: None,
        })
    }

    /// Up to `max` (1–10) messages, waiting up to `wait_s` seconds for one (long
    /// polling): each as (receipt handle, body). They stay invisible for the
    /// queue's visibility timeout, then come back unless [`Queue::delete`]d.
    pub async fn receive(
        &self,
        max: i32,
        wait_s: i32,
    ) -> Result<Vec<(String, String)>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max)
            .wait_time_seconds(wait_s)
            .send()
            .await
            .map_err(|e| queue_error(e, 0))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| Some((m.receipt_handle?, m.body.unwrap_or_default())))
            .collect())
    }

    /// About how many messages wait on the queue, visible or in flight (SQS's
    /// approximate counts: a dead-letter queue's depth for the staff report).
    pub async fn waiting(&self) -> Result<u64, QueueError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| queue_error(e, 0))?;
        Ok(out
            .attributes()
            .into_iter()
            .flatten()
            .filter_map(|(_, count)| count.parse::<u64>().ok())
            .sum())
    }

    /// Deletes a received message by its receipt handle.
    pub async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| queue_error(e, 0))
    }
}

/// Decodes a message body.
pub fn decode<T: DeserializeOwned>(body: &str) -> Result<T, QueueError> {
    Ok(serde_json::from_str(body)?)
}

/// Maps an SQS failure: timeouts, unreachable endpoints, throttling and 5xx are
/// `Unavailable`; the rest `Unexpected`.
fn queue_error<E>(
    err: SdkError<E, aws_sdk_sqs::config::http::HttpResponse>,
    sent: usize,
) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let reason = DisplayErrorContext(&err).to_string();
    let passing = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            matches!(
                service.err().code(),
                Some(
                    "ThrottlingException"
                        | "RequestThrottled"
                        | "ServiceUnavailable"
                        | "InternalError"
                )
            ) || service.raw().status().is_server_error()
        }
        _ => false,
    };
    let source = Box::new(err);
    if passing {
        QueueError::Unavailable {
            sent,
            reason,
            source: Some(source),
        }
    } else {
        QueueError::Unexpected { reason, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_plain_json_with_iso_days() {
        let message = MailMessage {
            notice_id: NoticeId::parse("0123456789abcdef0123").expect("id"),
            run_day: NaiveDate::from_ymd_opt(2026, 11, 29).expect("date"),
        };
        let body = serde_json::to_string(&message).expect("encode");
        assert_eq!(
            body,
            r#"{"notice_id":"0123456789abcdef0123","run_day":"2026-11-29"}"#
        );
        assert_eq!(decode::<MailMessage>(&body).expect("decode"), message);
        assert!(decode::<LetterMessage>(&body).is_err());
    }

    #[tokio::test]
    async fn a_batch_reports_exactly_the_messages_to_deliver_again() {
        let mut event = SqsEvent::default();
        for id in ["m1", "m2", "m3"] {
            let mut message = SqsMessage::default();
            message.message_id = Some(id.to_owned());
            message.body = Some(id.to_owned());
            event.records.push(message);
        }
        let (response, outcomes) = handle_batch(
            &event,
            |message| async move { message.body.clone().unwrap_or_default() },
            |body: &String| body != "m2",
        )
        .await;
        assert_eq!(outcomes, ["m1", "m2", "m3"], "each handled, in order");
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["m1", "m3"]);
    }

    #[test]
    fn a_message_with_an_invalid_id_is_refused_when_read() {
        let forged = r#"{"notice_id":"../../etc","run_day":"2026-11-29"}"#;
        assert!(decode::<MailMessage>(forged).is_err());
        let forged = r#"{"run_day":"2026-11-29","library":"S T S"}"#;
        assert!(decode::<LetterMessage>(forged).is_err());
        let fine = r#"{"run_day":"2026-11-29","library":"STS"}"#;
        assert_eq!(
            decode::<LetterMessage>(fine)
                .expect("decode")
                .library
                .as_str(),
            "STS"
        );
    }
}
