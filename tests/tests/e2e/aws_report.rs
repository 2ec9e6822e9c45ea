//! The staff report on AWS (rules §13) against the emulators: after a day's
//! fan-out, the report function sends the staff inbox the day's report through
//! SES (moto), with its CSV and the dead-letter queues' depth — once per run
//! day, however often it is invoked.

use chrono::Duration;
use mail_parser::{MessageParser, MimeHeaders};
use relance_report::ReportEvent;
use relance_tests::emulators::sent_mail;
use relance_tests::stack::{SENDER, SENT_MAIL, Stack, morning, new_mail, to};
use relance_tests::{LOANS_HEADER, PATRONS_HEADER, day, loan_row, patron_row};

const STAFF: &str = "equipe-contentieux@bibliotheques.example.fr";

#[tokio::test(flavor = "multi_thread")]
async fn a_run_day_ends_with_one_staff_report_in_sent_mail() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::new().await;
    let run_day = day("2026-11-30");
    stack
        .import(
            "patrons.csv",
            &[
                patron_row("P1", "Camille Martin", "camille.martin@example.org", false),
                patron_row("P2", "Jean Sans-Courriel", "", false),
            ],
            PATRONS_HEADER,
        )
        .await;
    let first = run_day - Duration::days(7);
    stack
        .import(
            "loans.csv",
            &[
                loan_row("L1", "P1", "STS", first, None),
                loan_row("L2", "P2", "DRT", first, None),
            ],
            LOANS_HEADER,
        )
        .await;
    stack.plan(run_day).await;
    assert_eq!(stack.deliver_mail(morning(run_day)).await, 0);
    assert_eq!(stack.deliver_letters(morning(run_day)).await, 0);
    let dead_letters = stack.dead_letter_queue().await;
    stack
        .clients
        .sqs
        .send_message()
        .queue_url(&dead_letters)
        .message_body("{}")
        .send()
        .await
        .expect("a dead letter");
    let report = stack
        .report(&[("letters".to_owned(), dead_letters.clone())])
        .await;
    let before = sent_mail().len();
    let event = ReportEvent {
        scheduled_time: Some(morning(run_day) + Duration::hours(4)),
        ..ReportEvent::default()
    };
    let at = morning(run_day) + Duration::hours(4);
    let sent = report.handle(event.clone(), at).await.expect("sent");
    assert_eq!(sent.run_day, run_day);
    assert!(sent.sent_now);
    assert_eq!(sent.notices, 2, "P1's reminder and P2's letter");
    // Invoked again (a Lambda retry, a console event): nothing more is sent.
    let again = report
        .handle(event, at + Duration::minutes(10))
        .await
        .expect("done");
    assert!(!again.sent_now);
    let console = ReportEvent {
        date: Some(run_day),
        ..ReportEvent::default()
    };
    assert!(!report.handle(console, at).await.expect("done").sent_now);

    let mail = new_mail(before);
    let staff = to(&mail, STAFF);
    assert_eq!(staff.len(), 1, "one report: {:?}", mail.len());
    assert_eq!(staff[0].source, SENDER);
    let parsed = MessageParser::default()
        .parse(staff[0].raw.as_bytes())
        .expect("MIME");
    let subject = parsed.subject().unwrap_or_default();
    // The test institution writes French.
    assert!(
        subject.starts_with("Relance – exécution du 30/11/2026 : "),
        "{subject}"
    );
    let text = parsed.body_text(0).expect("text");
    let sent_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("courriels envoyés"));
    assert!(sent_line.is_some_and(|l| l.ends_with(" 1")), "{text}");
    assert!(text.lines().any(|l| l == "  letters 1"), "{text}");
    let csv = parsed.attachment(0).expect("the CSV");
    assert_eq!(csv.attachment_name(), Some("notices-2026-11-30.csv"));
    assert_eq!(String::from_utf8_lossy(csv.contents()).lines().count(), 3);
}
