//! Purging what `[retention]` says is due (rules §16), in one transaction: a
//! dry purge counts the same rows and rolls back.

use relance_core::ports::StoreError;
use relance_core::retention::{PurgeCounts, PurgeCutoffs};
use rusqlite::{Transaction, params};

use crate::store::{Store, day_text, instant_text, sql};

/// Notices of run days up to `?1`, with the loans they list.
const NOTICE_LOANS: &str = "DELETE FROM notice_loans WHERE notice_id IN \
     (SELECT notice_id FROM notices WHERE run_day <= ?1)";
const NOTICES: &str = "DELETE FROM notices WHERE run_day <= ?1";
/// Markers as old as those notices whose loan is not open with that due date:
/// an open loan keeps its markers whatever their age, so it is never notified
/// twice at one stage for one due date.
const MARKERS: &str = "DELETE FROM markers WHERE run_day <= ?1 AND NOT EXISTS \
     (SELECT 1 FROM loans WHERE loans.loan_id = markers.loan_id \
      AND loans.returned_at IS NULL AND loans.due_date = markers.due_date)";
/// Patrons with no open loan, no notice kept, and no loan returned since `?1`
/// (a patron whose loans were all purged, or who never had one, included).
/// The loans kept are read once, in one pass (an uncorrelated `NOT IN`, which
/// SQLite builds into a temporary index), not once per patron: no index serves
/// "open or returned since", and a correlated subquery scanned every loan for
/// every patron (an hour for 200,000 patrons and 1,000,000 loans).
const PATRONS: &str = "DELETE FROM patrons WHERE patron_id NOT IN \
     (SELECT patron_id FROM loans WHERE returned_at IS NULL OR returned_at >= ?1) \
     AND NOT EXISTS (SELECT 1 FROM notices WHERE notices.patron_id = patrons.patron_id)";
const RETURNED_LOANS: &str = "DELETE FROM loans WHERE returned_at IS NOT NULL AND returned_at < ?1";
const REPLIES: &str = "DELETE FROM replies WHERE received_at < ?1";
const FEEDBACK: &str = "DELETE FROM feedback WHERE at < ?1";

impl Store {
    /// Removes the records `cutoffs` makes due and says how many of each kind
    /// went; with `dry_run`, counts them and keeps everything. Files are the
    /// outbox's business ([`crate::Outbox::purge`]).
    pub fn purge(&self, cutoffs: &PurgeCutoffs, dry_run: bool) -> Result<PurgeCounts, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(sql)?;
        let counts = purge_in(&tx, cutoffs)?;
        if dry_run {
            tx.rollback().map_err(sql)?;
        } else {
            tx.commit().map_err(sql)?;
        }
        Ok(counts)
    }
}

fn purge_in(tx: &Transaction<'_>, cut: &PurgeCutoffs) -> Result<PurgeCounts, StoreError> {
    let run = |statement: &str, value: String| -> Result<u64, StoreError> {
        Ok(tx.execute(statement, params![value]).map_err(sql)? as u64)
    };
    let notices_through = day_text(cut.notices_through);
    run(NOTICE_LOANS, notices_through.clone())?;
    let notices = run(NOTICES, notices_through.clone())?;
    let markers = run(MARKERS, notices_through)?;
    // Before the returned loans go: their return dates say when the patron's
    // last loan came back.
    let patrons = run(PATRONS, instant_text(cut.patrons_before))?;
    Ok(PurgeCounts {
        returned_loans: run(RETURNED_LOANS, instant_text(cut.returned_before))?,
        notices,
        markers,
        replies: run(REPLIES, instant_text(cut.mail_before))?,
        feedback: run(FEEDBACK, instant_text(cut.mail_before))?,
        patrons,
        letter_files: 0,
        mail_files: 0,
    })
}

#[cfg(test)]
mod tests;
