//! Personal data that expires (rules §16): the day before which each kind of
//! record is due for purging, counted from a run day, and the instant a record
//! expires on AWS (DynamoDB's TTL). A marker is not personal data: it stays as
//! long as its loan is open with that due date, so purging never lets a notice
//! go twice.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::config::Retention;
use crate::inbound::{FeedbackRecord, ReplyRecord};
use crate::model::{Loan, Patron};
use crate::notice::Notice;

/// The least a marker is kept after its run day, on AWS, where TTL cannot see
/// whether its loan is still open: a marker is read only when its run day is
/// planned again, and a run or resume more than a year (366 days, plus catch-up)
/// from today is refused (rules §13), so an older marker is never read again.
pub const MARKER_FLOOR_DAYS: u32 = 400;

/// What a purge for a run day removes: everything recorded before these limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeCutoffs {
    /// The run day the ages are counted to.
    pub run_day: NaiveDate,
    /// Loans returned before this instant.
    pub returned_before: DateTime<Utc>,
    /// Notices (with their links) and markers of loans no longer open with
    /// that due date, of run days up to this day included.
    pub notices_through: NaiveDate,
    /// Received mail and bounce or complaint records before this instant.
    pub mail_before: DateTime<Utc>,
    /// Outbox mail of run days up to this day included.
    pub mail_through: NaiveDate,
    /// Letter files of run days up to this day included.
    pub letters_through: NaiveDate,
    /// Patrons whose last loan came back before this instant (and who have
    /// no open loan and no notice kept).
    pub patrons_before: DateTime<Utc>,
}

/// The first instant of a local day.
pub fn start_of_day(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = day.and_time(NaiveTime::MIN);
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        // Midnight skipped by a DST change: the day starts an hour later.
        chrono::LocalResult::None => tz.from_utc_datetime(&naive).with_timezone(&Utc),
    }
}

fn back(day: NaiveDate, days: u32) -> NaiveDate {
    day.checked_sub_days(Days::new(days.into()))
        .unwrap_or(NaiveDate::MIN)
}

fn ahead(day: NaiveDate, days: u32) -> NaiveDate {
    day.checked_add_days(Days::new(days.into()))
        .unwrap_or(NaiveDate::MAX)
}

impl Retention {
    /// The limits of a purge on `run_day`: a record is due once `n` whole days
    /// have passed since its local day (returned on the 1st, 30 days: purged
    /// from the 31st).
    pub fn cutoffs(&self, run_day: NaiveDate, tz: Tz) -> PurgeCutoffs {
        let before = |days: u32| start_of_day(ahead(back(run_day, days), 1), tz);
        PurgeCutoffs {
            run_day,
            returned_before: before(self.returned_loans),
            notices_through: back(run_day, self.notices),
            mail_before: before(self.mail),
            mail_through: back(run_day, self.mail),
            letters_through: back(run_day, self.letters),
            patrons_before: before(self.patrons),
        }
    }

    /// When a record of local day `day` kept `days` days expires: the start of
    /// the day it becomes due for purging, in epoch seconds (DynamoDB TTL).
    pub fn expires_at(day: NaiveDate, days: u32, tz: Tz) -> i64 {
        start_of_day(ahead(day, days), tz).timestamp()
    }

    /// When a notice of `run_day` (its reference claim, its markers' links) expires.
    pub fn notice_expiry(&self, run_day: NaiveDate, tz: Tz) -> i64 {
        Self::expires_at(run_day, self.notices, tz)
    }

    /// When a marker of `run_day` expires on AWS: with its notice, and never
    /// before [`MARKER_FLOOR_DAYS`].
    pub fn marker_expiry(&self, run_day: NaiveDate, tz: Tz) -> i64 {
        Self::expires_at(run_day, self.notices.max(MARKER_FLOOR_DAYS), tz)
    }

    /// When a loan returned at `at` expires.
    pub fn returned_loan_expiry(&self, at: DateTime<Utc>, tz: Tz) -> i64 {
        Self::expires_at(crate::calendar::local_date(at, tz), self.returned_loans, tz)
    }

    /// When a patron whose last open loan closed at `at` expires: after
    /// `patrons` days, and not before the notices they may have got by then.
    pub fn patron_expiry(&self, at: DateTime<Utc>, tz: Tz) -> i64 {
        let day = crate::calendar::local_date(at, tz);
        Self::expires_at(day, self.patrons.max(self.notices), tz)
    }

    /// When received mail, or a bounce or complaint record, of `at` expires.
    pub fn mail_expiry(&self, at: DateTime<Utc>, tz: Tz) -> i64 {
        Self::expires_at(crate::calendar::local_date(at, tz), self.mail, tz)
    }
}

/// What a purge removed (or, dry, would remove), kind by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PurgeCounts {
    /// Loans returned more than `returned_loans` days ago.
    pub returned_loans: u64,
    /// Notices of run days more than `notices` days ago, with their loans listed.
    pub notices: u64,
    /// Markers of loans no longer open with that due date, as old as those notices.
    pub markers: u64,
    /// Records of received mail older than `mail` days.
    pub replies: u64,
    /// Bounce and complaint records older than `mail` days.
    pub feedback: u64,
    /// Patrons without open loans nor notices, `patrons` days after their last return.
    pub patrons: u64,
    /// Letter PDFs, batches and manifests older than `letters` days.
    pub letter_files: u64,
    /// Outbox mail (sent notices, forwards, reports) older than `mail` days.
    pub mail_files: u64,
}

impl PurgeCounts {
    /// Records and files removed, all kinds together.
    pub fn total(&self) -> u64 {
        self.returned_loans
            + self.notices
            + self.markers
            + self.replies
            + self.feedback
            + self.patrons
            + self.letter_files
            + self.mail_files
    }

    /// Each kind with its count, in a stable order, for reports.
    pub fn kinds(&self) -> [(&'static str, u64); 8] {
        [
            ("returned_loans", self.returned_loans),
            ("notices", self.notices),
            ("markers", self.markers),
            ("replies", self.replies),
            ("feedback", self.feedback),
            ("patrons", self.patrons),
            ("letter_files", self.letter_files),
            ("mail_files", self.mail_files),
        ]
    }
}

/// Everything stored about one patron (`relance patron export`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatronExport {
    /// The patron's row, if the store still has it.
    pub patron: Option<Patron>,
    /// Their loans, open and returned, by loan id.
    pub loans: Vec<Loan>,
    /// Their notices with the loans each lists, oldest run day first.
    pub notices: Vec<Notice>,
    /// Received mail linked to them, oldest first (the record; the raw mail
    /// is where `source` says).
    pub replies: Vec<ReplyRecord>,
    /// Bounces and complaints about their address, oldest first.
    pub feedback: Vec<FeedbackRecord>,
}

impl PatronExport {
    /// Nothing at all is stored about the patron.
    pub fn is_empty(&self) -> bool {
        self.patron.is_none()
            && self.loans.is_empty()
            && self.notices.is_empty()
            && self.replies.is_empty()
            && self.feedback.is_empty()
    }
}

/// What erasing a patron removed (`relance patron erase`); their markers stay,
/// without personal data, so nothing is sent twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PatronErasure {
    /// The patron's row (0 or 1).
    pub patrons: u64,
    /// Their loans.
    pub loans: u64,
    /// Their notices, with their reference claims and loans listed.
    pub notices: u64,
    /// Records of their received mail.
    pub replies: u64,
    /// Their bounce and complaint records.
    pub feedback: u64,
    /// Markers kept (their notice gone, their loan and due date still known).
    pub markers_kept: u64,
}

#[cfg(test)]
mod tests {
    use chrono_tz::Europe::Paris;

    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_loan_returned_on_the_first_is_due_thirty_days_later_not_before() {
        let r = Retention::default();
        let returned = DateTime::parse_from_rfc3339("2027-01-01T16:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(returned >= r.cutoffs(d("2027-01-30"), Paris).returned_before);
        assert!(returned < r.cutoffs(d("2027-01-31"), Paris).returned_before);
    }

    #[test]
    fn a_return_late_in_the_evening_counts_on_its_local_day() {
        let r = Retention::default();
        // 23:30 UTC on 1 January is 00:30 on 2 January in Paris.
        let returned = DateTime::parse_from_rfc3339("2027-01-01T23:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(returned >= r.cutoffs(d("2027-01-31"), Paris).returned_before);
        assert_eq!(
            r.returned_loan_expiry(returned, Paris),
            start_of_day(d("2027-02-01"), Paris).timestamp()
        );
    }

    #[test]
    fn notices_are_due_a_year_after_their_run_day() {
        let cut = Retention::default().cutoffs(d("2027-03-01"), Paris);
        assert_eq!(cut.notices_through, d("2026-03-01"));
        assert_eq!(cut.letters_through, d("2026-12-01"));
    }

    #[test]
    fn the_ttl_of_a_notice_is_the_start_of_the_day_the_local_purge_takes_it() {
        let r = Retention::default();
        let expiry = r.notice_expiry(d("2026-03-01"), Paris);
        assert_eq!(
            expiry,
            start_of_day(d("2027-03-01"), Paris).timestamp(),
            "the same day as cutoffs(2027-03-01).notices_through"
        );
    }

    #[test]
    fn a_marker_outlives_a_short_notice_period() {
        let r = Retention {
            notices: 7,
            ..Retention::default()
        };
        assert_eq!(
            r.marker_expiry(d("2027-01-01"), Paris),
            start_of_day(d("2028-02-05"), Paris).timestamp()
        );
    }

    #[test]
    fn a_patron_outlives_the_notices_they_may_have_had() {
        let r = Retention::default();
        let closed = start_of_day(d("2027-01-01"), Paris);
        assert_eq!(
            r.patron_expiry(closed, Paris),
            start_of_day(d("2028-01-01"), Paris).timestamp()
        );
    }

    #[test]
    fn the_day_starts_at_local_midnight_in_summer_and_winter() {
        assert_eq!(
            start_of_day(d("2027-07-01"), Paris).to_rfc3339(),
            "2027-06-30T22:00:00+00:00"
        );
        assert_eq!(
            start_of_day(d("2027-01-01"), Paris).to_rfc3339(),
            "2026-12-31T23:00:00+00:00"
        );
    }
}
