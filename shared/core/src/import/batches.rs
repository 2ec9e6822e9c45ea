//! Checked rows in file order, a batch at a time: what the import pipeline
//! consumes. [`Inline`] reads on the calling thread; a home may read on another
//! thread instead, behind the same [`RowBatches`] trait.

use std::io::Read;

use super::{
    Checked, CheckedRow, CsvInput, Encoding, ExportError, ExportReader, ImportError, Row,
    RowRejected, check_loan, check_patron,
};
use crate::config::Config;
use crate::model::{Loan, Patron};

/// Rows per batch: enough to make a store write worth its round trip.
pub const BATCH_ROWS: usize = 1024;

/// Rows of one export, checked.
pub struct RowBatch<T> {
    /// In file order.
    pub rows: Vec<CheckedRow<T>>,
    /// Bytes of the export read once this batch was full, for progress.
    pub bytes_read: u64,
    /// What the file turned out to be written in, as far as it was read.
    pub encoding: Encoding,
}

/// A source of checked rows.
pub trait RowBatches<T> {
    /// The next batch, or `None` at the end of the export.
    fn next_batch(&mut self) -> Result<Option<RowBatch<T>>, ExportError>;
}

/// How a row of one kind of export is checked; `Sync` so that a reader thread
/// may run it.
pub trait RowCheck: Sync {
    /// The domain value of a valid row.
    type Value: Send;
    /// Checks one row.
    fn check(&self, row: &Row<'_>) -> Result<Checked<Self::Value>, RowRejected>;
}

/// The checks of `patrons.csv`.
pub struct PatronCheck;

impl RowCheck for PatronCheck {
    type Value = Patron;
    fn check(&self, row: &Row<'_>) -> Result<Checked<Patron>, RowRejected> {
        row.patron_fields().and_then(|f| check_patron(&f))
    }
}

/// The checks of `loans.csv`, against the config's libraries and timezone.
pub struct LoanCheck<'c>(pub &'c Config);

impl RowCheck for LoanCheck<'_> {
    type Value = Loan;
    fn check(&self, row: &Row<'_>) -> Result<Checked<Loan>, RowRejected> {
        row.loan_fields().and_then(|f| check_loan(&f, self.0))
    }
}

/// An export being imported: its name and its rows.
pub struct Export<'a, B> {
    /// As staff know it.
    pub name: &'a str,
    /// The checked rows.
    pub rows: B,
}

/// Rows read and checked on the calling thread.
pub struct Inline<R, C> {
    reader: ExportReader<R>,
    check: C,
    done: bool,
}

impl<R: Read, C: RowCheck> RowBatches<C::Value> for Inline<R, C> {
    fn next_batch(&mut self) -> Result<Option<RowBatch<C::Value>>, ExportError> {
        if self.done {
            return Ok(None);
        }
        let mut rows = Vec::with_capacity(BATCH_ROWS);
        while rows.len() < BATCH_ROWS {
            match self.reader.next_row()? {
                Some(row) => rows.push(row.check(|r| self.check.check(r))),
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        Ok(Some(RowBatch {
            rows,
            bytes_read: self.reader.bytes_read(),
            encoding: self.reader.encoding(),
        }))
    }
}

impl<'a, R: Read> CsvInput<'a, R> {
    /// Reads the header of a patrons export; its rows are read as they are asked for.
    pub fn patrons(
        self,
        config: &Config,
    ) -> Result<Export<'a, Inline<R, PatronCheck>>, ImportError> {
        self.inline(|r| ExportReader::patrons(r, &config.import), PatronCheck)
    }

    /// Reads the header of a loans export; its rows are read as they are asked for.
    pub fn loans<'c>(
        self,
        config: &'c Config,
    ) -> Result<Export<'a, Inline<R, LoanCheck<'c>>>, ImportError> {
        self.inline(
            |r| ExportReader::loans(r, &config.import),
            LoanCheck(config),
        )
    }

    fn inline<C>(
        self,
        open: impl FnOnce(R) -> Result<ExportReader<R>, ExportError>,
        check: C,
    ) -> Result<Export<'a, Inline<R, C>>, ImportError> {
        let reader = open(self.reader).map_err(|e| ImportError::export(self.name, e))?;
        Ok(Export {
            name: self.name,
            rows: Inline {
                reader,
                check,
                done: false,
            },
        })
    }
}
