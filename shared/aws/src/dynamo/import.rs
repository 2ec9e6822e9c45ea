//! Importing CSV exports into DynamoDB (SPEC §9), with the behaviour, summary
//! and rejects report of the embedded store's import.
//!
//! DynamoDB has no transaction as large as an import, yet a strict import with a
//! bad row and a refused snapshot must write nothing. So each file is read twice:
//!
//! 1. check: every row goes through the core's validation ([`check_patron`],
//!    [`check_loan`]), duplicates and unknown patrons are found (patrons of the
//!    same file, else one BatchGetItem per hundred patrons not seen yet), and
//!    every problem goes to the report. A strict import with a rejected row stops
//!    here; a snapshot reads the open loans now stored (see below) and applies
//!    the core's [`snapshot_guard`].
//! 2. write: the rows kept are read again, compared with the stored items
//!    (strongly consistent BatchGetItem, 100 keys each) and only new or changed
//!    items are written (BatchWriteItem, 25 each, a few in flight, unprocessed
//!    items retried with backoff). A daily re-import of an unchanged export thus
//!    costs reads, not writes. Then a snapshot closes the open loans it does not list.
//!
//! The open loans of a snapshot come from a paginated Scan of the sparse index
//! `by_patron` (only open loans are in it) projected on `loan_id`. This is the
//! one Scan of the design, and the import is not the daily path; it reads every
//! open loan once (read units are counted on the items' size, not the projection).
//!
//! An import is the only writer of loan items: run one import at a time (the
//! importer function has a reserved concurrency of one). A bounce recorded for a
//! patron between the two steps of its write may be overwritten; the next bounce
//! records it again.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use chrono::{DateTime, Utc};
use relance_core::config::Config;
use relance_core::ids::{LoanId, PatronId};
use relance_core::import::{
    Checked, CheckedRow, ExportError, ExportReader, FieldError, HeaderError, ImportSummary,
    Outcome, RejectsWriter, RowRejected, SnapshotRefused, SwallowedLine, check_loan, check_patron,
    snapshot_guard,
};
use relance_core::model::{Loan, Patron};
use relance_core::ports::StoreError;

use super::store::{loan_from_item, patron_from_item};
use super::table::{BY_PATRON, LOAN_ID, loan_key, patron_key};
use super::{BATCH_GET_MAX, Dynamo, key_item, store_error};

/// Rows compared and written together in the write step.
const WRITE_CHUNK: usize = 400;
/// Loan rows held while their unknown patrons are looked up in the check step.
const CHECK_WINDOW: usize = 2000;
/// Patrons looked up together in the check step.
const LOOKUP_BATCH: usize = 4 * BATCH_GET_MAX;

/// One export to import: its name in messages and reports, and its bytes. The
/// reader is read twice (check, then write), hence `Seek`: the importer function
/// passes the S3 object body as a `Cursor` over its bytes.
pub struct CsvInput<'a, R> {
    /// As staff know it (the S3 key, a file name).
    pub name: &'a str,
    /// The CSV text, from its current position.
    pub reader: R,
}

/// How an import behaves.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The loans file lists every open loan: close the open loans it does not list.
    pub snapshot: bool,
    /// Close them even when that is more than 20 % of the open loans.
    pub force: bool,
    /// Write nothing if any row is rejected.
    pub strict: bool,
    /// When the import happens: the return time of loans a snapshot closes.
    pub now: DateTime<Utc>,
}

/// What an import did, and its report.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The counts. `batch` is the import's time in epoch seconds (loan items
    /// carry no batch stamp on DynamoDB); `rejects_file` is left empty for the
    /// caller, which knows where it stores the report.
    pub summary: ImportSummary,
    /// The rejects report (`file,line,record_id,field,reason,outcome`, CSV), when
    /// there was anything to report; the importer function puts it next to the export.
    pub rejects: Option<Vec<u8>>,
}

/// Why an import stopped. Only a store failure during the write step leaves
/// part of the import written (re-running the import completes it).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The export could not be read.
    #[error("cannot read {file}")]
    Unreadable {
        /// The export's name.
        file: String,
        /// The read error.
        #[source]
        source: io::Error,
    },
    /// The header row does not name the expected columns.
    #[error("{file}")]
    BadHeader {
        /// The export's name.
        file: String,
        /// Which column.
        #[source]
        source: HeaderError,
    },
    /// The snapshot would close too many loans; nothing was written.
    #[error(transparent)]
    SnapshotRefused(#[from] SnapshotRefused),
    /// The rejects report could not be written.
    #[error("cannot write the rejects report: {0}")]
    Report(#[source] io::Error),
    /// DynamoDB failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Dynamo {
    /// Imports a patrons and a loans export (either may be absent): check every
    /// row, then write (see the module documentation). A strict import with
    /// rejected rows writes nothing and returns its summary with
    /// `committed: false`; a refused snapshot writes nothing and is an error.
    pub async fn import<R: Read + Seek>(
        &self,
        config: &Config,
        mut patrons: Option<CsvInput<'_, R>>,
        mut loans: Option<CsvInput<'_, R>>,
        options: &ImportOptions,
    ) -> Result<Imported, ImportError> {
        let started = std::time::Instant::now();
        let mut run = Run {
            dynamo: self,
            config,
            summary: ImportSummary {
                batch: options.now.timestamp(),
                ..Default::default()
            },
            report: RejectsWriter::new(Vec::new()).map_err(ImportError::Report)?,
            reported: false,
            file_patrons: HashMap::new(),
            stored_patrons: HashMap::new(),
            listed_loans: HashSet::new(),
            rejected_patron_lines: HashSet::new(),
            rejected_loan_lines: HashSet::new(),
        };
        let patrons_start = patrons.as_mut().map(start).transpose()?;
        let loans_start = loans.as_mut().map(start).transpose()?;
        if let Some(input) = patrons.as_mut() {
            run.check_patrons(input)?;
        }
        if let Some(input) = loans.as_mut() {
            run.check_loans(input).await?;
        }
        if options.strict && run.summary.rejected > 0 {
            tracing::info!(rejected = run.summary.rejected, "strict import refused");
            return run.finish();
        }
        let to_close = if options.snapshot {
            let open = self.open_loan_ids().await?;
            let to_close: Vec<LoanId> = open
                .iter()
                .filter(|id| !run.listed_loans.contains(*id))
                .cloned()
                .collect();
            snapshot_guard(open.len() as u64, to_close.len() as u64, options.force)?;
            to_close
        } else {
            Vec::new()
        };
        if let (Some(input), Some(at)) = (patrons.as_mut(), patrons_start) {
            rewind(input, at)?;
            run.write_patrons(input).await?;
        }
        if let (Some(input), Some(at)) = (loans.as_mut(), loans_start) {
            rewind(input, at)?;
            run.write_loans(input).await?;
        }
        if !to_close.is_empty() {
            run.summary.closed_by_snapshot = self.close_loans(&to_close, options.now).await?;
        }
        run.summary.committed = true;
        let s = &run.summary;
        tracing::info!(
            patrons_inserted = s.patrons_inserted,
            patrons_updated = s.patrons_updated,
            loans_inserted = s.loans_inserted,
            loans_updated = s.loans_updated,
            closed_by_snapshot = s.closed_by_snapshot,
            rejected = s.rejected,
            warnings = s.warnings,
            seconds = started.elapsed().as_secs_f64(),
            "import written"
        );
        run.finish()
    }

    /// The ids of every open loan: a paginated Scan of the sparse index
    /// `by_patron`, projected on the loan id. Import only, never the daily path.
    async fn open_loan_ids(&self) -> Result<HashSet<LoanId>, StoreError> {
        let mut ids = HashSet::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .index_name(BY_PATRON)
                .projection_expression("#id")
                .expression_attribute_names("#id", LOAN_ID)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(store_error)?;
            self.count(page.consumed_capacity());
            for item in page.items() {
                let id = match item.get(LOAN_ID) {
                    Some(AttributeValue::S(id)) => LoanId::parse(id).ok(),
                    _ => None,
                };
                ids.insert(id.ok_or_else(|| {
                    StoreError::Corrupt(
                        "an open loan of index by_patron has no valid loan_id".into(),
                    )
                })?);
            }
            start = page.last_evaluated_key().cloned();
            if start.as_ref().is_none_or(HashMap::is_empty) {
                return Ok(ids);
            }
        }
    }
}

/// The state of one import.
struct Run<'a> {
    dynamo: &'a Dynamo,
    config: &'a Config,
    summary: ImportSummary,
    report: RejectsWriter<Vec<u8>>,
    /// Whether the report has a line besides its header.
    reported: bool,
    /// Patron ids of the patrons file: the line of their first row, and whether
    /// that row was imported (a loan may only name an imported patron).
    file_patrons: HashMap<PatronId, (u64, bool)>,
    /// Patrons not in the file, looked up in the store: whether they exist.
    stored_patrons: HashMap<PatronId, bool>,
    /// Every loan id of the loans file, rows rejected included: the loans a
    /// snapshot lists (a bad row must not close its loan), and the duplicates.
    listed_loans: HashSet<LoanId>,
    rejected_patron_lines: HashSet<u64>,
    rejected_loan_lines: HashSet<u64>,
}

/// A loan row of the check step, held until its patron is known.
struct Pending {
    line: u64,
    id: String,
    /// The loan, its warnings, and whether its id is new in the file.
    checked: Result<(Checked<Loan>, bool), RowRejected>,
    /// The lines a broken quote in it swallowed, rejected with it.
    swallowed: Vec<SwallowedLine>,
}

impl Run<'_> {
    fn check_patrons<R: Read>(&mut self, input: &mut CsvInput<'_, R>) -> Result<(), ImportError> {
        let file = input.name;
        let mut reader =
            ExportReader::patrons(&mut input.reader).map_err(|e| export_error(file, e))?;
        while let Some(row) = reader.next_row().map_err(|e| export_error(file, e))? {
            let CheckedRow {
                line,
                record_id: id,
                checked,
                swallowed,
            } = row.check(|r| r.patron_fields().and_then(|f| check_patron(&f)));
            for lost in swallowed {
                self.reject(file, lost.line, &lost.record_id, &[lost.problem()])?;
                self.rejected_patron_lines.insert(lost.line);
            }
            match checked {
                Err(rejected) => {
                    if let Ok(patron) = PatronId::parse(&id) {
                        self.file_patrons.entry(patron).or_insert((line, false));
                    }
                    self.reject(file, line, &id, &rejected.errors)?;
                    self.rejected_patron_lines.insert(line);
                }
                Ok(Checked { value, warnings }) => match self.file_patrons.get(&value.id) {
                    Some((first, _)) => {
                        let problem = FieldError::new(
                            "patron_id",
                            format!(
                                "appears again in this file (first on line {first}); this row is ignored"
                            ),
                        );
                        self.reject(file, line, &id, &[problem])?;
                        self.rejected_patron_lines.insert(line);
                    }
                    None => {
                        self.file_patrons.insert(value.id, (line, true));
                        self.warn(file, line, &id, &warnings)?;
                    }
                },
            }
        }
        Ok(())
    }

    async fn check_loans<R: Read>(
        &mut self,
        input: &mut CsvInput<'_, R>,
    ) -> Result<(), ImportError> {
        let file = input.name;
        let mut reader =
            ExportReader::loans(&mut input.reader).map_err(|e| export_error(file, e))?;
        let mut window = Vec::with_capacity(CHECK_WINDOW);
        let mut unknown = HashSet::new();
        loop {
            let pending = {
                let Some(row) = reader.next_row().map_err(|e| export_error(file, e))? else {
                    break;
                };
                let config = self.config;
                let CheckedRow {
                    line,
                    record_id: id,
                    checked,
                    swallowed,
                } = row.check(|r| r.loan_fields().and_then(|f| check_loan(&f, config)));
                let new_id = LoanId::parse(&id).is_ok_and(|loan| self.listed_loans.insert(loan));
                // A snapshot never closes a loan the file names, even on a line a
                // broken quote swallowed.
                for lost in &swallowed {
                    if let Ok(loan) = LoanId::parse(&lost.record_id) {
                        self.listed_loans.insert(loan);
                    }
                }
                Pending {
                    line,
                    id,
                    checked: checked.map(|c| (c, new_id)),
                    swallowed,
                }
            };
            if let Ok((checked, _)) = &pending.checked {
                let patron = &checked.value.patron_id;
                if !self.file_patrons.contains_key(patron)
                    && !self.stored_patrons.contains_key(patron)
                {
                    unknown.insert(patron.clone());
                }
            }
            window.push(pending);
            if window.len() >= CHECK_WINDOW || unknown.len() >= LOOKUP_BATCH {
                self.look_up_patrons(&mut unknown).await?;
                self.report_loans(file, &mut window)?;
            }
        }
        self.look_up_patrons(&mut unknown).await?;
        self.report_loans(file, &mut window)
    }

    /// Learns which of these patrons the store has.
    async fn look_up_patrons(&mut self, ids: &mut HashSet<PatronId>) -> Result<(), ImportError> {
        if ids.is_empty() {
            return Ok(());
        }
        let keys = ids.iter().map(|id| key_item(patron_key(id))).collect();
        for item in self.dynamo.get_in_lanes(keys, false).await? {
            self.stored_patrons
                .insert(patron_from_item(&item)?.id, true);
        }
        for id in ids.drain() {
            self.stored_patrons.entry(id).or_insert(false);
        }
        Ok(())
    }

    /// Reports the loan rows of the window, in file order.
    fn report_loans(&mut self, file: &str, window: &mut Vec<Pending>) -> Result<(), ImportError> {
        for Pending {
            line,
            id,
            checked,
            swallowed,
        } in window.drain(..)
        {
            for lost in swallowed {
                self.reject(file, lost.line, &lost.record_id, &[lost.problem()])?;
                self.rejected_loan_lines.insert(lost.line);
            }
            let problems = match checked {
                Err(rejected) => rejected.errors,
                Ok((Checked { value, warnings }, new_id)) => {
                    let patron = &value.patron_id;
                    let known = self
                        .file_patrons
                        .get(patron)
                        .is_some_and(|(_, imported)| *imported)
                        || self.stored_patrons.get(patron).copied().unwrap_or(false);
                    if !known {
                        vec![FieldError::new(
                            "patron_id",
                            format!(
                                "unknown patron {patron} (neither in the store nor imported from the patrons file)"
                            ),
                        )]
                    } else if !new_id {
                        vec![FieldError::new(
                            "loan_id",
                            "appears earlier in this file; this row is ignored",
                        )]
                    } else {
                        self.warn(file, line, &id, &warnings)?;
                        continue;
                    }
                }
            };
            self.reject(file, line, &id, &problems)?;
            self.rejected_loan_lines.insert(line);
        }
        Ok(())
    }

    async fn write_patrons<R: Read>(
        &mut self,
        input: &mut CsvInput<'_, R>,
    ) -> Result<(), ImportError> {
        let file = input.name;
        let mut reader =
            ExportReader::patrons(&mut input.reader).map_err(|e| export_error(file, e))?;
        let mut chunk = Vec::with_capacity(WRITE_CHUNK);
        loop {
            let patron = {
                let Some(row) = reader.next_row().map_err(|e| export_error(file, e))? else {
                    break;
                };
                if self.rejected_patron_lines.contains(&row.line()) {
                    continue;
                }
                row.patron_fields()
                    .and_then(|f| check_patron(&f))
                    .map_err(|_| changed(file))?
                    .value
            };
            chunk.push(patron);
            if chunk.len() == WRITE_CHUNK {
                self.write_patron_chunk(std::mem::take(&mut chunk)).await?;
            }
        }
        self.write_patron_chunk(chunk).await
    }

    /// Writes the new and changed patrons of a chunk. The email status learnt
    /// from bounces is kept unless the address itself changed.
    async fn write_patron_chunk(&mut self, chunk: Vec<Patron>) -> Result<(), ImportError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let keys = chunk.iter().map(|p| key_item(patron_key(&p.id))).collect();
        let stored: HashMap<PatronId, Patron> = self
            .dynamo
            .get_in_lanes(keys, true)
            .await?
            .iter()
            .map(|item| patron_from_item(item).map(|p| (p.id.clone(), p)))
            .collect::<Result<_, _>>()?;
        let mut writes = Vec::with_capacity(chunk.len());
        for mut patron in chunk {
            match stored.get(&patron.id) {
                None => self.summary.patrons_inserted += 1,
                Some(old) => {
                    self.summary.patrons_updated += 1;
                    if old.email == patron.email {
                        patron.email_status = old.email_status;
                    }
                    if *old == patron {
                        continue;
                    }
                }
            }
            writes.push(patron);
        }
        Ok(self.dynamo.put_patrons(&writes).await?)
    }

    async fn write_loans<R: Read>(
        &mut self,
        input: &mut CsvInput<'_, R>,
    ) -> Result<(), ImportError> {
        let file = input.name;
        let mut reader =
            ExportReader::loans(&mut input.reader).map_err(|e| export_error(file, e))?;
        let mut chunk = Vec::with_capacity(WRITE_CHUNK);
        loop {
            let loan = {
                let Some(row) = reader.next_row().map_err(|e| export_error(file, e))? else {
                    break;
                };
                if self.rejected_loan_lines.contains(&row.line()) {
                    continue;
                }
                let checked = row.loan_fields().and_then(|f| check_loan(&f, self.config));
                checked.map_err(|_| changed(file))?.value
            };
            chunk.push(loan);
            if chunk.len() == WRITE_CHUNK {
                self.write_loan_chunk(std::mem::take(&mut chunk)).await?;
            }
        }
        self.write_loan_chunk(chunk).await
    }

    /// Writes the new and changed loans of a chunk.
    async fn write_loan_chunk(&mut self, chunk: Vec<Loan>) -> Result<(), ImportError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let keys = chunk.iter().map(|l| key_item(loan_key(&l.id))).collect();
        let stored: HashMap<LoanId, Loan> = self
            .dynamo
            .get_in_lanes(keys, true)
            .await?
            .iter()
            .map(|item| loan_from_item(item).map(|l| (l.id.clone(), l)))
            .collect::<Result<_, _>>()?;
        let mut writes = Vec::with_capacity(chunk.len());
        for loan in chunk {
            match stored.get(&loan.id) {
                None => self.summary.loans_inserted += 1,
                Some(old) => {
                    self.summary.loans_updated += 1;
                    if *old == loan {
                        continue;
                    }
                }
            }
            writes.push(loan);
        }
        Ok(self.dynamo.put_loans(&writes).await?)
    }

    fn reject(
        &mut self,
        file: &str,
        line: u64,
        id: &str,
        errors: &[FieldError],
    ) -> Result<(), ImportError> {
        self.summary.rejected += 1;
        self.report_lines(file, line, id, errors, Outcome::Rejected)
    }

    fn warn(
        &mut self,
        file: &str,
        line: u64,
        id: &str,
        warnings: &[FieldError],
    ) -> Result<(), ImportError> {
        self.summary.warnings += warnings.len() as u64;
        self.report_lines(file, line, id, warnings, Outcome::Imported)
    }

    fn report_lines(
        &mut self,
        file: &str,
        line: u64,
        id: &str,
        problems: &[FieldError],
        outcome: Outcome,
    ) -> Result<(), ImportError> {
        for problem in problems {
            self.report
                .write(file, line, id, problem, outcome)
                .map_err(ImportError::Report)?;
            self.reported = true;
        }
        Ok(())
    }

    fn finish(self) -> Result<Imported, ImportError> {
        let report = self.report.finish().map_err(ImportError::Report)?;
        Ok(Imported {
            summary: self.summary,
            rejects: self.reported.then_some(report),
        })
    }
}

/// Where an input starts, to read it again from there.
fn start<R: Seek>(input: &mut CsvInput<'_, R>) -> Result<u64, ImportError> {
    input
        .reader
        .stream_position()
        .map_err(|e| unreadable(input.name, e))
}

fn rewind<R: Seek>(input: &mut CsvInput<'_, R>, at: u64) -> Result<(), ImportError> {
    input
        .reader
        .seek(SeekFrom::Start(at))
        .map(|_| ())
        .map_err(|e| unreadable(input.name, e))
}

fn unreadable(file: &str, source: io::Error) -> ImportError {
    ImportError::Unreadable {
        file: file.to_owned(),
        source,
    }
}

/// A row valid at the check and not at the write: the export changed under us.
fn changed(file: &str) -> ImportError {
    unreadable(
        file,
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the export changed between its two readings",
        ),
    )
}

/// The error of an export that cannot be read.
fn export_error(file: &str, error: ExportError) -> ImportError {
    match error {
        ExportError::Header(source) => ImportError::BadHeader {
            file: file.to_owned(),
            source,
        },
        ExportError::Io(source) => unreadable(file, source),
    }
}
