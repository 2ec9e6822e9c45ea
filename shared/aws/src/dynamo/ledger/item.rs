//! Notices, markers and references as DynamoDB items, and the few attribute
//! helpers the ledger's expressions need.
//!
//! A notice is one item (`NOTICE#{id}`, `NOTICE`) whose loans are a map attribute
//! keyed `{stage}|{loan_id}` (a stage has no `|`, so the key is unambiguous):
//! adding loans is then `SET loans.#k = :v`, idempotent and free of
//! read-modify-write races. A marker (`LOAN#{loan}`, `MARKER#{due}#{stage}`)
//! carries its run day and either the notice id or the skip reason.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use relance_core::ids::{LibraryCode, LoanId, NoticeId, PatronId, Reference, StageName};
use relance_core::ladder::Channel;
use relance_core::notice::{CancelReason, Notice, NoticeLoan, NoticeStatus};
use relance_core::ports::StoreError;

use crate::dynamo::table::{self, MESSAGE_ID, PENDING, PENDING_SK};
use crate::dynamo::{Item, key_item};

/// What an item is (`notice`, `marker`, `reference`, `watermark`, `run`).
pub const KIND: &str = "kind";
/// The notice id (on notices, markers and reference claims).
pub const NOTICE_ID: &str = "notice_id";
/// The notice's printed reference.
pub const REFERENCE: &str = "reference";
/// The run day, `YYYY-MM-DD`.
pub const RUN_DAY: &str = "run_day";
pub const PATRON_ID: &str = "patron_id";
/// `email` or `letter`.
pub const CHANNEL: &str = "channel";
/// The stage name.
pub const STAGE: &str = "stage";
/// A letter's owning library.
pub const LIBRARY: &str = "library_code";
/// `pending`, `sent` or `cancelled`.
pub const STATUS: &str = "status";
/// Failed delivery attempts so far.
pub const ATTEMPTS: &str = "attempts";
/// The map of a notice's loans.
pub const LOANS: &str = "loans";
/// The last delivery error.
pub const LAST_ERROR: &str = "last_error";
/// When the transport accepted it.
pub const SENT_AT: &str = "sent_at";
/// Why it was cancelled.
pub const CANCEL_REASON: &str = "cancel_reason";
/// Until when an invocation holds the notice (RFC 3339 UTC, fixed width).
pub const LEASE_UNTIL: &str = "lease_until";
/// Why a marker has no notice.
pub const SKIPPED: &str = "skipped";
/// The watermark's day.
pub const DAY: &str = "day";
/// A run's JSON summary.
pub const SUMMARY: &str = "summary";

/// Status of a notice waiting to go.
pub const PENDING_STATUS: &str = "pending";
/// Status of a notice handed to the transport.
pub const SENT_STATUS: &str = "sent";
/// Status of a notice not sent.
pub const CANCELLED_STATUS: &str = "cancelled";

/// A string attribute.
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A date as stored: `YYYY-MM-DD`.
pub fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// An instant as stored: RFC 3339 UTC with milliseconds, fixed width so that
/// stored instants compare as strings.
pub fn instant_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Expression attribute names from `(placeholder, name)` pairs.
pub fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Expression attribute values from `(placeholder, value)` pairs.
pub fn values(pairs: Vec<(&str, AttributeValue)>) -> HashMap<String, AttributeValue> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn corrupt(
    what: &str,
    value: &str,
    e: impl std::error::Error + Send + Sync + 'static,
) -> StoreError {
    StoreError::corrupt(format!("{what} {value:?}: {e}")).caused_by(e)
}

fn unknown(what: &str, value: &str) -> StoreError {
    StoreError::corrupt(format!("{what} {value:?}: unknown"))
}

/// A string attribute of an item, if present.
pub fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub fn required<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    text(item, name).ok_or_else(|| StoreError::corrupt(format!("item without {name}")))
}

/// Reads a stored date.
pub fn parse_day(value: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|e| corrupt("date", value, e))
}

pub fn parse_instant(value: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt("timestamp", value, e))
}

/// The key of a loan in its notice's map.
pub fn loan_entry(loan: &NoticeLoan) -> String {
    format!("{}|{}", loan.stage.as_str(), loan.loan_id.as_str())
}

/// A loan as a value of the notice's map.
pub fn loan_value(loan: &NoticeLoan) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("loan_id".to_owned(), s(loan.loan_id.as_str())),
        ("due_date".to_owned(), s(day_text(loan.due_date))),
        ("stage".to_owned(), s(loan.stage.as_str())),
    ]))
}

fn loan_from(value: &AttributeValue) -> Result<NoticeLoan, StoreError> {
    let map = value
        .as_m()
        .map_err(|_| StoreError::corrupt("a notice loan that is not a map"))?;
    let loan_id = required(map, "loan_id")?;
    let stage = required(map, "stage")?;
    Ok(NoticeLoan {
        loan_id: LoanId::parse(loan_id).map_err(|e| corrupt("loan id", loan_id, e))?,
        due_date: parse_day(required(map, "due_date")?)?,
        stage: StageName::parse(stage).map_err(|e| corrupt("stage", stage, e))?,
    })
}

/// The sort key of a pending notice in the `by_pending` index.
pub fn pending_sk(run_day: NaiveDate, id: &NoticeId) -> String {
    format!("{}#{}", day_text(run_day), id.as_str())
}

/// A notice as an item, with these loans, its status and (while pending) its
/// place in the `by_pending` index.
pub fn notice_item(notice: &Notice) -> Item {
    let mut item = key_item(table::notice_key(&notice.id));
    item.insert(KIND.into(), s("notice"));
    item.insert(NOTICE_ID.into(), s(notice.id.as_str()));
    item.insert(REFERENCE.into(), s(notice.reference.as_str()));
    item.insert(RUN_DAY.into(), s(day_text(notice.run_day)));
    item.insert(table::NOTICE_DAY.into(), s(day_text(notice.run_day)));
    item.insert(PATRON_ID.into(), s(notice.patron_id.as_str()));
    item.insert(CHANNEL.into(), s(notice.channel.as_str()));
    item.insert(STAGE.into(), s(notice.stage.as_str()));
    if let Some(library) = &notice.library {
        item.insert(LIBRARY.into(), s(library.as_str()));
    }
    item.insert(
        ATTEMPTS.into(),
        AttributeValue::N(notice.attempts.to_string()),
    );
    let loans = notice
        .loans
        .iter()
        .map(|l| (loan_entry(l), loan_value(l)))
        .collect();
    item.insert(LOANS.into(), AttributeValue::M(loans));
    match &notice.status {
        NoticeStatus::Pending => {
            item.insert(STATUS.into(), s(PENDING_STATUS));
            item.insert(PENDING.into(), s(notice.channel.as_str()));
            item.insert(PENDING_SK.into(), s(pending_sk(notice.run_day, &notice.id)));
        }
        NoticeStatus::Sent { message_id, at } => {
            item.insert(STATUS.into(), s(SENT_STATUS));
            if !message_id.is_empty() {
                item.insert(MESSAGE_ID.into(), s(message_id.as_str()));
            }
            item.insert(SENT_AT.into(), s(instant_text(*at)));
        }
        NoticeStatus::Cancelled { reason } => {
            item.insert(STATUS.into(), s(CANCELLED_STATUS));
            item.insert(CANCEL_REASON.into(), s(reason.as_str()));
        }
    }
    item
}

/// A notice read back from its item; its loans in loan id order.
pub fn notice_from_item(item: &Item) -> Result<Notice, StoreError> {
    let patron_id = required(item, PATRON_ID)?;
    let channel = required(item, CHANNEL)?;
    let stage = required(item, STAGE)?;
    let status = match required(item, STATUS)? {
        PENDING_STATUS => NoticeStatus::Pending,
        SENT_STATUS => NoticeStatus::Sent {
            message_id: text(item, MESSAGE_ID).unwrap_or_default().to_owned(),
            at: parse_instant(required(item, SENT_AT)?)?,
        },
        CANCELLED_STATUS => {
            let reason = required(item, CANCEL_REASON)?;
            NoticeStatus::Cancelled {
                reason: CancelReason::parse(reason)
                    .ok_or_else(|| unknown("cancel reason", reason))?,
            }
        }
        other => return Err(unknown("notice status", other)),
    };
    let mut loans = match item.get(LOANS) {
        Some(AttributeValue::M(map)) => {
            map.values().map(loan_from).collect::<Result<Vec<_>, _>>()?
        }
        Some(_) => {
            return Err(StoreError::corrupt("notice loans that are not a map"));
        }
        None => Vec::new(),
    };
    loans.sort_by(|a, b| (&a.loan_id, &a.stage).cmp(&(&b.loan_id, &b.stage)));
    let attempts = match item.get(ATTEMPTS) {
        Some(AttributeValue::N(n)) => n.parse().map_err(|e| corrupt("attempts", n, e))?,
        _ => 0,
    };
    Ok(Notice {
        id: NoticeId::from_stored(required(item, NOTICE_ID)?.to_owned()),
        reference: Reference::from_stored(required(item, REFERENCE)?.to_owned()),
        run_day: parse_day(required(item, RUN_DAY)?)?,
        patron_id: PatronId::parse(patron_id).map_err(|e| corrupt("patron id", patron_id, e))?,
        channel: Channel::parse(channel).ok_or_else(|| unknown("channel", channel))?,
        stage: StageName::parse(stage).map_err(|e| corrupt("stage", stage, e))?,
        library: text(item, LIBRARY)
            .map(|l| LibraryCode::parse(l).map_err(|e| corrupt("library code", l, e)))
            .transpose()?,
        loans,
        status,
        attempts,
    })
}

/// The claim on a reference, naming the notice that holds it.
pub fn reference_item(reference: &Reference, id: &NoticeId) -> Item {
    let mut item = key_item(table::reference_key(reference.as_str()));
    item.insert(KIND.into(), s("reference"));
    item.insert(NOTICE_ID.into(), s(id.as_str()));
    item
}
