//! The rejects file of one import, created on its first line.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use relance_core::import::{FieldError, Outcome, RejectsWriter};

use super::ImportError;

/// Writes problems as they are found; no file when there are none.
pub(super) struct Rejects {
    path: PathBuf,
    writer: Option<RejectsWriter<BufWriter<File>>>,
}

impl Rejects {
    pub(super) fn new(path: PathBuf) -> Self {
        Self { path, writer: None }
    }

    pub(super) fn write(
        &mut self,
        file: &str,
        line: u64,
        id: &str,
        problem: &FieldError,
        outcome: Outcome,
    ) -> Result<(), ImportError> {
        let writer = match self.writer.take() {
            Some(writer) => writer,
            None => create(&self.path).map_err(|e| self.error(e))?,
        };
        self.writer
            .insert(writer)
            .write(file, line, id, problem, outcome)
            .map_err(|e| self.error(e))
    }

    /// Flushes the file; its path if it was created.
    pub(super) fn finish(self) -> Result<Option<PathBuf>, ImportError> {
        let Some(writer) = self.writer else {
            return Ok(None);
        };
        match writer.finish().and_then(|mut w| w.flush()) {
            Ok(()) => Ok(Some(self.path)),
            Err(source) => Err(ImportError::Rejects {
                path: self.path,
                source,
            }),
        }
    }

    fn error(&self, source: io::Error) -> ImportError {
        ImportError::Rejects {
            path: self.path.clone(),
            source,
        }
    }
}

fn create(path: &Path) -> io::Result<RejectsWriter<BufWriter<File>>> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    RejectsWriter::new(BufWriter::new(File::create(path)?))
}
