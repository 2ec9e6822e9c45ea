//! Importing CSV exports into the embedded store (SPEC §9).
//!
//! Rows are streamed through the core's validation (on a reader thread, in
//! bounded batches), patrons first then loans, in one transaction: either the
//! whole import is kept or nothing is. Problems are written to the rejects file
//! as they are found. Duplicate loan ids are caught with the `import_batch` stamp
//! each import puts on the loans it writes, duplicate patron ids with a temporary
//! table, so no id set grows with the file; the loans' patrons are checked
//! against the stored patron ids, held in memory (about 50 bytes a patron).

mod rejects;
mod stream;
mod tables;
#[cfg(test)]
mod tests;
mod writer;

use std::io::{self, Read};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use relance_core::config::Config;
use relance_core::import::{
    ExportError, HeaderError, ImportSummary, SnapshotRefused, snapshot_guard,
};
use relance_core::ports::StoreError;
use rusqlite::{Transaction, TransactionBehavior, params};

use crate::store::{Store, instant_text, sql};
use rejects::Rejects;
use writer::ImportRun;

/// One export to read: the name used in messages and reports, and its bytes.
pub struct CsvInput<'a> {
    /// As the user named it (e.g. the path given on the command line).
    pub name: &'a str,
    /// The CSV text (read on a second thread, hence `Send`).
    pub reader: &'a mut (dyn Read + Send),
}

/// How an import behaves.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The loans file lists every open loan: close the open loans it does not list.
    pub snapshot: bool,
    /// Close them even when that is more than 20 % of the open loans.
    pub force: bool,
    /// Keep nothing if any row is rejected.
    pub strict: bool,
    /// When the import happens: the return time of loans a snapshot closes.
    pub now: DateTime<Utc>,
    /// Where the rejects file goes; created only when there is something to report.
    pub rejects_path: PathBuf,
}

/// Why an import stopped; the store is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The export could not be read. Each variant says its own part once:
    /// the read error, its source, follows it in the error's chain.
    #[error("cannot read {file}")]
    Unreadable {
        /// The export's name.
        file: String,
        /// The read error.
        #[source]
        source: io::Error,
    },
    /// The header row does not name the expected columns; the file's name
    /// leads the header error that follows.
    #[error("{file}")]
    BadHeader {
        /// The export's name.
        file: String,
        /// Which column.
        #[source]
        source: HeaderError,
    },
    /// The snapshot would close too many loans.
    #[error(transparent)]
    SnapshotRefused(#[from] SnapshotRefused),
    /// The rejects file could not be written.
    #[error("cannot write the rejects file {}", path.display())]
    Rejects {
        /// The rejects file.
        path: PathBuf,
        /// The write error.
        #[source]
        source: io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ImportError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(sql(e))
    }
}

impl Store {
    /// Imports a patrons and a loans export (either may be absent), in one
    /// transaction. `progress` receives the bytes read so far, both files counted,
    /// about every thousand rows.
    /// A strict import with rejected rows keeps nothing and returns its summary
    /// with `committed: false`; a refused snapshot keeps nothing and is an error.
    pub fn import(
        &self,
        config: &Config,
        patrons: Option<CsvInput<'_>>,
        loans: Option<CsvInput<'_>>,
        options: &ImportOptions,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportSummary, ImportError> {
        let mut conn = self.conn();
        // A big transaction with the default 2 MB page cache spends its time
        // re-reading and spilling index pages; 32 MB, for this import only, cut a
        // million-loan import by a third (more gave nothing measurable).
        let cache_pages: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        conn.execute_batch(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}"))?;
        let result = import_in_transaction(&mut conn, config, patrons, loans, options, progress);
        conn.execute_batch(&format!("PRAGMA cache_size = {cache_pages}"))?;
        result
    }
}

/// The page cache of an import, in KiB.
const IMPORT_CACHE_KIB: u32 = 32 * 1024;

fn import_in_transaction(
    conn: &mut rusqlite::Connection,
    config: &Config,
    patrons: Option<CsvInput<'_>>,
    loans: Option<CsvInput<'_>>,
    options: &ImportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary, ImportError> {
    // IMMEDIATE: the batch number taken below stays ours until commit.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let batch: i64 = tx.query_row(
        "SELECT MAX(IFNULL((SELECT MAX(id) FROM imports), 0),
                        IFNULL((SELECT MAX(import_batch) FROM loans), 0)) + 1",
        [],
        |r| r.get(0),
    )?;
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS import_seen_patrons
                 (patron_id TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID;
             DELETE FROM temp.import_seen_patrons;",
    )?;
    let open_before = if options.snapshot {
        open_loans(&tx)?
    } else {
        0
    };
    let mut run = ImportRun {
        tx: &tx,
        config,
        summary: ImportSummary {
            batch,
            ..Default::default()
        },
        rejects: Rejects::new(options.rejects_path.clone()),
        bytes_done: 0,
        written: 0,
        open_listed: 0,
    };
    if let Some(input) = patrons {
        run.patrons(input, progress)?;
    }
    if let Some(input) = loans {
        run.loans(input, progress)?;
    }
    let ImportRun {
        mut summary,
        rejects,
        open_listed,
        ..
    } = run;
    summary.rejects_file = rejects.finish()?;
    if options.strict && summary.rejected > 0 {
        return Ok(summary); // dropping the transaction rolls it back
    }
    if options.snapshot {
        // Counted from the import's own tally: asking the store which open loans
        // are unstamped is a pass over every open loan, seconds on a million.
        let would_close = open_loans(&tx)?.saturating_sub(open_listed);
        snapshot_guard(open_before, would_close, options.force)?;
        if would_close > 0 {
            summary.closed_by_snapshot = tx.execute(
                "UPDATE loans SET returned_at = ?2
                 WHERE returned_at IS NULL AND import_batch <> ?1",
                params![batch, instant_text(options.now)],
            )? as u64;
        }
    }
    summary.committed = true;
    let json = serde_json::to_string(&summary)
        .map_err(|e| StoreError::Unexpected(format!("import summary: {e}")))?;
    tx.execute(
        "INSERT INTO imports (id, at, summary) VALUES (?1, ?2, ?3)",
        params![batch, instant_text(options.now), json],
    )?;
    tx.execute("DELETE FROM temp.import_seen_patrons", [])?;
    tx.commit()?;
    Ok(summary)
}

/// Open loans, counted on the partial index alone.
fn open_loans(tx: &Transaction<'_>) -> Result<u64, ImportError> {
    let count: i64 = tx.query_row(
        "SELECT COUNT(*) FROM loans WHERE returned_at IS NULL",
        [],
        |r| r.get(0),
    )?;
    Ok(count as u64)
}

/// The error of an export that cannot be read.
fn export_error(file: &str, error: ExportError) -> ImportError {
    match error {
        ExportError::Header(source) => ImportError::BadHeader {
            file: file.to_owned(),
            source,
        },
        ExportError::Io(source) => ImportError::Unreadable {
            file: file.to_owned(),
            source,
        },
    }
}
