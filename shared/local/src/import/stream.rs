//! Reading and validating an export on a second thread while the calling thread
//! writes to the store: parsing and writing each take about half the work.
//! Rows travel in small batches over a bounded channel, so memory stays flat
//! whatever the size of the file; written batches go back to the reader, which
//! frees them: freeing on the thread that allocated avoids the allocator's locks.

use std::io::Read;
use std::sync::mpsc;

use relance_core::import::{Checked, CheckedRow, ExportError, ExportReader, Row, RowRejected};

use super::{ImportError, export_error};

/// Rows per batch sent to the writer.
const BATCH_ROWS: usize = 1024;
/// Batches read ahead of the writer.
const BATCHES_AHEAD: usize = 4;

/// One row, validated, with what reports need about it.
pub(super) type Parsed<T> = CheckedRow<T>;

struct Batch<T> {
    rows: Vec<Parsed<T>>,
    /// Bytes of the file read once this batch was full.
    bytes_read: u64,
}

/// Feeds every row of `reader`, validated by `validate`, to `write` in file
/// order; `progress` gets the bytes read after each batch. Returns the bytes read.
pub(super) fn stream<R, T, V, W>(
    file: &str,
    reader: ExportReader<R>,
    validate: V,
    mut write: W,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, ImportError>
where
    R: Read + Send,
    T: Send,
    V: Fn(&Row<'_>) -> Result<Checked<T>, RowRejected> + Send,
    W: FnMut(&Parsed<T>) -> Result<(), ImportError>,
{
    std::thread::scope(|scope| {
        let (sender, batches) = mpsc::sync_channel(BATCHES_AHEAD);
        let (recycle, written) = mpsc::channel();
        scope.spawn(move || read(reader, validate, sender, written));
        let mut bytes = 0;
        // Returning early drops `batches`, which stops the reader at its next send.
        for batch in batches {
            let batch: Batch<T> = batch.map_err(|e| export_error(file, e))?;
            for row in &batch.rows {
                write(row)?;
            }
            bytes = batch.bytes_read;
            progress(bytes);
            // The reader may have finished; then the batch is simply dropped here.
            let _ = recycle.send(batch.rows);
        }
        Ok(bytes)
    })
}

fn read<R, T, V>(
    mut reader: ExportReader<R>,
    validate: V,
    sender: mpsc::SyncSender<Result<Batch<T>, ExportError>>,
    written: mpsc::Receiver<Vec<Parsed<T>>>,
) where
    R: Read,
    V: Fn(&Row<'_>) -> Result<Checked<T>, RowRejected>,
{
    let mut rows = Vec::with_capacity(BATCH_ROWS);
    loop {
        match reader.next_row() {
            Ok(Some(row)) => {
                rows.push(row.check(&validate));
                if rows.len() < BATCH_ROWS {
                    continue;
                }
                let next = match written.try_recv() {
                    Ok(mut used) => {
                        used.clear();
                        used
                    }
                    Err(_) => Vec::with_capacity(BATCH_ROWS),
                };
                let full = std::mem::replace(&mut rows, next);
                let batch = Batch {
                    rows: full,
                    bytes_read: reader.bytes_read(),
                };
                if sender.send(Ok(batch)).is_err() {
                    return; // the writer stopped
                }
            }
            Ok(None) => {
                let bytes_read = reader.bytes_read();
                let _ = sender.send(Ok(Batch { rows, bytes_read }));
                return;
            }
            Err(e) => {
                let _ = sender.send(Err(e));
                return;
            }
        }
    }
}
