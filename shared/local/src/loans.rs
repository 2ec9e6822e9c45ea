//! The loan store port on SQLite.

use relance_core::ids::{LoanId, PatronId};
use relance_core::model::{EmailStatus, Loan, Patron};
use relance_core::ports::{LoanStore, StoreError};
use rusqlite::{Connection, params};

use crate::rows::{self, LOAN_COLUMNS, PATRON_COLUMNS};
use crate::store::{Store, day_text, reading, sql};

fn loans_where(conn: &Connection, clause: &str, key: &str) -> Result<Vec<Loan>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {LOAN_COLUMNS} FROM loans WHERE {clause}"))
        .map_err(sql)?;
    let mut rows = stmt.query([key]).map_err(sql)?;
    let mut loans = Vec::new();
    while let Some(row) = rows.next().map_err(sql)? {
        loans.push(rows::loan(row)?);
    }
    Ok(loans)
}

impl LoanStore for Store {
    async fn open_loans_due_on(&self, due: chrono::NaiveDate) -> Result<Vec<Loan>, StoreError> {
        // Served by the partial index loans_open_by_due_date.
        loans_where(
            &self.conn(),
            "due_date = ?1 AND returned_at IS NULL",
            &day_text(due),
        )
    }

    async fn patrons(&self, ids: &[PatronId]) -> Result<Vec<Patron>, StoreError> {
        reading(&self.conn(), |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {PATRON_COLUMNS} FROM patrons WHERE patron_id = ?1"
                ))
                .map_err(sql)?;
            let mut patrons = Vec::with_capacity(ids.len());
            for id in ids {
                let mut rows = stmt.query([id.as_str()]).map_err(sql)?;
                if let Some(row) = rows.next().map_err(sql)? {
                    patrons.push(rows::patron(row)?);
                }
            }
            Ok(patrons)
        })
    }

    async fn loans(&self, ids: &[LoanId]) -> Result<Vec<Loan>, StoreError> {
        reading(&self.conn(), |conn| {
            let mut loans = Vec::with_capacity(ids.len());
            for id in ids {
                loans.extend(loans_where(conn, "loan_id = ?1", id.as_str())?);
            }
            Ok(loans)
        })
    }

    async fn open_loans_of(&self, patron: &PatronId) -> Result<Vec<Loan>, StoreError> {
        loans_where(
            &self.conn(),
            "patron_id = ?1 AND returned_at IS NULL",
            patron.as_str(),
        )
    }

    async fn set_email_status(
        &self,
        patron: &PatronId,
        status: EmailStatus,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("UPDATE patrons SET email_status = ?2 WHERE patron_id = ?1")
            .map_err(sql)?
            .execute(params![patron.as_str(), status.as_str()])
            .map_err(sql)?;
        Ok(())
    }

    /// In one transaction.
    async fn record_returns(
        &self,
        returns: &[(LoanId, chrono::DateTime<chrono::Utc>)],
    ) -> Result<usize, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(sql)?;
        let mut closed = 0;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE loans SET returned_at = ?2 WHERE loan_id = ?1 AND returned_at IS NULL",
                )
                .map_err(sql)?;
            for (id, at) in returns {
                closed += stmt
                    .execute(params![id.as_str(), crate::store::instant_text(*at)])
                    .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        Ok(closed)
    }
}
