//! Fresh at send time (rules §15): a [`LoanStore`] that, when the engine reads
//! a notice's loans just before sending, also asks the library system about
//! each open one. A loan the system says is returned reads as returned, so the
//! engine drops it as rules §5 says (and cancels a notice left with nothing),
//! and the return is recorded in the store at once. The calls are bounded by a
//! [`CallBudget`] (`[source] max_calls_per_run`); when the budget is spent or
//! the system cannot be asked, the loan reads as the store has it, the notice
//! goes as planned, and the tally counts it as not rechecked.
//!
//! Only [`LoanStore::loans`] is intercepted: it is what the engine calls at send
//! time (`service/email.rs` and `service/letters.rs`, `recheck`); planning and
//! the recap of other overdue loans read the store as it is.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::ids::{LoanId, PatronId};
use crate::model::{EmailStatus, Loan, Patron};
use crate::ports::{CallBudget, LoanState, LoanStore, LoanSystem, StoreError};

/// What the send-time check did in one run (or, on AWS, one invocation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecheckTally {
    /// Calls made to the system.
    pub calls: u32,
    /// Loans the system confirmed open.
    pub confirmed_open: usize,
    /// Loans the system says were returned, with when (recorded in the store).
    pub returned: Vec<(LoanId, DateTime<Utc>)>,
    /// Loans sent as planned without being checked: budget spent, system out
    /// or not reachable at all, or the loan unknown to the system.
    pub not_rechecked: usize,
    /// The system failed once in the run, and was not asked again.
    pub system_out: bool,
    /// Why, when it did (the system's error, ids and status only).
    pub error: Option<String>,
}

/// The budget of one `relance run`, counted in memory.
#[derive(Debug)]
pub struct CallsLeft(AtomicU32);

impl CallsLeft {
    /// A budget of `max` calls.
    pub fn new(max: u32) -> Self {
        Self(AtomicU32::new(max))
    }
}

impl CallBudget for CallsLeft {
    async fn take(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok()
    }
}

struct State {
    tally: RecheckTally,
    /// What was learnt of each loan already, so that a loan read twice in a run
    /// (an email that falls back to print) costs one call.
    known: HashMap<LoanId, Option<DateTime<Utc>>>,
}

/// A loan store that checks the loans read at send time against the library system.
pub struct RecheckedStore<'a, S, Y, B> {
    inner: &'a S,
    system: Option<&'a Y>,
    budget: &'a B,
    now: DateTime<Utc>,
    state: Mutex<State>,
}

impl<'a, S: LoanStore, Y: LoanSystem, B: CallBudget> RecheckedStore<'a, S, Y, B> {
    /// Wraps the store; each call to `system` is taken from `budget`. Without a
    /// system (its client or credentials could not be set up), every open loan
    /// goes unchecked and is counted. A return the system gives no time for is
    /// taken at `now`.
    pub fn new(inner: &'a S, system: Option<&'a Y>, budget: &'a B, now: DateTime<Utc>) -> Self {
        Self {
            inner,
            system,
            budget,
            now,
            state: Mutex::new(State {
                tally: RecheckTally::default(),
                known: HashMap::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What the check did so far.
    pub fn tally(&self) -> RecheckTally {
        self.state().tally.clone()
    }

    fn unchecked(&self) -> Option<DateTime<Utc>> {
        self.state().tally.not_rechecked += 1;
        None
    }

    /// Asks the system about one open loan, within the budget; the time of its
    /// return when it came back.
    async fn check(&self, loan: &Loan) -> Option<DateTime<Utc>> {
        {
            let state = self.state();
            if let Some(known) = state.known.get(&loan.id) {
                return *known;
            }
            if state.tally.system_out {
                drop(state);
                return self.unchecked();
            }
        }
        let Some(system) = self.system else {
            return self.unchecked();
        };
        if !self.budget.take().await {
            return self.unchecked();
        }
        self.state().tally.calls += 1;
        let answer = system.loan_state(loan).await;
        let mut state = self.state();
        let returned = match answer {
            Ok(LoanState::Open) => {
                state.tally.confirmed_open += 1;
                None
            }
            Ok(LoanState::Returned { at }) => {
                let at = at.unwrap_or(self.now);
                state.tally.returned.push((loan.id.clone(), at));
                Some(at)
            }
            Ok(LoanState::Unknown) => {
                state.tally.not_rechecked += 1;
                None
            }
            Err(error) => {
                state.tally.system_out = true;
                state.tally.error = Some(error.to_string());
                state.tally.not_rechecked += 1;
                return None;
            }
        };
        state.known.insert(loan.id.clone(), returned);
        returned
    }
}

impl<S: LoanStore, Y: LoanSystem, B: CallBudget> LoanStore for RecheckedStore<'_, S, Y, B> {
    async fn open_loans_due_on(&self, due: NaiveDate) -> Result<Vec<Loan>, StoreError> {
        self.inner.open_loans_due_on(due).await
    }

    async fn patrons(&self, ids: &[PatronId]) -> Result<Vec<Patron>, StoreError> {
        self.inner.patrons(ids).await
    }

    async fn loans(&self, ids: &[LoanId]) -> Result<Vec<Loan>, StoreError> {
        let mut loans = self.inner.loans(ids).await?;
        let mut returns = Vec::new();
        for loan in &mut loans {
            if loan.is_open()
                && let Some(at) = self.check(loan).await
            {
                loan.returned_at = Some(at);
                returns.push((loan.id.clone(), at));
            }
        }
        if !returns.is_empty() {
            self.inner.record_returns(&returns).await?;
        }
        Ok(loans)
    }

    async fn open_loans_of(&self, patron: &PatronId) -> Result<Vec<Loan>, StoreError> {
        self.inner.open_loans_of(patron).await
    }

    async fn set_email_status(
        &self,
        patron: &PatronId,
        status: EmailStatus,
    ) -> Result<(), StoreError> {
        self.inner.set_email_status(patron, status).await
    }

    async fn record_returns(
        &self,
        returns: &[(LoanId, DateTime<Utc>)],
    ) -> Result<usize, StoreError> {
        self.inner.record_returns(returns).await
    }
}

#[cfg(test)]
mod tests;
