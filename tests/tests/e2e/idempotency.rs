//! Running a day twice sends nothing twice; a transport failing mid-run loses
//! nothing, and the next run delivers what is missing, once.

use std::collections::HashMap;
use std::sync::Mutex;

use relance_core::calendar::shift;
use relance_core::notice::NoticeStatus;
use relance_core::ports::{MailTransport, OutgoingMail, TransportError};
use relance_local::Outbox;
use relance_tests::{TestEnv, day, loan_row, patron_row};

const DAY: &str = "2026-11-30";

/// Ten patrons, each with a loan 7 days late on DAY: ten first reminders.
fn ten_reminders(env: &TestEnv) {
    let due = shift(day(DAY), -7).unwrap();
    let patrons: Vec<_> = (0..10)
        .map(|i| {
            patron_row(
                &format!("P{i}"),
                "Alex Dupont",
                &format!("p{i}@example.fr"),
                false,
            )
        })
        .collect();
    let loans: Vec<_> = (0..10)
        .map(|i| loan_row(&format!("L{i}"), &format!("P{i}"), "STS", due, None))
        .collect();
    env.import(&patrons, &loans);
}

/// Delivers to the outbox and counts every message per notice; fails every send
/// after the first `succeed` while `failing` is set.
struct CountingTransport<'a> {
    outbox: &'a Outbox,
    succeed: usize,
    failing: Mutex<bool>,
    sent: Mutex<HashMap<String, usize>>,
}

impl MailTransport for CountingTransport<'_> {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, TransportError> {
        let total: usize = self.sent.lock().unwrap().values().sum();
        if *self.failing.lock().unwrap() && total >= self.succeed {
            return Err(TransportError::transient("connection reset"));
        }
        let id = self.outbox.send(mail).await?;
        *self
            .sent
            .lock()
            .unwrap()
            .entry(mail.notice_id.to_string())
            .or_default() += 1;
        Ok(id)
    }
}

#[test]
fn running_the_same_day_twice_sends_nothing_twice() {
    let env = TestEnv::new();
    ten_reminders(&env);
    let first = env.run(day(DAY));
    assert_eq!(first.emails_sent, 10);
    let second = env.run(day(DAY));
    assert!(second.planned_days.is_empty());
    assert_eq!(second.emails_sent, 0);
    assert!(second.notices.is_empty());
    assert_eq!(env.mail_files(day(DAY)).len(), 10);
    assert_eq!(env.store.notices_on(day(DAY)).unwrap().len(), 10);
}

#[test]
fn a_transport_failing_mid_run_loses_nothing_and_the_next_run_delivers_the_rest_once() {
    let env = TestEnv::new();
    ten_reminders(&env);
    let transport = CountingTransport {
        outbox: &env.outbox,
        succeed: 3,
        failing: Mutex::new(true),
        sent: Mutex::new(HashMap::new()),
    };
    let broken = env.run_with(day(DAY), &transport).unwrap();
    assert_eq!(broken.emails_sent, 3);
    assert_eq!(broken.failed + broken.deferred, 7);

    *transport.failing.lock().unwrap() = false;
    let next_day = shift(day(DAY), 1).unwrap();
    let retry = env.run_with(next_day, &transport).unwrap();
    assert_eq!(retry.emails_sent, 7);
    assert_eq!(retry.requeued, 7);

    let sent = transport.sent.lock().unwrap();
    assert_eq!(sent.len(), 10, "every notice delivered");
    assert!(
        sent.values().all(|&n| n == 1),
        "none delivered twice: {sent:?}"
    );
    let notices = env.store.notices_on(day(DAY)).unwrap();
    assert!(
        notices
            .iter()
            .all(|n| matches!(n.status, NoticeStatus::Sent { .. }))
    );
    // The retried emails belong to their run day's outbox folder.
    assert_eq!(env.mail_files(day(DAY)).len(), 10);

    let again = env.run_with(next_day, &transport).unwrap();
    assert_eq!(again.emails_sent, 0);
}
