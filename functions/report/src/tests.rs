//! The report function's decisions, on the embedded store, an in-memory
//! fan-out book and queues, and the outbox as transport.

use std::sync::Arc;

use chrono::Duration;
use mail_parser::MessageParser;
use relance_aws::fanout::MemoryBook;
use relance_aws::queue::MemoryQueue;
use relance_testkit::{Outbox, Store, TestEnv, block_on, day, loan_row, patron_row};

use super::*;

type TestReport = Report<Store, MemoryBook<Store>, Outbox, MemoryQueue>;

fn run_day() -> NaiveDate {
    day("2026-11-30")
}

/// A first reminder and a letter planned on the run day, its manifest
/// recorded, one email delivered, and two messages in the letters' dead-letter queue.
fn planned() -> (TestEnv, TestReport, Arc<MemoryBook<Store>>) {
    let env = TestEnv::new();
    env.import(
        &[
            patron_row("P1", "Camille Martin", "camille.martin@example.org", false),
            patron_row("P2", "Jean Sans-Courriel", "", false),
        ],
        &[
            loan_row("L1", "P1", "STS", run_day() - Duration::days(7), None),
            loan_row("L2", "P2", "DRT", run_day() - Duration::days(7), None),
        ],
    );
    let (summary, _) = block_on(env.engine().plan_and_record(run_day(), false)).expect("planned");
    let book = Arc::new(MemoryBook::new(env.store.clone()));
    block_on(book.record_run(&summary)).unwrap();
    block_on(book.count_delivered(run_day(), &[("sent", 1)])).unwrap();
    let letters_dlq = MemoryQueue::default();
    block_on(letters_dlq.send_all(&["lost", "lost again"])).unwrap();
    let report = Report::with_ports(
        env.config.clone(),
        env.store.clone(),
        book.clone(),
        Outbox::new(env.path().join("outbox")),
        vec![
            ("mail".into(), MemoryQueue::default()),
            ("letters".into(), letters_dlq),
        ],
    );
    (env, report, book)
}

fn on(run_day: NaiveDate) -> ReportEvent {
    ReportEvent {
        date: Some(run_day),
        ..ReportEvent::default()
    }
}

#[test]
fn the_days_report_goes_to_the_staff_inbox_once_however_often_invoked() {
    let (env, report, _) = planned();
    let now = env.now(run_day()) + Duration::hours(4);
    let first = block_on(report.handle(on(run_day()), now)).expect("sent");
    assert!(first.sent_now);
    assert_eq!(first.notices, 2);
    let again = block_on(report.handle(on(run_day()), now + Duration::hours(1))).expect("done");
    assert!(!again.sent_now);
    assert_eq!(again.message_id, first.message_id);
    let files = env.mail_files(run_day());
    assert_eq!(files.len(), 1, "{files:?}");
    let raw = std::fs::read(&files[0]).unwrap();
    let message = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        message
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some("equipe-contentieux@bibliotheques.example.fr")
    );
    // The test institution writes French.
    let text = message.body_text(0).unwrap();
    let sent = text
        .lines()
        .find(|l| l.trim_start().starts_with("courriels envoyés"));
    assert!(sent.is_some_and(|l| l.ends_with(" 1")), "{text}");
    assert!(text.lines().any(|l| l == "  mail 0, letters 2"), "{text}");
    assert!(text.contains("first_reminder"), "{text}");
    let csv = message.attachment(0).expect("the notices CSV");
    assert_eq!(
        String::from_utf8_lossy(csv.contents()).lines().count(),
        3,
        "a header and the day's two notices"
    );
}

#[test]
fn a_report_being_sent_by_another_invocation_is_not_sent_twice() {
    let (env, report, book) = planned();
    let now = env.now(run_day()) + Duration::hours(4);
    assert_eq!(
        block_on(book.claim_report(run_day(), now, LEASE)).unwrap(),
        ReportClaim::Claimed
    );
    let refused = block_on(report.handle(on(run_day()), now)).unwrap_err();
    assert!(
        refused.to_string().contains("another invocation"),
        "{refused}"
    );
    assert!(env.mail_files(run_day()).is_empty());
    // The other invocation died: once its lease is over, this one sends it.
    let later = now + LEASE + Duration::seconds(1);
    assert!(
        block_on(report.handle(on(run_day()), later))
            .unwrap()
            .sent_now
    );
    assert_eq!(env.mail_files(run_day()).len(), 1);
}

#[test]
fn a_day_the_planner_did_not_record_still_gets_a_report_that_says_so() {
    let (env, report, _) = planned();
    let day_off = run_day() + Duration::days(1);
    let now = env.now(day_off) + Duration::hours(4);
    let output = block_on(report.handle(on(day_off), now)).expect("sent");
    assert_eq!(output.notices, 0);
    let raw = std::fs::read(&env.mail_files(day_off)[0]).unwrap();
    let message = MessageParser::default().parse(&raw).unwrap();
    let text = message.body_text(0).unwrap();
    assert!(
        text.contains("the planner recorded no run for 2026-12-01"),
        "{text}"
    );
}

#[test]
fn the_scheduled_time_gives_the_local_day_and_a_far_date_is_refused() {
    let (env, report, _) = planned();
    let scheduled = ReportEvent {
        scheduled_time: Some("2026-11-30T05:00:00Z".parse().unwrap()),
        ..ReportEvent::default()
    };
    let now = env.now(run_day());
    assert_eq!(report.run_day(&scheduled, now).unwrap(), run_day());
    assert!(report.run_day(&on(day("2126-01-01")), now).is_err());
    assert!(report.run_day(&ReportEvent::default(), now).is_err());
}

#[test]
fn the_report_lists_the_letters_waiting_for_an_open_day() {
    let config = relance_testkit::CONFIG.replace(
        "catch_up_days = 2\n",
        "catch_up_days = 2\nclosed_weekdays = [\"sunday\"]\n",
    );
    let env = TestEnv::with_config(&config);
    let sunday = day("2026-12-06");
    env.import(
        &[patron_row(
            "P1",
            "Camille Martin",
            "camille.martin@example.org",
            false,
        )],
        &[loan_row(
            "L1",
            "P1",
            "DRT",
            sunday - Duration::days(35),
            None,
        )],
    );
    let (summary, _) = block_on(env.engine().plan_and_record(sunday, false)).expect("planned");
    let book = Arc::new(MemoryBook::new(env.store.clone()));
    block_on(book.record_run(&summary)).unwrap();
    let report: TestReport = Report::with_ports(
        env.config.clone(),
        env.store.clone(),
        book,
        Outbox::new(env.path().join("outbox")),
        Vec::new(),
    );
    block_on(report.handle(on(sunday), env.now(sunday) + Duration::hours(4))).expect("sent");
    let raw = std::fs::read(&env.mail_files(sunday)[0]).unwrap();
    let message = MessageParser::default().parse(&raw).unwrap();
    let text = message.body_text(0).unwrap();
    // The test institution writes French.
    assert!(
        text.contains("1 en attente du prochain jour d'ouverture de leur bibliothèque"),
        "{text}"
    );
    assert!(text.contains(" ; à remettre le 07/12/2026"), "{text}");
}
