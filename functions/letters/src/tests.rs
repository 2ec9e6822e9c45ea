//! The letters function's decisions, on the embedded store, an in-memory
//! fan-out book and the outbox: one batch per library and run day, counted.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsMessage;
use chrono::{Duration, NaiveDate};
use relance_aws::fanout::{FanOutBook, MemoryBook};
use relance_aws::queue::LetterMessage;
use relance_aws::recheck::Recheck;
use relance_core::ids::{LibraryCode, LoanId};
use relance_testkit::{LibrarySystem, Outbox, Store, TestEnv, block_on, day, loan_row, patron_row};

use super::*;

type TestLetters = Letters<Store, MemoryBook<Store>, Outbox, Outbox>;

fn run_day() -> NaiveDate {
    day("2026-11-30")
}

/// Two loans 35 days overdue at LSH, planned and recorded: two letters.
fn planned() -> TestEnv {
    let env = TestEnv::new();
    let due = run_day() - Duration::days(35);
    env.import(
        &[
            patron_row("P1", "Camille Martin", "camille.martin@example.org", false),
            patron_row("P2", "Ngozi Okafor", "ngozi.okafor@example.org", false),
        ],
        &[
            loan_row("L1", "P1", "LSH", due, None),
            loan_row("L2", "P2", "LSH", due, None),
        ],
    );
    block_on(env.engine().plan_and_record(run_day(), false)).expect("planned");
    env
}

fn letters(env: &TestEnv) -> (TestLetters, Arc<MemoryBook<Store>>) {
    let book = Arc::new(MemoryBook::new(env.store.clone()));
    let letters = Letters::with_ports(
        env.config.clone(),
        Templates::shipped(),
        env.store.clone(),
        book.clone(),
        Outbox::new(env.path().join("outbox")),
        Outbox::new(env.path().join("outbox")),
    );
    (letters, book)
}

fn message(library: &str) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(format!("m-{library}"));
    message.body = Some(
        serde_json::to_string(&LetterMessage {
            run_day: run_day(),
            library: LibraryCode::parse(library).unwrap(),
        })
        .unwrap(),
    );
    message
}

#[test]
fn a_library_message_renders_its_batch_once_and_counts_it() {
    let env = planned();
    let (letters, book) = letters(&env);
    let now = env.now(run_day());
    let summary = block_on(letters.handle_message(&message("LSH"), now)).expect("delivered");
    assert_eq!(summary.letters_rendered, 2);
    // The duplicate finds nothing pending: no second batch, nothing counted.
    let again = block_on(letters.handle_message(&message("LSH"), now)).expect("delivered");
    assert_eq!(again.letters_rendered, 0);
    let delivered = block_on(book.delivered(&[run_day()])).unwrap();
    assert_eq!(delivered[&run_day()].get("letters_rendered"), Some(&2));
    assert_eq!(delivered[&run_day()].get("letter_batches"), Some(&1));
    let files = env.letter_files(run_day(), "LSH");
    let batches = files
        .iter()
        .filter(|f| {
            f.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("batch"))
        })
        .count();
    assert_eq!(batches, 1, "{files:?}");
}

#[test]
fn a_library_without_pending_letters_sends_nothing() {
    let env = planned();
    let (letters, book) = letters(&env);
    let summary =
        block_on(letters.handle_message(&message("STS"), env.now(run_day()))).expect("delivered");
    assert_eq!(summary.letters_rendered, 0);
    assert!(env.letter_files(run_day(), "STS").is_empty());
    assert!(block_on(book.delivered(&[run_day()])).unwrap().is_empty());
}

#[test]
fn an_unreadable_message_is_reported_for_sqs_to_deliver_again() {
    let env = planned();
    let (letters, _) = letters(&env);
    let mut bad = message("LSH");
    bad.message_id = Some("m-bad".into());
    bad.body = Some(r#"{"run_day": "2026-11-30", "library": "../LSH"}"#.into());
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    event.records = vec![bad, message("LSH")];
    let response = block_on(letters.handle(event, env.now(run_day())));
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m-bad"]);
    assert!(!env.letter_files(run_day(), "LSH").is_empty());
}

#[test]
fn a_letter_whose_loan_the_system_says_is_returned_is_cancelled_before_printing() {
    let env = planned();
    let back = env.now(run_day()) - Duration::hours(20);
    let (letters, book) = letters(&env);
    let letters = letters.with_recheck(Some(Recheck::new(
        Some(LibrarySystem::returned(&["L2"], back)),
        10,
        RECHECK_WINDOW,
    )));
    let summary =
        block_on(letters.handle_message(&message("LSH"), env.now(run_day()))).expect("delivered");
    assert_eq!((summary.letters_rendered, summary.cancelled), (1, 1));
    let delivered = block_on(book.delivered(&[run_day()])).unwrap();
    let counters = &delivered[&run_day()];
    assert_eq!(counters.get("letters_cancelled"), Some(&1));
    assert_eq!(counters.get("rechecked_returned"), Some(&1));
    assert_eq!(
        counters.get("recheck_calls"),
        Some(&2),
        "both loans asked about"
    );
    let loans = block_on(env.store.loans(&[LoanId::parse("L2").unwrap()])).unwrap();
    assert_eq!(loans[0].returned_at, Some(back));
}
