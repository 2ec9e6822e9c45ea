//! A data protection request on SQLite: everything stored about a patron, and
//! its erasure (rules §16). Markers stay: they name a loan, a due date and a
//! stage, nothing personal, and keep a loan imported again from being notified
//! again.

use relance_core::ids::{NoticeId, PatronId};
use relance_core::inbound::{FeedbackKind, FeedbackRecord, ReplyRecord};
use relance_core::ports::{PatronRecords, StoreError};
use relance_core::retention::{PatronErasure, PatronExport};
use rusqlite::{Connection, params};

use crate::correspondence::{REPLY_COLUMNS, reply};
use crate::ledger::notices_where;
use crate::rows::{self, LOAN_COLUMNS, PATRON_COLUMNS};
use crate::store::{Store, parse_instant, reading, sql};

fn rows_of<T>(
    conn: &Connection,
    statement: &str,
    patron: &PatronId,
    read: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(statement).map_err(sql)?;
    let mut rows = stmt.query([patron.as_str()]).map_err(sql)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql)? {
        out.push(read(row)?);
    }
    Ok(out)
}

fn feedback(row: &rusqlite::Row<'_>) -> Result<FeedbackRecord, StoreError> {
    let kind: String = row.get(2).map_err(sql)?;
    let patron: Option<String> = row.get(3).map_err(sql)?;
    Ok(FeedbackRecord {
        id: row.get(0).map_err(sql)?,
        at: parse_instant(&row.get::<_, String>(1).map_err(sql)?)?,
        kind: FeedbackKind::parse(&kind)
            .ok_or_else(|| StoreError::corrupt(format!("feedback kind {kind:?}: unknown")))?,
        patron_id: patron
            .map(|p| {
                PatronId::parse(&p).map_err(|e| StoreError::corrupt(e.to_string()).caused_by(e))
            })
            .transpose()?,
        notice_id: row
            .get::<_, Option<String>>(4)
            .map_err(sql)?
            .map(NoticeId::from_stored),
    })
}

fn export(conn: &Connection, patron: &PatronId) -> Result<PatronExport, StoreError> {
    let patron_row = rows_of(
        conn,
        &format!("SELECT {PATRON_COLUMNS} FROM patrons WHERE patron_id = ?1"),
        patron,
        rows::patron,
    )?
    .pop();
    let loans = rows_of(
        conn,
        &format!("SELECT {LOAN_COLUMNS} FROM loans WHERE patron_id = ?1 ORDER BY loan_id"),
        patron,
        rows::loan,
    )?;
    let notices = notices_where(
        conn,
        "patron_id = ?1 ORDER BY run_day, notice_id",
        [patron.as_str()],
    )?;
    let replies: Vec<ReplyRecord> = rows_of(
        conn,
        &format!(
            "SELECT {REPLY_COLUMNS} FROM replies WHERE patron_id = ?1 ORDER BY received_at, reply_id"
        ),
        patron,
        reply,
    )?;
    let feedback = rows_of(
        conn,
        "SELECT feedback_id, at, kind, patron_id, notice_id FROM feedback \
         WHERE patron_id = ?1 ORDER BY at, feedback_id",
        patron,
        feedback,
    )?;
    Ok(PatronExport {
        patron: patron_row,
        loans,
        notices,
        replies,
        feedback,
    })
}

impl PatronRecords for Store {
    async fn export_patron(&self, patron: &PatronId) -> Result<PatronExport, StoreError> {
        reading(&self.conn(), |conn| export(conn, patron))
    }

    async fn erase_patron(&self, patron: &PatronId) -> Result<PatronErasure, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(sql)?;
        let id = patron.as_str();
        let run = |statement: &str| -> Result<u64, StoreError> {
            Ok(tx.execute(statement, params![id]).map_err(sql)? as u64)
        };
        let markers_kept: u64 = tx
            .query_row(
                "SELECT count(*) FROM markers WHERE loan_id IN \
                 (SELECT loan_id FROM loans WHERE patron_id = ?1) \
                 OR notice_id IN (SELECT notice_id FROM notices WHERE patron_id = ?1)",
                params![id],
                |r| r.get(0),
            )
            .map_err(sql)?;
        // The notice id is derived from the patron's: the marker keeps only
        // that its (loan, due date, stage) was handled.
        run(
            "UPDATE markers SET notice_id = NULL, skipped = 'erased' WHERE notice_id IN \
             (SELECT notice_id FROM notices WHERE patron_id = ?1)",
        )?;
        run("DELETE FROM notice_loans WHERE notice_id IN \
             (SELECT notice_id FROM notices WHERE patron_id = ?1)")?;
        let erasure = PatronErasure {
            notices: run("DELETE FROM notices WHERE patron_id = ?1")?,
            loans: run("DELETE FROM loans WHERE patron_id = ?1")?,
            replies: run("DELETE FROM replies WHERE patron_id = ?1")?,
            feedback: run("DELETE FROM feedback WHERE patron_id = ?1")?,
            patrons: run("DELETE FROM patrons WHERE patron_id = ?1")?,
            markers_kept,
        };
        tx.commit().map_err(sql)?;
        Ok(erasure)
    }
}

#[cfg(test)]
mod tests;
