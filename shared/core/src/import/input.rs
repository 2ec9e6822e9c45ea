//! What an import is given and how it fails, the same in both homes.

use std::io;

use chrono::{DateTime, Utc};

use super::{ExportError, HeaderError, SnapshotRefused};
use crate::ports::StoreError;

/// One export to read: the name used in messages and reports, and its bytes.
pub struct CsvInput<'a, R> {
    /// As staff know it (the path given on the command line, the S3 key).
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
    /// Keep nothing if any row is rejected.
    pub strict: bool,
    /// When the import happens: the return time of loans a snapshot closes.
    pub now: DateTime<Utc>,
}

/// Why an import stopped; nothing was kept, except after a store failure on
/// AWS, where re-running the import completes it.
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
    /// The rejects report could not be written.
    #[error("cannot write the rejects {report}")]
    Rejects {
        /// The report as its reader knows it (`file /var/…/rejects.csv`, `report`).
        report: String,
        /// The write error.
        #[source]
        source: io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ImportError {
    /// The error of an export that cannot be read.
    pub fn export(file: &str, error: ExportError) -> Self {
        match error {
            ExportError::Header(source) => Self::BadHeader {
                file: file.to_owned(),
                source,
            },
            ExportError::Io(source) => Self::unreadable(file, source),
        }
    }

    /// An export whose bytes cannot be read.
    pub fn unreadable(file: &str, source: io::Error) -> Self {
        Self::Unreadable {
            file: file.to_owned(),
            source,
        }
    }
}
