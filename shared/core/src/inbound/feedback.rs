//! The sending service's bounce and complaint events: SES event publishing
//! records (`eventType`), the older identity notifications (`notificationType`),
//! bare or in the envelope they travel in (an SNS notification's `Message`, an
//! EventBridge event's `detail`).

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::FeedbackKind;

/// Envelopes inside envelopes: SNS → EventBridge → the event is already deep.
const MAX_DEPTH: usize = 3;

/// A bounce or a complaint, as the sending service reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackEvent {
    /// The service's feedback id (`feedbackId`): unique per event.
    pub id: String,
    /// When it bounced or was complained about (`timestamp`).
    pub at: DateTime<Utc>,
    /// What it says.
    pub kind: FeedbackKind,
    /// The recipients concerned, as given (the mailroom reads them as addresses).
    pub recipients: Vec<String>,
    /// The service's id of the message we sent (`mail.messageId`).
    pub message_id: Option<String>,
}

/// Why an event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedbackError {
    /// Not JSON, or JSON of the wrong shape (a string where an object was).
    #[error("{path}not valid event JSON (line {line}, column {column}): {reason}")]
    Json {
        /// Where the JSON was: empty at the top, `Message: ` inside SNS.
        path: String,
        /// 1-based.
        line: usize,
        /// 1-based.
        column: usize,
        /// serde_json's message.
        reason: String,
    },
    /// A field that a bounce or complaint has is missing.
    #[error("missing field {0}")]
    Missing(String),
    /// A field has a value this reader does not know.
    #[error("{path}: {reason}")]
    Invalid {
        /// The field, as a JSON path (`bounce.bounceType`).
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Reads a bounce or complaint event; `Ok(None)` for every other event (Send,
/// Delivery, Open, DeliveryDelay…, an SNS subscription confirmation).
pub fn parse(json: &[u8]) -> Result<Option<FeedbackEvent>, FeedbackError> {
    parse_at(json, String::new(), 0)
}

fn parse_at(
    json: &[u8],
    path: String,
    depth: usize,
) -> Result<Option<FeedbackEvent>, FeedbackError> {
    let record: Record = serde_json::from_slice(json).map_err(|e| FeedbackError::Json {
        path: if path.is_empty() {
            String::new()
        } else {
            format!("{path}: ")
        },
        line: e.line(),
        column: e.column(),
        reason: e.to_string(),
    })?;
    read(record, &path, depth)
}

fn read(record: Record, path: &str, depth: usize) -> Result<Option<FeedbackEvent>, FeedbackError> {
    let at = |field: &str| join(path, field);
    if let Some(kind) = record.event_type.or(record.notification_type) {
        return match kind.as_str() {
            "Bounce" => bounce(record.bounce, record.mail, path).map(Some),
            "Complaint" => complaint(record.complaint, record.mail, path).map(Some),
            _ => Ok(None),
        };
    }
    if depth >= MAX_DEPTH {
        return Err(FeedbackError::Missing(at("eventType")));
    }
    if let Some(detail) = record.detail {
        return read(*detail, &at("detail"), depth + 1);
    }
    match (record.sns_type.as_deref(), record.sns_message) {
        (Some("Notification"), Some(message)) => {
            parse_at(message.as_bytes(), at("Message"), depth + 1)
        }
        (Some("Notification"), None) => Err(FeedbackError::Missing(at("Message"))),
        // SubscriptionConfirmation, UnsubscribeConfirmation: not feedback.
        (Some(_), _) => Ok(None),
        (None, _) => Err(FeedbackError::Missing(at("eventType"))),
    }
}

fn bounce(
    bounce: Option<Bounce>,
    mail: Option<Mail>,
    path: &str,
) -> Result<FeedbackEvent, FeedbackError> {
    let path = join(path, "bounce");
    let bounce = bounce.ok_or_else(|| FeedbackError::Missing(path.clone()))?;
    let kind = match required(bounce.bounce_type, &path, "bounceType")?.as_str() {
        "Permanent" => FeedbackKind::HardBounce,
        "Transient" | "Undetermined" => FeedbackKind::SoftBounce,
        other => {
            return Err(FeedbackError::Invalid {
                path: join(&path, "bounceType"),
                reason: format!(
                    "{other:?} is not a bounce type (Permanent, Transient or Undetermined)"
                ),
            });
        }
    };
    let recipients = required(bounce.bounced_recipients, &path, "bouncedRecipients")?;
    Ok(FeedbackEvent {
        id: required(bounce.feedback_id, &path, "feedbackId")?,
        at: timestamp(bounce.timestamp, &path)?,
        kind,
        recipients: addresses(recipients, &join(&path, "bouncedRecipients"))?,
        message_id: message_id(mail),
    })
}

fn complaint(
    complaint: Option<Complaint>,
    mail: Option<Mail>,
    path: &str,
) -> Result<FeedbackEvent, FeedbackError> {
    let path = join(path, "complaint");
    let complaint = complaint.ok_or_else(|| FeedbackError::Missing(path.clone()))?;
    let recipients = required(
        complaint.complained_recipients,
        &path,
        "complainedRecipients",
    )?;
    Ok(FeedbackEvent {
        id: required(complaint.feedback_id, &path, "feedbackId")?,
        at: timestamp(complaint.timestamp, &path)?,
        kind: FeedbackKind::Complaint,
        recipients: addresses(recipients, &join(&path, "complainedRecipients"))?,
        message_id: message_id(mail),
    })
}

/// Our message's id at the sending service, when given.
fn message_id(mail: Option<Mail>) -> Option<String> {
    mail.and_then(|mail| mail.message_id)
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
}

fn addresses(recipients: Vec<Recipient>, path: &str) -> Result<Vec<String>, FeedbackError> {
    recipients
        .into_iter()
        .enumerate()
        .map(|(n, r)| required(r.email_address, &format!("{path}[{n}]"), "emailAddress"))
        .collect()
}

fn timestamp(value: Option<String>, path: &str) -> Result<DateTime<Utc>, FeedbackError> {
    let value = required(value, path, "timestamp")?;
    DateTime::parse_from_rfc3339(&value)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|e| FeedbackError::Invalid {
            path: join(path, "timestamp"),
            reason: format!("{value:?} is not an ISO 8601 time: {e}"),
        })
}

/// The value of a field that must be there and, for a string, not be empty.
fn required<T: Present>(value: Option<T>, path: &str, field: &str) -> Result<T, FeedbackError> {
    value
        .filter(Present::is_present)
        .ok_or_else(|| FeedbackError::Missing(join(path, field)))
}

trait Present {
    fn is_present(&self) -> bool;
}

impl Present for String {
    fn is_present(&self) -> bool {
        !self.trim().is_empty()
    }
}

impl<T> Present for Vec<T> {
    fn is_present(&self) -> bool {
        true
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// Every shape at once: fields are optional here and checked by hand, so that
/// a missing one is named by its path.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    event_type: Option<String>,
    notification_type: Option<String>,
    bounce: Option<Bounce>,
    complaint: Option<Complaint>,
    mail: Option<Mail>,
    /// EventBridge: the SES event.
    detail: Option<Box<Record>>,
    /// SNS: `Notification`, `SubscriptionConfirmation`…
    #[serde(rename = "Type")]
    sns_type: Option<String>,
    /// SNS: the SES event, as a JSON string.
    #[serde(rename = "Message")]
    sns_message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bounce {
    bounce_type: Option<String>,
    bounced_recipients: Option<Vec<Recipient>>,
    feedback_id: Option<String>,
    timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Complaint {
    complained_recipients: Option<Vec<Recipient>>,
    feedback_id: Option<String>,
    timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    email_address: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Mail {
    message_id: Option<String>,
}
