//! Forwards composed from the fixtures and read back with mail-parser.

use chrono::{NaiveDate, TimeZone};
use mail_parser::{Message, MessageParser, MimeHeaders};

use super::*;
use crate::address::EmailAddress;
use crate::ids::{LibraryCode, LoanId, PatronId, StageName};
use crate::inbound::{MailClass, SenderCheck, Verdicts, read};
use crate::ladder::Channel;
use crate::model::{EmailStatus, Item, PostalAddress};
use crate::notice::{NoticeLoan, NoticeStatus};

const CONFIG: &str = crate::testing::INSTITUTION;

const WEBMAIL: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/inbound/webmail-reply.eml"
));

const MALFORMED: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/inbound/malformed.eml"
));

const LATIN1: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/inbound/latin1.eml"
));

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Camille Martin (P0000042), her first reminder of 29 November 2026 and her
/// open loans, received on 29 November 2026 at 11:14 in Paris.
struct Case {
    config: Config,
    patron: Patron,
    notice: Notice,
    loans: Vec<Loan>,
    received_at: DateTime<Utc>,
}

impl Case {
    fn new() -> Self {
        let patron = Patron {
            id: PatronId::parse("P0000042").unwrap(),
            full_name: "Camille Martin".into(),
            email: Some(EmailAddress::parse("camille.martin@etu.example.fr").unwrap()),
            email_status: EmailStatus::Deliverable,
            address: PostalAddress::default(),
            language: None,
            courtesy_opt_out: false,
        };
        let loans = vec![
            loan("L1002", "LSH", "Les Misérables", "2026-11-22"),
            loan("L1001", "STS", "Analyse numérique", "2026-11-22"),
            loan("L1004", "LSH", "Du côté de chez Swann", "2026-11-22"),
            loan("L2001", "STS", "Linear Algebra Done Right", "2026-12-02"),
            loan("L2002", "DRO", "", "2026-11-29"),
        ];
        let stage = StageName::parse("first_reminder").unwrap();
        let run_day = day("2026-11-29");
        let mut notice = Notice::pending(
            Notice::email_id(&patron.id, &stage, run_day),
            run_day,
            patron.id.clone(),
            Channel::Email,
            stage.clone(),
            None,
            loans[..3]
                .iter()
                .map(|l| NoticeLoan {
                    loan_id: l.id.clone(),
                    due_date: l.due_date,
                    stage: stage.clone(),
                })
                .collect(),
        );
        notice.status = NoticeStatus::Sent {
            message_id: "relance.b64ba45ed7f0b0131dab@bibliotheques.example.fr".into(),
            at: Utc.with_ymd_and_hms(2026, 11, 29, 7, 30, 0).unwrap(),
        };
        Self {
            config: Config::parse(CONFIG).unwrap(),
            patron,
            notice,
            loans,
            received_at: Utc.with_ymd_and_hms(2026, 11, 29, 10, 14, 7).unwrap(),
        }
    }

    fn forward<'a>(&'a self, mail: &'a ReceivedMail, raw: &'a [u8]) -> Forward<'a> {
        Forward {
            config: &self.config,
            mail,
            raw,
            source: "s3://relance-inbound/mail/k3v9a1tq7f2m8r0c5h4d6j1b3n7p9s2u4w6y8a0e",
            patron: Some(&self.patron),
            notice: Some(&self.notice),
            linked_by: Some(LinkedBy::MessageId),
            verdicts: Verdicts::default(),
            open_loans: &self.loans,
            today: day("2026-11-29"),
            received_at: self.received_at,
        }
    }

    /// An unmatched mail: no patron, no notice, no loans.
    fn unmatched<'a>(&'a self, mail: &'a ReceivedMail, raw: &'a [u8]) -> Forward<'a> {
        Forward {
            patron: None,
            notice: None,
            linked_by: None,
            open_loans: &[],
            ..self.forward(mail, raw)
        }
    }
}

fn loan(id: &str, library: &str, title: &str, due: &str) -> Loan {
    let due_date = day(due);
    Loan {
        id: LoanId::parse(id).unwrap(),
        patron_id: PatronId::parse("P0000042").unwrap(),
        library: LibraryCode::parse(library).unwrap(),
        item: Item {
            barcode: format!("3{}", id.trim_start_matches('L')),
            title: title.into(),
            author: String::new(),
            call_number: String::new(),
        },
        loaned_at: None,
        due_at: Utc.from_utc_datetime(&due_date.and_hms_opt(22, 59, 0).unwrap()),
        due_date,
        returned_at: None,
    }
}

fn parsed(composed: &ComposedForward) -> Message<'_> {
    MessageParser::new()
        .parse(&composed.raw)
        .expect("a message")
}

fn header(message: &Message<'_>, name: &str) -> Option<String> {
    message.header_raw(name).map(|v| v.trim().to_owned())
}

fn attachment<'a>(message: &'a Message<'a>) -> Option<&'a mail_parser::MessagePart<'a>> {
    message.attachments().next()
}

#[test]
fn a_forward_comes_from_relance_in_the_senders_name_and_answers_to_the_sender() {
    let case = Case::new();
    let mail = read(WEBMAIL, Verdicts::default());
    let composed = compose(&case.forward(&mail, WEBMAIL)).unwrap();
    let message = parsed(&composed);

    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Camille Martin via Relance"));
    assert_eq!(from.address(), Some("contentieux@bibliotheques.example.fr"));
    let to = message.to().unwrap().first().unwrap();
    assert_eq!(
        to.address(),
        Some("equipe-contentieux@bibliotheques.example.fr")
    );
    let reply_to = message.reply_to().unwrap().first().unwrap();
    assert_eq!(reply_to.name(), Some("Camille Martin"));
    assert_eq!(reply_to.address(), Some("camille.martin@etu.example.fr"));
    // The reference is already in the subject: not added again.
    assert_eq!(
        message.subject(),
        Some("Re: Premier rappel : documents en retard – Réf. R0PR-9TCV")
    );
    assert_eq!(message.subject(), Some(composed.subject.as_str()));
    let original = mail.message_id.as_deref().unwrap();
    assert_eq!(message.in_reply_to().as_text(), Some(original));
    assert_eq!(message.references().as_text(), Some(original));
    assert_eq!(
        header(&message, "Auto-Submitted").as_deref(),
        Some("auto-forwarded")
    );
    assert_eq!(
        header(&message, "X-Relance-Reference").as_deref(),
        Some("R0PR-9TCV")
    );
    assert_eq!(message.message_id(), Some(composed.message_id.as_str()));
    assert_eq!(
        message.date().unwrap().to_timestamp(),
        case.received_at.timestamp()
    );
    // Our own inbound would not forward it again.
    assert_eq!(
        read(&composed.raw, Verdicts::default()).class,
        MailClass::AutoReply
    );
}

#[test]
fn the_original_is_attached_byte_for_byte_as_a_message() {
    let case = Case::new();
    // Plain 7-bit mail as it is; mail with 8-bit bytes and bare controls in base64.
    for (raw, encoding) in [(WEBMAIL, "7bit"), (MALFORMED, "base64")] {
        let mail = read(raw, Verdicts::default());
        let composed = compose(&case.forward(&mail, raw)).unwrap();
        let message = parsed(&composed);
        assert_eq!(message.attachment_count(), 1);
        let part = attachment(&message).unwrap();
        let content_type = part.content_type().unwrap();
        assert_eq!(
            (content_type.ctype(), content_type.subtype()),
            ("message", Some("rfc822"))
        );
        assert_eq!(part.attachment_name(), Some("original.eml"));
        assert_eq!(part.content_transfer_encoding(), Some(encoding));
        assert!(
            part.contents() == raw,
            "the attachment differs from the original"
        );
        let inner = part.message().expect("read as a message");
        assert_eq!(
            inner.message_id(),
            MessageParser::new().parse(raw).unwrap().message_id()
        );
    }
}

#[test]
fn a_mail_too_large_to_attach_is_named_with_its_size_and_place() {
    let case = Case::new();
    let mut raw =
        b"From: Camille Martin <camille.martin@etu.example.fr>\r\nSubject: Photos\r\n\r\n".to_vec();
    while raw.len() <= ATTACH_LIMIT {
        raw.extend_from_slice(&[b'x'; 76]);
        raw.extend_from_slice(b"\r\n");
    }
    let mail = read(&raw, Verdicts::default());
    let composed = compose(&case.forward(&mail, &raw)).unwrap();
    let message = parsed(&composed);
    assert_eq!(message.attachment_count(), 0);
    assert!(composed.raw.len() < 100_000);
    let text = message.body_text(0).unwrap();
    assert!(
        text.contains(
            "Original : trop volumineux pour être joint (7,3 Mo) ; conservé dans \
             s3://relance-inbound/mail/k3v9a1tq7f2m8r0c5h4d6j1b3n7p9s2u4w6y8a0e"
        ),
        "{text}"
    );
}

#[test]
fn the_reference_is_added_to_a_subject_that_lacks_it() {
    let case = Case::new();
    let mail = read(LATIN1, Verdicts::default());
    let forward = Forward {
        linked_by: Some(LinkedBy::Reference),
        ..case.forward(&mail, LATIN1)
    };
    let composed = compose(&forward).unwrap();
    assert_eq!(
        composed.subject,
        "Prêt prolongé à la bibliothèque de droit [R0PR-9TCV]"
    );
    assert_eq!(parsed(&composed).subject(), Some(composed.subject.as_str()));
}

#[test]
fn an_unreadable_mail_from_nobody_is_forwarded_from_an_unknown_sender() {
    let case = Case::new();
    let raw = b"\x00\x00garbage\r\n";
    let mail = read(raw, Verdicts::default());
    assert_eq!(mail.class, MailClass::Unreadable);
    let composed = compose(&case.unmatched(&mail, raw)).unwrap();
    let message = parsed(&composed);
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Expéditeur inconnu via Relance"));
    assert!(message.reply_to().is_none());
    assert_eq!(message.subject(), Some("(sans objet)"));
    assert!(message.in_reply_to().is_empty());
    let text = message.body_text(0).unwrap();
    assert!(text.contains("Attention : message illisible"), "{text}");
    assert!(
        text.contains("Lecteur : aucun lecteur ne correspond"),
        "{text}"
    );
    assert_eq!(attachment(&message).unwrap().contents(), raw);
}

#[test]
fn no_data_can_add_a_header() {
    let case = Case::new();
    let mail = ReceivedMail {
        class: MailClass::Reply,
        from: Some(crate::address::Mailbox {
            name: Some("Camille\r\nBcc: evil@example.com".into()),
            address: EmailAddress::parse("camille.martin@etu.example.fr").unwrap(),
        }),
        subject: "Hello\r\nBcc: evil@example.com\r\n\r\nbody".into(),
        message_id: Some("x@example.fr>\r\nBcc: evil@example.com".into()),
        replied_to: Vec::new(),
        reference: None,
        text: "x".into(),
    };
    let raw = b"From: x@example.fr\r\n\r\nx";
    let composed = compose(&case.unmatched(&mail, raw)).unwrap();
    let head = String::from_utf8_lossy(&composed.raw);
    let head = head.split("\r\n\r\n").next().unwrap();
    assert!(!head.to_ascii_lowercase().contains("\nbcc"), "{head}");
    let message = parsed(&composed);
    assert!(message.bcc().is_none());
    assert!(message.in_reply_to().is_empty());
    assert_eq!(message.subject(), Some("Hello Bcc: evil@example.com body"));
}

#[test]
fn the_message_id_is_the_same_for_the_same_mail_and_only_for_it() {
    let case = Case::new();
    let mail = read(WEBMAIL, Verdicts::default());
    let once = compose(&case.forward(&mail, WEBMAIL)).unwrap();
    let again = compose(&case.forward(&mail, WEBMAIL)).unwrap();
    assert_eq!(once.message_id, again.message_id);
    let id = once.message_id.strip_prefix("relance.fwd.").unwrap();
    let (hex, domain) = id.split_once('@').unwrap();
    assert_eq!(domain, "bibliotheques.example.fr");
    assert!(hex.len() == 20 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    let other = compose(&case.forward(&mail, LATIN1)).unwrap();
    assert_ne!(once.message_id, other.message_id);
}

#[test]
fn french_forward_text() {
    let case = Case::new();
    let mail = read(WEBMAIL, Verdicts::default());
    let composed = compose(&case.forward(&mail, WEBMAIL)).unwrap();
    let message = parsed(&composed);
    insta::assert_snapshot!(message.body_text(0).unwrap());
}

#[test]
fn english_forward_text_of_an_unmatched_mail() {
    let mut case = Case::new();
    case.config.institution.default_language = Language::En;
    let raw = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/inbound/windows-1252.eml"
    ));
    let mail = read(raw, Verdicts::default());
    let composed = compose(&case.unmatched(&mail, raw)).unwrap();
    let message = parsed(&composed);
    assert_eq!(
        message.from().unwrap().first().unwrap().name(),
        Some("Zoë Müller via Relance")
    );
    insta::assert_snapshot!(message.body_text(0).unwrap());
}

#[test]
fn a_30_mb_mail_is_read_and_forwarded_without_its_attachments() {
    let case = Case::new();
    let raw = mail_with_photos(30 * 1024 * 1024);
    let mail = read(&raw, Verdicts::default());
    assert_eq!(mail.class, MailClass::Reply);
    assert_eq!(mail.text, "Voici les photos des livres rendus.");
    let composed = compose(&case.forward(&mail, &raw)).unwrap();
    assert!(composed.raw.len() < 100_000);
    assert!(String::from_utf8_lossy(&composed.raw).contains("trop volumineux"));
}

/// A reply with base64 photos attached, `size` bytes long at least.
fn mail_with_photos(size: usize) -> Vec<u8> {
    let mut raw = b"From: Camille Martin <camille.martin@etu.example.fr>\r\n\
        Subject: Photos\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
        --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
        Voici les photos des livres rendus.\r\n"
        .to_vec();
    let line = [b'A'; 76];
    let mut n = 0;
    while raw.len() < size {
        raw.extend_from_slice(
            format!(
                "--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; \
                 filename=\"IMG_{n}.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            )
            .as_bytes(),
        );
        for _ in 0..40_000 {
            raw.extend_from_slice(&line);
            raw.extend_from_slice(b"\r\n");
        }
        n += 1;
    }
    raw.extend_from_slice(b"--b--\r\n");
    raw
}

#[test]
fn the_block_shows_the_sender_checks_and_warns_when_dmarc_failed() {
    let case = Case::new();
    let mail = read(LATIN1, Verdicts::default());
    let checks = |dmarc| Verdicts {
        spf: Some(SenderCheck::Pass),
        dkim: Some(SenderCheck::Fail),
        dmarc: Some(dmarc),
        ..Verdicts::default()
    };
    let failed = Forward {
        linked_by: Some(LinkedBy::Reference),
        verdicts: checks(SenderCheck::Fail),
        ..case.forward(&mail, LATIN1)
    };
    let text_of = |forward: &Forward<'_>| {
        let composed = compose(forward).unwrap();
        parsed(&composed).body_text(0).unwrap().into_owned()
    };
    let text = text_of(&failed);
    assert!(
        text.contains("Contrôles de l'expéditeur : SPF pass, DKIM fail, DMARC fail"),
        "{text}"
    );
    assert!(text.contains("DMARC en échec"), "{text}");
    let passed = Forward {
        verdicts: checks(SenderCheck::Pass),
        ..case.forward(&mail, LATIN1)
    };
    let text = text_of(&passed);
    assert!(text.contains("DMARC pass"), "{text}");
    assert!(!text.contains("DMARC en échec"), "{text}");
    let none = text_of(&case.forward(&mail, LATIN1));
    assert!(!none.contains("Contrôles"), "no checks, no line: {none}");
}
