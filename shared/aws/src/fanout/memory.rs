//! An in-memory [`FanOutBook`] over any ledger that can read a notice back
//! (the embedded store in the functions' unit tests): leases, counters and run
//! manifests live in memory, the notices in the ledger.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use relance_core::ids::NoticeId;
use relance_core::notice::NoticeStatus;
use relance_core::ports::{Correspondence, StoreError};
use relance_core::summary::RunSummary;

use super::{Claim, Counters, FanOutBook, RECHECK_CALLS, ReportClaim};

/// The book of one test.
#[derive(Debug)]
pub struct MemoryBook<C> {
    ledger: Arc<C>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    leases: HashMap<NoticeId, DateTime<Utc>>,
    counters: BTreeMap<NaiveDate, Counters>,
    /// Oldest first.
    runs: Vec<RunSummary>,
    /// Each run day's report: its lease, or its message id once sent.
    reports: HashMap<NaiveDate, Result<String, DateTime<Utc>>>,
}

impl<C> MemoryBook<C> {
    /// An empty book over `ledger`.
    pub fn new(ledger: Arc<C>) -> Self {
        Self {
            ledger,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("memory book lock")
    }
}

impl<C: Correspondence + Send + Sync> FanOutBook for MemoryBook<C> {
    async fn claim(
        &self,
        id: &NoticeId,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let Some(notice) = self.ledger.notice(id).await? else {
            return Ok(Claim::Missing);
        };
        if notice.status != NoticeStatus::Pending {
            return Ok(Claim::Done);
        }
        let mut state = self.state();
        if state.leases.get(id).is_some_and(|until| *until > now) {
            return Ok(Claim::Leased);
        }
        state.leases.insert(id.clone(), now + lease);
        Ok(Claim::Claimed(notice))
    }

    async fn count_delivered(
        &self,
        run_day: NaiveDate,
        counts: &[(&'static str, u64)],
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        for (name, n) in counts.iter().filter(|(_, n)| *n > 0) {
            *state
                .counters
                .entry(run_day)
                .or_default()
                .entry((*name).to_owned())
                .or_default() += n;
        }
        Ok(())
    }

    async fn take_recheck_call(&self, run_day: NaiveDate, max: u32) -> Result<bool, StoreError> {
        let mut state = self.state();
        let calls = state
            .counters
            .entry(run_day)
            .or_default()
            .entry(RECHECK_CALLS.to_owned())
            .or_default();
        let taken = *calls < u64::from(max);
        *calls += u64::from(taken);
        Ok(taken)
    }

    async fn delivered(
        &self,
        run_days: &[NaiveDate],
    ) -> Result<BTreeMap<NaiveDate, Counters>, StoreError> {
        let state = self.state();
        Ok(run_days
            .iter()
            .filter_map(|day| Some((*day, state.counters.get(day)?.clone())))
            .collect())
    }

    async fn record_run(&self, summary: &RunSummary) -> Result<(), StoreError> {
        self.state().runs.push(summary.clone());
        Ok(())
    }

    async fn claim_report(
        &self,
        run_day: NaiveDate,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<ReportClaim, StoreError> {
        let mut state = self.state();
        match state.reports.get(&run_day) {
            Some(Ok(message_id)) => Ok(ReportClaim::Sent {
                message_id: message_id.clone(),
            }),
            Some(Err(until)) if *until > now => Ok(ReportClaim::Leased),
            _ => {
                state.reports.insert(run_day, Err(now + lease));
                Ok(ReportClaim::Claimed)
            }
        }
    }

    async fn record_report(
        &self,
        run_day: NaiveDate,
        message_id: &str,
        _at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.state()
            .reports
            .insert(run_day, Ok(message_id.to_owned()));
        Ok(())
    }

    async fn runs(&self, limit: usize) -> Result<Vec<RunSummary>, StoreError> {
        Ok(self
            .state()
            .runs
            .iter()
            .rev()
            .take(limit)
            .cloned()
            .collect())
    }
}
