//! Purging never lets a notice go twice (rules §16): for any loans, returns,
//! renewals, imports, runs and purges over a year, with retention periods far
//! shorter than the defaults, no (loan, due date, stage) is notified twice.

use std::collections::HashSet;

use chrono::NaiveDate;
use proptest::prelude::*;
use relance_core::calendar::shift;
use relance_core::notice::NoticeStatus;
use relance_tests::{CONFIG, TestEnv, day, loan_row, patron_row};

const BASE: &str = "2026-11-02";

/// Periods of a few days: everything but the markers of open loans is purged
/// many times over the year.
const SHORT_RETENTION: &str = "
[retention]
returned_loans = 2
notices = 10
mail = 3
letters = 3
patrons = 1
";

#[derive(Debug, Clone, Copy)]
enum Event {
    Return,
    /// A renewal by that many days.
    Renew(i64),
}

#[derive(Debug, Clone)]
struct Scenario {
    /// (due offset from BASE, patron index, library index)
    loans: Vec<(i64, usize, usize)>,
    /// (day offset from BASE, loan index, what happens)
    events: Vec<(i64, usize, Event)>,
    /// Days between runs.
    step: i64,
    /// Days between imports of the open loans (the library system's export).
    export_every: i64,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let event = prop_oneof![Just(Event::Return), (7i64..40).prop_map(Event::Renew)];
    (
        prop::collection::vec((-30i64..300, 0usize..4, 0usize..3), 1..12),
        prop::collection::vec((0i64..365, 0usize..12, event), 0..16),
        1i64..4,
        1i64..15,
    )
        .prop_map(|(loans, events, step, export_every)| Scenario {
            loans,
            events,
            step,
            export_every,
        })
}

/// A loan as the library system knows it now.
#[derive(Debug, Clone)]
struct Known {
    due: NaiveDate,
    patron: usize,
    library: usize,
    returned: Option<NaiveDate>,
}

fn rows(loans: &[(usize, &Known)]) -> (Vec<String>, Vec<String>) {
    let libraries = ["STS", "DRT", "LSH"];
    let mut patrons: Vec<usize> = loans.iter().map(|(_, k)| k.patron).collect();
    patrons.sort_unstable();
    patrons.dedup();
    let patrons = patrons
        .into_iter()
        .map(|p| {
            patron_row(
                &format!("P{p}"),
                "Alex Dupont",
                &format!("p{p}@example.fr"),
                false,
            )
        })
        .collect();
    let loans = loans
        .iter()
        .map(|(n, k)| {
            let returned = k.returned.map(|d| format!("{d}T10:00:00+01:00"));
            loan_row(
                &format!("L{n}"),
                &format!("P{}", k.patron),
                libraries[k.library],
                k.due,
                returned.as_deref(),
            )
        })
        .collect();
    (patrons, loans)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn purging_never_lets_a_stage_of_a_due_date_be_notified_twice(s in scenario()) {
        let env = TestEnv::with_config(&format!("{CONFIG}\n{SHORT_RETENTION}"));
        let tz = env.config.institution.timezone;
        let base = day(BASE);
        let mut known: Vec<Known> = s.loans.iter()
            .map(|&(due, patron, library)| Known { due: shift(base, due).unwrap(), patron, library, returned: None })
            .collect();
        let mut notified = HashSet::new();
        let mut offset = 0;
        while offset <= 365 {
            let today = shift(base, offset).unwrap();
            // What happened since the last run reaches the store with an import.
            let mut changed: Vec<usize> = Vec::new();
            for &(at, n, event) in &s.events {
                let (prev, now) = (offset - s.step, offset);
                let Some(loan) = known.get_mut(n) else { continue };
                if at <= prev || at > now || loan.returned.is_some() {
                    continue;
                }
                match event {
                    Event::Return => loan.returned = Some(shift(base, at).unwrap()),
                    Event::Renew(days) => loan.due = shift(loan.due, days).unwrap(),
                }
                changed.push(n);
            }
            let export = offset % s.export_every == 0;
            let listed: Vec<(usize, &Known)> = known.iter().enumerate()
                .filter(|(n, k)| changed.contains(n) || (export && k.returned.is_none()))
                .collect();
            if !listed.is_empty() {
                let (patrons, loans) = rows(&listed);
                env.import(&patrons, &loans);
            }
            env.run(today);
            for notice in env.store.notices_on(today).unwrap() {
                if matches!(notice.status, NoticeStatus::Cancelled { .. }) {
                    continue;
                }
                for l in &notice.loans {
                    prop_assert!(
                        notified.insert((l.loan_id.clone(), l.due_date, l.stage.clone())),
                        "{} due {} notified twice at {} (again on {today})", l.loan_id, l.due_date, l.stage
                    );
                }
            }
            let cutoffs = env.config.retention.cutoffs(today, tz);
            env.store.purge(&cutoffs, false).unwrap();
            env.outbox.purge(&cutoffs, false).unwrap();
            offset += s.step;
        }
    }
}
