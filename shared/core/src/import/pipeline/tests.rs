use std::future::{Future, ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::import::MemoryReport;
use crate::ports::StoreError;

const CONFIG: &str = crate::testing::INSTITUTION;

const LOANS_HEADER: &str = "loan_id,patron_id,library_code,barcode,title,author,call_number,loaned_at,due_at,returned_at\n";

/// A sink that remembers what it was asked, with P1 stored and L1…L4 open.
#[derive(Default)]
struct MemorySink {
    loans: Vec<LoanId>,
    closed: Vec<LoanId>,
    committed: Option<ImportSummary>,
}

impl ImportSink for &mut MemorySink {
    fn batch(&self) -> i64 {
        7
    }
    fn known_patrons(
        &mut self,
        ids: &[PatronId],
    ) -> impl Future<Output = Result<HashSet<PatronId>, StoreError>> + Send {
        ready(Ok(ids
            .iter()
            .filter(|id| id.as_str() == "P1")
            .cloned()
            .collect()))
    }
    fn upsert_patrons(
        &mut self,
        _: &[Patron],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        ready(Ok(0))
    }
    fn upsert_loans(
        &mut self,
        loans: &[Loan],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.loans.extend(loans.iter().map(|l| l.id.clone()));
        ready(Ok(loans.len() as u64))
    }
    fn open_loan_ids(
        &mut self,
    ) -> impl Future<Output = Result<HashSet<LoanId>, StoreError>> + Send {
        let open = (1..=4).map(|i| LoanId::parse(&format!("L{i}")).unwrap());
        ready(Ok(open.collect()))
    }
    fn close_loans(
        &mut self,
        ids: &[LoanId],
        _: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.closed.extend_from_slice(ids);
        ready(Ok(ids.len() as u64))
    }
    fn commit(
        self,
        summary: &ImportSummary,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.committed = Some(summary.clone());
        ready(Ok(()))
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the memory sink never waits"),
    }
}

fn run(sink: &mut MemorySink, loans: &str, options: &ImportOptions) -> (ImportSummary, String) {
    let config = Config::parse(CONFIG).unwrap();
    let text = format!("{LOANS_HEADER}{loans}");
    let input = CsvInput {
        name: "loans.csv",
        reader: text.as_bytes(),
    };
    let mut report = MemoryReport::default();
    let summary = block_on(import_csv(
        sink,
        &config,
        None,
        Some(input),
        options,
        &mut report,
        &mut |_| {},
    ))
    .unwrap();
    let report = String::from_utf8(report.into_bytes().unwrap_or_default()).unwrap();
    (summary, report)
}

fn options() -> ImportOptions {
    ImportOptions {
        snapshot: false,
        force: false,
        strict: false,
        now: Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
    }
}

#[test]
fn a_strict_import_with_a_rejected_row_never_commits() {
    let mut sink = MemorySink::default();
    let strict = ImportOptions {
        strict: true,
        ..options()
    };
    let loans = "L1,P1,STS,1,Titre,,,,2026-11-29,\nL2,P9,STS,2,Titre,,,,2026-11-29,\n";
    let (summary, report) = run(&mut sink, loans, &strict);
    assert!(!summary.committed);
    assert!(sink.committed.is_none());
    assert!(
        report.contains("loans.csv,3,L2,patron_id,unknown patron P9"),
        "{report}"
    );
}

#[test]
fn a_snapshot_closes_neither_a_rejected_row_nor_a_line_a_broken_quote_swallowed() {
    let mut sink = MemorySink::default();
    let snapshot = ImportOptions {
        snapshot: true,
        force: true,
        ..options()
    };
    let loans = "L1,P1,STS,1,\"Titre,,,,2026-11-29,\nL2,P1,STS,2,Titre,,,,2026-11-29,\nL3,P1,STS,3,Titre,,,,not a date,\n";
    let (summary, report) = run(&mut sink, loans, &snapshot);
    assert_eq!(summary.rejected, 3, "{report}");
    assert!(
        report.contains("loans.csv,3,L2,row,read into a quoted field opened on line 2"),
        "{report}"
    );
    // L4 alone is unlisted.
    assert_eq!(sink.closed, vec![LoanId::parse("L4").unwrap()]);
    assert_eq!(sink.committed.unwrap().closed_by_snapshot, 1);
}
