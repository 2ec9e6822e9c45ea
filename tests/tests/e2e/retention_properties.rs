//! Purging never lets a notice go twice (rules §16): for any loans, returns,
//! renewals, imports, runs and purges over a year, with retention periods far
//! shorter than the defaults, no (loan, due date, stage) is notified twice —
//! even when an operator resumes and runs again a day weeks past, the one way
//! a day already planned is planned again (rules §4).

use std::collections::HashSet;

use relance_core::ids::{LoanId, NoticeId, StageName};
use relance_core::ports::Ledger;
use relance_tests::{TestEnv as Env, block_on};

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
    /// After the day's run, `resume --date D` and `run --date D` for the day
    /// D the loan reached that stage of the ladder (when D is past).
    Rerun(usize),
}

type Key = (LoanId, NaiveDate, StageName);

/// Runs `day` and adds the (loan, due date, stage) of its new notices to
/// `notified`, failing on one already there.
fn run_and_collect(
    env: &Env,
    day: NaiveDate,
    notified: &mut HashSet<Key>,
) -> Result<(), TestCaseError> {
    let pairs = |env: &Env| -> HashSet<(NoticeId, Key)> {
        env.store
            .notices_on(day)
            .unwrap()
            .into_iter()
            .filter(|n| !matches!(n.status, NoticeStatus::Cancelled { .. }))
            .flat_map(|n| {
                n.loans
                    .iter()
                    .map(|l| {
                        (
                            n.id.clone(),
                            (l.loan_id.clone(), l.due_date, l.stage.clone()),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let before = pairs(env);
    env.run(day);
    for (_, key) in pairs(env).difference(&before) {
        prop_assert!(
            notified.insert(key.clone()),
            "{:?} notified twice (again on {})",
            key,
            day
        );
    }
    Ok(())
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
    let event = prop_oneof![
        Just(Event::Return),
        (7i64..40).prop_map(Event::Renew),
        (0usize..4).prop_map(Event::Rerun),
        (0usize..4).prop_map(Event::Rerun),
    ];
    (
        prop::collection::vec((-30i64..300, 0usize..4, 0usize..3), 1..12),
        prop::collection::vec((0i64..365, 0usize..12, event), 0..24),
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
            let mut reruns = Vec::new();
            for &(at, n, event) in &s.events {
                let (prev, now) = (offset - s.step, offset);
                if at <= prev || at > now {
                    continue;
                }
                if let Event::Rerun(stage) = event {
                    if let Some(loan) = known.get(n) {
                        let offset = env.config.ladder.stages()[stage].offset_days;
                        reruns.push(shift(loan.due, offset.into()).unwrap());
                    }
                    continue;
                }
                let Some(loan) = known.get_mut(n) else { continue };
                if loan.returned.is_some() {
                    continue;
                }
                match event {
                    Event::Return => loan.returned = Some(shift(base, at).unwrap()),
                    Event::Renew(days) => loan.due = shift(loan.due, days).unwrap(),
                    Event::Rerun(_) => unreachable!("handled above"),
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
            run_and_collect(&env, today, &mut notified)?;
            for past in reruns.into_iter().filter(|d| *d < today && *d >= base) {
                block_on(env.store.set_watermark(shift(past, -1).unwrap())).unwrap();
                run_and_collect(&env, past, &mut notified)?;
                // Back to the present, as `resume` then `run` would leave it.
                block_on(env.store.set_watermark(today)).unwrap();
            }
            let cutoffs = env.config.retention.cutoffs(today, tz);
            env.store.purge(&cutoffs, false).unwrap();
            env.outbox.purge(&cutoffs, false).unwrap();
            offset += s.step;
        }
    }
}

/// The scenario the property guards, spelt out: a loan still open weeks after
/// its first reminder, whose notice is long purged; the operator resumes and
/// runs that day again: its marker, kept because the loan is open with that
/// due date, stops a second first reminder.
#[test]
fn a_day_run_again_after_its_notice_was_purged_notifies_nothing_twice() {
    let env = TestEnv::with_config(&format!("{CONFIG}\n{SHORT_RETENTION}"));
    let tz = env.config.institution.timezone;
    let due = day(BASE);
    env.import(
        &[patron_row("P1", "Alex Dupont", "p1@example.fr", false)],
        &[loan_row("L1", "P1", "STS", due, None)],
    );
    let mut notified = HashSet::new();
    for offset in 0..40 {
        let today = shift(due, offset).unwrap();
        run_and_collect(&env, today, &mut notified).unwrap();
        let cutoffs = env.config.retention.cutoffs(today, tz);
        env.store.purge(&cutoffs, false).unwrap();
    }
    let first_reminder = shift(due, 7).unwrap();
    assert!(
        env.store.notices_on(first_reminder).unwrap().is_empty(),
        "purged"
    );
    block_on(env.store.set_watermark(shift(first_reminder, -1).unwrap())).unwrap();
    run_and_collect(&env, first_reminder, &mut notified).unwrap();
    assert!(env.store.notices_on(first_reminder).unwrap().is_empty());
}
