//! What a run did, as `relance run --json` prints it and the ledger keeps it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The summary of one run (SPEC §10: at least `run_day`, `planned_days`,
/// `notices`, `emails_sent`, `letters_rendered`, `cancelled`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The day the run is for.
    pub run_day: NaiveDate,
    /// The days whose stages were matched (empty when the day was already planned).
    pub planned_days: Vec<NaiveDate>,
    /// Nothing was recorded or sent.
    pub dry_run: bool,
    /// New notices per stage.
    pub notices: BTreeMap<String, usize>,
    /// Emails the transport accepted.
    pub emails_sent: usize,
    /// Letters rendered to PDF (print batches).
    pub letters_rendered: usize,
    /// Letter notices waiting for the letters channel.
    pub letters_pending: usize,
    /// Notices cancelled at send time (every loan returned or renewed since planning).
    pub cancelled: usize,
    /// Email notices turned into letters because the address stopped working.
    pub fell_back_to_print: usize,
    /// Reminder loans planned straight to print (patron without a usable email).
    pub print_fallbacks: usize,
    /// Loans that reached a stage without a notice, per reason.
    pub skipped: BTreeMap<String, usize>,
    /// Pending notices of earlier run days that this run tried again.
    pub requeued: usize,
    /// Send attempts that failed and will be retried.
    pub failed: usize,
    /// Pending notices not attempted because the transport kept failing.
    pub deferred: usize,
}
