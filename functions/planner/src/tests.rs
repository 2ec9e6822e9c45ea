//! The planner's decisions, on the embedded store, an in-memory fan-out book
//! and in-memory queues: what it queues, what it records, what it refuses.

use std::sync::Arc;

use chrono::Duration;
use relance_aws::fanout::MemoryBook;
use relance_aws::queue::MemoryQueue;
use relance_testkit::{Store, TestEnv, block_on, day, loan_row, patron_row};

use super::*;

type TestPlanner = Planner<Store, MemoryBook<Store>, MemoryQueue>;

fn run_day() -> NaiveDate {
    day("2026-11-30")
}

/// Two patrons 7 days overdue on the run day (one email each, one without an
/// address: a letter at STS), and one loan 35 days overdue at LSH (a letter).
fn env() -> TestEnv {
    let env = TestEnv::new();
    let first = run_day() - Duration::days(7);
    env.import(
        &[
            patron_row("P1", "Camille Martin", "camille.martin@example.org", false),
            patron_row("P2", "Jean Sans-Courriel", "", false),
            patron_row("P3", "Ngozi Okafor", "ngozi.okafor@example.org", false),
        ],
        &[
            loan_row("L1", "P1", "STS", first, None),
            loan_row("L2", "P1", "DRT", first, None),
            loan_row("L3", "P2", "STS", first, None),
            loan_row("L4", "P3", "LSH", run_day() - Duration::days(35), None),
        ],
    );
    env
}

fn planner(env: &TestEnv) -> (TestPlanner, Arc<MemoryBook<Store>>) {
    let book = Arc::new(MemoryBook::new(env.store.clone()));
    let planner = Planner::with_ports(
        env.config.clone(),
        Templates::shipped(),
        env.store.clone(),
        book.clone(),
        (MemoryQueue::default(), MemoryQueue::default()),
    );
    (planner, book)
}

fn on(run_day: NaiveDate) -> PlannerEvent {
    PlannerEvent {
        date: Some(run_day),
        ..PlannerEvent::default()
    }
}

#[test]
fn a_run_queues_each_email_once_and_each_library_with_letters_once() {
    let env = env();
    let (planner, book) = planner(&env);
    let output = block_on(planner.handle(on(run_day()))).expect("planned");
    assert_eq!(output.emails_queued, 1);
    assert_eq!(output.letter_batches_queued, 2);
    let mail: Vec<MailMessage> = planner.mail_queue.sent();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].run_day, run_day());
    let mut libraries: Vec<String> = planner
        .letter_queue
        .sent::<LetterMessage>()
        .into_iter()
        .map(|m| m.library.to_string())
        .collect();
    libraries.sort();
    assert_eq!(libraries, ["LSH", "STS"]);
    // The manifest is recorded, and the watermark moved to the run day.
    let runs = block_on(book.runs(10)).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].run_day, run_day());
    assert_eq!(block_on(env.store.watermark()).unwrap(), Some(run_day()));
}

#[test]
fn the_next_run_queues_what_is_still_pending_and_plans_nothing_twice() {
    let env = env();
    let (planner, _) = planner(&env);
    block_on(planner.handle(on(run_day()))).expect("planned");
    // Nothing was delivered: the next day's run queues the same notices again.
    let next = block_on(planner.handle(on(run_day() + Duration::days(1)))).expect("planned");
    assert_eq!(next.summary.notices.values().sum::<usize>(), 0);
    assert_eq!(next.emails_queued, 1);
    assert_eq!(next.letter_batches_queued, 2);
    let mail: Vec<MailMessage> = planner.mail_queue.sent();
    assert_eq!(mail.len(), 2);
    assert_eq!(mail[0].notice_id, mail[1].notice_id);
}

#[test]
fn a_dry_run_records_and_queues_nothing() {
    let env = env();
    let (planner, book) = planner(&env);
    let event = PlannerEvent {
        dry_run: true,
        ..on(run_day())
    };
    let output = block_on(planner.handle(event)).expect("planned");
    assert!(output.summary.notices.values().sum::<usize>() >= 2);
    assert_eq!((output.emails_queued, output.letter_batches_queued), (0, 0));
    assert!(planner.mail_queue.sent::<MailMessage>().is_empty());
    assert!(block_on(book.runs(10)).unwrap().is_empty());
    assert_eq!(block_on(env.store.watermark()).unwrap(), None);
}

#[test]
fn status_pairs_each_run_with_what_was_delivered_for_its_day() {
    let env = env();
    let (planner, book) = planner(&env);
    block_on(planner.handle(on(run_day()))).expect("planned");
    block_on(planner.handle(on(run_day() + Duration::days(1)))).expect("planned");
    block_on(book.count_delivered(run_day(), &[("sent", 1), ("letter_batches", 2)])).unwrap();
    let status = block_on(planner.status()).expect("status");
    assert_eq!(status.watermark, Some(run_day() + Duration::days(1)));
    let days: Vec<NaiveDate> = status.runs.iter().map(|r| r.summary.run_day).collect();
    assert_eq!(days, [run_day() + Duration::days(1), run_day()]);
    assert!(status.runs[0].delivered.is_empty());
    assert_eq!(status.runs[1].delivered.get("sent"), Some(&1));
    assert_eq!(status.runs[1].delivered.get("letter_batches"), Some(&2));
}

#[test]
fn a_date_far_from_today_is_refused_unless_forced() {
    let env = env();
    let (planner, _) = planner(&env);
    let far = day("2126-11-30");
    let refused = planner.run_day(&on(far)).unwrap_err().to_string();
    assert!(refused.contains("force"), "{refused}");
    let forced = PlannerEvent {
        force: true,
        ..on(far)
    };
    assert_eq!(planner.run_day(&forced).unwrap(), far);
}
