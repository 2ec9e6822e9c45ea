//! What `relance status` shows: the watermark, pending notices, the last runs.

use chrono::NaiveDate;
use relance_core::ports::StoreError;
use relance_core::summary::RunSummary;
use serde::Serialize;

use rusqlite::OptionalExtension;

use crate::store::{Store, parse_day, sql};

/// Pending notices of one stage on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingCount {
    /// Stage name.
    pub stage: String,
    /// `email` or `letter`.
    pub channel: String,
    /// How many notices.
    pub count: usize,
    /// The oldest run day among them.
    pub oldest_run_day: NaiveDate,
}

/// A pending notice whose delivery failed at least once, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailingNotice {
    pub reference: String,
    /// The run day that decided it.
    pub run_day: NaiveDate,
    /// `email` or `letter`.
    pub channel: String,
    pub stage: String,
    /// Its recipient's id.
    pub patron_id: String,
    /// A letter's library.
    pub library: Option<String>,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The last failure's reason.
    pub last_error: Option<String>,
}

/// The pending notices listed one by one in the status, at most.
const FAILING_LISTED: usize = 50;

/// The state of the ledger.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The last run day fully planned.
    pub watermark: Option<NaiveDate>,
    /// Open loans in the store.
    pub open_loans: u64,
    /// Patrons in the store.
    pub patrons: u64,
    /// Pending notices by stage and channel.
    pub pending: Vec<PendingCount>,
    /// Pending notices that failed at least once, oldest first (at most 50).
    pub failing: Vec<FailingNotice>,
    /// The last runs, newest first.
    pub last_runs: Vec<RunSummary>,
}

impl Store {
    /// Reads the ledger's state, with the last `runs` run summaries.
    pub fn status(&self, runs: usize) -> Result<Status, StoreError> {
        let conn = self.conn();
        let watermark = conn
            .query_row("SELECT day FROM watermark WHERE id = 1", [], |r| {
                r.get::<_, String>(0)
            })
            .optional()
            .map_err(sql)?
            .map(|d| parse_day(&d))
            .transpose()?;
        let count = |query: &str| -> Result<u64, StoreError> {
            conn.query_row(query, [], |r| r.get(0)).map_err(sql)
        };
        let open_loans = count("SELECT count(*) FROM loans WHERE returned_at IS NULL")?;
        let patrons = count("SELECT count(*) FROM patrons")?;
        let mut stmt = conn
            .prepare(
                "SELECT stage, channel, count(*), min(run_day) FROM notices \
                 WHERE status = 'pending' GROUP BY stage, channel ORDER BY channel, stage",
            )
            .map_err(sql)?;
        let mut rows = stmt.query([]).map_err(sql)?;
        let mut pending = Vec::new();
        while let Some(row) = rows.next().map_err(sql)? {
            pending.push(PendingCount {
                stage: row.get(0).map_err(sql)?,
                channel: row.get(1).map_err(sql)?,
                count: row.get::<_, i64>(2).map_err(sql)? as usize,
                oldest_run_day: parse_day(&row.get::<_, String>(3).map_err(sql)?)?,
            });
        }
        let mut stmt = conn
            .prepare(
                "SELECT reference, run_day, channel, stage, patron_id, library_code, attempts, \
                 last_error FROM notices WHERE status = 'pending' AND attempts > 0 \
                 ORDER BY run_day, notice_id LIMIT ?1",
            )
            .map_err(sql)?;
        let mut rows = stmt.query([FAILING_LISTED as i64]).map_err(sql)?;
        let mut failing = Vec::new();
        while let Some(row) = rows.next().map_err(sql)? {
            failing.push(FailingNotice {
                reference: row.get(0).map_err(sql)?,
                run_day: parse_day(&row.get::<_, String>(1).map_err(sql)?)?,
                channel: row.get(2).map_err(sql)?,
                stage: row.get(3).map_err(sql)?,
                patron_id: row.get(4).map_err(sql)?,
                library: row.get(5).map_err(sql)?,
                attempts: row.get(6).map_err(sql)?,
                last_error: row.get(7).map_err(sql)?,
            });
        }
        let mut stmt = conn
            .prepare("SELECT summary FROM runs ORDER BY id DESC LIMIT ?1")
            .map_err(sql)?;
        let mut rows = stmt.query([runs as i64]).map_err(sql)?;
        let mut last_runs = Vec::new();
        while let Some(row) = rows.next().map_err(sql)? {
            let json: String = row.get(0).map_err(sql)?;
            last_runs.push(
                serde_json::from_str(&json)
                    .map_err(|e| StoreError::corrupt(format!("run summary: {e}")).caused_by(e))?,
            );
        }
        Ok(Status {
            watermark,
            open_loans,
            patrons,
            pending,
            failing,
            last_runs,
        })
    }

    /// The library codes the open loans name, in order: the command checks them
    /// against the config before a run sends anything.
    pub fn open_loan_libraries(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT DISTINCT library_code FROM loans WHERE returned_at IS NULL \
                 ORDER BY library_code",
            )
            .map_err(sql)?;
        stmt.query_map([], |r| r.get(0))
            .map_err(sql)?
            .collect::<Result<Vec<String>, _>>()
            .map_err(sql)
    }
}

impl Store {
    /// Every notice of a patron with its loans, newest run day first.
    pub fn notices_of(
        &self,
        patron: &relance_core::ids::PatronId,
    ) -> Result<Vec<relance_core::notice::Notice>, StoreError> {
        crate::ledger::notices_where(
            &self.conn(),
            "patron_id = ?1 ORDER BY run_day DESC, notice_id",
            [patron.as_str()],
        )
    }

    /// Every notice decided by the run of `run_day`, with its loans.
    pub fn notices_on(
        &self,
        run_day: NaiveDate,
    ) -> Result<Vec<relance_core::notice::Notice>, StoreError> {
        crate::ledger::notices_where(
            &self.conn(),
            "run_day = ?1 ORDER BY patron_id, channel, stage",
            [crate::store::day_text(run_day)],
        )
    }
}
