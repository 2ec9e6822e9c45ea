//! The planner reads only what it needs (rules §11: no Scan on the daily path).
//!
//! 20,000 open loans with realistic titles and authors, spread over 800 due dates,
//! of which about a hundred reach a stage on the run day. The read units the
//! planner reports (DynamoDB's `ConsumedCapacity`) must be at most twice what
//! reading each matched loan and its patron once costs, and at least ten times
//! below what a Scan of the same table reads. Both references are measured on
//! the emulator, not hard-coded: a BatchGetItem of exactly the matched loans and
//! their patrons (eventually consistent, as the planner's reads of them are), and
//! a real paginated Scan, each with `ReturnConsumedCapacity` TOTAL.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use relance_aws::dynamo::key_item;
use relance_aws::dynamo::table::{loan_key, patron_key};
use relance_core::ids::PatronId;
use relance_core::model::{Loan, Patron};
use relance_tests::day;
use relance_tests::network::{self, mix, patron, scan};
use relance_tests::stack::Stack;

const PATRONS: u64 = 5_000;
const LOANS: u64 = 20_000;
/// Due dates run over this many days around the run day: 25 loans a day on average.
const DUE_DAYS: u64 = 800;
/// The ladder of the test config: courtesy −3, first +7, second +21, letter +35.
const OFFSETS: [(&str, i64); 4] = [
    ("courtesy", -3),
    ("first_reminder", 7),
    ("second_reminder", 21),
    ("letter", 35),
];

/// Open loan `n`, due on one of [`DUE_DAYS`] days around `run_day` (mostly in
/// the past: long-overdue loans stay open).
fn loan(n: u64, patrons: u64, run_day: NaiveDate) -> Loan {
    let h = mix(n ^ 0x5EED);
    let due_date = run_day - Duration::days(760) + Duration::days((h % DUE_DAYS) as i64);
    network::loan(n, patrons, due_date)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_planner_reads_the_matched_loans_and_their_patrons_not_the_table() {
    let stack = Stack::new().await;
    let run_day = day("2026-11-30");
    let patrons: Vec<Patron> = (0..PATRONS).map(patron).collect();
    let loans: Vec<Loan> = (0..LOANS).map(|n| loan(n, PATRONS, run_day)).collect();
    let dynamo = stack.dynamo();
    dynamo.put_patrons(&patrons).await.expect("patrons loaded");
    dynamo.put_loans(&loans).await.expect("loans loaded");

    // The loans that reach a stage on the run day, and what the plan must hold:
    // one email per (patron, reminder stage), one letter per (patron, library).
    let mut matched = Vec::new();
    let mut expected_notices = BTreeSet::new();
    for (stage, offset) in OFFSETS {
        for loan in loans
            .iter()
            .filter(|l| l.due_date == run_day - Duration::days(offset))
        {
            matched.push(loan);
            let group = if stage == "letter" {
                loan.library.as_str()
            } else {
                stage
            };
            expected_notices.insert((stage, loan.patron_id.clone(), group));
        }
    }
    assert!(
        (60..=160).contains(&matched.len()),
        "about 100 matched loans, got {}",
        matched.len()
    );
    let matched_patrons: BTreeSet<&PatronId> = matched.iter().map(|l| &l.patron_id).collect();

    // What DynamoDB Local reports for one loan read on its own: an item under
    // 4 KB, eventually consistent, is half a unit.
    let one = dynamo
        .client()
        .get_item()
        .table_name(dynamo.table())
        .set_key(Some(key_item(loan_key(&matched[0].id))))
        .return_consumed_capacity("TOTAL".into())
        .send()
        .await
        .expect("get one loan");
    assert!(one.item().is_some());
    assert_eq!(
        one.consumed_capacity().and_then(|c| c.capacity_units()),
        Some(0.5)
    );

    // Each matched loan and its patron read once, at their actual sizes.
    let reference = stack.dynamo();
    let keys: Vec<_> = matched
        .iter()
        .map(|l| key_item(loan_key(&l.id)))
        .chain(matched_patrons.iter().map(|p| key_item(patron_key(p))))
        .collect();
    let wanted = keys.len();
    let read = reference.get_many(keys, false).await.expect("batch get");
    assert_eq!(read.len(), wanted, "every matched loan and patron exists");
    let needed = reference.read_units();
    assert!(
        needed >= 0.5 * wanted as f64,
        "{needed} units for {wanted} items"
    );

    // A Scan of the same table.
    let (scanned, scanned_items) = scan(&dynamo).await;
    assert!(
        scanned_items as u64 >= PATRONS + LOANS,
        "{scanned_items} items scanned"
    );

    let planned = stack.plan(run_day).await;
    assert_eq!(planned.summary.planned_days, vec![run_day]);
    let notices: usize = planned.summary.notices.values().sum();
    assert_eq!(
        notices,
        expected_notices.len(),
        "{:?}",
        planned.summary.notices
    );

    eprintln!(
        "matched loans {}, their patrons {}: once each = {needed} RU; planner = {} RU; scan = {scanned} RU ({scanned_items} items)",
        matched.len(),
        matched_patrons.len(),
        planned.read_units
    );
    assert!(
        planned.read_units <= 2.0 * needed,
        "the planner read {} units, more than twice the {needed} that reading each matched loan and patron once costs",
        planned.read_units
    );
    assert!(
        planned.read_units * 10.0 <= scanned,
        "the planner read {} units, not ten times below a Scan's {scanned}",
        planned.read_units
    );
}
