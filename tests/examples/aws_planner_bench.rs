//! The planner against DynamoDB Local with 100,000 open loans: read units and
//! time against the number of loans that reach a stage, side by side with what
//! a Scan of the same table reads.
//!
//! `cargo run --release -p relance-tests --example aws_planner_bench` (in
//! `make bench`); the emulators are started when they are not running. One
//! table holds 20,000 patrons and 100,000 open loans: for each run day of the
//! table below, exactly that many loans are due on the dates of its stages
//! (courtesy −3, first +7, second +21, letter +35); the others are spread over
//! the surrounding year on dates that reach no stage on any of those run days.
//! Each run day is planned dry (nothing recorded, so the runs do not interfere).

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::{Duration, NaiveDate};
use relance_core::model::{Loan, Patron};
use relance_planner::PlannerEvent;
use relance_tests::day;
use relance_tests::network::{loan, mix, patron, scan};
use relance_tests::stack::Stack;

const PATRONS: u64 = 20_000;
const LOANS: u64 = 100_000;
/// Loans reaching a stage on each measured run day.
const MATCHED: [u64; 5] = [0, 100, 1_000, 5_000, 10_000];
/// Days between two measured run days: their stage dates never meet.
const APART: i64 = 100;
/// The ladder of the test config, in days from the due date.
const OFFSETS: [i64; 4] = [-3, 7, 21, 35];

/// The run days, each with the loans that reach a stage on it, then the others.
fn loans(first_run_day: NaiveDate) -> (Vec<NaiveDate>, Vec<Loan>) {
    let run_days: Vec<NaiveDate> = (0..MATCHED.len() as i64)
        .map(|k| first_run_day + Duration::days(k * APART))
        .collect();
    let stage_dates: BTreeSet<NaiveDate> = run_days
        .iter()
        .flat_map(|d| OFFSETS.map(|o| *d - Duration::days(o)))
        .collect();
    let mut loans = Vec::with_capacity(LOANS as usize);
    for (run_day, matched) in run_days.iter().zip(MATCHED) {
        for _ in 0..matched {
            let n = loans.len() as u64;
            let offset = OFFSETS[(mix(n ^ 0xDA7E) % 4) as usize];
            loans.push(loan(n, PATRONS, *run_day - Duration::days(offset)));
        }
    }
    // The rest over the year before the first run day up to 60 days after the
    // last, stage dates left out.
    let background: Vec<NaiveDate> = (0..365 + APART * (MATCHED.len() as i64 - 1) + 60)
        .map(|k| first_run_day - Duration::days(365) + Duration::days(k))
        .filter(|d| !stage_dates.contains(d))
        .collect();
    while (loans.len() as u64) < LOANS {
        let n = loans.len() as u64;
        let due = background[(mix(n ^ 0xD0E) % background.len() as u64) as usize];
        loans.push(loan(n, PATRONS, due));
    }
    (run_days, loans)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let stack = Stack::new().await;
    let dynamo = stack.dynamo();
    let (run_days, loans) = loans(day("2026-03-02"));
    let patrons: Vec<Patron> = (0..PATRONS).map(patron).collect();
    let started = Instant::now();
    dynamo.put_patrons(&patrons).await.expect("patrons loaded");
    dynamo.put_loans(&loans).await.expect("loans loaded");
    println!(
        "loaded {PATRONS} patrons and {LOANS} open loans into DynamoDB Local in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let (scan_units, scanned) = scan(&dynamo).await;
    let scan_ms = started.elapsed().as_millis();
    println!("a Scan of the table: {scanned} items, {scan_units} read units, {scan_ms} ms\n");

    let planner = stack.planner().await;
    println!(
        "| matched loans | notices | planner read units | planner ms | scan read units | scan / planner |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for (run_day, matched) in run_days.iter().zip(MATCHED) {
        let event = PlannerEvent {
            date: Some(*run_day),
            dry_run: true,
            ..PlannerEvent::default()
        };
        let started = Instant::now();
        let out = planner.handle(event).await.expect("planned");
        let ms = started.elapsed().as_millis();
        let notices: usize = out.summary.notices.values().sum();
        println!(
            "| {matched} | {notices} | {} | {ms} | {scan_units} | {:.1}× |",
            out.read_units,
            scan_units / out.read_units
        );
    }
}
