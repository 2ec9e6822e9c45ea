//! rules §4's restart table, day by day over 60 days: after a long stop (and on a
//! fresh install) nothing is sent retroactively, and every later stage still comes.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use relance_core::calendar::shift;
use relance_core::ids::PatronId;
use relance_core::ports::Ledger;
use relance_tests::{TestEnv, block_on, day, loan_row, patron_row};

const RESTART: &str = "2026-11-30";

/// What the patron of a loan `overdue` days late on the restart day gets, as
/// (stage, days overdue on the day it is sent) — rules §4, row by row.
fn expected(overdue: i64) -> Vec<(&'static str, i64)> {
    const COURTESY: (&str, i64) = ("courtesy", -3);
    const FIRST: (&str, i64) = ("first_reminder", 7);
    const SECOND: (&str, i64) = ("second_reminder", 21);
    const LETTER: (&str, i64) = ("letter", 35);
    match overdue {
        ..=-4 => vec![COURTESY, FIRST, SECOND, LETTER], // due in 4+ days
        -3 => vec![COURTESY, FIRST, SECOND, LETTER],    // courtesy on R
        -2..=6 => vec![FIRST, SECOND, LETTER],          // no courtesy
        7 => vec![FIRST, SECOND, LETTER],               // first reminder on R
        8..=20 => vec![SECOND, LETTER],                 // no first reminder
        21 => vec![SECOND, LETTER],                     // second on R
        22..=34 => vec![LETTER],                        // letter only
        35 => vec![LETTER],                             // letter on R
        _ => vec![],                                    // 36+: nothing
    }
}

/// Loads one patron and loan per lateness from −10 to 40 days on the restart day,
/// runs every day for 60 days, and returns what each lateness received.
fn received_after_restart(env: &TestEnv) -> BTreeMap<i64, Vec<(String, i64)>> {
    let restart = day(RESTART);
    let lateness: Vec<i64> = (-10..=40).collect();
    let patrons: Vec<_> = lateness
        .iter()
        .map(|k| {
            patron_row(
                &format!("P{k}"),
                "Camille Martin",
                &format!("p{k}@example.fr"),
                false,
            )
        })
        .collect();
    let loans: Vec<_> = lateness
        .iter()
        .map(|&k| {
            loan_row(
                &format!("L{k}"),
                &format!("P{k}"),
                "STS",
                shift(restart, -k).unwrap(),
                None,
            )
        })
        .collect();
    env.import(&patrons, &loans);

    for i in 0..=60 {
        let run_day = shift(restart, i).unwrap();
        let summary = env.run(run_day);
        assert_eq!(summary.failed, 0);
        let emails_today = env
            .mail_files(run_day)
            .iter()
            .filter(|p| {
                !p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("letters-")
            })
            .count();
        assert_eq!(
            emails_today, summary.emails_sent,
            "every email sent is in the outbox on {run_day}"
        );
    }

    lateness
        .iter()
        .map(|&k| {
            let due = shift(restart, -k).unwrap();
            let notices = env
                .store
                .notices_of(&PatronId::parse(&format!("P{k}")).unwrap())
                .unwrap();
            let mut got: Vec<(String, i64)> = notices
                .iter()
                .flat_map(|n| {
                    n.loans
                        .iter()
                        .map(move |l| (l.stage.to_string(), (n.run_day - due).num_days()))
                })
                .collect();
            got.sort_by_key(|(_, offset)| *offset);
            (k, got)
        })
        .collect()
}

fn assert_table(received: BTreeMap<i64, Vec<(String, i64)>>) {
    for (overdue, got) in received {
        let want: Vec<(String, i64)> = expected(overdue)
            .into_iter()
            .map(|(s, o)| (s.to_owned(), o))
            .collect();
        assert_eq!(
            got, want,
            "a loan {overdue} days overdue on the restart day"
        );
    }
}

#[test]
fn a_restart_after_a_long_stop_sends_nothing_retroactively() {
    let env = TestEnv::new();
    // The service last planned a month before the restart, then stopped.
    block_on(env.store.set_watermark(shift(day(RESTART), -30).unwrap())).unwrap();
    assert_table(received_after_restart(&env));
}

#[test]
fn a_first_run_ever_sends_nothing_retroactively() {
    let env = TestEnv::new();
    assert_table(received_after_restart(&env));
}

#[test]
fn a_restart_after_a_three_day_stop_catches_up_two_days_at_most() {
    let env = TestEnv::new();
    let restart = day(RESTART);
    // Watermark three days back: D − W = 3 = 1 + catch_up_days, so W+1…D are planned.
    block_on(env.store.set_watermark(shift(restart, -3).unwrap())).unwrap();
    let late = |k: i64| {
        loan_row(
            &format!("L{k}"),
            "P1",
            "STS",
            shift(restart, -k).unwrap(),
            None,
        )
    };
    env.import(
        &[patron_row("P1", "Camille Martin", "p1@example.fr", false)],
        &[late(7), late(8), late(9), late(10)],
    );
    let summary = env.run(restart);
    let planned: Vec<NaiveDate> = (-2..=0).map(|i| shift(restart, i).unwrap()).collect();
    assert_eq!(summary.planned_days, planned);
    let notices = env.store.notices_on(restart).unwrap();
    assert_eq!(
        notices.len(),
        1,
        "made-up days are consolidated into the run day's email"
    );
    let mut loans: Vec<_> = notices[0]
        .loans
        .iter()
        .map(|l| l.loan_id.to_string())
        .collect();
    loans.sort();
    assert_eq!(
        loans,
        ["L7", "L8", "L9"],
        "10 days late reached +7 before the gap: not sent"
    );
}

#[test]
fn a_restart_after_a_four_day_stop_plans_the_restart_day_only() {
    let env = TestEnv::new();
    let restart = day(RESTART);
    block_on(env.store.set_watermark(shift(restart, -4).unwrap())).unwrap();
    let late = |k: i64| {
        loan_row(
            &format!("L{k}"),
            "P1",
            "STS",
            shift(restart, -k).unwrap(),
            None,
        )
    };
    env.import(
        &[patron_row("P1", "Camille Martin", "p1@example.fr", false)],
        &[late(7), late(8), late(9)],
    );
    let summary = env.run(restart);
    assert_eq!(summary.planned_days, [restart]);
    let notices = env.store.notices_on(restart).unwrap();
    let loans: Vec<_> = notices[0]
        .loans
        .iter()
        .map(|l| l.loan_id.to_string())
        .collect();
    assert_eq!(loans, ["L7"], "nothing from before the restart day");
}

#[test]
fn resume_plans_the_given_day_only_even_after_a_short_gap() {
    let env = TestEnv::new();
    let restart = day(RESTART);
    block_on(env.store.set_watermark(shift(restart, -2).unwrap())).unwrap();
    let watermark = relance_core::schedule::resume_watermark(restart).unwrap();
    block_on(env.store.set_watermark(watermark)).unwrap();
    env.import(
        &[patron_row("P1", "Camille Martin", "p1@example.fr", false)],
        &[loan_row(
            "L8",
            "P1",
            "STS",
            shift(restart, -8).unwrap(),
            None,
        )],
    );
    let summary = env.run(restart);
    assert_eq!(summary.planned_days, [restart]);
    assert!(env.store.notices_on(restart).unwrap().is_empty());
}
