//! What the run report and the preview read back: the runs recorded for a day and
//! the last import with its rejects.

use std::path::Path;

use chrono::NaiveDate;
use relance_core::ports::StoreError;
use relance_core::staff_report::{LastImport, RejectLine};
use relance_core::summary::RunSummary;
use rusqlite::OptionalExtension;
use serde::Deserialize;

use crate::store::{Store, day_text, parse_instant, sql};

/// The fields of a stored import summary the report uses.
#[derive(Deserialize)]
struct StoredImport {
    #[serde(default)]
    rejected: u64,
    #[serde(default)]
    warnings: u64,
    #[serde(default)]
    committed: bool,
    #[serde(default)]
    rejects_file: Option<String>,
}

impl Store {
    /// The summaries of the runs recorded for `day`, oldest first (dry runs are
    /// never recorded).
    pub fn runs_on(&self, day: NaiveDate) -> Result<Vec<RunSummary>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT summary FROM runs WHERE run_day = ?1 ORDER BY id")
            .map_err(sql)?;
        let mut rows = stmt.query([day_text(day)]).map_err(sql)?;
        let mut runs = Vec::new();
        while let Some(row) = rows.next().map_err(sql)? {
            let json: String = row.get(0).map_err(sql)?;
            runs.push(
                serde_json::from_str(&json)
                    .map_err(|e| StoreError::corrupt(format!("run summary: {e}")).caused_by(e))?,
            );
        }
        Ok(runs)
    }

    /// The last import recorded, with the lines of its rejects file. The file is
    /// looked for where the import wrote it, then by name in `imports_dir` (the
    /// recorded path may be relative to another working folder); a file that is
    /// gone leaves the lines empty.
    pub fn last_import(&self, imports_dir: &Path) -> Result<Option<LastImport>, StoreError> {
        let row: Option<(String, String)> = self
            .conn()
            .query_row(
                "SELECT at, summary FROM imports ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql)?;
        let Some((at, json)) = row else {
            return Ok(None);
        };
        let stored: StoredImport = serde_json::from_str(&json)
            .map_err(|e| StoreError::corrupt(format!("import summary: {e}")).caused_by(e))?;
        let lines = match &stored.rejects_file {
            Some(file) => {
                let recorded = Path::new(file);
                let beside = Path::new(file)
                    .file_name()
                    .map(|name| imports_dir.join(name));
                let found = std::iter::once(recorded.to_path_buf())
                    .chain(beside)
                    .find(|p| p.is_file());
                match found {
                    Some(path) => read_rejects(&path)?,
                    None => Vec::new(),
                }
            }
            None => Vec::new(),
        };
        Ok(Some(LastImport {
            at: parse_instant(&at)?,
            rejected: stored.rejected,
            warnings: stored.warnings,
            committed: stored.committed,
            rejects_file: stored.rejects_file,
            lines,
        }))
    }
}

fn read_rejects(path: &Path) -> Result<Vec<RejectLine>, StoreError> {
    let unreadable =
        |e: csv::Error| StoreError::unavailable(format!("{}: {e}", path.display())).caused_by(e);
    let mut reader = csv::Reader::from_path(path).map_err(unreadable)?;
    reader
        .deserialize()
        .collect::<Result<Vec<RejectLine>, _>>()
        .map_err(unreadable)
}
