//! Notices: what the planner decides to send, and the ledger's record of it.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::ids::{LibraryCode, LoanId, NoticeId, PatronId, Reference, StageName};
use crate::ladder::Channel;

/// The ledger key that makes each (loan, due date, stage) handled once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MarkerKey {
    pub loan_id: LoanId,
    /// Its local due date when the stage was reached: a renewal gives a new key.
    pub due_date: NaiveDate,
    /// The stage reached.
    pub stage: StageName,
}

/// Why a loan reached a stage without a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Courtesy emails are not wanted.
    OptedOut,
    /// Courtesy needs an email, and there is none that works.
    NoUsableEmail,
    /// The loan's patron is not in the store.
    UnknownPatron,
}

impl SkipReason {
    /// The name used in stores and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OptedOut => "opted_out",
            Self::NoUsableEmail => "no_usable_email",
            Self::UnknownPatron => "unknown_patron",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "opted_out" => Some(Self::OptedOut),
            "no_usable_email" => Some(Self::NoUsableEmail),
            "unknown_patron" => Some(Self::UnknownPatron),
            _ => None,
        }
    }
}

/// What became of a (loan, due date, stage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerOutcome {
    /// Put in that notice.
    Notice(NoticeId),
    /// Deliberately not sent.
    Skipped(SkipReason),
}

/// One ledger entry per (loan, due date, stage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Marker {
    /// Which loan, due date and stage.
    pub key: MarkerKey,
    /// The run day that handled it.
    pub run_day: NaiveDate,
    /// Notice or skip.
    pub outcome: MarkerOutcome,
}

/// A loan listed in a notice, with the due date and stage it was planned for, so
/// that a renewal or a return since planning can be seen at send time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct NoticeLoan {
    pub loan_id: LoanId,
    /// Its local due date when planned.
    pub due_date: NaiveDate,
    /// The stage it reached.
    pub stage: StageName,
}

/// Where a notice is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum NoticeStatus {
    /// Waiting to be sent or printed (again, after a failed attempt).
    Pending,
    /// Handed to the transport.
    Sent {
        /// The transport's message id.
        message_id: String,
        at: DateTime<Utc>,
    },
    /// Not sent, for a reason kept for staff.
    Cancelled { reason: CancelReason },
}

/// Why a notice was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// Every loan was returned or renewed after planning.
    NothingLeft,
    /// The address stopped working; the loans went to the library's print batch.
    FellBackToPrint,
}

impl CancelReason {
    /// The name used in stores and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NothingLeft => "nothing_left",
            Self::FellBackToPrint => "fell_back_to_print",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "nothing_left" => Some(Self::NothingLeft),
            "fell_back_to_print" => Some(Self::FellBackToPrint),
            _ => None,
        }
    }
}

impl fmt::Display for CancelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One message: an email per (patron, stage, run day), a letter per
/// (patron, owning library, run day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Derived from the natural key.
    pub id: NoticeId,
    /// The short reference printed on it.
    pub reference: Reference,
    /// The run day whose run decided it.
    pub run_day: NaiveDate,
    pub patron_id: PatronId,
    /// Email or letter.
    pub channel: Channel,
    /// For an email, its stage; for a letter, the highest stage of its loans
    /// (a reminder when the letter is a print fallback).
    pub stage: StageName,
    /// For a letter, the owning library that prints it.
    pub library: Option<LibraryCode>,
    /// The loans it lists.
    pub loans: Vec<NoticeLoan>,
    /// Where it is.
    pub status: NoticeStatus,
    /// Delivery attempts that failed so far.
    pub attempts: u32,
}

impl Notice {
    /// The id of the email notice for (patron, stage, run day).
    pub fn email_id(patron: &PatronId, stage: &StageName, run_day: NaiveDate) -> NoticeId {
        NoticeId::derive(&format!("email|{patron}|{stage}|{run_day}"))
    }

    /// The id of the letter notice for (patron, library, run day).
    pub fn letter_id(patron: &PatronId, library: &LibraryCode, run_day: NaiveDate) -> NoticeId {
        NoticeId::derive(&format!("letter|{patron}|{library}|{run_day}"))
    }

    /// A new pending notice with its first-choice reference.
    pub fn pending(
        id: NoticeId,
        run_day: NaiveDate,
        patron_id: PatronId,
        channel: Channel,
        stage: StageName,
        library: Option<LibraryCode>,
        loans: Vec<NoticeLoan>,
    ) -> Self {
        Self {
            reference: Reference::derive(&id, 0),
            id,
            run_day,
            patron_id,
            channel,
            stage,
            library,
            loans,
            status: NoticeStatus::Pending,
            attempts: 0,
        }
    }

    /// The file stem of its email in the outbox: `{stage}-{patron_id}`.
    pub fn mail_name(&self) -> String {
        format!("{}-{}", self.stage, self.patron_id.file_stem())
    }
}
