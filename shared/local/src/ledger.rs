//! The ledger port on SQLite: notices, markers, watermark and run summaries.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use relance_core::ids::{LoanId, StageName};
use relance_core::ids::{NoticeId, Reference};
use relance_core::ladder::Channel;
use relance_core::notice::{CancelReason, MarkerKey, MarkerOutcome, Notice, NoticeLoan};
use relance_core::plan::RunPlan;
use relance_core::ports::{Ledger, StoreError};
use relance_core::summary::RunSummary;
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::rows::{self, NOTICE_COLUMNS};
use crate::store::{Store, day_text, instant_text, parse_day, reading, sql};

/// Salts tried before a reference collision is reported as an error.
const REFERENCE_SALTS: u32 = 16;

fn watermark(conn: &Connection) -> Result<Option<NaiveDate>, StoreError> {
    conn.query_row("SELECT day FROM watermark WHERE id = 1", [], |r| {
        r.get::<_, String>(0)
    })
    .optional()
    .map_err(sql)?
    .map(|d| parse_day(&d))
    .transpose()
}

fn set_watermark(conn: &Connection, day: NaiveDate) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO watermark (id, day) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET day = ?1",
        [day_text(day)],
    )
    .map_err(sql)?;
    Ok(())
}

/// Inserts the notice if its id is new (finding a free reference), then its loans
/// (a letter that exists already gains the new loans).
fn insert_notice(conn: &Connection, notice: &Notice) -> Result<(), StoreError> {
    let exists: bool = conn
        .query_row(
            "SELECT 1 FROM notices WHERE notice_id = ?1",
            [notice.id.as_str()],
            |_| Ok(true),
        )
        .optional()
        .map_err(sql)?
        .unwrap_or(false);
    if !exists {
        let mut inserted = false;
        for salt in 0..REFERENCE_SALTS {
            let reference = if salt == 0 {
                notice.reference.clone()
            } else {
                Reference::derive(&notice.id, salt)
            };
            let outcome = conn.execute(
                "INSERT INTO notices (notice_id, reference, run_day, patron_id, channel, stage, \
                 library_code, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending')",
                params![
                    notice.id.as_str(),
                    reference.as_str(),
                    day_text(notice.run_day),
                    notice.patron_id.as_str(),
                    notice.channel.as_str(),
                    notice.stage.as_str(),
                    notice.library.as_ref().map(|l| l.as_str()),
                ],
            );
            match outcome {
                Ok(_) => {
                    inserted = true;
                    break;
                }
                // Only the reference can collide here: the id was checked above.
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == ErrorCode::ConstraintViolation => {}
                Err(e) => return Err(sql(e)),
            }
        }
        if !inserted {
            return Err(StoreError::conflict(format!(
                "no free reference for notice {} after {REFERENCE_SALTS} tries",
                notice.id
            )));
        }
    }
    let mut stmt = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO notice_loans (notice_id, loan_id, due_date, stage) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(sql)?;
    for loan in &notice.loans {
        stmt.execute(params![
            notice.id.as_str(),
            loan.loan_id.as_str(),
            day_text(loan.due_date),
            loan.stage.as_str()
        ])
        .map_err(sql)?;
    }
    Ok(())
}

fn notice_loans(conn: &Connection, id: &NoticeId) -> Result<Vec<NoticeLoan>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT loan_id, due_date, stage FROM notice_loans WHERE notice_id = ?1 ORDER BY loan_id",
        )
        .map_err(sql)?;
    let mut rows = stmt.query([id.as_str()]).map_err(sql)?;
    let mut loans = Vec::new();
    while let Some(row) = rows.next().map_err(sql)? {
        let loan_id: String = row.get(0).map_err(sql)?;
        let stage: String = row.get(2).map_err(sql)?;
        loans.push(NoticeLoan {
            loan_id: LoanId::parse(&loan_id).map_err(|e| {
                StoreError::corrupt(format!("loan id {loan_id:?}: {e}")).caused_by(e)
            })?,
            due_date: parse_day(&row.get::<_, String>(1).map_err(sql)?)?,
            stage: StageName::parse(&stage)
                .map_err(|e| StoreError::corrupt(format!("stage {stage:?}: {e}")).caused_by(e))?,
        });
    }
    Ok(loans)
}

/// Reads notices matching `clause` with their loans.
pub(crate) fn notices_where(
    conn: &Connection,
    clause: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Notice>, StoreError> {
    reading(conn, |conn| {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {NOTICE_COLUMNS} FROM notices WHERE {clause}"
            ))
            .map_err(sql)?;
        let mut rows = stmt.query(params).map_err(sql)?;
        let mut notices = Vec::new();
        while let Some(row) = rows.next().map_err(sql)? {
            notices.push(rows::notice(row)?);
        }
        for notice in &mut notices {
            notice.loans = notice_loans(conn, &notice.id)?;
        }
        Ok(notices)
    })
}

impl Ledger for Store {
    async fn watermark(&self) -> Result<Option<NaiveDate>, StoreError> {
        watermark(&self.conn())
    }

    async fn handled(&self, keys: &[MarkerKey]) -> Result<HashSet<MarkerKey>, StoreError> {
        reading(&self.conn(), |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT 1 FROM markers WHERE loan_id = ?1 AND due_date = ?2 AND stage = ?3",
                )
                .map_err(sql)?;
            let mut handled = HashSet::new();
            for key in keys {
                let found = stmt
                    .exists(params![
                        key.loan_id.as_str(),
                        day_text(key.due_date),
                        key.stage.as_str()
                    ])
                    .map_err(sql)?;
                if found {
                    handled.insert(key.clone());
                }
            }
            Ok(handled)
        })
    }

    async fn record_plan(
        &self,
        plan: &RunPlan,
        expected: Option<NaiveDate>,
    ) -> Result<(), StoreError> {
        let run_day = plan
            .run_day
            .ok_or_else(|| StoreError::unexpected("a plan without a run day"))?;
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(sql)?;
        let current = watermark(&tx)?;
        if current != expected {
            return Err(StoreError::conflict(format!(
                "the watermark moved from {expected:?} to {current:?} while planning {run_day}"
            )));
        }
        for notice in &plan.notices {
            insert_notice(&tx, notice)?;
        }
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO markers (loan_id, due_date, stage, run_day, notice_id, skipped) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(sql)?;
            for marker in &plan.markers {
                let (notice, skipped) = match &marker.outcome {
                    MarkerOutcome::Notice(id) => (Some(id.as_str()), None),
                    MarkerOutcome::Skipped(reason) => (None, Some(reason.as_str())),
                };
                stmt.execute(params![
                    marker.key.loan_id.as_str(),
                    day_text(marker.key.due_date),
                    marker.key.stage.as_str(),
                    day_text(marker.run_day),
                    notice,
                    skipped,
                ])
                .map_err(sql)?;
            }
        }
        if current.is_none_or(|w| w < run_day) {
            set_watermark(&tx, run_day)?;
        }
        tx.commit().map_err(sql)
    }

    async fn set_watermark(&self, day: NaiveDate) -> Result<(), StoreError> {
        set_watermark(&self.conn(), day)
    }

    async fn notices_on(&self, run_day: NaiveDate) -> Result<Vec<Notice>, StoreError> {
        Store::notices_on(self, run_day)
    }

    async fn pending_notices(
        &self,
        channel: Channel,
        up_to: NaiveDate,
    ) -> Result<Vec<Notice>, StoreError> {
        notices_where(
            &self.conn(),
            "status = 'pending' AND channel = ?1 AND run_day <= ?2 ORDER BY run_day, notice_id",
            params![channel.as_str(), day_text(up_to)],
        )
    }

    async fn record_sent(
        &self,
        id: &NoticeId,
        message_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.record_sent_many(&[(id.clone(), message_id.to_owned())], at)
            .await
    }

    async fn record_sent_many(
        &self,
        sent: &[(NoticeId, String)],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(sql)?;
        {
            let mut update = tx
                .prepare_cached(
                    "UPDATE notices SET status = 'sent', message_id = ?2, sent_at = ?3, \
                     last_error = NULL WHERE notice_id = ?1",
                )
                .map_err(sql)?;
            let at = instant_text(at);
            for (id, message_id) in sent {
                update
                    .execute(params![id.as_str(), message_id, at])
                    .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }

    async fn record_failure(&self, id: &NoticeId, error: &str) -> Result<(), StoreError> {
        self.execute(
            "UPDATE notices SET attempts = attempts + 1, last_error = ?2 WHERE notice_id = ?1",
            params![id.as_str(), error],
        )?;
        Ok(())
    }

    async fn cancel(&self, id: &NoticeId, reason: CancelReason) -> Result<(), StoreError> {
        self.execute(
            "UPDATE notices SET status = 'cancelled', cancel_reason = ?2 \
                 WHERE notice_id = ?1 AND status = 'pending'",
            params![id.as_str(), reason.as_str()],
        )?;
        Ok(())
    }

    async fn fall_back_to_print(
        &self,
        email: &NoticeId,
        letters: &[Notice],
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(sql)?;
        tx.execute(
            "UPDATE notices SET status = 'cancelled', cancel_reason = ?2 WHERE notice_id = ?1",
            params![email.as_str(), CancelReason::FellBackToPrint.as_str()],
        )
        .map_err(sql)?;
        for letter in letters {
            // The day's letter may already be printed (the address failed on a
            // later retry): then these loans make a letter of their own.
            let printed: bool = tx
                .query_row(
                    "SELECT status <> 'pending' FROM notices WHERE notice_id = ?1",
                    [letter.id.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql)?
                .unwrap_or(false);
            let mut fresh;
            let letter = if printed {
                fresh = letter.clone();
                fresh.id = NoticeId::derive(&format!("{}|after|{email}", letter.id));
                fresh.reference = Reference::derive(&fresh.id, 0);
                &fresh
            } else {
                letter
            };
            insert_notice(&tx, letter)?;
            for loan in &letter.loans {
                tx.execute(
                    "UPDATE markers SET notice_id = ?1 WHERE notice_id = ?2 AND loan_id = ?3",
                    params![letter.id.as_str(), email.as_str(), loan.loan_id.as_str()],
                )
                .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }

    async fn record_run(&self, summary: &RunSummary) -> Result<(), StoreError> {
        let json = serde_json::to_string(summary)
            .map_err(|e| StoreError::unexpected(e.to_string()).caused_by(e))?;
        self.conn()
            .prepare_cached("INSERT INTO runs (run_day, summary) VALUES (?1, ?2)")
            .map_err(sql)?
            .execute(params![day_text(summary.run_day), json])
            .map_err(sql)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
