//! What the fan-out functions keep beside the engine's ledger: the lease a
//! mailer invocation takes on a notice before sending it, the run day's
//! delivery counters, the run manifests the planner's status event reads, and
//! the run day's staff report, sent once.
//! [`FanOutBook`] is their port: [`Dynamo`](crate::dynamo::Dynamo) in production,
//! [`MemoryBook`] in the functions' unit tests.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use relance_core::ids::NoticeId;
use relance_core::notice::Notice;
use relance_core::ports::StoreError;
use relance_core::summary::RunSummary;

mod memory;

pub use memory::MemoryBook;

/// What a claim on a notice found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The notice is this invocation's until the lease ends.
    Claimed(Notice),
    /// It was sent or cancelled already: nothing to do.
    Done,
    /// Another invocation holds an unexpired lease on it.
    Leased,
    /// There is no such notice.
    Missing,
}

/// What a claim on a run day's staff report found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportClaim {
    /// This invocation sends it, within its lease.
    Claimed,
    /// It went already.
    Sent {
        /// SES's message id.
        message_id: String,
    },
    /// Another invocation is sending it.
    Leased,
}

/// A run day's delivery counters, by outcome name (`sent`, `letters_rendered`…).
pub type Counters = BTreeMap<String, u64>;

/// The counter of a run day's calls to the library system at send time
/// (rules §15), kept beside the delivery counters.
pub const RECHECK_CALLS: &str = "recheck_calls";

/// A planner's run manifest with what the fan-out delivered for its run day:
/// the counters the mailer and the letters function keep replace the
/// manifest's delivery counts (the planner delivers nothing itself).
pub fn with_delivered(summary: &mut RunSummary, delivered: &Counters) {
    let count = |name: &str| delivered.get(name).copied().unwrap_or(0) as usize;
    summary.emails_sent = count("sent");
    summary.letters_rendered = count("letters_rendered");
    summary.cancelled = count("cancelled") + count("letters_cancelled");
    summary.fell_back_to_print = count("fell_back_to_print");
    summary.not_rechecked = count("not_rechecked");
}

/// Claims, delivery counters and run manifests.
pub trait FanOutBook: Sync {
    /// Claims a pending notice for `lease` from `now`, so that one invocation at
    /// a time delivers it; a lease that ended (its invocation died) can be
    /// claimed again. Recording the notice sent, failed or cancelled ends it.
    fn claim(
        &self,
        id: &NoticeId,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Adds to a run day's counters; names are ours, never data.
    fn count_delivered(
        &self,
        run_day: NaiveDate,
        counts: &[(&'static str, u64)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Takes one call from the run day's budget of calls to the library system
    /// (`[source] max_calls_per_run`), shared by every invocation of the day:
    /// an atomic, conditional increment of [`RECHECK_CALLS`]; `false` once
    /// `max` calls were taken.
    fn take_recheck_call(
        &self,
        run_day: NaiveDate,
        max: u32,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The counters of these run days (a day without any is absent).
    fn delivered(
        &self,
        run_days: &[NaiveDate],
    ) -> impl Future<Output = Result<BTreeMap<NaiveDate, Counters>, StoreError>> + Send;

    /// Keeps a run's manifest: what the planner planned and queued.
    fn record_run(
        &self,
        summary: &RunSummary,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The latest `limit` run manifests, latest first.
    fn runs(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RunSummary>, StoreError>> + Send;

    /// Claims the run day's staff report, so that it is sent once.
    fn claim_report(
        &self,
        run_day: NaiveDate,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> impl Future<Output = Result<ReportClaim, StoreError>> + Send;

    /// Marks the run day's staff report sent.
    fn record_report(
        &self,
        run_day: NaiveDate,
        message_id: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Read capacity consumed so far, where reads are metered (DynamoDB's
    /// units; nothing elsewhere).
    fn read_units(&self) -> f64 {
        0.0
    }
}
