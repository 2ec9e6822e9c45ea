//! What an import did, as printed and as kept in the store.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::Encoding;

/// The counts of one import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// The import's batch number (loans it wrote carry it).
    pub batch: i64,
    /// Patrons new to the store.
    pub patrons_inserted: u64,
    /// Patrons already known, updated.
    pub patrons_updated: u64,
    /// Loans new to the store.
    pub loans_inserted: u64,
    /// Loans already known, updated.
    pub loans_updated: u64,
    /// Open loans missing from a snapshot, closed as returned.
    pub closed_by_snapshot: u64,
    /// Rows not imported (patrons and loans).
    pub rejected: u64,
    /// Problems in imported rows (e.g. a malformed email).
    pub warnings: u64,
    /// False when nothing was kept (strict mode with rejected rows).
    pub committed: bool,
    /// The rejects file, when there was anything to report.
    pub rejects_file: Option<PathBuf>,
    /// What each file was read as (rules §15: UTF-8, else Windows-1252).
    pub encodings: BTreeMap<String, Encoding>,
}

/// How an import ended, which decides the command's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Every row imported (warnings aside).
    Complete,
    /// Some rows imported, some rejected.
    Partial,
    /// Nothing imported: strict refusal, or every row rejected.
    Nothing,
}

impl ImportSummary {
    /// Whether the store changed.
    pub fn changed_anything(&self) -> bool {
        self.committed
            && self.patrons_inserted
                + self.patrons_updated
                + self.loans_inserted
                + self.loans_updated
                + self.closed_by_snapshot
                > 0
    }

    /// How the import ended.
    pub fn outcome(&self) -> ImportOutcome {
        match (self.committed, self.rejected, self.changed_anything()) {
            (false, _, _) => ImportOutcome::Nothing,
            (true, 0, _) => ImportOutcome::Complete,
            (true, _, true) => ImportOutcome::Partial,
            (true, _, false) => ImportOutcome::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_follow_the_exit_status_rules() {
        let clean = ImportSummary {
            committed: true,
            loans_inserted: 3,
            warnings: 1,
            ..Default::default()
        };
        assert_eq!(clean.outcome(), ImportOutcome::Complete);
        let partial = ImportSummary {
            rejected: 1,
            ..clean.clone()
        };
        assert_eq!(partial.outcome(), ImportOutcome::Partial);
        let strict = ImportSummary {
            committed: false,
            ..partial.clone()
        };
        assert_eq!(strict.outcome(), ImportOutcome::Nothing);
        let all_bad = ImportSummary {
            committed: true,
            rejected: 4,
            ..Default::default()
        };
        assert_eq!(all_bad.outcome(), ImportOutcome::Nothing);
        let empty = ImportSummary {
            committed: true,
            ..Default::default()
        };
        assert_eq!(empty.outcome(), ImportOutcome::Complete);
    }
}
