//! Adapters that let a real run go through without leaving a trace: reads go to
//! the real store and ledger, writes stay in memory.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, NaiveDate, Utc};

use crate::ids::{LoanId, NoticeId, PatronId, Reference};
use crate::ladder::Channel;
use crate::model::{EmailStatus, Loan, Patron};
use crate::notice::{CancelReason, MarkerKey, Notice, NoticeStatus};
use crate::plan::RunPlan;
use crate::ports::{Ledger, LoanStore, StoreError};
use crate::summary::RunSummary;

/// A notice as the preview left it.
#[derive(Debug, Clone)]
pub struct PreviewedNotice {
    /// The notice with its final status (sent meaning "would be sent").
    pub notice: Notice,
    /// Decided by the previewed run (not pending from an earlier run day).
    pub new: bool,
    /// The last delivery failure, e.g. why a letter cannot be printed.
    pub error: Option<String>,
}

#[derive(Default)]
struct Overlay {
    notices: BTreeMap<NoticeId, Notice>,
    new: HashSet<NoticeId>,
    errors: HashMap<NoticeId, String>,
    summary: Option<RunSummary>,
}

/// A ledger that reads through to `inner` and keeps every write in memory.
pub struct DryLedger<'a, L> {
    inner: &'a L,
    overlay: Mutex<Overlay>,
}

impl<'a, L: Ledger> DryLedger<'a, L> {
    /// Wraps the real ledger; nothing will be written to it.
    pub fn new(inner: &'a L) -> Self {
        Self {
            inner,
            overlay: Mutex::new(Overlay::default()),
        }
    }

    fn overlay(&self) -> MutexGuard<'_, Overlay> {
        self.overlay
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every notice the run made or touched, in id order, with its final status.
    pub fn into_notices(self) -> Vec<PreviewedNotice> {
        let overlay = self
            .overlay
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        overlay
            .notices
            .into_values()
            .map(|notice| PreviewedNotice {
                new: overlay.new.contains(&notice.id),
                error: overlay.errors.get(&notice.id).cloned(),
                notice,
            })
            .collect()
    }
}

/// Adds `extra`'s loans that `notice` does not list yet.
fn merge_loans(notice: &mut Notice, extra: &Notice) {
    for loan in &extra.loans {
        if !notice
            .loans
            .iter()
            .any(|l| l.loan_id == loan.loan_id && l.stage == loan.stage)
        {
            notice.loans.push(loan.clone());
        }
    }
}

impl<L: Ledger> Ledger for DryLedger<'_, L> {
    async fn watermark(&self) -> Result<Option<NaiveDate>, StoreError> {
        self.inner.watermark().await
    }

    async fn handled(&self, keys: &[MarkerKey]) -> Result<HashSet<MarkerKey>, StoreError> {
        self.inner.handled(keys).await
    }

    async fn record_plan(
        &self,
        plan: &RunPlan,
        _expected: Option<NaiveDate>,
    ) -> Result<(), StoreError> {
        let mut overlay = self.overlay();
        for notice in &plan.notices {
            overlay.new.insert(notice.id.clone());
            match overlay.notices.get_mut(&notice.id) {
                Some(existing) => merge_loans(existing, notice),
                None => {
                    overlay.notices.insert(notice.id.clone(), notice.clone());
                }
            }
        }
        Ok(())
    }

    async fn set_watermark(&self, _day: NaiveDate) -> Result<(), StoreError> {
        Ok(())
    }

    async fn notices_on(&self, run_day: NaiveDate) -> Result<Vec<Notice>, StoreError> {
        let stored = self.inner.notices_on(run_day).await?;
        let overlay = self.overlay();
        let mut notices: BTreeMap<NoticeId, Notice> = stored
            .into_iter()
            .map(|notice| (notice.id.clone(), notice))
            .collect();
        for notice in overlay.notices.values().filter(|n| n.run_day == run_day) {
            notices.insert(notice.id.clone(), notice.clone());
        }
        Ok(notices.into_values().collect())
    }

    async fn pending_notices(
        &self,
        channel: Channel,
        up_to: NaiveDate,
    ) -> Result<Vec<Notice>, StoreError> {
        let stored = self.inner.pending_notices(channel, up_to).await?;
        let mut overlay = self.overlay();
        for notice in stored {
            let made_here = overlay.new.contains(&notice.id);
            match overlay.notices.get_mut(&notice.id) {
                // A letter the preview made that the ledger already had pending:
                // the real ledger would have added to it.
                Some(existing) if made_here && existing.status == NoticeStatus::Pending => {
                    merge_loans(existing, &notice);
                }
                Some(_) => {}
                None => {
                    overlay.notices.insert(notice.id.clone(), notice);
                }
            }
        }
        let mut pending: Vec<Notice> = overlay
            .notices
            .values()
            .filter(|n| {
                n.status == NoticeStatus::Pending && n.channel == channel && n.run_day <= up_to
            })
            .cloned()
            .collect();
        pending.sort_by(|a, b| (a.run_day, &a.id).cmp(&(b.run_day, &b.id)));
        Ok(pending)
    }

    async fn record_sent(
        &self,
        id: &NoticeId,
        message_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut overlay = self.overlay();
        overlay.errors.remove(id);
        if let Some(notice) = overlay.notices.get_mut(id) {
            notice.status = NoticeStatus::Sent {
                message_id: message_id.to_owned(),
                at,
            };
        }
        Ok(())
    }

    async fn record_failure(&self, id: &NoticeId, error: &str) -> Result<(), StoreError> {
        let mut overlay = self.overlay();
        overlay.errors.insert(id.clone(), error.to_owned());
        if let Some(notice) = overlay.notices.get_mut(id) {
            notice.attempts += 1;
        }
        Ok(())
    }

    async fn cancel(&self, id: &NoticeId, reason: CancelReason) -> Result<(), StoreError> {
        if let Some(notice) = self.overlay().notices.get_mut(id)
            && notice.status == NoticeStatus::Pending
        {
            notice.status = NoticeStatus::Cancelled { reason };
        }
        Ok(())
    }

    async fn fall_back_to_print(
        &self,
        email: &NoticeId,
        letters: &[Notice],
    ) -> Result<(), StoreError> {
        let mut overlay = self.overlay();
        if let Some(notice) = overlay.notices.get_mut(email) {
            notice.status = NoticeStatus::Cancelled {
                reason: CancelReason::FellBackToPrint,
            };
        }
        for letter in letters {
            match overlay.notices.get_mut(&letter.id) {
                Some(existing) if existing.status == NoticeStatus::Pending => {
                    merge_loans(existing, letter);
                }
                // That letter is already printed: these loans make one of their own,
                // as the ledger does.
                Some(_) => {
                    let mut fresh = letter.clone();
                    fresh.id = NoticeId::derive(&format!("{}|after|{email}", letter.id));
                    fresh.reference = Reference::derive(&fresh.id, 0);
                    overlay.new.insert(fresh.id.clone());
                    overlay.notices.insert(fresh.id.clone(), fresh);
                }
                None => {
                    overlay.new.insert(letter.id.clone());
                    overlay.notices.insert(letter.id.clone(), letter.clone());
                }
            }
        }
        Ok(())
    }

    async fn record_run(&self, summary: &RunSummary) -> Result<(), StoreError> {
        self.overlay().summary = Some(summary.clone());
        Ok(())
    }
}

/// A loan store that reads through to `inner` and never writes to it (no
/// address marked, no return recorded).
pub struct DryStore<'a, S> {
    inner: &'a S,
}

impl<'a, S: LoanStore> DryStore<'a, S> {
    /// Wraps the real store; nothing will be written to it.
    pub fn new(inner: &'a S) -> Self {
        Self { inner }
    }
}

impl<S: LoanStore> LoanStore for DryStore<'_, S> {
    async fn open_loans_due_on(&self, due: NaiveDate) -> Result<Vec<Loan>, StoreError> {
        self.inner.open_loans_due_on(due).await
    }

    async fn patrons(&self, ids: &[PatronId]) -> Result<Vec<Patron>, StoreError> {
        self.inner.patrons(ids).await
    }

    async fn loans(&self, ids: &[LoanId]) -> Result<Vec<Loan>, StoreError> {
        self.inner.loans(ids).await
    }

    async fn open_loans_of(&self, patron: &PatronId) -> Result<Vec<Loan>, StoreError> {
        self.inner.open_loans_of(patron).await
    }

    async fn set_email_status(
        &self,
        _patron: &PatronId,
        _status: EmailStatus,
    ) -> Result<(), StoreError> {
        Ok(())
    }

    async fn record_returns(
        &self,
        _returns: &[(LoanId, DateTime<Utc>)],
    ) -> Result<usize, StoreError> {
        Ok(0)
    }
}
