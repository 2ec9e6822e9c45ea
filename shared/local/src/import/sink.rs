//! The SQLite writes of an import: one transaction, rolled back when the sink
//! is dropped without commit. Its futures are ready when returned: the work is
//! done synchronously, on the calling thread.

use std::collections::HashSet;
use std::future::{Future, ready};

use chrono::{DateTime, Utc};
use relance_core::ids::{LoanId, PatronId};
use relance_core::import::ImportSummary;
use relance_core::model::{Loan, Patron};
use relance_core::ports::{ImportSink, StoreError};
use rusqlite::{Transaction, params};

use super::tables::{build_indexes, defer_indexes, patron_ids, rows_in};
use crate::store::{day_text, instant_text, sql};

/// One import's transaction.
pub(super) struct SqliteSink<'c> {
    tx: Transaction<'c>,
    batch: i64,
    now: DateTime<Utc>,
    /// The patrons table before the import: `None` until its first write, then
    /// whether it was empty, with the index definitions set aside meanwhile.
    patrons: Option<Table>,
    loans: Option<Table>,
    /// The last loan written was an update: try [`UPDATE_LOAN_IN_PLACE`] first.
    /// A first import only inserts, and would pay a useless lookup per row.
    expect_update: bool,
    /// Every patron id stored, loaded at the first lookup: the loans of a
    /// million-loan export look their patron up here rather than in the table,
    /// where it cost a fifth of the import. About 50 bytes a patron.
    patron_ids: Option<HashSet<Box<str>>>,
}

/// A table as an import found it.
struct Table {
    was_empty: bool,
    /// Indexes dropped while a first import fills it, built again once it is
    /// filled: one sort per index instead of a b-tree insert per row.
    deferred: Vec<String>,
}

impl<'c> SqliteSink<'c> {
    /// Takes the next batch number in `tx`, which must be IMMEDIATE so that the
    /// number stays this import's until commit.
    pub(super) fn begin(tx: Transaction<'c>, now: DateTime<Utc>) -> Result<Self, StoreError> {
        let batch: i64 = tx
            .query_row(
                "SELECT MAX(IFNULL((SELECT MAX(id) FROM imports), 0),
                            IFNULL((SELECT MAX(import_batch) FROM loans), 0)) + 1",
                [],
                |r| r.get(0),
            )
            .map_err(sql)?;
        Ok(Self {
            tx,
            batch,
            now,
            patrons: None,
            loans: None,
            expect_update: false,
            patron_ids: None,
        })
    }

    fn table(tx: &Transaction<'_>, name: &str) -> rusqlite::Result<Table> {
        let rows = rows_in(tx, name)?;
        Ok(Table {
            was_empty: rows == 0,
            deferred: defer_indexes(tx, name, rows)?,
        })
    }

    /// Builds the indexes set aside for `table`'s first import.
    fn settle(tx: &Transaction<'_>, table: &mut Option<Table>) -> rusqlite::Result<()> {
        if let Some(table) = table {
            build_indexes(tx, &std::mem::take(&mut table.deferred))?;
        }
        Ok(())
    }

    fn write_patrons(&mut self, patrons: &[Patron]) -> rusqlite::Result<u64> {
        if self.patrons.is_none() {
            self.patrons = Some(Self::table(&self.tx, "patrons")?);
        }
        let was_empty = self.patrons.as_ref().is_some_and(|t| t.was_empty);
        let mut exists = self
            .tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM patrons WHERE patron_id = ?1)")?;
        let mut upsert = self.tx.prepare_cached(UPSERT_PATRON)?;
        let mut inserted = 0;
        for patron in patrons {
            // Ids are distinct: into a table empty before the import, every row is new.
            let new =
                was_empty || !exists.query_row([patron.id.as_str()], |r| r.get::<_, bool>(0))?;
            inserted += u64::from(new);
            let a = &patron.address;
            upsert.execute(params![
                patron.id.as_str(),
                patron.full_name,
                patron.email.as_ref().map(|e| e.as_str()),
                a.line1,
                a.line2,
                a.postcode,
                a.city,
                a.country,
                patron.language.map(|l| l.code()),
                patron.courtesy_opt_out,
            ])?;
        }
        Ok(inserted)
    }

    fn write_loans(&mut self, loans: &[Loan]) -> rusqlite::Result<u64> {
        Self::settle(&self.tx, &mut self.patrons)?;
        if self.loans.is_none() {
            let table = Self::table(&self.tx, "loans")?;
            self.expect_update = !table.was_empty;
            self.loans = Some(table);
        }
        let mut update_in_place = self.tx.prepare_cached(UPDATE_LOAN_IN_PLACE)?;
        let mut insert = self.tx.prepare_cached(INSERT_LOAN)?;
        let mut update = self.tx.prepare_cached(UPDATE_LOAN)?;
        let mut inserted = 0;
        for loan in loans {
            let values = params![
                loan.id.as_str(),
                loan.patron_id.as_str(),
                loan.library.as_str(),
                loan.item.barcode,
                loan.item.title,
                loan.item.author,
                loan.item.call_number,
                loan.loaned_at.map(instant_text),
                instant_text(loan.due_at),
                day_text(loan.due_date),
                loan.returned_at.map(instant_text),
                self.batch,
            ];
            if self.expect_update && update_in_place.execute(values)? == 1 {
                continue;
            }
            let new = insert.execute(values)? == 1;
            if !new {
                update.execute(values)?;
            }
            inserted += u64::from(new);
            self.expect_update = !new;
        }
        Ok(inserted)
    }

    fn stored_patrons(&mut self, ids: &[PatronId]) -> rusqlite::Result<HashSet<PatronId>> {
        let stored = match &self.patron_ids {
            Some(stored) => stored,
            None => self.patron_ids.insert(patron_ids(&self.tx)?),
        };
        Ok(ids
            .iter()
            .filter(|id| stored.contains(id.as_str()))
            .cloned()
            .collect())
    }

    fn open_loans(&self) -> Result<HashSet<LoanId>, StoreError> {
        let mut statement = self
            .tx
            .prepare("SELECT loan_id FROM loans WHERE returned_at IS NULL")
            .map_err(sql)?;
        let mut rows = statement.query([]).map_err(sql)?;
        let mut ids = HashSet::new();
        while let Some(row) = rows.next().map_err(sql)? {
            let id: String = row.get(0).map_err(sql)?;
            let id = LoanId::parse(&id)
                .map_err(|e| StoreError::corrupt(format!("loan id {id:?}: {e}")).caused_by(e))?;
            ids.insert(id);
        }
        Ok(ids)
    }

    fn close(&mut self, ids: &[LoanId], at: DateTime<Utc>) -> rusqlite::Result<u64> {
        Self::settle(&self.tx, &mut self.patrons)?;
        Self::settle(&self.tx, &mut self.loans)?;
        let mut close = self.tx.prepare_cached(
            "UPDATE loans SET returned_at = ?2 WHERE loan_id = ?1 AND returned_at IS NULL",
        )?;
        let at = instant_text(at);
        let mut closed = 0;
        for id in ids {
            closed += close.execute(params![id.as_str(), at])? as u64;
        }
        Ok(closed)
    }

    fn keep(mut self, summary: &ImportSummary) -> Result<(), StoreError> {
        Self::settle(&self.tx, &mut self.patrons).map_err(sql)?;
        Self::settle(&self.tx, &mut self.loans).map_err(sql)?;
        let json = serde_json::to_string(summary)
            .map_err(|e| StoreError::unexpected(format!("import summary: {e}")).caused_by(e))?;
        self.tx
            .execute(
                "INSERT INTO imports (id, at, summary) VALUES (?1, ?2, ?3)",
                params![self.batch, instant_text(self.now), json],
            )
            .map_err(sql)?;
        self.tx.commit().map_err(sql)
    }
}

impl ImportSink for SqliteSink<'_> {
    fn batch(&self) -> i64 {
        self.batch
    }

    fn known_patrons(
        &mut self,
        ids: &[PatronId],
    ) -> impl Future<Output = Result<HashSet<PatronId>, StoreError>> + Send {
        ready(self.stored_patrons(ids).map_err(sql))
    }

    fn upsert_patrons(
        &mut self,
        patrons: &[Patron],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        ready(self.write_patrons(patrons).map_err(sql))
    }

    fn upsert_loans(
        &mut self,
        loans: &[Loan],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        ready(self.write_loans(loans).map_err(sql))
    }

    fn open_loan_ids(
        &mut self,
    ) -> impl Future<Output = Result<HashSet<LoanId>, StoreError>> + Send {
        ready(self.open_loans())
    }

    fn close_loans(
        &mut self,
        ids: &[LoanId],
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        ready(self.close(ids, at).map_err(sql))
    }

    fn commit(
        self,
        summary: &ImportSummary,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        ready(self.keep(summary))
    }
}

/// The patron upsert: the email status learnt from bounces is kept unless the
/// address itself changed.
const UPSERT_PATRON: &str = "
    INSERT INTO patrons (patron_id, full_name, email, address_line1, address_line2,
        postcode, city, country, language, courtesy_opt_out)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
    ON CONFLICT (patron_id) DO UPDATE SET
        full_name = excluded.full_name,
        email_status = CASE WHEN email IS excluded.email THEN email_status
                            ELSE 'deliverable' END,
        email = excluded.email, address_line1 = excluded.address_line1,
        address_line2 = excluded.address_line2, postcode = excluded.postcode,
        city = excluded.city, country = excluded.country,
        language = excluded.language, courtesy_opt_out = excluded.courtesy_opt_out";

/// A loan new to the store. Its `VALUES` form matters: `INSERT … SELECT`
/// would need a statement journal per row, which made the import a third slower.
const INSERT_LOAN: &str = "
    INSERT INTO loans (loan_id, patron_id, library_code, barcode, title, author,
        call_number, loaned_at, due_at, due_date, returned_at, import_batch)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
    ON CONFLICT (loan_id) DO NOTHING";

/// A stored loan, replaced.
const UPDATE_LOAN: &str = "
    UPDATE loans SET patron_id = ?2, library_code = ?3, barcode = ?4, title = ?5,
        author = ?6, call_number = ?7, loaned_at = ?8, due_at = ?9, due_date = ?10,
        returned_at = ?11, import_batch = ?12
    WHERE loan_id = ?1";

/// The loan of a re-import, when what the indexes hold (patron, due date,
/// open or not) is unchanged, as for most loans of a daily export: rewriting
/// the row alone, without touching the three indexes, is much cheaper.
const UPDATE_LOAN_IN_PLACE: &str = "
    UPDATE loans SET library_code = ?3, barcode = ?4, title = ?5, author = ?6,
        call_number = ?7, loaned_at = ?8, due_at = ?9, import_batch = ?12
    WHERE loan_id = ?1
        AND patron_id = ?2 AND due_date = ?10 AND returned_at IS ?11";
