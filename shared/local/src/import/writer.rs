//! Writing validated rows: upserts, duplicate and unknown-patron checks, and
//! the report lines of each row.

use std::collections::HashSet;

use relance_core::config::Config;
use relance_core::ids::{LoanId, PatronId};
use relance_core::import::{
    Checked, ExportReader, FieldError, ImportSummary, Outcome, check_loan, check_patron,
};
use relance_core::model::{Loan, Patron};
use rusqlite::{CachedStatement, OptionalExtension, Transaction, params};

use super::rejects::Rejects;
use super::stream::{Parsed, stream};
use super::tables::{build_indexes, defer_indexes, patron_ids, rows_in};
use super::{CsvInput, ImportError, export_error};
use crate::store::{day_text, instant_text};

/// The state of one import while it streams.
pub(super) struct ImportRun<'t> {
    /// The import's transaction.
    pub tx: &'t Transaction<'t>,
    /// Libraries and timezone.
    pub config: &'t Config,
    /// Counts so far.
    pub summary: ImportSummary,
    /// The report.
    pub rejects: Rejects,
    /// Bytes of the exports already read, for progress across both files.
    pub bytes_done: u64,
    /// Rows written from the current file; with the table's row count before
    /// and after, it splits into inserted and updated without a lookup per row.
    pub written: u64,
    /// Open loans stamped with this import's batch: the open loans a snapshot
    /// lists, so the others are the open loans now minus these.
    pub open_listed: u64,
}

impl ImportRun<'_> {
    /// Imports a patrons export.
    pub(super) fn patrons(
        &mut self,
        input: CsvInput<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), ImportError> {
        let file = input.name;
        let reader = ExportReader::patrons(input.reader).map_err(|e| export_error(file, e))?;
        let before = rows_in(self.tx, "patrons")?;
        let deferred = defer_indexes(self.tx, "patrons", before)?;
        self.written = 0;
        let done = self.bytes_done;
        let bytes = stream(
            file,
            reader,
            |row| row.patron_fields().and_then(|fields| check_patron(&fields)),
            |row| self.patron_row(file, row),
            &mut |bytes| progress(done + bytes),
        )?;
        build_indexes(self.tx, &deferred)?;
        self.summary.patrons_inserted = rows_in(self.tx, "patrons")? - before;
        self.summary.patrons_updated = self.written - self.summary.patrons_inserted;
        self.bytes_done += bytes;
        Ok(())
    }

    fn patron_row(&mut self, file: &str, row: &Parsed<Patron>) -> Result<(), ImportError> {
        let (line, id) = (row.line, row.record_id.as_str());
        let Checked { value, warnings } = match &row.checked {
            Ok(checked) => checked,
            Err(rejected) => {
                // Remember the id all the same, so a later row with it is a duplicate.
                if let Ok(id) = PatronId::parse(id) {
                    self.first_line_of_patron(&id, line)?;
                }
                self.reject(file, line, id, &rejected.errors)?;
                for swallowed in &row.swallowed {
                    self.reject(
                        file,
                        swallowed.line,
                        &swallowed.record_id,
                        &[swallowed.problem()],
                    )?;
                }
                return Ok(());
            }
        };
        if let Some(first) = self.first_line_of_patron(&value.id, line)? {
            let problem = FieldError::new(
                "patron_id",
                format!("appears again in this file (first on line {first}); this row is ignored"),
            );
            return self.reject(file, line, id, &[problem]);
        }
        self.upsert_patron(value)?;
        self.written += 1;
        self.warn(file, line, id, warnings)
    }

    /// Imports a loans export (after the patrons, whose ids it checks).
    pub(super) fn loans(
        &mut self,
        input: CsvInput<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), ImportError> {
        let file = input.name;
        let reader = ExportReader::loans(input.reader).map_err(|e| export_error(file, e))?;
        let before = rows_in(self.tx, "loans")?;
        let deferred = defer_indexes(self.tx, "loans", before)?;
        self.written = 0;
        let done = self.bytes_done;
        let config = self.config;
        let tx = self.tx;
        let mut writes = LoanWrites {
            upsert: tx.prepare_cached(UPSERT_LOAN)?,
            update_in_place: tx.prepare_cached(UPDATE_LOAN_IN_PLACE)?,
            expect_update: before > 0,
            patrons: patron_ids(tx)?,
        };
        let bytes = stream(
            file,
            reader,
            |row| {
                let checked = row.loan_fields().and_then(|f| check_loan(&f, config))?;
                Ok(Checked {
                    value: LoanRow::new(checked.value),
                    warnings: checked.warnings,
                })
            },
            |row| self.loan_row(&mut writes, file, row),
            &mut |bytes| progress(done + bytes),
        )?;
        drop(writes);
        build_indexes(self.tx, &deferred)?;
        self.summary.loans_inserted = rows_in(self.tx, "loans")? - before;
        self.summary.loans_updated = self.written - self.summary.loans_inserted;
        self.bytes_done += bytes;
        Ok(())
    }

    fn loan_row(
        &mut self,
        writes: &mut LoanWrites<'_>,
        file: &str,
        row: &Parsed<LoanRow>,
    ) -> Result<(), ImportError> {
        let (line, id) = (row.line, row.record_id.as_str());
        let Checked { value, warnings } = match &row.checked {
            Ok(checked) => checked,
            Err(rejected) => {
                self.stamp_loan(id)?;
                self.reject(file, line, id, &rejected.errors)?;
                // The loans of a broken quote's lines were listed all the same.
                for swallowed in &row.swallowed {
                    self.stamp_loan(&swallowed.record_id)?;
                    self.reject(
                        file,
                        swallowed.line,
                        &swallowed.record_id,
                        &[swallowed.problem()],
                    )?;
                }
                return Ok(());
            }
        };
        let patron = &value.loan.patron_id;
        if !writes.patrons.contains(patron.as_str()) {
            self.stamp_loan(id)?;
            let problem = FieldError::new(
                "patron_id",
                format!(
                    "unknown patron {patron} (neither in the store nor imported from the patrons file)"
                ),
            );
            return self.reject(file, line, id, &[problem]);
        }
        if !self.upsert_loan(writes, value)? {
            let problem = FieldError::new(
                "loan_id",
                "appears earlier in this file; this row is ignored",
            );
            return self.reject(file, line, id, &[problem]);
        }
        self.written += 1;
        self.open_listed += u64::from(value.loan.is_open());
        self.warn(file, line, id, warnings)
    }

    fn reject(
        &mut self,
        file: &str,
        line: u64,
        id: &str,
        errors: &[FieldError],
    ) -> Result<(), ImportError> {
        self.summary.rejected += 1;
        for error in errors {
            self.rejects
                .write(file, line, id, error, Outcome::Rejected)?;
        }
        Ok(())
    }

    fn warn(
        &mut self,
        file: &str,
        line: u64,
        id: &str,
        warnings: &[FieldError],
    ) -> Result<(), ImportError> {
        self.summary.warnings += warnings.len() as u64;
        for warning in warnings {
            self.rejects
                .write(file, line, id, warning, Outcome::Imported)?;
        }
        Ok(())
    }

    /// Records that this import saw `id` on `line`; if it was seen before, the
    /// line it was first seen on.
    fn first_line_of_patron(&self, id: &PatronId, line: u64) -> Result<Option<u64>, ImportError> {
        let added = self
            .tx
            .prepare_cached(
                "INSERT OR IGNORE INTO temp.import_seen_patrons (patron_id, line) VALUES (?1, ?2)",
            )?
            .execute(params![id.as_str(), line as i64])?;
        if added == 1 {
            return Ok(None);
        }
        let first: i64 = self
            .tx
            .prepare_cached("SELECT line FROM temp.import_seen_patrons WHERE patron_id = ?1")?
            .query_row([id.as_str()], |r| r.get(0))?;
        Ok(Some(first as u64))
    }

    /// Writes a patron; the email status learnt from bounces is kept unless the
    /// address itself changed.
    fn upsert_patron(&self, patron: &Patron) -> Result<(), ImportError> {
        let a = &patron.address;
        self.tx
            .prepare_cached(
                "INSERT INTO patrons (patron_id, full_name, email, address_line1, address_line2,
                     postcode, city, country, language, courtesy_opt_out)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (patron_id) DO UPDATE SET
                     full_name = excluded.full_name,
                     email_status = CASE WHEN email IS excluded.email THEN email_status
                                         ELSE 'deliverable' END,
                     email = excluded.email, address_line1 = excluded.address_line1,
                     address_line2 = excluded.address_line2, postcode = excluded.postcode,
                     city = excluded.city, country = excluded.country,
                     language = excluded.language, courtesy_opt_out = excluded.courtesy_opt_out",
            )?
            .execute(params![
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
        Ok(())
    }

    /// Writes a loan stamped with this import's batch; false when the loan is
    /// already stamped with it, i.e. written by an earlier row of this file.
    fn upsert_loan(&self, writes: &mut LoanWrites<'_>, row: &LoanRow) -> Result<bool, ImportError> {
        let loan = &row.loan;
        let values = params![
            loan.id.as_str(),
            loan.patron_id.as_str(),
            loan.library.as_str(),
            loan.item.barcode,
            loan.item.title,
            loan.item.author,
            loan.item.call_number,
            row.loaned_at,
            row.due_at,
            row.due_date,
            row.returned_at,
            self.summary.batch,
        ];
        if writes.expect_update && writes.update_in_place.execute(values)? == 1 {
            return Ok(true);
        }
        let last_rowid = self.tx.last_insert_rowid();
        let written = writes.upsert.execute(values)? == 1;
        // An upsert that inserted leaves a new rowid; one that updated does not.
        writes.expect_update = written && self.tx.last_insert_rowid() == last_rowid;
        Ok(written)
    }

    /// Marks a stored loan as listed by this import without changing it: a
    /// rejected row must not make a snapshot close its loan, and a later row
    /// with the same id is still a duplicate.
    fn stamp_loan(&mut self, id: &str) -> Result<(), ImportError> {
        let Ok(id) = LoanId::parse(id) else {
            return Ok(());
        };
        let open: Option<bool> = self
            .tx
            .prepare_cached(
                "UPDATE loans SET import_batch = ?2 WHERE loan_id = ?1 AND import_batch <> ?2
                 RETURNING returned_at IS NULL",
            )?
            .query_row(params![id.as_str(), self.summary.batch], |r| r.get(0))
            .optional()?;
        self.open_listed += u64::from(open == Some(true));
        Ok(())
    }
}

/// The loan upsert. Its `VALUES` form matters: `INSERT … SELECT` would need a
/// statement journal per row, which made the import a third slower.
const UPSERT_LOAN: &str = "
    INSERT INTO loans (loan_id, patron_id, library_code, barcode, title, author,
        call_number, loaned_at, due_at, due_date, returned_at, import_batch)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
    ON CONFLICT (loan_id) DO UPDATE SET
        patron_id = excluded.patron_id, library_code = excluded.library_code,
        barcode = excluded.barcode, title = excluded.title, author = excluded.author,
        call_number = excluded.call_number, loaned_at = excluded.loaned_at,
        due_at = excluded.due_at, due_date = excluded.due_date,
        returned_at = excluded.returned_at, import_batch = excluded.import_batch
    WHERE import_batch <> excluded.import_batch";

/// The loan of a re-import, when what the indexes hold (patron, due date,
/// open or not) is unchanged, as for most loans of a daily export: rewriting
/// the row alone, without touching the three indexes, is much cheaper.
const UPDATE_LOAN_IN_PLACE: &str = "
    UPDATE loans SET library_code = ?3, barcode = ?4, title = ?5, author = ?6,
        call_number = ?7, loaned_at = ?8, due_at = ?9, import_batch = ?12
    WHERE loan_id = ?1 AND import_batch <> ?12
        AND patron_id = ?2 AND due_date = ?10 AND returned_at IS ?11";

/// The statements of the loans file, and which is likely to hit.
struct LoanWrites<'t> {
    upsert: CachedStatement<'t>,
    update_in_place: CachedStatement<'t>,
    /// The last loan written was an update: try [`UPDATE_LOAN_IN_PLACE`] first.
    /// A first import only inserts, and would pay a useless lookup per row.
    expect_update: bool,
    /// Every patron id the store holds.
    patrons: HashSet<Box<str>>,
}

/// A loan with its time columns already written as stored, which the reader
/// thread does so that the writer thread does not.
pub(super) struct LoanRow {
    loan: Loan,
    loaned_at: Option<String>,
    due_at: String,
    due_date: String,
    returned_at: Option<String>,
}

impl LoanRow {
    fn new(loan: Loan) -> Self {
        Self {
            loaned_at: loan.loaned_at.map(instant_text),
            due_at: instant_text(loan.due_at),
            due_date: day_text(loan.due_date),
            returned_at: loan.returned_at.map(instant_text),
            loan,
        }
    }
}
