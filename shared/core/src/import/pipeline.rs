//! The import (rules §9), once for both homes: rows are read and checked,
//! duplicates and unknown patrons found, every problem reported, and the rows
//! kept written through an [`ImportSink`] a batch at a time; then the strict
//! rule and the snapshot guard decide whether the sink commits.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use super::{
    CheckedRow, CsvInput, Export, FieldError, ImportError, ImportOptions, ImportSummary, Outcome,
    RejectsReport, RowBatches, snapshot_guard,
};
use crate::config::Config;
use crate::ids::{LoanId, PatronId};
use crate::model::{Loan, Patron};
use crate::ports::ImportSink;

/// Imports a patrons and a loans export (either may be absent) through `sink`.
/// `progress` receives the bytes read so far, both files counted, after each
/// batch. A strict import with rejected rows keeps nothing and returns its
/// summary with `committed: false`; a refused snapshot keeps nothing and is an
/// error. The report is finished before the sink commits.
pub async fn import<S, P, L, W, F>(
    mut sink: S,
    patrons: Option<Export<'_, P>>,
    loans: Option<Export<'_, L>>,
    options: &ImportOptions,
    report: &mut W,
    progress: &mut F,
) -> Result<ImportSummary, ImportError>
where
    S: ImportSink,
    P: RowBatches<Patron>,
    L: RowBatches<Loan>,
    W: RejectsReport,
    F: FnMut(u64),
{
    let open_before = match options.snapshot {
        true => Some(sink.open_loan_ids().await?),
        false => None,
    };
    let mut run = Run {
        summary: ImportSummary {
            batch: sink.batch(),
            ..Default::default()
        },
        report,
        file_patrons: HashMap::new(),
        stored_patrons: HashMap::new(),
        listed_loans: HashSet::new(),
        bytes_done: 0,
    };
    if let Some(export) = patrons {
        run.patrons(&mut sink, export, progress).await?;
    }
    if let Some(export) = loans {
        run.loans(&mut sink, export, progress).await?;
    }
    run.summary.rejects_file = run.report.finish()?;
    let Run {
        mut summary,
        listed_loans,
        ..
    } = run;
    if options.strict && summary.rejected > 0 {
        return Ok(summary); // the sink, dropped, keeps nothing
    }
    if let Some(open) = open_before {
        let to_close: Vec<LoanId> = open
            .iter()
            .filter(|id| !listed_loans.contains(*id))
            .cloned()
            .collect();
        snapshot_guard(open.len() as u64, to_close.len() as u64, options.force)?;
        if !to_close.is_empty() {
            summary.closed_by_snapshot = sink.close_loans(&to_close, options.now).await?;
        }
    }
    summary.committed = true;
    sink.commit(&summary).await?;
    Ok(summary)
}

/// [`import`] of CSV exports read and checked on the calling thread; both
/// headers are read before anything else.
pub async fn import_csv<S, R, W, F>(
    sink: S,
    config: &Config,
    patrons: Option<CsvInput<'_, R>>,
    loans: Option<CsvInput<'_, R>>,
    options: &ImportOptions,
    report: &mut W,
    progress: &mut F,
) -> Result<ImportSummary, ImportError>
where
    S: ImportSink,
    R: Read,
    W: RejectsReport,
    F: FnMut(u64),
{
    let patrons = patrons.map(|input| input.patrons(config)).transpose()?;
    let loans = loans.map(|input| input.loans(config)).transpose()?;
    import(sink, patrons, loans, options, report, progress).await
}

/// The state of one import.
struct Run<'r, W> {
    summary: ImportSummary,
    report: &'r mut W,
    /// Patron ids of the patrons file: the line of their first row, and whether
    /// that row was imported.
    file_patrons: HashMap<PatronId, (u64, bool)>,
    /// Patrons the loans name that the patrons file did not import: whether stored.
    stored_patrons: HashMap<PatronId, bool>,
    /// Every loan id of the loans file, rows rejected included: the loans a
    /// snapshot lists (a bad row must not close its loan), and the duplicates.
    listed_loans: HashSet<LoanId>,
    /// Bytes of the exports already read, for progress across both files.
    bytes_done: u64,
}

impl<W: RejectsReport> Run<'_, W> {
    async fn patrons<S: ImportSink, P: RowBatches<Patron>>(
        &mut self,
        sink: &mut S,
        mut export: Export<'_, P>,
        progress: &mut impl FnMut(u64),
    ) -> Result<(), ImportError> {
        let file = export.name;
        let mut kept = Vec::new();
        let mut bytes = 0;
        while let Some(batch) = export
            .rows
            .next_batch()
            .map_err(|e| ImportError::export(file, e))?
        {
            for row in batch.rows {
                self.patron_row(file, row, &mut kept)?;
            }
            if !kept.is_empty() {
                let inserted = sink.upsert_patrons(&kept).await?;
                self.summary.patrons_inserted += inserted;
                self.summary.patrons_updated += kept.len() as u64 - inserted;
                kept.clear();
            }
            bytes = batch.bytes_read;
            self.summary
                .encodings
                .insert(file.to_owned(), batch.encoding);
            progress(self.bytes_done + bytes);
        }
        self.bytes_done += bytes;
        Ok(())
    }

    fn patron_row(
        &mut self,
        file: &str,
        row: CheckedRow<Patron>,
        kept: &mut Vec<Patron>,
    ) -> Result<(), ImportError> {
        let CheckedRow {
            line,
            record_id: id,
            checked,
            swallowed,
        } = row;
        let checked = match checked {
            Ok(checked) => checked,
            Err(rejected) => {
                // Remember the id all the same, so a later row with it is a duplicate.
                if let Ok(patron) = PatronId::parse(&id) {
                    self.file_patrons.entry(patron).or_insert((line, false));
                }
                self.reject(file, line, &id, &rejected.errors)?;
                for lost in &swallowed {
                    self.reject(file, lost.line, &lost.record_id, &[lost.problem()])?;
                }
                return Ok(());
            }
        };
        if let Some((first, _)) = self.file_patrons.get(&checked.value.id) {
            let problem = FieldError::new(
                "patron_id",
                format!("appears again in this file (first on line {first}); this row is ignored"),
            );
            return self.reject(file, line, &id, &[problem]);
        }
        self.file_patrons
            .insert(checked.value.id.clone(), (line, true));
        self.warn(file, line, &id, &checked.warnings)?;
        kept.push(checked.value);
        Ok(())
    }

    async fn loans<S: ImportSink, L: RowBatches<Loan>>(
        &mut self,
        sink: &mut S,
        mut export: Export<'_, L>,
        progress: &mut impl FnMut(u64),
    ) -> Result<(), ImportError> {
        let file = export.name;
        let mut kept = Vec::new();
        let mut unknown = Vec::new();
        let mut bytes = 0;
        while let Some(batch) = export
            .rows
            .next_batch()
            .map_err(|e| ImportError::export(file, e))?
        {
            self.look_up_patrons(sink, &batch.rows, &mut unknown)
                .await?;
            for row in batch.rows {
                self.loan_row(file, row, &mut kept)?;
            }
            if !kept.is_empty() {
                let inserted = sink.upsert_loans(&kept).await?;
                self.summary.loans_inserted += inserted;
                self.summary.loans_updated += kept.len() as u64 - inserted;
                kept.clear();
            }
            bytes = batch.bytes_read;
            self.summary
                .encodings
                .insert(file.to_owned(), batch.encoding);
            progress(self.bytes_done + bytes);
        }
        self.bytes_done += bytes;
        Ok(())
    }

    /// Learns whether the store has the patrons of these rows that the patrons
    /// file did not import, once each.
    async fn look_up_patrons<S: ImportSink>(
        &mut self,
        sink: &mut S,
        rows: &[CheckedRow<Loan>],
        unknown: &mut Vec<PatronId>,
    ) -> Result<(), ImportError> {
        unknown.clear();
        for row in rows {
            if let Ok(checked) = &row.checked {
                let patron = &checked.value.patron_id;
                let imported = self.file_patrons.get(patron).is_some_and(|(_, kept)| *kept);
                if !imported && !self.stored_patrons.contains_key(patron) {
                    self.stored_patrons.insert(patron.clone(), false);
                    unknown.push(patron.clone());
                }
            }
        }
        if unknown.is_empty() {
            return Ok(());
        }
        for id in sink.known_patrons(unknown).await? {
            self.stored_patrons.insert(id, true);
        }
        Ok(())
    }

    fn loan_row(
        &mut self,
        file: &str,
        row: CheckedRow<Loan>,
        kept: &mut Vec<Loan>,
    ) -> Result<(), ImportError> {
        let CheckedRow {
            line,
            record_id: id,
            checked,
            swallowed,
        } = row;
        let checked = match checked {
            Ok(checked) => checked,
            Err(rejected) => {
                self.list(&id);
                self.reject(file, line, &id, &rejected.errors)?;
                // The loans of a broken quote's lines were listed all the same.
                for lost in &swallowed {
                    self.list(&lost.record_id);
                    self.reject(file, lost.line, &lost.record_id, &[lost.problem()])?;
                }
                return Ok(());
            }
        };
        let loan = &checked.value;
        let patron = &loan.patron_id;
        let known = self.file_patrons.get(patron).is_some_and(|(_, kept)| *kept)
            || self.stored_patrons.get(patron).copied().unwrap_or(false);
        if !known {
            self.listed_loans.insert(loan.id.clone());
            let problem = FieldError::new(
                "patron_id",
                format!(
                    "unknown patron {patron} (neither in the store nor imported from the patrons file)"
                ),
            );
            return self.reject(file, line, &id, &[problem]);
        }
        if !self.listed_loans.insert(loan.id.clone()) {
            let problem = FieldError::new(
                "loan_id",
                "appears earlier in this file; this row is ignored",
            );
            return self.reject(file, line, &id, &[problem]);
        }
        self.warn(file, line, &id, &checked.warnings)?;
        kept.push(checked.value);
        Ok(())
    }

    /// Counts a loan id as listed by the file, whatever became of its row.
    fn list(&mut self, id: &str) {
        if let Ok(loan) = LoanId::parse(id) {
            self.listed_loans.insert(loan);
        }
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
            self.report
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
            self.report
                .write(file, line, id, warning, Outcome::Imported)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
