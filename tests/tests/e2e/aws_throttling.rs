//! SES throttling injected for some sends: they are retried, nothing is lost.
//!
//! moto cannot throttle, so the SES client talks to moto through
//! [`ThrottlingProxy`], which answers chosen `SendEmail` requests with SES's own
//! throttling error (429, `TooManyRequestsException`) and forwards the rest. Two
//! layers of retry are shown: the SDK's (3 attempts, standard mode), which
//! absorbs a short throttle, and SQS redelivery of the messages the mailer
//! reports as batch item failures when throttling outlasts the SDK's attempts.
//! Tests run one at a time because moto's record of sent mail is shared.

use std::collections::BTreeSet;

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::{Duration, NaiveDate};
use relance_aws::Clients;
use relance_aws::mail::SesTransport;
use relance_aws::queue::{MailMessage, decode};
use relance_core::address::EmailAddress;
use relance_core::ids::NoticeId;
use relance_core::notice::{Notice, NoticeStatus};
use relance_core::ports::{MailTransport, OutgoingMail, TransportError};
use relance_mailer::Mailer;
use relance_tests::emulators::sent_mail;
use relance_tests::stack::{SENDER, SENT_MAIL, Stack, morning, new_mail, to};
use relance_tests::throttle::{ThrottlingProxy, addressed_to, first, never};
use relance_tests::{LOANS_HEADER, PATRONS_HEADER, day, loan_row, patron_row};

/// Attempts the SES transport lets the SDK make (`relance_aws::mail`).
const SDK_ATTEMPTS: usize = 3;

/// Six patrons with an email, each with one loan reaching the first reminder on
/// `run_day`; their addresses are unique to this test process and `tag`.
async fn six_patrons(stack: &Stack, run_day: NaiveDate, tag: &str) -> Vec<String> {
    let due = run_day - Duration::days(7);
    let pid = std::process::id();
    let emails: Vec<String> = (1..=6)
        .map(|i| format!("patron{i}.{tag}.{pid}@example.org"))
        .collect();
    let patrons: Vec<String> = emails
        .iter()
        .enumerate()
        .map(|(i, email)| {
            patron_row(
                &format!("P{}", i + 1),
                &format!("Patron {}", i + 1),
                email,
                false,
            )
        })
        .collect();
    let loans: Vec<String> = (1..=6)
        .map(|i| loan_row(&format!("L{i}"), &format!("P{i}"), "STS", due, None))
        .collect();
    stack.import("patrons.csv", &patrons, PATRONS_HEADER).await;
    stack.import("loans.csv", &loans, LOANS_HEADER).await;
    emails
}

/// Clients whose SES client goes through `proxy` (dummy credentials, the
/// emulators' region); every other client is the stack's, straight to the emulators.
fn clients_through(stack: &Stack, proxy: &ThrottlingProxy) -> Clients {
    let mut clients = stack.clients.clone();
    clients.ses = Clients::for_emulators(&proxy.url(), &proxy.url()).ses;
    clients
}

/// The mailer function with its SES client going through `proxy`.
async fn mailer_through(stack: &Stack, proxy: &ThrottlingProxy) -> Mailer {
    Mailer::new(
        stack.function_with(clients_through(stack, proxy)).await,
        None,
    )
    .await
}

/// The notice a queued message names.
async fn notice_of(stack: &Stack, body: &str) -> Notice {
    let request: MailMessage = decode(body).expect("mail message");
    let id = request.notice_id.clone();
    stack
        .dynamo()
        .notice(&id)
        .await
        .expect("ledger read")
        .expect("notice in the ledger")
}

/// The email address of each queued message's patron (P1 → `emails[0]`).
async fn recipients(stack: &Stack, event: &SqsEvent, emails: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for record in &event.records {
        let notice = notice_of(stack, record.body.as_deref().expect("body")).await;
        let n: usize = notice.patron_id.as_str()[1..].parse().expect("P{n}");
        out.push(emails[n - 1].clone());
    }
    out
}

/// The ledger status of every queued message's notice, by recipient.
async fn statuses(
    stack: &Stack,
    event: &SqsEvent,
    emails: &[String],
) -> Vec<(String, NoticeStatus, u32)> {
    let mut out = Vec::new();
    for (record, email) in event
        .records
        .iter()
        .zip(recipients(stack, event, emails).await)
    {
        let notice = notice_of(stack, record.body.as_deref().expect("body")).await;
        out.push((email, notice.status, notice.attempts));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ses_transport_reads_the_injected_429_as_throttling_after_its_own_attempts() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::new().await;
    let proxy = ThrottlingProxy::for_moto(Box::new(|_| true));
    let transport = SesTransport::new(&clients_through(&stack, &proxy).ses, None);
    let recipient = format!("transport.{}@example.org", std::process::id());
    let mail = OutgoingMail {
        notice_id: NoticeId::derive("throttling-transport"),
        run_day: day("2026-11-30"),
        name: "first_reminder-T".into(),
        from: EmailAddress::parse(SENDER).expect("sender"),
        to: EmailAddress::parse(&recipient).expect("recipient"),
        raw: format!(
            "From: {SENDER}\r\nTo: {recipient}\r\nSubject: test\r\nMessage-ID: <t@relance>\r\n\r\nHello\r\n"
        )
        .into_bytes(),
    };
    let before = sent_mail().len();

    let err = transport.send(&mail).await.expect_err("throttled");
    assert!(matches!(err, TransportError::Throttled { .. }), "{err:?}");
    assert!(
        err.to_string().contains("TooManyRequestsException"),
        "{err}"
    );
    assert_eq!(
        proxy.throttled(),
        SDK_ATTEMPTS,
        "the SDK retried the throttle itself"
    );
    assert_eq!(proxy.forwarded_sends(), 0);
    assert!(to(&new_mail(before), &recipient).is_empty());

    proxy.set_rule(never());
    let id = transport
        .send(&mail)
        .await
        .expect("sent once the throttling stops");
    assert!(!id.is_empty());
    assert_eq!(
        (proxy.throttled(), proxy.forwarded_sends()),
        (SDK_ATTEMPTS, 1)
    );
    assert_eq!(to(&new_mail(before), &recipient).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttle_the_sdk_absorbs_never_reaches_the_mailer() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::new().await;
    let run_day = day("2026-11-30");
    let emails = six_patrons(&stack, run_day, "absorbed").await;
    let planned = stack.plan(run_day).await;
    assert_eq!(planned.emails_queued, 6, "{:?}", planned.summary);
    let before = sent_mail().len();

    // The first send is throttled twice: its third and last SDK attempt succeeds.
    let proxy = ThrottlingProxy::for_moto(first(SDK_ATTEMPTS - 1));
    let event = stack.drain(&stack.resources.mail_queue_url).await;
    assert_eq!(event.records.len(), 6);
    let response = mailer_through(&stack, &proxy)
        .await
        .handle(event.clone(), morning(run_day))
        .await;

    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
    assert_eq!(proxy.throttled(), SDK_ATTEMPTS - 1);
    assert_eq!(proxy.forwarded_sends(), 6);
    let mail = new_mail(before);
    for email in &emails {
        assert_eq!(to(&mail, email).len(), 1, "{email}");
    }
    for (email, status, attempts) in statuses(&stack, &event, &emails).await {
        assert!(
            matches!(status, NoticeStatus::Sent { .. }),
            "{email}: {status:?}"
        );
        assert_eq!(attempts, 0, "{email}: no failed attempt recorded");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sends_throttled_past_the_sdk_are_redelivered_and_sent_exactly_once() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::new().await;
    let run_day = day("2026-11-30");
    let emails = six_patrons(&stack, run_day, "redelivered").await;
    let planned = stack.plan(run_day).await;
    assert_eq!(planned.emails_queued, 6, "{:?}", planned.summary);
    let before = sent_mail().len();

    // P2, P4 and P6 are throttled on every attempt; the others go through.
    let throttled: BTreeSet<String> = [1, 3, 5].iter().map(|&i| emails[i].clone()).collect();
    let picked: Vec<&str> = throttled.iter().map(String::as_str).collect();
    let proxy = ThrottlingProxy::for_moto(addressed_to(&picked));
    let event = stack.drain(&stack.resources.mail_queue_url).await;
    assert_eq!(event.records.len(), 6);
    let addressed = recipients(&stack, &event, &emails).await;
    let mailer = mailer_through(&stack, &proxy).await;
    let response = mailer.handle(event.clone(), morning(run_day)).await;

    // Those three messages are reported for redelivery, the rest are done.
    let failed: BTreeSet<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    let expected: BTreeSet<String> = event
        .records
        .iter()
        .zip(&addressed)
        .filter(|(_, email)| throttled.contains(*email))
        .map(|(record, _)| record.message_id.clone().expect("message id"))
        .collect();
    assert_eq!(failed, expected);
    assert_eq!(
        proxy.throttled(),
        3 * SDK_ATTEMPTS,
        "each tried by the SDK 3 times"
    );
    assert_eq!(proxy.forwarded_sends(), 3);
    let mail = new_mail(before);
    for email in &emails {
        let want = usize::from(!throttled.contains(email));
        assert_eq!(to(&mail, email).len(), want, "{email}");
    }
    // Throttled notices stay pending (not sent, cancelled or fallen back to
    // print), their lease released, one failed attempt recorded.
    for (email, status, attempts) in statuses(&stack, &event, &emails).await {
        if throttled.contains(&email) {
            assert_eq!(status, NoticeStatus::Pending, "{email}");
            assert_eq!(attempts, 1, "{email}");
        } else {
            assert!(
                matches!(status, NoticeStatus::Sent { .. }),
                "{email}: {status:?}"
            );
        }
    }
    let letters = stack.drain(&stack.resources.letter_queue_url).await;
    assert!(letters.records.is_empty(), "no print fallback queued");

    // SQS delivers the failed messages again, a minute later, once the
    // throttling has stopped; then the whole batch again, as a duplicate.
    proxy.set_rule(never());
    let mut again = event.clone();
    again
        .records
        .retain(|r| failed.contains(r.message_id.as_deref().unwrap_or_default()));
    assert_eq!(again.records.len(), 3);
    let later = morning(run_day) + Duration::minutes(1);
    let response = mailer.handle(again, later).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
    let response = mailer
        .handle(event.clone(), later + Duration::minutes(1))
        .await;
    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );

    assert_eq!(proxy.throttled(), 3 * SDK_ATTEMPTS);
    assert_eq!(proxy.forwarded_sends(), 6, "each notice handed to SES once");
    let mail = new_mail(before);
    for email in &emails {
        assert_eq!(to(&mail, email).len(), 1, "{email}: exactly once");
    }
    for (email, status, _) in statuses(&stack, &event, &emails).await {
        assert!(
            matches!(status, NoticeStatus::Sent { .. }),
            "{email}: {status:?}"
        );
    }
}
