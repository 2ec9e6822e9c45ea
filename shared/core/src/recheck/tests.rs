use std::sync::atomic::{AtomicU32, Ordering};

use chrono::TimeZone;

use super::*;
use crate::ids::LibraryCode;
use crate::model::Item;

fn loan(id: &str, returned: bool) -> Loan {
    Loan {
        id: LoanId::parse(id).unwrap(),
        patron_id: PatronId::parse("P1").unwrap(),
        library: LibraryCode::parse("STS").unwrap(),
        item: Item {
            barcode: format!("B-{id}"),
            title: "T".into(),
            author: String::new(),
            call_number: String::new(),
        },
        loaned_at: None,
        due_at: Utc.with_ymd_and_hms(2026, 11, 22, 22, 59, 0).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        returned_at: returned.then(|| Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()),
    }
}

/// The store: the loans L1 (open), L2 (open), L3 (open), R (returned already);
/// the returns it was told about.
#[derive(Default)]
struct Store {
    recorded: std::sync::Mutex<Vec<(LoanId, DateTime<Utc>)>>,
}

impl LoanStore for Store {
    async fn open_loans_due_on(&self, _: NaiveDate) -> Result<Vec<Loan>, StoreError> {
        Ok(Vec::new())
    }
    async fn patrons(&self, _: &[PatronId]) -> Result<Vec<Patron>, StoreError> {
        Ok(Vec::new())
    }
    async fn loans(&self, ids: &[LoanId]) -> Result<Vec<Loan>, StoreError> {
        Ok(ids
            .iter()
            .map(|id| loan(id.as_str(), id.as_str() == "R"))
            .collect())
    }
    async fn open_loans_of(&self, _: &PatronId) -> Result<Vec<Loan>, StoreError> {
        Ok(Vec::new())
    }
    async fn set_email_status(&self, _: &PatronId, _: EmailStatus) -> Result<(), StoreError> {
        Ok(())
    }
    async fn record_returns(
        &self,
        returns: &[(LoanId, DateTime<Utc>)],
    ) -> Result<usize, StoreError> {
        self.recorded.lock().unwrap().extend_from_slice(returns);
        Ok(returns.len())
    }
}

/// The system: L2 came back on 25 November; L3 is unknown to it; "down" fails.
#[derive(Default)]
struct System {
    calls: AtomicU32,
    down: bool,
}

impl LoanSystem for System {
    async fn loan_state(&self, loan: &Loan) -> Result<LoanState, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down {
            return Err(StoreError::unavailable(
                "HTTP 503 from /circulation/loans/L1",
            ));
        }
        Ok(match loan.id.as_str() {
            "L2" => LoanState::Returned {
                at: Some(Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap()),
            },
            "L3" => LoanState::Unknown,
            _ => LoanState::Open,
        })
    }
}

fn ids(list: &[&str]) -> Vec<LoanId> {
    list.iter().map(|id| LoanId::parse(id).unwrap()).collect()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 6, 0, 0).unwrap()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut context) {
            return out;
        }
    }
}

#[test]
fn a_loan_the_system_says_is_returned_reads_as_returned() {
    let system = System::default();
    let inner = Store::default();
    let budget = CallsLeft::new(10);
    let store = RecheckedStore::new(&inner, Some(&system), &budget, now());
    let loans = block_on(store.loans(&ids(&["L1", "L2", "L3", "R"]))).unwrap();
    let open: Vec<_> = loans
        .iter()
        .filter(|l| l.is_open())
        .map(|l| l.id.as_str())
        .collect();
    assert_eq!(open, ["L1", "L3"]);
    let tally = store.tally();
    assert_eq!(
        tally.calls, 3,
        "the loan already returned in the store is not asked about"
    );
    assert_eq!(tally.confirmed_open, 1);
    assert_eq!(tally.not_rechecked, 1, "L3, unknown to the system");
    let l2_back = [(
        LoanId::parse("L2").unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap(),
    )];
    assert_eq!(tally.returned, l2_back);
    assert_eq!(
        *inner.recorded.lock().unwrap(),
        l2_back,
        "the return is recorded in the store at once, at the system's time"
    );
}

#[test]
fn past_the_budget_loans_go_as_planned_and_are_counted() {
    let system = System::default();
    let budget = CallsLeft::new(1);
    let inner = Store::default();
    let store = RecheckedStore::new(&inner, Some(&system), &budget, now());
    let loans = block_on(store.loans(&ids(&["L1", "L2"]))).unwrap();
    assert!(loans.iter().all(Loan::is_open));
    assert_eq!(system.calls.load(Ordering::SeqCst), 1);
    assert_eq!(store.tally().not_rechecked, 1);
}

#[test]
fn a_system_that_fails_is_not_asked_again_in_the_run() {
    let system = System {
        down: true,
        ..System::default()
    };
    let budget = CallsLeft::new(10);
    let inner = Store::default();
    let store = RecheckedStore::new(&inner, Some(&system), &budget, now());
    let loans = block_on(store.loans(&ids(&["L1", "L2", "L3"]))).unwrap();
    assert!(loans.iter().all(Loan::is_open));
    assert_eq!(system.calls.load(Ordering::SeqCst), 1);
    let tally = store.tally();
    assert!(tally.system_out);
    assert_eq!(tally.not_rechecked, 3);
    assert!(tally.error.unwrap().contains("503"));
}

#[test]
fn a_loan_read_twice_in_a_run_is_asked_about_once() {
    let system = System::default();
    let budget = CallsLeft::new(10);
    let inner = Store::default();
    let store = RecheckedStore::new(&inner, Some(&system), &budget, now());
    block_on(store.loans(&ids(&["L2"]))).unwrap();
    let again = block_on(store.loans(&ids(&["L2"]))).unwrap();
    assert!(!again[0].is_open());
    assert_eq!(system.calls.load(Ordering::SeqCst), 1);
    assert_eq!(store.tally().returned.len(), 1);
}

#[test]
fn without_a_system_every_open_loan_goes_unchecked_and_is_counted() {
    let budget = CallsLeft::new(10);
    let inner = Store::default();
    let store = RecheckedStore::new(&inner, None::<&System>, &budget, now());
    let loans = block_on(store.loans(&ids(&["L1", "L2", "R"]))).unwrap();
    assert_eq!(loans.iter().filter(|l| l.is_open()).count(), 2);
    let tally = store.tally();
    assert_eq!((tally.calls, tally.not_rechecked), (0, 2));
    assert!(inner.recorded.lock().unwrap().is_empty());
}

#[test]
fn one_budget_bounds_every_store_that_shares_it() {
    // On AWS each message has its own store and the run day's budget is shared.
    let system = System::default();
    let budget = CallsLeft::new(2);
    let (first_inner, second_inner) = (Store::default(), Store::default());
    let first = RecheckedStore::new(&first_inner, Some(&system), &budget, now());
    let second = RecheckedStore::new(&second_inner, Some(&system), &budget, now());
    block_on(first.loans(&ids(&["L1"]))).unwrap();
    block_on(second.loans(&ids(&["L2", "L3"]))).unwrap();
    assert_eq!(system.calls.load(Ordering::SeqCst), 2);
    assert_eq!(second.tally().not_rechecked, 1);
}
