//! The mailer's decisions, on the embedded store and an in-memory fan-out book:
//! what it sends, what it leaves to SQS, what it counts.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::{Duration, NaiveDate};
use relance_aws::fanout::{Claim, FanOutBook, MemoryBook, RECHECK_CALLS, with_delivered};
use relance_aws::queue::MailMessage;
use relance_core::ids::{LoanId, NoticeId};
use relance_core::ladder::Channel;
use relance_core::notice::Notice;
use relance_core::summary::RunSummary;
use relance_testkit::{LibrarySystem, Outbox, Store, TestEnv, block_on, day, loan_row, patron_row};

use super::*;

type TestMailer = Mailer<Store, MemoryBook<Store>, Outbox>;
type RecheckingMailer = Mailer<Store, MemoryBook<Store>, Outbox, LibrarySystem>;

/// A patron with one loan 7 days overdue on `RUN_DAY`: its first reminder,
/// planned and recorded, waiting for the mailer.
fn planned() -> (TestEnv, Notice) {
    let (env, mut notices) = planned_for(&["P1"]);
    (env, notices.remove(0))
}

/// Patrons `P1`, `P2`…, each with one loan (`L1`, `L2`…) 7 days overdue on
/// `RUN_DAY`: their first reminders, planned and recorded, in that order.
fn planned_for(patrons: &[&str]) -> (TestEnv, Vec<Notice>) {
    let env = TestEnv::new();
    let rows: Vec<String> = patrons
        .iter()
        .map(|p| patron_row(p, "Camille Martin", &format!("{p}@example.org"), false))
        .collect();
    let loans: Vec<String> = patrons
        .iter()
        .map(|p| {
            let loan = p.replacen('P', "L", 1);
            loan_row(&loan, p, "STS", run_day() - Duration::days(7), None)
        })
        .collect();
    env.import(&rows, &loans);
    let (_, plan) = block_on(env.engine().plan_and_record(run_day(), false)).expect("planned");
    let mut notices: Vec<Notice> = plan
        .notices
        .into_iter()
        .filter(|n| n.channel == Channel::Email)
        .collect();
    notices.sort_by(|a, b| a.patron_id.cmp(&b.patron_id));
    assert_eq!(notices.len(), patrons.len());
    (env, notices)
}

fn run_day() -> NaiveDate {
    day("2026-11-30")
}

fn mailer(env: &TestEnv) -> (TestMailer, Arc<MemoryBook<Store>>) {
    let book = Arc::new(MemoryBook::new(env.store.clone()));
    let mailer = Mailer::with_ports(
        env.config.clone(),
        Templates::shipped(),
        env.store.clone(),
        book.clone(),
        Outbox::new(env.path().join("outbox")),
    );
    (mailer, book)
}

fn event(bodies: &[String]) -> SqsEvent {
    let mut event = SqsEvent::default();
    for (i, body) in bodies.iter().enumerate() {
        let mut message = SqsMessage::default();
        message.message_id = Some(format!("m{i}"));
        message.body = Some(body.clone());
        event.records.push(message);
    }
    event
}

fn message_for(notice: &Notice) -> String {
    serde_json::to_string(&MailMessage {
        notice_id: notice.id.clone(),
        run_day: run_day(),
    })
    .unwrap()
}

#[test]
fn a_queued_notice_is_sent_once_and_counted_for_its_run_day() {
    let (env, notice) = planned();
    let (mailer, book) = mailer(&env);
    let now = env.now(run_day());
    let batch = event(&[message_for(&notice), message_for(&notice)]);
    let response = block_on(mailer.handle(batch, now));
    assert!(response.batch_item_failures.is_empty());
    // The duplicate found the notice sent: one email, one count.
    assert_eq!(env.mail_files(run_day()).len(), 1);
    let delivered = block_on(book.delivered(&[run_day()])).unwrap();
    assert_eq!(delivered[&run_day()].get("sent"), Some(&1));
    let again = block_on(mailer.handle_message(&event(&[message_for(&notice)]).records[0], now));
    assert_eq!(again, Outcome::Done(None));
}

#[test]
fn a_notice_claimed_by_another_invocation_is_left_to_sqs_and_not_sent() {
    let (env, notice) = planned();
    let (mailer, book) = mailer(&env);
    let now = env.now(run_day());
    let other = block_on(book.claim(&notice.id, now, LEASE)).unwrap();
    assert!(matches!(other, Claim::Claimed(_)));
    let response = block_on(mailer.handle(event(&[message_for(&notice)]), now));
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier, "m0");
    assert!(env.mail_files(run_day()).is_empty());
    // Once the other invocation's lease is over, the notice is this one's.
    let later = now + LEASE + Duration::seconds(1);
    let response = block_on(mailer.handle(event(&[message_for(&notice)]), later));
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(env.mail_files(run_day()).len(), 1);
}

#[test]
fn an_unreadable_message_fails_alone_and_the_others_go() {
    let (env, notice) = planned();
    let (mailer, _) = mailer(&env);
    let bodies = [
        r#"{"notice_id": "../../etc/passwd", "run_day": "2026-11-30"}"#.to_owned(),
        message_for(&notice),
    ];
    let response = block_on(mailer.handle(event(&bodies), env.now(run_day())));
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m0"]);
    assert_eq!(env.mail_files(run_day()).len(), 1);
}

#[test]
fn a_message_for_a_notice_that_does_not_exist_is_done_with() {
    let (env, notice) = planned();
    let (mailer, _) = mailer(&env);
    let mut missing = notice.clone();
    missing.id = NoticeId::derive("a notice never planned");
    let message = &event(&[message_for(&missing)]).records[0];
    let outcome = block_on(mailer.handle_message(message, env.now(run_day())));
    assert_eq!(outcome, Outcome::Done(None));
    assert!(env.mail_files(run_day()).is_empty());
}

#[test]
fn the_tally_counts_each_outcome_under_its_own_name() {
    let outcomes = [
        Outcome::Done(Some(Delivery::Sent("m1".into()))),
        Outcome::Done(Some(Delivery::Sent("m2".into()))),
        Outcome::Done(Some(Delivery::Unsendable("template".into()))),
        Outcome::Done(None),
        Outcome::Retry("throttled".into()),
    ];
    assert_eq!(
        Tally::of(&outcomes),
        Tally {
            sent: 2,
            unsendable: 1,
            already_handled: 1,
            retries: 1,
            ..Tally::default()
        }
    );
}

/// The test mailer, checking loans against `system` within `max_calls` a day.
fn rechecking(
    env: &TestEnv,
    system: LibrarySystem,
    max_calls: u32,
) -> (RecheckingMailer, Arc<MemoryBook<Store>>) {
    let (mailer, book) = mailer(env);
    let mailer = mailer.with_recheck(Some(Recheck::new(Some(system), max_calls, RECHECK_WINDOW)));
    (mailer, book)
}

fn counter(book: &MemoryBook<Store>, name: &str) -> u64 {
    let delivered = block_on(book.delivered(&[run_day()])).unwrap();
    delivered
        .get(&run_day())
        .and_then(|c| c.get(name))
        .copied()
        .unwrap_or(0)
}

#[test]
fn a_loan_the_system_says_is_returned_cancels_its_reminder_and_is_recorded() {
    let (env, notice) = planned();
    let back = env.now(run_day()) - Duration::hours(15);
    let (mailer, book) = rechecking(&env, LibrarySystem::returned(&["L1"], back), 10);
    let response = block_on(mailer.handle(event(&[message_for(&notice)]), env.now(run_day())));
    assert!(response.batch_item_failures.is_empty());
    assert!(env.mail_files(run_day()).is_empty(), "nothing sent");
    assert_eq!(counter(&book, "cancelled"), 1);
    assert_eq!(counter(&book, "rechecked_returned"), 1);
    assert_eq!(counter(&book, RECHECK_CALLS), 1);
    let loans = block_on(env.store.loans(&[LoanId::parse("L1").unwrap()])).unwrap();
    assert_eq!(
        loans[0].returned_at,
        Some(back),
        "the return is recorded at the system's time"
    );
}

#[test]
fn the_days_budget_is_shared_by_invocations_and_what_went_unchecked_is_counted() {
    let (env, notices) = planned_for(&["P1", "P2"]);
    let (mailer, book) = rechecking(&env, LibrarySystem::default(), 1);
    let now = env.now(run_day());
    // Two invocations, one message each: the second finds the day's one call spent.
    for notice in &notices {
        let response = block_on(mailer.handle(event(&[message_for(notice)]), now));
        assert!(response.batch_item_failures.is_empty());
    }
    assert_eq!(env.mail_files(run_day()).len(), 2, "both go as planned");
    assert_eq!(counter(&book, RECHECK_CALLS), 1);
    assert_eq!(counter(&book, "not_rechecked"), 1);
    // The staff report reads it from the day's counters.
    let mut summary = RunSummary::default();
    with_delivered(
        &mut summary,
        &block_on(book.delivered(&[run_day()])).unwrap()[&run_day()],
    );
    assert_eq!((summary.emails_sent, summary.not_rechecked), (2, 1));
}

#[test]
fn when_the_system_is_down_the_batch_goes_as_planned_and_asks_it_once() {
    let (env, notices) = planned_for(&["P1", "P2", "P3"]);
    let (mailer, book) = rechecking(&env, LibrarySystem::down(), 10);
    let bodies: Vec<String> = notices.iter().map(message_for).collect();
    let response = block_on(mailer.handle(event(&bodies), env.now(run_day())));
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(env.mail_files(run_day()).len(), 3);
    assert_eq!(
        counter(&book, RECHECK_CALLS),
        1,
        "not asked again in the batch"
    );
    assert_eq!(counter(&book, "not_rechecked"), 3);
}

#[test]
fn past_its_window_an_invocation_asks_nothing_and_the_reminder_goes_as_planned() {
    let (env, notice) = planned();
    let back = env.now(run_day()) - Duration::hours(15);
    let (mailer, book) = mailer(&env);
    // A window already over: a system that would say L1 came back is not asked.
    let mailer = mailer.with_recheck(Some(Recheck::new(
        Some(LibrarySystem::returned(&["L1"], back)),
        10,
        std::time::Duration::ZERO,
    )));
    let response = block_on(mailer.handle(event(&[message_for(&notice)]), env.now(run_day())));
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(env.mail_files(run_day()).len(), 1, "sent as planned");
    assert_eq!(
        counter(&book, RECHECK_CALLS),
        0,
        "no call taken from the day"
    );
    assert_eq!(counter(&book, "not_rechecked"), 1);
    assert_eq!(counter(&book, "rechecked_returned"), 0);
}
