//! `relance history`: every notice of a patron with its loans and the replies
//! linked to it, newest first; the patron's other replies and bounce reports.

use chrono::{DateTime, NaiveDate, Utc};
use relance_core::ids::PatronId;
use relance_core::inbound::ReplyRecord;
use relance_core::notice::NoticeStatus;
use relance_core::ports::StoreError;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::store::{Store, parse_instant, sql};

/// A loan as listed in a notice, with what the store knows of it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryLoan {
    pub loan_id: String,
    /// The stage it reached in this notice.
    pub stage: String,
    /// Its local due date when planned.
    pub due_date: NaiveDate,
    /// The owning library (empty if the loan is no longer in the store).
    pub library: String,
    /// The item's barcode.
    pub barcode: String,
    /// The item's title.
    pub title: String,
    /// When it came back, if it has.
    pub returned_at: Option<DateTime<Utc>>,
    /// False when the loan is no longer in the store: returned and purged after
    /// `[retention] returned_loans` days. Its library, barcode and title are
    /// then empty, and it is not open.
    pub in_store: bool,
}

/// One notice of the patron.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryNotice {
    /// The notice's id.
    pub notice_id: String,
    pub reference: String,
    /// The run day that decided it.
    pub run_day: NaiveDate,
    /// `email` or `letter`.
    pub channel: String,
    pub stage: String,
    /// For a letter, the library that prints it.
    pub library: Option<String>,
    /// `pending`, `sent` or `cancelled`.
    pub status: String,
    /// The transport's message id, once sent.
    pub message_id: Option<String>,
    /// When it was sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// Failed delivery attempts.
    pub attempts: u32,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// The loans it lists.
    pub loans: Vec<HistoryLoan>,
    /// Replies linked to it, newest first.
    pub replies: Vec<HistoryReply>,
}

/// A received mail linked to the patron.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryReply {
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// `reply`, `auto_reply`, `delivery_report`, `spam`, `virus`, `unreadable`.
    pub class: String,
    /// How it was linked: `message_id`, `reference` or `sender`.
    pub linked_by: Option<String>,
    /// Where the raw mail is.
    pub source: String,
    /// The message id of its forward to staff, if forwarded.
    pub forwarded: Option<String>,
}

impl From<&ReplyRecord> for HistoryReply {
    fn from(reply: &ReplyRecord) -> Self {
        Self {
            received_at: reply.received_at,
            class: reply.class.as_str().to_owned(),
            linked_by: reply.linked_by.map(|by| by.as_str().to_owned()),
            source: reply.source.clone(),
            forwarded: reply.forwarded.clone(),
        }
    }
}

/// A bounce or complaint about the patron's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryFeedback {
    /// When the sending service reported it.
    pub at: DateTime<Utc>,
    /// `hard_bounce`, `soft_bounce` or `complaint`.
    pub kind: String,
}

/// A patron's notices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatronHistory {
    pub patron_id: String,
    /// Their name as stored.
    pub full_name: String,
    /// The address's status: `deliverable`, `bouncing` or `complaining`.
    pub email_status: String,
    /// Newest first: by run day, then by send time.
    pub notices: Vec<HistoryNotice>,
    /// Replies linked to the patron but to none of their notices, newest first.
    pub other_replies: Vec<HistoryReply>,
    /// Bounces and complaints, newest first.
    pub feedback: Vec<HistoryFeedback>,
}

impl Store {
    /// The patron's notices, newest first; `None` when the store has no such patron.
    pub fn history(&self, patron: &PatronId) -> Result<Option<PatronHistory>, StoreError> {
        let found: Option<(String, String)> = self
            .conn()
            .query_row(
                "SELECT full_name, email_status FROM patrons WHERE patron_id = ?1",
                [patron.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql)?;
        let Some((full_name, email_status)) = found else {
            return Ok(None);
        };
        let mut replies = self.replies_of(patron)?;
        let feedback = self.feedback_of(patron)?;
        let notices = crate::ledger::notices_where(
            &self.conn(),
            "patron_id = ?1 ORDER BY run_day DESC, IFNULL(sent_at, '9999') DESC, notice_id",
            [patron.as_str()],
        )?;
        let conn = self.conn();
        let mut errors = conn
            .prepare_cached("SELECT last_error FROM notices WHERE notice_id = ?1")
            .map_err(sql)?;
        let mut loans = conn
            .prepare_cached(
                "SELECT library_code, barcode, title, returned_at FROM loans WHERE loan_id = ?1",
            )
            .map_err(sql)?;
        let mut out = Vec::with_capacity(notices.len());
        for notice in notices {
            let last_error: Option<String> = errors
                .query_row([notice.id.as_str()], |r| r.get(0))
                .map_err(sql)?;
            let mut listed = Vec::with_capacity(notice.loans.len());
            for l in &notice.loans {
                let row: Option<(String, String, String, Option<String>)> = loans
                    .query_row(params![l.loan_id.as_str()], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })
                    .optional()
                    .map_err(sql)?;
                let in_store = row.is_some();
                let (library, barcode, title, returned) = row.unwrap_or_default();
                listed.push(HistoryLoan {
                    loan_id: l.loan_id.to_string(),
                    stage: l.stage.to_string(),
                    due_date: l.due_date,
                    library,
                    barcode,
                    title,
                    returned_at: returned.as_deref().map(parse_instant).transpose()?,
                    in_store,
                });
            }
            let (status, message_id, sent_at, cancel_reason) = match &notice.status {
                NoticeStatus::Pending => ("pending", None, None, None),
                NoticeStatus::Sent { message_id, at } => {
                    ("sent", Some(message_id.clone()), Some(*at), None)
                }
                NoticeStatus::Cancelled { reason } => {
                    ("cancelled", None, None, Some(reason.as_str().to_owned()))
                }
            };
            out.push(HistoryNotice {
                notice_id: notice.id.to_string(),
                reference: notice.reference.to_string(),
                run_day: notice.run_day,
                channel: notice.channel.to_string(),
                stage: notice.stage.to_string(),
                library: notice.library.as_ref().map(ToString::to_string),
                status: status.to_owned(),
                message_id,
                sent_at,
                cancel_reason,
                attempts: notice.attempts,
                last_error,
                loans: listed,
                replies: replies
                    .extract_if(.., |r| r.notice_id.as_ref() == Some(&notice.id))
                    .map(|r| HistoryReply::from(&r))
                    .collect(),
            });
        }
        Ok(Some(PatronHistory {
            patron_id: patron.to_string(),
            full_name,
            email_status,
            notices: out,
            other_replies: replies.iter().map(HistoryReply::from).collect(),
            feedback,
        }))
    }

    fn feedback_of(&self, patron: &PatronId) -> Result<Vec<HistoryFeedback>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT at, kind FROM feedback WHERE patron_id = ?1 ORDER BY at DESC, feedback_id",
            )
            .map_err(sql)?;
        let mut rows = stmt.query([patron.as_str()]).map_err(sql)?;
        let mut feedback = Vec::new();
        while let Some(row) = rows.next().map_err(sql)? {
            feedback.push(HistoryFeedback {
                at: parse_instant(&row.get::<_, String>(0).map_err(sql)?)?,
                kind: row.get(1).map_err(sql)?,
            });
        }
        Ok(feedback)
    }
}
