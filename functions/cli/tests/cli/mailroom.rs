//! `relance inbound` and `relance feedback` on the embedded store: replies to a
//! notice are linked (message id, reference, sender), recorded once, and
//! forwarded to staff with their context; auto-replies are recorded only; a
//! bounce turns the patron's next reminder into a letter.

use std::path::{Path, PathBuf};

use crate::common::*;
use mail_parser::{MessageParser, MimeHeaders};
use relance_core::ladder::Channel;
use relance_core::notice::{Notice, NoticeStatus};
use relance_local::Store;

/// A sent first reminder of the sample, and the mail that carried it.
struct Sent {
    notice: Notice,
    message_id: String,
    subject: String,
    patron_address: String,
}

fn store(dir: &Path) -> Store {
    Store::open(&dir.join("var/relance.db")).unwrap()
}

/// Runs `day(offset)` and returns its sent first reminders with their mail.
fn sent_reminders(dir: &Path, config: &Path, offset: i64) -> Vec<Sent> {
    ok(relance(config, &["run", "--date", &day(offset)]));
    let notices = store(dir).notices_on(day(offset).parse().unwrap()).unwrap();
    notices
        .into_iter()
        .filter(|n| n.channel == Channel::Email && n.stage.as_str() == "first_reminder")
        .filter(|n| matches!(n.status, NoticeStatus::Sent { .. }))
        .map(|notice| {
            let file = dir.join(format!(
                "var/outbox/{}/mail/{}.eml",
                day(offset),
                notice.mail_name()
            ));
            let raw = std::fs::read(&file).unwrap();
            let mail = MessageParser::default().parse(&raw).unwrap();
            Sent {
                message_id: mail.message_id().unwrap().to_owned(),
                subject: mail.subject().unwrap().to_owned(),
                patron_address: mail
                    .to()
                    .unwrap()
                    .first()
                    .unwrap()
                    .address()
                    .unwrap()
                    .to_owned(),
                notice,
            }
        })
        .collect()
}

fn write_mail(dir: &Path, name: &str, headers: &[(&str, &str)], body: &str) -> PathBuf {
    let mut text = String::new();
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    text.push_str(&body.replace('\n', "\r\n"));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn inbound(config: &Path, file: &Path) -> serde_json::Value {
    json(&ok(relance(
        config,
        &["inbound", file.to_str().unwrap(), "--json"],
    )))
}

#[test]
fn a_reply_is_linked_recorded_once_and_forwarded_with_its_context() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 400);
    let sent = sent_reminders(dir.path(), &config, 7);
    let first = sent.first().expect("a first reminder was sent");
    let reply = write_mail(
        dir.path(),
        "reply.eml",
        &[
            ("From", &format!("Une lectrice <{}>", first.patron_address)),
            ("To", "contentieux@bibliotheques.example.fr"),
            ("Subject", &format!("Re: {}", first.subject)),
            ("Message-ID", "<reply-1@mail.example.org>"),
            ("In-Reply-To", &format!("<{}>", first.message_id)),
            ("Date", "Mon, 30 Nov 2026 09:14:02 +0100"),
        ],
        "Bonjour,\nJ'ai rendu ces livres la semaine dernière.\n> Votre rappel\n",
    );

    let out = inbound(&config, &reply);
    assert_eq!(out["class"], "reply");
    assert_eq!(out["linked_by"], "message_id");
    assert_eq!(out["notice_id"], first.notice.id.as_str());
    assert_eq!(out["patron_id"], first.notice.patron_id.as_str());
    assert_eq!(out["forwarded_now"], true);
    let forward_file = PathBuf::from(out["forward_file"].as_str().unwrap());
    assert_eq!(forward_file.file_name().unwrap(), "forward-1.eml");
    assert!(forward_file.starts_with(dir.path().join("var/outbox")));

    let raw = std::fs::read(&forward_file).unwrap();
    let forward = MessageParser::default().parse(&raw).unwrap();
    let from = forward.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Une lectrice via Relance"));
    assert_eq!(from.address(), Some("contentieux@bibliotheques.example.fr"));
    assert_eq!(
        forward.reply_to().unwrap().first().unwrap().address(),
        Some(first.patron_address.as_str())
    );
    assert_eq!(
        forward.to().unwrap().first().unwrap().address(),
        Some("equipe-contentieux@bibliotheques.example.fr")
    );
    let subject = forward.subject().unwrap();
    assert!(
        subject.contains(first.notice.reference.as_str()),
        "{subject}"
    );
    let text = forward.body_text(0).unwrap();
    assert!(text.contains(first.notice.patron_id.as_str()), "{text}");
    assert!(text.contains(first.notice.reference.as_str()), "{text}");
    assert!(text.contains("rendu ces livres"), "{text}");
    let attached = forward
        .attachments()
        .find(|a| a.is_content_type("message", "rfc822"))
        .expect("the original is attached");
    assert_eq!(
        attached.message().unwrap().message_id(),
        Some("reply-1@mail.example.org")
    );

    // The same mail again: recorded once, forwarded once.
    let again = inbound(&config, &reply);
    assert_eq!(again["forwarded_now"], false);
    assert_eq!(again["forwarded"], out["forwarded"]);
    let forwards: Vec<_> = files_under(&dir.path().join("var/outbox"))
        .into_iter()
        .filter(|f| {
            f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("forward-")
        })
        .collect();
    assert_eq!(forwards, vec![forward_file]);

    // The patron's history shows the reply beside its notice.
    let history = json(&ok(relance(
        &config,
        &["history", first.notice.patron_id.as_str(), "--json"],
    )));
    let notice = history["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["notice_id"] == first.notice.id.as_str())
        .unwrap();
    assert_eq!(notice["replies"][0]["class"], "reply");
    assert_eq!(notice["replies"][0]["linked_by"], "message_id");
    assert!(notice["replies"][0]["forwarded"].is_string());
}

#[test]
fn replies_link_by_reference_then_by_sender_and_auto_replies_are_not_forwarded() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 400);
    let sent = sent_reminders(dir.path(), &config, 7);
    let [a, b, ..] = sent.as_slice() else {
        panic!("two first reminders were sent");
    };

    // From an address that is no patron's, with the reference in the subject.
    let by_reference = write_mail(
        dir.path(),
        "by-reference.eml",
        &[
            ("From", "Parent d'un lecteur <parent@example.org>"),
            (
                "Subject",
                &format!("Livres de mon fils (réf. {})", a.notice.reference),
            ),
            ("Message-ID", "<ref-1@example.org>"),
        ],
        "Mon fils est à l'étranger jusqu'en janvier.\n",
    );
    let out = inbound(&config, &by_reference);
    assert_eq!(out["class"], "reply");
    assert_eq!(out["linked_by"], "reference");
    assert_eq!(out["notice_id"], a.notice.id.as_str());
    assert_eq!(out["forwarded_now"], true);
    assert!(
        out["forward_file"]
            .as_str()
            .unwrap()
            .ends_with("forward-1.eml")
    );

    // From the patron's own address, naming nothing: linked to the patron only.
    let by_sender = write_mail(
        dir.path(),
        "by-sender.eml",
        &[
            ("From", &b.patron_address.to_uppercase()),
            ("Subject", "Question"),
            ("Message-ID", "<q-1@example.org>"),
        ],
        "Puis-je prolonger mes prêts ?\n",
    );
    let out = inbound(&config, &by_sender);
    assert_eq!(out["linked_by"], "sender");
    assert_eq!(out["patron_id"], b.notice.patron_id.as_str());
    assert!(out["notice_id"].is_null());
    assert!(
        out["forward_file"]
            .as_str()
            .unwrap()
            .ends_with("forward-2.eml")
    );

    // An out-of-office answer to the notice: recorded, linked, never forwarded.
    let auto = write_mail(
        dir.path(),
        "auto.eml",
        &[
            ("From", &b.patron_address),
            ("Subject", &format!("Réponse automatique : {}", b.subject)),
            ("Auto-Submitted", "auto-replied"),
            ("Message-ID", "<ooo-1@example.org>"),
            ("In-Reply-To", &format!("<{}>", b.message_id)),
        ],
        "Je suis absente jusqu'au 4 janvier.\n",
    );
    let out = inbound(&config, &auto);
    assert_eq!(out["class"], "auto_reply");
    assert_eq!(out["linked_by"], "message_id");
    assert_eq!(out["forwarded_now"], false);
    assert!(out["forwarded"].is_null());
    let text = ok(relance(&config, &["inbound", auto.to_str().unwrap()]));
    assert!(text.contains("recorded, not forwarded"), "{text}");
}

#[test]
fn a_hard_bounce_turns_the_next_reminder_into_a_letter() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 400);
    let sent = sent_reminders(dir.path(), &config, 7);
    let bounced = sent.first().expect("a first reminder was sent");
    let patron = bounced.notice.patron_id.clone();
    let event = serde_json::json!({
        "eventType": "Bounce",
        "bounce": {
            "feedbackId": "0102017c-bounce-1",
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": bounced.patron_address, "status": "5.1.1"}],
            "timestamp": "2026-11-27T07:02:11.000Z"
        },
        "mail": {"messageId": "not-a-message-of-ours", "destination": [bounced.patron_address]}
    });
    let file = dir.path().join("bounce.json");
    std::fs::write(&file, event.to_string()).unwrap();
    let out = json(&ok(relance(
        &config,
        &["feedback", file.to_str().unwrap(), "--json"],
    )));
    assert_eq!(out[0]["record"]["kind"], "hard_bounce");
    assert_eq!(out[0]["record"]["patron_id"], patron.as_str());
    assert_eq!(out[0]["new"], true);
    // The same event again changes nothing.
    let again = json(&ok(relance(
        &config,
        &["feedback", file.to_str().unwrap(), "--json"],
    )));
    assert_eq!(again[0]["new"], false);

    // Fourteen days later the same loans reach the second reminder: the patron
    // gets a letter, not an email.
    ok(relance(&config, &["run", "--date", &day(21)]));
    let next: Vec<Notice> = store(dir.path())
        .notices_of(&patron)
        .unwrap()
        .into_iter()
        .filter(|n| n.run_day.to_string() == day(21))
        .collect();
    let loans: Vec<_> = bounced.notice.loans.iter().map(|l| &l.loan_id).collect();
    let letter = next
        .iter()
        .find(|n| {
            n.channel == Channel::Letter && n.loans.iter().any(|l| loans.contains(&&l.loan_id))
        })
        .unwrap_or_else(|| panic!("a letter for the bounced patron: {next:?}"));
    assert!(
        next.iter().all(|n| n.channel != Channel::Email),
        "no email to a bouncing address: {next:?}"
    );
    let reminded: Vec<_> = letter
        .loans
        .iter()
        .filter(|l| loans.contains(&&l.loan_id))
        .collect();
    assert!(
        reminded
            .iter()
            .all(|l| l.stage.as_str() == "second_reminder"),
        "{reminded:?}"
    );
    let history = json(&ok(relance(
        &config,
        &["history", patron.as_str(), "--json"],
    )));
    assert_eq!(history["email_status"], "bouncing");
    assert_eq!(history["feedback"][0]["kind"], "hard_bounce");
}

#[test]
fn an_event_that_is_no_bounce_or_complaint_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 50);
    let file = dir.path().join("delivery.json");
    std::fs::write(
        &file,
        r#"{"eventType":"Delivery","mail":{"messageId":"x"},"delivery":{"recipients":["a@example.org"]}}"#,
    )
    .unwrap();
    let text = ok(relance(&config, &["feedback", file.to_str().unwrap()]));
    assert!(text.contains("not a bounce or complaint"), "{text}");

    std::fs::write(&file, "{ not json").unwrap();
    let out = relance(&config, &["feedback", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("delivery.json"), "{err}");
}

#[test]
fn a_30_mb_reply_is_forwarded_without_its_attachment_and_kept_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 50);
    // A reply with a 30 MB scan attached, base64 in lines of 76.
    let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    let mut raw = String::from(
        "From: Lecteur <lecteur@example.org>\r\nSubject: Scan du ticket\r\n\
         Message-ID: <big-1@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nVoici le scan.\r\n--b\r\n\
         Content-Type: image/tiff; name=scan.tiff\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    while raw.len() < 30 * 1024 * 1024 {
        raw.push_str(line);
    }
    raw.push_str("--b--\r\n");
    let file = dir.path().join("big.eml");
    std::fs::write(&file, &raw).unwrap();

    let out = inbound(&config, &file);
    assert_eq!(out["class"], "reply");
    assert_eq!(out["forwarded_now"], true);
    let forward = std::fs::read(out["forward_file"].as_str().unwrap()).unwrap();
    assert!(forward.len() < 1024 * 1024, "the 30 MB are not attached");
    let message = MessageParser::default().parse(&forward).unwrap();
    assert_eq!(message.attachment_count(), 0);
    let text = message.body_text(0).unwrap();
    assert!(
        text.contains("big.eml"),
        "says where the original is: {text}"
    );
    assert!(text.contains("Voici le scan"), "{text}");
    assert_eq!(
        std::fs::read(&file).unwrap().len(),
        raw.len(),
        "nothing lost"
    );
}
