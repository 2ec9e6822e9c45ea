//! The capabilities the engine needs from the outside world, one small trait each.
//! Adapters implement them: SQLite and the filesystem locally, DynamoDB, SES, S3
//! and SQS on AWS. Methods return `Send` futures so they run on any executor.

use std::collections::HashSet;
use std::future::Future;

use chrono::{DateTime, NaiveDate, Utc};

use crate::address::EmailAddress;
use crate::ids::{LibraryCode, LoanId, NoticeId, PatronId, Reference};
use crate::import::ImportSummary;
use crate::inbound::{FeedbackRecord, ReplyRecord};
use crate::ladder::Channel;
use crate::model::{EmailStatus, Loan, Patron};
use crate::notice::{CancelReason, MarkerKey, Notice};
use crate::plan::RunPlan;
use crate::retention::{PatronErasure, PatronExport};
use crate::summary::RunSummary;

/// The error a port's failure comes from (the SDK's, SQLite's, the file
/// system's), kept so that `source()` reaches it.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A store or ledger failure.
///
/// Each kind has a constructor taking the message (`StoreError::unavailable(..)`),
/// and [`StoreError::caused_by`] keeps the error it comes from. The message
/// still spells that error out, since ledgers, snapshots and `relance status`
/// show the error's text alone.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend could not be reached or timed out: retrying later may work.
    #[error("store unavailable: {message}")]
    Unavailable {
        /// What failed.
        message: String,
        /// The error it comes from.
        #[source]
        source: Option<Cause>,
    },
    /// A conditional write lost a race (e.g. two runs planning one day): nothing
    /// was written; the caller re-reads and decides.
    #[error("conflicting write: {message}")]
    Conflict {
        /// What failed.
        message: String,
        /// The error it comes from.
        #[source]
        source: Option<Cause>,
    },
    /// Something stored cannot be read back as a valid value.
    #[error("stored data is unreadable: {message}")]
    Corrupt {
        /// What failed.
        message: String,
        /// The error it comes from.
        #[source]
        source: Option<Cause>,
    },
    /// Anything else.
    #[error("store error: {message}")]
    Unexpected {
        /// What failed.
        message: String,
        /// The error it comes from.
        #[source]
        source: Option<Cause>,
    },
}

impl StoreError {
    /// A [`StoreError::Unavailable`] without a cause yet.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable {
            message: message.into(),
            source: None,
        }
    }

    /// A [`StoreError::Conflict`] without a cause yet.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            source: None,
        }
    }

    /// A [`StoreError::Corrupt`] without a cause yet.
    pub fn corrupt(message: impl Into<String>) -> Self {
        Self::Corrupt {
            message: message.into(),
            source: None,
        }
    }

    /// A [`StoreError::Unexpected`] without a cause yet.
    pub fn unexpected(message: impl Into<String>) -> Self {
        Self::Unexpected {
            message: message.into(),
            source: None,
        }
    }

    /// The same error, with `cause` as its source.
    #[must_use]
    pub fn caused_by(mut self, cause: impl Into<Cause>) -> Self {
        let (Self::Unavailable { source, .. }
        | Self::Conflict { source, .. }
        | Self::Corrupt { source, .. }
        | Self::Unexpected { source, .. }) = &mut self;
        *source = Some(cause.into());
        self
    }

    /// What failed, without the kind's prefix.
    pub fn message(&self) -> &str {
        let (Self::Unavailable { message, .. }
        | Self::Conflict { message, .. }
        | Self::Corrupt { message, .. }
        | Self::Unexpected { message, .. }) = self;
        message
    }
}

/// Patrons and loans, read by the planner and at send time.
pub trait LoanStore: Sync {
    /// Open loans whose local due date is `due` — through an index that only open
    /// loans carry, never a pass over all loans.
    fn open_loans_due_on(
        &self,
        due: NaiveDate,
    ) -> impl Future<Output = Result<Vec<Loan>, StoreError>> + Send;

    /// The patrons with these ids that exist.
    fn patrons(
        &self,
        ids: &[PatronId],
    ) -> impl Future<Output = Result<Vec<Patron>, StoreError>> + Send;

    /// These loans in their current state, open or returned (re-check at send time).
    fn loans(&self, ids: &[LoanId]) -> impl Future<Output = Result<Vec<Loan>, StoreError>> + Send;

    /// Every open loan of a patron (one query).
    fn open_loans_of(
        &self,
        patron: &PatronId,
    ) -> impl Future<Output = Result<Vec<Loan>, StoreError>> + Send;

    /// Marks a patron's address after a bounce, complaint or permanent rejection.
    fn set_email_status(
        &self,
        patron: &PatronId,
        status: EmailStatus,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records loans the library system says came back (the send-time check,
    /// rules §15), each at its time; a loan already closed keeps its return.
    /// Returns how many were open.
    fn record_returns(
        &self,
        returns: &[(LoanId, DateTime<Utc>)],
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// The writes of one import (rules §9), as one transaction: nothing is kept
/// until [`ImportSink::commit`], and a sink dropped without it keeps nothing
/// (locally a rolled-back transaction; on AWS, writes held back until commit).
/// Rows come in batches of about a thousand, distinct ids in each call, patrons
/// before loans; every error is the store's, and leaves nothing kept.
pub trait ImportSink {
    /// The import's number, kept in its summary.
    fn batch(&self) -> i64;

    /// Which of these patrons are stored (before this import).
    fn known_patrons(
        &mut self,
        ids: &[PatronId],
    ) -> impl Future<Output = Result<HashSet<PatronId>, StoreError>> + Send;

    /// Adds these patrons or replaces the stored ones; a stored email status
    /// learnt from bounces is kept unless the address itself changed. Returns
    /// how many were new.
    fn upsert_patrons(
        &mut self,
        patrons: &[Patron],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Adds these loans or replaces the stored ones. Returns how many were new.
    fn upsert_loans(
        &mut self,
        loans: &[Loan],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The ids of every open loan, before this import's writes (snapshots only).
    fn open_loan_ids(&mut self)
    -> impl Future<Output = Result<HashSet<LoanId>, StoreError>> + Send;

    /// Closes these loans as returned at `at`; how many were open.
    fn close_loans(
        &mut self,
        ids: &[LoanId],
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Keeps every write, with the import's summary.
    fn commit(self, summary: &ImportSummary)
    -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The durable record of every notice, of every (loan, due date, stage) handled,
/// and of the watermark.
pub trait Ledger: Sync {
    /// The last run day fully planned.
    fn watermark(&self) -> impl Future<Output = Result<Option<NaiveDate>, StoreError>> + Send;

    /// Which of these keys are already handled.
    fn handled(
        &self,
        keys: &[MarkerKey],
    ) -> impl Future<Output = Result<HashSet<MarkerKey>, StoreError>> + Send;

    /// Records a plan's notices and markers and moves the watermark to its run day,
    /// all or nothing, provided the watermark is still `expected`
    /// (`StoreError::Conflict` otherwise). Markers already present are kept as
    /// they are; a reference that collides is re-derived with another salt.
    fn record_plan(
        &self,
        plan: &RunPlan,
        expected: Option<NaiveDate>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sets the watermark (used by `resume`).
    fn set_watermark(&self, day: NaiveDate) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every notice decided by the run of `run_day`, whatever became of it
    /// (the staff report's list).
    fn notices_on(
        &self,
        run_day: NaiveDate,
    ) -> impl Future<Output = Result<Vec<Notice>, StoreError>> + Send;

    /// Notices still pending on a channel for run days up to `up_to`, oldest first.
    fn pending_notices(
        &self,
        channel: Channel,
        up_to: NaiveDate,
    ) -> impl Future<Output = Result<Vec<Notice>, StoreError>> + Send;

    /// Records that the transport accepted the notice.
    fn record_sent(
        &self,
        id: &NoticeId,
        message_id: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records several accepted notices (id, message id) at once; a ledger that
    /// can write them in one transaction overrides this.
    fn record_sent_many(
        &self,
        sent: &[(NoticeId, String)],
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            for (id, message_id) in sent {
                self.record_sent(id, message_id, at).await?;
            }
            Ok(())
        }
    }

    /// Counts a failed attempt; the notice stays pending.
    fn record_failure(
        &self,
        id: &NoticeId,
        error: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Cancels a pending notice, for a reason.
    fn cancel(
        &self,
        id: &NoticeId,
        reason: CancelReason,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Cancels an email notice as fallen back to print and adds its loans to the
    /// patron's letters of the same run day: merged into a pending letter, created
    /// when there is none, and a letter of their own when that day's letter has
    /// already gone out.
    fn fall_back_to_print(
        &self,
        email: &NoticeId,
        letters: &[Notice],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Keeps a run's summary for `status` and reports.
    fn record_run(
        &self,
        summary: &RunSummary,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What links mail coming back to notices and patrons, and keeps its record.
pub trait Correspondence: Sync {
    /// The notice with this id.
    fn notice(
        &self,
        id: &NoticeId,
    ) -> impl Future<Output = Result<Option<Notice>, StoreError>> + Send;

    /// The notice whose sent message had this transport message id.
    fn notice_by_message_id(
        &self,
        message_id: &str,
    ) -> impl Future<Output = Result<Option<Notice>, StoreError>> + Send;

    /// The notice that carries this reference.
    fn notice_by_reference(
        &self,
        reference: &Reference,
    ) -> impl Future<Output = Result<Option<Notice>, StoreError>> + Send;

    /// The patrons whose email address is this one, compared without case.
    fn patrons_by_email(
        &self,
        address: &EmailAddress,
    ) -> impl Future<Output = Result<Vec<Patron>, StoreError>> + Send;

    /// Records a received mail, unless one with its id is already recorded; returns
    /// the record as stored (the earlier one when it was already there).
    fn record_reply(
        &self,
        reply: &ReplyRecord,
    ) -> impl Future<Output = Result<ReplyRecord, StoreError>> + Send;

    /// Records that a received mail was forwarded, with the forward's message id.
    fn record_forward(
        &self,
        reply_id: &str,
        message_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a bounce or complaint; recording the same id again changes nothing.
    /// Returns false when it was already recorded.
    fn record_feedback(
        &self,
        feedback: &FeedbackRecord,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Everything stored about one patron, for a data protection request (rules §16).
pub trait PatronRecords: Sync {
    /// The patron's row, loans, notices, received mail and bounce or complaint
    /// records, as stored; [`PatronExport::is_empty`] when nothing is.
    fn export_patron(
        &self,
        patron: &PatronId,
    ) -> impl Future<Output = Result<PatronExport, StoreError>> + Send;

    /// Removes all of it. The markers of the patron's loans stay (a loan id, a
    /// due date, a stage: no personal data), so a loan imported again is not
    /// notified again. Erasing a patron the store does not know removes nothing.
    fn erase_patron(
        &self,
        patron: &PatronId,
    ) -> impl Future<Output = Result<PatronErasure, StoreError>> + Send;
}

/// A message ready to go: headers and body as built, sent as they are.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// The notice it carries.
    pub notice_id: NoticeId,
    /// The run day it belongs to (the outbox folder).
    pub run_day: NaiveDate,
    /// A safe file stem naming it in an outbox (`first_reminder-P0001`).
    pub name: String,
    /// The envelope sender.
    pub from: EmailAddress,
    /// The envelope recipient.
    pub to: EmailAddress,
    /// The whole RFC 5322 message.
    pub raw: Vec<u8>,
}

/// Why a send failed.
///
/// Built as [`StoreError`] is: `TransportError::transient(..)`, then
/// [`TransportError::caused_by`]. The message is what the ledger records as the
/// notice's failure.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The service asks us to slow down: retry later.
    #[error("throttled: {message}")]
    Throttled {
        /// What failed.
        message: String,
        /// The error it comes from.
        #[source]
        source: Option<Cause>,
    },
    /// A failure that may pass: retry later.
    #[error("temporary failure: {message}")]
    Transient {
        /// What failed.
        message: String,
        /// The error it comes from.
        #[source]
        source: Option<Cause>,
    },
    /// The service refuses this recipient for good: fall back to print.
    #[error("recipient rejected: {message}")]
    Rejected {
        /// What failed.
        message: String,
        /// The error it comes from.
        #[source]
        source: Option<Cause>,
    },
    /// Anything else (a misconfiguration): stop and report.
    #[error("transport error: {message}")]
    Unexpected {
        /// What failed.
        message: String,
        /// The error it comes from.
        #[source]
        source: Option<Cause>,
    },
}

impl TransportError {
    /// A [`TransportError::Throttled`] without a cause yet.
    pub fn throttled(message: impl Into<String>) -> Self {
        Self::Throttled {
            message: message.into(),
            source: None,
        }
    }

    /// A [`TransportError::Transient`] without a cause yet.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            message: message.into(),
            source: None,
        }
    }

    /// A [`TransportError::Rejected`] without a cause yet.
    pub fn rejected(message: impl Into<String>) -> Self {
        Self::Rejected {
            message: message.into(),
            source: None,
        }
    }

    /// A [`TransportError::Unexpected`] without a cause yet.
    pub fn unexpected(message: impl Into<String>) -> Self {
        Self::Unexpected {
            message: message.into(),
            source: None,
        }
    }

    /// The same error, with `cause` as its source.
    #[must_use]
    pub fn caused_by(mut self, cause: impl Into<Cause>) -> Self {
        let (Self::Throttled { source, .. }
        | Self::Transient { source, .. }
        | Self::Rejected { source, .. }
        | Self::Unexpected { source, .. }) = &mut self;
        *source = Some(cause.into());
        self
    }

    /// What failed, without the kind's prefix.
    pub fn message(&self) -> &str {
        let (Self::Throttled { message, .. }
        | Self::Transient { message, .. }
        | Self::Rejected { message, .. }
        | Self::Unexpected { message, .. }) = self;
        message
    }
}

/// Sends email.
pub trait MailTransport: Sync {
    /// True when sending the same message again delivers nothing new (the outbox
    /// rewrites the same file): the engine may then record a chunk's sends
    /// together once they are all sent. False (the default) for a real transport,
    /// where each send is recorded before the next one goes.
    fn resend_is_harmless(&self) -> bool {
        false
    }

    /// Sends the message and returns the transport's message id.
    fn send(
        &self,
        mail: &OutgoingMail,
    ) -> impl Future<Output = Result<String, TransportError>> + Send;
}

/// Where rendered letters and print batches are kept: the outbox locally, under
/// `{run_day}/letters/{library}/`; S3 on AWS, under `letters/{run_day}/{library}/`.
pub trait LetterArchive: Sync {
    /// Stores one file of a library's letters for a run day and returns where it
    /// went. `name` is a safe file name (`batch.pdf`, `manifest.csv`, `{patron}.pdf`).
    fn put(
        &self,
        run_day: NaiveDate,
        library: &LibraryCode,
        name: &str,
        bytes: &[u8],
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// How many print batches of the library's run day are already kept
    /// (`batch.pdf`, `batch-2.pdf`, …): a retry on the same day makes the next
    /// one, and never overwrites what was sent.
    fn batches_kept(
        &self,
        run_day: NaiveDate,
        library: &LibraryCode,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;
}

/// Whether `name` is a print batch's PDF as [`LetterArchive`] keeps it:
/// `batch.pdf` or `batch-{n}.pdf`.
pub fn is_batch_pdf(name: &str) -> bool {
    name == "batch.pdf"
        || name
            .strip_prefix("batch-")
            .and_then(|n| n.strip_suffix(".pdf"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// What the library system says of a loan now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoanState {
    /// Still out.
    Open,
    /// Returned since the export, at that time when the system says it.
    Returned {
        /// When it came back.
        at: Option<DateTime<Utc>>,
    },
    /// The system does not know the loan, or answered something unusable.
    Unknown,
}

/// The library system itself, asked about one loan just before a notice goes
/// (rules §15, `[source] recheck`).
pub trait LoanSystem: Sync {
    /// The loan's state in the system. An error means the system cannot be
    /// asked now (down, throttled, its quota spent): the notice goes as planned.
    fn loan_state(&self, loan: &Loan)
    -> impl Future<Output = Result<LoanState, StoreError>> + Send;
}

/// How many calls to the library system a run may still make (`[source]
/// max_calls_per_run`): counted in memory for `relance run`, in the table
/// across the fan-out's invocations on AWS.
pub trait CallBudget: Sync {
    /// Takes one call; `false` when the run's budget is spent or cannot be
    /// counted (the loan then goes unchecked).
    fn take(&self) -> impl Future<Output = bool> + Send;
}
