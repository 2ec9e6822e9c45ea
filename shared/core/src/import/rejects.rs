//! The rejects report: one CSV line per problem, written as problems are found.

use std::io::{self, Write};
use std::path::PathBuf;

use super::{FieldError, ImportError};

/// The header row of a rejects file.
pub const REJECTS_HEADER: [&str; 6] = ["file", "line", "record_id", "field", "reason", "outcome"];

/// What became of the row a report line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The row was not imported.
    Rejected,
    /// The row was imported; the line is a warning.
    Imported,
}

impl Outcome {
    /// As written in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rejected => "rejected",
            Self::Imported => "imported",
        }
    }
}

/// Writes `file,line,record_id,field,reason,outcome` lines to any writer.
pub struct RejectsWriter<W: Write> {
    csv: csv::Writer<W>,
}

impl<W: Write> RejectsWriter<W> {
    /// Starts a report with its header row.
    pub fn new(writer: W) -> io::Result<Self> {
        let mut csv = csv::Writer::from_writer(writer);
        csv.write_record(REJECTS_HEADER)?;
        Ok(Self { csv })
    }

    /// One problem of the row starting on `line` of `file`.
    pub fn write(
        &mut self,
        file: &str,
        line: u64,
        record_id: &str,
        problem: &FieldError,
        outcome: Outcome,
    ) -> io::Result<()> {
        let line = line.to_string();
        self.csv.write_record([
            file,
            &line,
            record_id,
            problem.field,
            &problem.reason,
            outcome.as_str(),
        ])?;
        Ok(())
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> io::Result<W> {
        self.csv.into_inner().map_err(|e| e.into_error())
    }
}

/// Where an import's report lines go, as the pipeline finds problems.
pub trait RejectsReport {
    /// One problem of the row starting on `line` of `file`.
    fn write(
        &mut self,
        file: &str,
        line: u64,
        record_id: &str,
        problem: &FieldError,
        outcome: Outcome,
    ) -> Result<(), ImportError>;

    /// Ends the report: the file it was kept in, if any.
    fn finish(&mut self) -> Result<Option<PathBuf>, ImportError>;
}

/// A report kept in memory, for a home that stores it itself (beside the export on S3).
#[derive(Default)]
pub struct MemoryReport {
    writer: Option<RejectsWriter<Vec<u8>>>,
    bytes: Option<Vec<u8>>,
}

impl MemoryReport {
    /// The report's CSV text, once finished, when there was anything to report.
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        self.bytes
    }
}

impl RejectsReport for MemoryReport {
    fn write(
        &mut self,
        file: &str,
        line: u64,
        record_id: &str,
        problem: &FieldError,
        outcome: Outcome,
    ) -> Result<(), ImportError> {
        let writer = match &mut self.writer {
            Some(writer) => writer,
            None => self
                .writer
                .insert(RejectsWriter::new(Vec::new()).map_err(memory_error)?),
        };
        writer
            .write(file, line, record_id, problem, outcome)
            .map_err(memory_error)
    }

    fn finish(&mut self) -> Result<Option<PathBuf>, ImportError> {
        if let Some(writer) = self.writer.take() {
            self.bytes = Some(writer.finish().map_err(memory_error)?);
        }
        Ok(None)
    }
}

fn memory_error(source: io::Error) -> ImportError {
    ImportError::Rejects {
        report: "report".into(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_written_as_quoted_csv_lines() {
        let mut report = RejectsWriter::new(Vec::new()).unwrap();
        let problem = FieldError::new("due_at", "is neither a timestamp, nor a date");
        report
            .write("loans.csv", 7, "L42", &problem, Outcome::Rejected)
            .unwrap();
        let text = String::from_utf8(report.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "file,line,record_id,field,reason,outcome\n\
             loans.csv,7,L42,due_at,\"is neither a timestamp, nor a date\",rejected\n"
        );
    }
}
