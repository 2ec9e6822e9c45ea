//! Importing CSV exports into the embedded store (rules §9): the core's import
//! pipeline over a SQLite [`ImportSink`](relance_core::ports::ImportSink), in
//! one transaction, so that either the whole import is kept or nothing is.
//! Rows are read and checked on reader threads, a batch at a time, while the
//! calling thread writes them; problems go to the rejects file as they are found.

mod rejects;
mod sink;
mod stream;
mod tables;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::io::Read;
use std::path::Path;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use relance_core::config::Config;
use relance_core::import::{
    CsvInput, ExportReader, ImportError, ImportOptions, ImportSummary, LoanCheck, PatronCheck,
};
use rusqlite::{OptionalExtension, TransactionBehavior};

use crate::store::{Store, sql};
use rejects::Rejects;
use sink::SqliteSink;

impl Store {
    /// Imports a patrons and a loans export (either may be absent), in one
    /// transaction. `progress` receives the bytes read so far, both files counted,
    /// about every thousand rows. The rejects file goes to `rejects_path`,
    /// created only when there is something to report.
    /// A strict import with rejected rows keeps nothing and returns its summary
    /// with `committed: false`; a refused snapshot keeps nothing and is an error.
    pub fn import<R: Read + Send>(
        &self,
        config: &Config,
        patrons: Option<CsvInput<'_, R>>,
        loans: Option<CsvInput<'_, R>>,
        options: &ImportOptions,
        rejects_path: &Path,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportSummary, ImportError> {
        let mut conn = self.conn();
        // A big transaction with the default 2 MB page cache spends its time
        // re-reading and spilling index pages; 32 MB, for this import only, cut a
        // million-loan import by a third (more gave nothing measurable). Pages
        // are read without the store's memory map meanwhile: mapped, every page
        // an import touches stays resident (a million-loan import peaked 25 MB
        // higher, no faster).
        // (An in-memory store has no memory map: its `mmap_size` reads as nothing.)
        let setting = |pragma: &str| -> Result<Option<i64>, ImportError> {
            Ok(conn
                .query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))
                .optional()
                .map_err(sql)?)
        };
        let (cache_pages, mmap_bytes) = (setting("cache_size")?, setting("mmap_size")?);
        conn.execute_batch(&format!(
            "PRAGMA cache_size = -{IMPORT_CACHE_KIB}; PRAGMA mmap_size = 0"
        ))
        .map_err(sql)?;
        let result = (|| {
            // IMMEDIATE: the batch number the sink takes stays ours until commit.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            let sink = SqliteSink::begin(tx, options.now)?;
            let mut rejects = Rejects::new(rejects_path.to_path_buf());
            std::thread::scope(|scope| {
                let settings = &config.import;
                let patrons = patrons.map(|input| {
                    let open = |r| ExportReader::patrons(r, settings);
                    stream::spawn(scope, input, open, PatronCheck)
                });
                let loans = loans.map(|input| {
                    let open = |r| ExportReader::loans(r, settings);
                    stream::spawn(scope, input, open, LoanCheck(config))
                });
                block_on(relance_core::import::import(
                    sink,
                    patrons,
                    loans,
                    options,
                    &mut rejects,
                    &mut |bytes| progress(bytes),
                ))
            })
        })();
        conn.execute_batch(&format!(
            "PRAGMA cache_size = {}; PRAGMA mmap_size = {}",
            cache_pages.unwrap_or(-2000),
            mmap_bytes.unwrap_or(0)
        ))
        .map_err(sql)?;
        result
    }
}

/// The page cache of an import, in KiB.
const IMPORT_CACHE_KIB: u32 = 32 * 1024;

/// Runs the pipeline to its end on this thread: the SQLite sink's futures are
/// ready when returned, so each poll makes progress and none waits.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}
