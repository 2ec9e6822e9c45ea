//! A renewal restarts the ladder, a return stops it, a recall that keeps the due
//! date fires nothing, and a return between planning and sending cancels.

use relance_core::calendar::shift;
use relance_core::ids::PatronId;
use relance_core::notice::{CancelReason, NoticeStatus};
use relance_core::ports::Ledger;
use relance_tests::{TestEnv, block_on, day, loan_row, patron_row};

const DAY: &str = "2026-11-30";

fn patron() -> Vec<String> {
    vec![patron_row(
        "P1",
        "Camille Martin",
        "camille@example.fr",
        false,
    )]
}

/// (run day, stage) of every loan in the patron's notices, oldest first.
fn history(env: &TestEnv) -> Vec<(String, String)> {
    let mut notices = env
        .store
        .notices_of(&PatronId::parse("P1").unwrap())
        .unwrap();
    notices.reverse();
    notices
        .iter()
        .flat_map(|n| {
            n.loans
                .iter()
                .map(move |l| (n.run_day.to_string(), l.stage.to_string()))
        })
        .collect()
}

fn run_days(env: &TestEnv, from: i64, to: i64) {
    for i in from..=to {
        env.run(shift(day(DAY), i).unwrap());
    }
}

#[test]
fn a_renewal_restarts_the_ladder() {
    let env = TestEnv::new();
    let today = day(DAY);
    env.import(
        &patron(),
        &[loan_row("L1", "P1", "STS", shift(today, -7).unwrap(), None)],
    );
    run_days(&env, 0, 2);
    // Renewed on day 2 until day 20.
    env.import(
        &patron(),
        &[loan_row("L1", "P1", "STS", shift(today, 20).unwrap(), None)],
    );
    run_days(&env, 3, 27);
    assert_eq!(
        history(&env),
        [
            ("2026-11-30".into(), "first_reminder".into()),
            ("2026-12-17".into(), "courtesy".into()),
            ("2026-12-27".into(), "first_reminder".into()),
        ]
    );
}

#[test]
fn a_return_stops_the_ladder() {
    let env = TestEnv::new();
    let today = day(DAY);
    env.import(
        &patron(),
        &[loan_row("L1", "P1", "STS", shift(today, -7).unwrap(), None)],
    );
    run_days(&env, 0, 3);
    env.import(
        &patron(),
        &[loan_row(
            "L1",
            "P1",
            "STS",
            shift(today, -7).unwrap(),
            Some("2026-12-03T15:00:00+01:00"),
        )],
    );
    run_days(&env, 4, 40);
    assert_eq!(
        history(&env),
        [("2026-11-30".into(), "first_reminder".into())]
    );
}

#[test]
fn a_recall_that_keeps_the_due_date_fires_nothing_new() {
    let env = TestEnv::new();
    let today = day(DAY);
    let due = shift(today, -7).unwrap();
    env.import(&patron(), &[loan_row("L1", "P1", "STS", due, None)]);
    env.run(today);
    // Same local date, another time of day.
    let recalled = format!("L1,P1,STS,BL1,\"Titre L1\",Auteur,CN L1,,{due}T12:00:00+01:00,");
    env.import(&patron(), &[recalled]);
    env.run(today);
    env.run(shift(today, 1).unwrap());
    assert_eq!(history(&env).len(), 1);
}

#[test]
fn a_return_between_planning_and_sending_cancels_the_notice() {
    let env = TestEnv::new();
    let today = day(DAY);
    let due = shift(today, -7).unwrap();
    env.import(&patron(), &[loan_row("L1", "P1", "STS", due, None)]);
    let engine = env.engine();
    let (plan, watermark) = block_on(engine.plan(today)).unwrap();
    block_on(env.store.record_plan(&plan, watermark)).unwrap();
    env.import(
        &patron(),
        &[loan_row(
            "L1",
            "P1",
            "STS",
            due,
            Some("2026-11-30T07:00:00+01:00"),
        )],
    );
    let summary = env.run(today);
    assert_eq!((summary.emails_sent, summary.cancelled), (0, 1));
    assert!(
        env.mail_files(today).is_empty(),
        "a cancelled notice is never sent"
    );
    let notices = env.store.notices_on(today).unwrap();
    assert_eq!(
        notices[0].status,
        NoticeStatus::Cancelled {
            reason: CancelReason::NothingLeft
        }
    );
}

#[test]
fn a_loan_returned_since_planning_is_dropped_from_the_email() {
    let env = TestEnv::new();
    let today = day(DAY);
    let due = shift(today, -7).unwrap();
    env.import(
        &patron(),
        &[
            loan_row("L1", "P1", "STS", due, None),
            loan_row("L2", "P1", "DRT", due, None),
        ],
    );
    let engine = env.engine();
    let (plan, watermark) = block_on(engine.plan(today)).unwrap();
    block_on(env.store.record_plan(&plan, watermark)).unwrap();
    env.import(
        &patron(),
        &[loan_row(
            "L2",
            "P1",
            "DRT",
            due,
            Some("2026-11-30T07:00:00+01:00"),
        )],
    );
    assert_eq!(env.run(today).emails_sent, 1);
    let raw = std::fs::read_to_string(&env.mail_files(today)[0]).unwrap();
    let message = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    let text = message.body_text(0).unwrap();
    assert!(
        text.contains("Titre L1") && !text.contains("Titre L2"),
        "{text}"
    );
}
