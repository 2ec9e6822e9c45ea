//! The rejects file of one import, created on its first line: never over an
//! existing file (a second import must not erase the first one's report), and
//! kept by its absolute path, which the summary and the imports table show.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use relance_core::import::{FieldError, ImportError, Outcome, RejectsReport, RejectsWriter};

/// Writes problems as they are found; no file when there are none.
pub(super) struct Rejects {
    path: PathBuf,
    writer: Option<RejectsWriter<BufWriter<File>>>,
}

impl Rejects {
    /// `path` is where the report goes; with `-2`, `-3`… before its extension
    /// when a file of that name exists.
    pub(super) fn new(path: PathBuf) -> Self {
        Self { path, writer: None }
    }

    fn error(&self, source: io::Error) -> ImportError {
        ImportError::Rejects {
            report: format!("file {}", self.path.display()),
            source,
        }
    }
}

impl RejectsReport for Rejects {
    fn write(
        &mut self,
        file: &str,
        line: u64,
        id: &str,
        problem: &FieldError,
        outcome: Outcome,
    ) -> Result<(), ImportError> {
        let writer = match self.writer.take() {
            Some(writer) => writer,
            None => {
                let (path, writer) = create(&self.path).map_err(|e| self.error(e))?;
                self.path = path;
                writer
            }
        };
        self.writer
            .insert(writer)
            .write(file, line, id, problem, outcome)
            .map_err(|e| self.error(e))
    }

    /// Flushes the file; its path if it was created.
    fn finish(&mut self) -> Result<Option<PathBuf>, ImportError> {
        let Some(writer) = self.writer.take() else {
            return Ok(None);
        };
        match writer.finish().and_then(|mut w| w.flush()) {
            Ok(()) => Ok(Some(self.path.clone())),
            Err(source) => Err(self.error(source)),
        }
    }
}

/// Tries this many names before giving up.
const NAMES_TRIED: u32 = 100;

fn create(path: &Path) -> io::Result<(PathBuf, RejectsWriter<BufWriter<File>>)> {
    let path = std::path::absolute(path)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let extension = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let mut name = path.clone();
    for n in 2..=NAMES_TRIED + 1 {
        match OpenOptions::new().write(true).create_new(true).open(&name) {
            Ok(file) => return Ok((name, RejectsWriter::new(BufWriter::new(file))?)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                name = path.with_file_name(format!("{stem}-{n}{extension}"));
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{NAMES_TRIED} rejects files of that name already exist"),
    ))
}
