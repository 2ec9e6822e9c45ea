//! Reading and checking an export on a second thread while the calling thread
//! writes to the store: parsing and writing each take about half the work.
//! Rows travel in the core's batches over a bounded channel, so memory stays
//! flat whatever the size of the file.

use std::io::Read;
use std::sync::mpsc;
use std::thread::Scope;

use relance_core::import::{
    BATCH_ROWS, CsvInput, Export, ExportError, ExportReader, RowBatch, RowBatches, RowCheck,
};

/// Batches read ahead of the writer.
const BATCHES_AHEAD: usize = 4;

/// The batches of a reader thread; the thread stops at its next batch once
/// this is dropped.
pub(super) struct Threaded<T> {
    batches: mpsc::Receiver<Result<RowBatch<T>, ExportError>>,
}

impl<T> RowBatches<T> for Threaded<T> {
    fn next_batch(&mut self) -> Result<Option<RowBatch<T>>, ExportError> {
        match self.batches.recv() {
            Ok(batch) => batch.map(Some),
            Err(mpsc::RecvError) => Ok(None), // the reader is done
        }
    }
}

/// Starts reading `input` (its header first) on a thread of `scope`.
pub(super) fn spawn<'scope, 'a, R, C>(
    scope: &'scope Scope<'scope, '_>,
    input: CsvInput<'a, R>,
    open: impl FnOnce(R) -> Result<ExportReader<R>, ExportError> + Send + 'scope,
    check: C,
) -> Export<'a, Threaded<C::Value>>
where
    R: Read + Send + 'scope,
    C: RowCheck + Send + 'scope,
{
    let (sender, batches) = mpsc::sync_channel(BATCHES_AHEAD);
    let reader = input.reader;
    scope.spawn(move || match open(reader) {
        Ok(reader) => read(reader, &check, &sender),
        Err(e) => {
            let _ = sender.send(Err(e));
        }
    });
    Export {
        name: input.name,
        rows: Threaded { batches },
    }
}

fn read<R: Read, C: RowCheck>(
    mut reader: ExportReader<R>,
    check: &C,
    sender: &mpsc::SyncSender<Result<RowBatch<C::Value>, ExportError>>,
) {
    let mut rows = Vec::with_capacity(BATCH_ROWS);
    loop {
        match reader.next_row() {
            Ok(Some(row)) => {
                rows.push(row.check(|r| check.check(r)));
                if rows.len() < BATCH_ROWS {
                    continue;
                }
                let batch = RowBatch {
                    rows: std::mem::replace(&mut rows, Vec::with_capacity(BATCH_ROWS)),
                    bytes_read: reader.bytes_read(),
                    encoding: reader.encoding(),
                };
                if sender.send(Ok(batch)).is_err() {
                    return; // the writer stopped
                }
            }
            Ok(None) => {
                let _ = sender.send(Ok(RowBatch {
                    rows,
                    bytes_read: reader.bytes_read(),
                    encoding: reader.encoding(),
                }));
                return;
            }
            Err(e) => {
                let _ = sender.send(Err(e));
                return;
            }
        }
    }
}
