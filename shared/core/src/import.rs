//! Reading patron and loan exports: row by row validation into domain values.
//!
//! Everything here is free of files, clock and network, so that the local SQLite
//! importer and the AWS importer share it: [`ExportReader`] streams rows from any
//! `Read`, [`check_patron`] and [`check_loan`] turn one row into a domain value or
//! field errors, [`Row::check`] rejects with every line it spans a row read over a
//! quote never closed (see `span.rs`), [`RejectsWriter`] writes the report to any `Write`, and
//! [`snapshot_guard`] applies the 20 % rule. The drivers own the transaction.

mod batches;
mod dates;
mod decode;
mod fields;
mod header;
mod input;
mod loan;
mod patron;
mod pipeline;
mod plausible;
mod profiles;
mod reader;
mod rejects;
mod snapshot;
mod span;
mod summary;
mod tap;

pub use batches::{
    BATCH_ROWS, Export, Inline, LoanCheck, PatronCheck, RowBatch, RowBatches, RowCheck,
};
pub use dates::{DateError, PlainDate, parse_moment};
pub use decode::{Decoded, Encoding};
pub use fields::{LoanFields, PatronFields};
pub use header::{Columns, HeaderError, LOAN_COLUMNS, PATRON_COLUMNS, Source, detect_delimiter};
pub use input::{CsvInput, ImportError, ImportOptions};
pub use loan::check_loan;
pub use patron::check_patron;
pub use pipeline::{import, import_csv};
pub use plausible::{
    LONG_LOAN_DAYS, MAX_AUTHOR_CHARS, MAX_CALL_NUMBER_CHARS, MAX_TITLE_CHARS, PLAUSIBLE_YEARS,
};
pub use profiles::{Headings, Profile};
pub use reader::{ExportError, ExportReader, Row};
pub use rejects::{MemoryReport, Outcome, REJECTS_HEADER, RejectsReport, RejectsWriter};
pub use snapshot::{SNAPSHOT_MAX_CLOSE_PERCENT, SnapshotRefused, snapshot_guard};
pub use span::{CheckedRow, SwallowedLine};
pub use summary::{ImportOutcome, ImportSummary};

/// One problem with one field of a row. `field` is the column name, or `row`
/// for a problem with the row as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The column.
    pub field: &'static str,
    /// Why, in words staff can act on. Never holds a name or an email address.
    pub reason: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// A row that cannot be imported, with every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", list(.errors))]
pub struct RowRejected {
    /// At least one.
    pub errors: Vec<FieldError>,
}

fn list(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A row that can be imported, with what is worth telling staff about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked<T> {
    /// The domain value.
    pub value: T,
    /// Problems that do not stop the import (e.g. a malformed email: print fallback).
    pub warnings: Vec<FieldError>,
}

/// Collects the errors of one row, so that a row reports all its problems at once.
#[derive(Default)]
struct Problems {
    errors: Vec<FieldError>,
    warnings: Vec<FieldError>,
}

impl Problems {
    fn error(&mut self, field: &'static str, reason: impl Into<String>) {
        self.errors.push(FieldError::new(field, reason));
    }

    fn warn(&mut self, field: &'static str, reason: impl Into<String>) {
        self.warnings.push(FieldError::new(field, reason));
    }

    /// A free-text field, trimmed; interior control characters refuse the row
    /// because they would break headers, CSV reports and letters.
    fn text(&mut self, field: &'static str, value: &str) -> String {
        let value = value.trim();
        if value.chars().any(char::is_control) {
            self.error(field, "contains a control character");
        }
        value.to_owned()
    }

    /// A free-text field that must not be empty.
    fn required(&mut self, field: &'static str, value: &str) -> String {
        let value = self.text(field, value);
        if value.is_empty() {
            self.error(field, "is empty");
        }
        value
    }

    /// A parsed field: the error is recorded and `None` returned.
    fn parsed<T, E: std::fmt::Display>(
        &mut self,
        field: &'static str,
        result: Result<T, E>,
    ) -> Option<T> {
        result.map_err(|e| self.error(field, e.to_string())).ok()
    }

    /// The row's verdict: any error rejects it.
    fn finish<T>(self, value: T) -> Result<Checked<T>, RowRejected> {
        if self.errors.is_empty() {
            Ok(Checked {
                value,
                warnings: self.warnings,
            })
        } else {
            Err(self.rejected())
        }
    }

    /// The row's errors; called when a required value is missing, which is
    /// always recorded as an error.
    fn rejected(self) -> RowRejected {
        RowRejected {
            errors: self.errors,
        }
    }
}
