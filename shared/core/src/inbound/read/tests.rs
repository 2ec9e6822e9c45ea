use chrono::NaiveDate;

use super::*;
use crate::ids::{NoticeId, PatronId, StageName};
use crate::notice::Notice;

const PASS: Verdicts = Verdicts {
    spam: false,
    virus: false,
    spf: None,
    dkim: None,
    dmarc: None,
};

/// A fixture of `tests/fixtures/inbound/` (real-shaped, CRLF line ends).
macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/inbound/",
            $name
        ))
        .as_slice()
    };
}

fn mail(lines: &[&str]) -> Vec<u8> {
    let mut raw = lines.join("\r\n");
    raw.push_str("\r\n");
    raw.into_bytes()
}

fn class_of(headers: &[&str]) -> MailClass {
    let mut lines = vec!["From: Camille Martin <camille.martin@etu.example.fr>"];
    lines.extend_from_slice(headers);
    lines.extend(["", "Bonjour, je rends le livre demain."]);
    read(&mail(&lines), PASS).class
}

fn sender(mail: &ReceivedMail) -> (Option<&str>, &str) {
    let from = mail.from.as_ref().expect("a sender");
    (from.name.as_deref(), from.address.as_str())
}

/// The notice id of an email, its Message-ID as the local mailer writes it, and
/// its reference: what the README of the fixtures promises.
fn notice(patron: &str, stage: &str, run_day: &str) -> (NoticeId, String, Reference) {
    let day = NaiveDate::parse_from_str(run_day, "%Y-%m-%d").unwrap();
    let id = Notice::email_id(
        &PatronId::parse(patron).unwrap(),
        &StageName::parse(stage).unwrap(),
        day,
    );
    let message_id = format!("relance.{id}@bibliotheques.example.fr");
    let reference = Reference::derive(&id, 0);
    (id, message_id, reference)
}

#[test]
fn a_webmail_reply_quoting_the_notice_is_a_reply_to_its_message_id() {
    let mail = read(fixture!("webmail-reply.eml"), PASS);
    let (id, message_id, reference) = notice("P0000042", "first_reminder", "2026-11-29");
    assert_eq!(id.as_str(), "b64ba45ed7f0b0131dab");
    assert_eq!(mail.class, MailClass::Reply);
    assert_eq!(
        sender(&mail),
        (Some("Camille Martin"), "camille.martin@etu.example.fr")
    );
    assert_eq!(
        mail.subject,
        "Re: Premier rappel : documents en retard – Réf. R0PR-9TCV"
    );
    assert_eq!(mail.replied_to, [message_id]);
    assert_eq!(mail.reference, Some(reference));
    assert_eq!(
        mail.message_id.as_deref(),
        Some("CAH7x2kPq9w3ZtR5mN8vB1cD4eF6gH0jK2lM4nO6pQ8rS0tU2v@mail.etu.example.fr")
    );
    // The text part, not the HTML one, with the quoted notice after the reply.
    assert!(
        mail.text
            .starts_with("Bonjour,\n\nJ'ai rendu « Les Misérables » et « Du côté de chez Swann »"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("\n> Bonjour Camille Martin,\n"));
    assert!(!mail.text.contains('\r'));
}

#[test]
fn an_outlook_reply_without_in_reply_to_links_by_the_reference_in_its_subject() {
    let mail = read(fixture!("outlook-reply.eml"), PASS);
    let (_, _, reference) = notice("P0000107", "second_reminder", "2026-12-13");
    assert_eq!(reference.as_str(), "R42J-EEBZ");
    // X-Auto-Response-Suppress is on every Outlook mail: not a sign of a robot.
    assert_eq!(mail.class, MailClass::Reply);
    assert_eq!(
        sender(&mail),
        (
            Some("Jérôme Lefèvre"),
            "jerome.lefevre@courriel.example.org"
        )
    );
    assert!(mail.replied_to.is_empty());
    assert_eq!(mail.reference, Some(reference));
    assert!(
        mail.text
            .starts_with("Bonjour,\n\nLe livre « Germinal » a été perdu")
    );
}

#[test]
fn a_french_out_of_office_is_an_auto_reply_to_its_notice() {
    let mail = read(fixture!("out-of-office-fr.eml"), PASS);
    let (_, message_id, reference) = notice("P0000213", "courtesy", "2026-11-27");
    assert_eq!(mail.class, MailClass::AutoReply);
    assert_eq!(
        sender(&mail),
        (Some("Hélène Garnier"), "helene.garnier@example.fr")
    );
    assert_eq!(mail.replied_to, [message_id]);
    assert_eq!(mail.reference, Some(reference));
}

#[test]
fn an_exchange_non_delivery_report_is_a_delivery_report_of_the_notice() {
    let mail = read(fixture!("exchange-dsn.eml"), PASS);
    let (_, message_id, reference) = notice("P0000318", "first_reminder", "2026-11-29");
    assert_eq!(mail.class, MailClass::DeliveryReport);
    assert_eq!(
        sender(&mail),
        (Some("Microsoft Outlook"), "postmaster@etu.example.fr")
    );
    assert_eq!(mail.replied_to, [message_id]);
    assert_eq!(mail.reference, Some(reference));
    assert!(
        mail.text
            .starts_with("Delivery has failed to these recipients")
    );
    assert!(mail.text.contains("noemie.bonnet@etu.example.fr"));
}

#[test]
fn a_reply_with_a_photo_keeps_its_text_and_links_by_nothing_but_its_sender() {
    let mail = read(fixture!("reply-with-photo.eml"), PASS);
    assert_eq!(mail.class, MailClass::Reply);
    assert_eq!(
        sender(&mail),
        (Some("Théo Nguyễn"), "theo.nguyen@etu.example.fr")
    );
    assert!(mail.replied_to.is_empty());
    assert_eq!(mail.reference, None);
    assert_eq!(
        mail.text,
        "Bonjour,\n\nVoici la photo du ticket de retour de « Thermodynamique », déposé à la BU \
         Sciences le vendredi 27 novembre. Il est pourtant toujours sur mon compte : \
         pouvez-vous corriger ?\n\nMerci,\nThéo Nguyễn"
    );
}

#[test]
fn latin1_headers_and_body_are_decoded_and_the_reference_found_in_the_text() {
    let mail = read(fixture!("latin1.eml"), PASS);
    let (_, _, reference) = notice("P0000523", "first_reminder", "2026-12-01");
    assert_eq!(mail.class, MailClass::Reply);
    assert_eq!(
        sender(&mail),
        (Some("Gaëtan Rousseau"), "gaetan.rousseau@example.fr")
    );
    assert_eq!(mail.subject, "Prêt prolongé à la bibliothèque de droit");
    assert_eq!(mail.reference, Some(reference));
    assert!(mail.text.contains("« Traité de droit civil » à l'accueil"));
}

#[test]
fn windows_1252_quotes_and_euro_signs_are_decoded() {
    let mail = read(fixture!("windows-1252.eml"), PASS);
    assert_eq!(mail.class, MailClass::Reply);
    assert_eq!(
        sender(&mail),
        (Some("Zoë Müller"), "zoe.muller@courriel.example.org")
    );
    assert_eq!(mail.subject, "Livre abîmé – l’édition coûte 25 €");
    assert!(mail.text.contains("J’ai renversé du café"));
    assert!(mail.text.contains("coûte 25 € :"));
    assert_eq!(mail.reference, None);
    assert!(mail.replied_to.is_empty());
}

#[test]
fn an_html_only_reply_is_converted_to_text_and_links_by_its_references() {
    let mail = read(fixture!("html-only.eml"), PASS);
    let (_, message_id, _) = notice("P0000777", "second_reminder", "2026-12-06");
    assert_eq!(mail.class, MailClass::Reply);
    assert_eq!(
        sender(&mail),
        (Some("Adèle Fontaine"), "adele.fontaine@etu.example.fr")
    );
    // No In-Reply-To: References, newest first.
    assert_eq!(
        mail.replied_to,
        [
            message_id.as_str(),
            "CAF3bZ9x1Yv8tLq0pW2eR4oN6mK8jH0gF2dS4aQ6zX8cV0bN2m@mail.etu.example.fr"
        ]
    );
    assert!(mail.text.starts_with("Bonjour,\n"), "{}", mail.text);
    assert!(
        mail.text
            .contains("Je suis en stage à Lyon jusqu'au 15 décembre")
    );
    assert!(!mail.text.contains('<'), "{}", mail.text);
}

#[test]
fn a_malformed_mail_gives_what_can_be_read() {
    let mail = read(fixture!("malformed.eml"), PASS);
    assert_eq!(mail.class, MailClass::Reply);
    assert_eq!(
        sender(&mail),
        (Some("Mamadou Diallo"), "mamadou.diallo@etu.example.fr")
    );
    // A Message-ID with spaces cannot be written back into a header.
    assert_eq!(mail.message_id, None);
    assert_eq!(
        mail.text,
        "Bonjour, je rapporte le livre demain à la BU Droit."
    );
}

#[test]
fn bytes_that_are_not_mail_are_unreadable_with_their_text_kept() {
    let mail = read(fixture!("unreadable.eml"), PASS);
    assert_eq!(mail.class, MailClass::Unreadable);
    assert_eq!((mail.from, mail.subject.as_str()), (None, ""));
    assert!(mail.text.contains("truncated by a broken relay"));
    for raw in [
        &b""[..],
        b"hello world",
        b"\r\n\r\nR0PR-9TCV",
        b"\x00\x01\x02",
    ] {
        let mail = read(raw, PASS);
        assert_eq!(mail.class, MailClass::Unreadable, "{raw:?}");
    }
    assert_eq!(
        read(b"\r\n\r\nR0PR-9TCV", PASS).reference,
        Some(Reference::from_stored("R0PR-9TCV".into()))
    );
}

#[test]
fn verdicts_come_first_a_virus_before_spam() {
    let raw = fixture!("webmail-reply.eml");
    let spam = Verdicts { spam: true, ..PASS };
    let both = Verdicts {
        spam: true,
        virus: true,
        ..PASS
    };
    assert_eq!(read(raw, spam).class, MailClass::Spam);
    assert_eq!(read(raw, both).class, MailClass::Virus);
    assert_eq!(read(b"", spam).class, MailClass::Spam);
    // Still read, for the record.
    assert!(read(raw, both).from.is_some());
}

#[test]
fn auto_submitted_other_than_no_is_an_auto_reply() {
    for header in [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "auto-submitted: Auto-Replied; owner-email=\"x@example.fr\"",
        "Auto-Submitted:",
        "X-Autoreply: yes",
        "X-Autorespond: Out of office",
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: auto_reply",
        "Precedence: list",
    ] {
        assert_eq!(class_of(&[header]), MailClass::AutoReply, "{header}");
    }
    for header in [
        "Auto-Submitted: no",
        "Auto-Submitted: No ; comment",
        "X-Auto-Response-Suppress: All",
        "Precedence: first-class",
        "List-Id: <lecteurs.example.fr>",
    ] {
        assert_eq!(class_of(&[header]), MailClass::Reply, "{header}");
    }
}

#[test]
fn out_of_office_subjects_in_french_and_english_are_auto_replies() {
    for subject in [
        "Réponse automatique : Premier rappel",
        "RE: Réponse automatique : Premier rappel",
        "Automatic reply: Overdue items",
        "AUTOMATIC REPLY: x",
        "Auto: Premier rappel",
        "Out of Office: Premier rappel",
        "Out of the office until Monday",
        "Absence : Camille Martin",
        "TR : Absent du bureau",
        "Re[2]: Absence: x",
        "Message d'absence",
    ] {
        let header = format!("Subject: {subject}");
        assert_eq!(class_of(&[&header]), MailClass::AutoReply, "{subject}");
    }
    for subject in [
        "Absence de retour du livre",
        "Re: Premier rappel – je suis absente",
        "Question sur une réponse automatique",
        "Automatique ?",
    ] {
        let header = format!("Subject: {subject}");
        assert_eq!(class_of(&[&header]), MailClass::Reply, "{subject}");
    }
}

#[test]
fn mail_systems_notices_are_delivery_reports() {
    let cases = [
        (
            "From: Mail Delivery System <MAILER-DAEMON>",
            "Subject: Undelivered Mail Returned to Sender",
        ),
        (
            "From: MAILER-DAEMON@mx.example.org",
            "Subject: failure notice",
        ),
        (
            "From: postmaster@example.fr",
            "Subject: Non remis : Premier rappel",
        ),
        (
            "From: Mail Delivery Subsystem <postmaster@example.org>",
            "Subject: Delivery Status Notification (Failure)",
        ),
        (
            "From: x@example.org",
            "Subject: Undeliverable: Premier rappel",
        ),
    ];
    for (i, (from, subject)) in cases.iter().enumerate() {
        let return_path = if i == 4 {
            "Return-Path: <>"
        } else {
            "X-Nothing: x"
        };
        let raw = mail(&[
            return_path,
            from,
            subject,
            "",
            "The message could not be delivered.",
        ]);
        assert_eq!(
            read(&raw, PASS).class,
            MailClass::DeliveryReport,
            "{from} {subject}"
        );
    }
    // A postmaster writing as a person, a person quoting a failure.
    let postmaster = mail(&["From: postmaster@example.fr", "Subject: Question", "", "x"]);
    assert_eq!(read(&postmaster, PASS).class, MailClass::Reply);
    let person = mail(&["From: a@example.fr", "Subject: Undeliverable: ?", "", "x"]);
    assert_eq!(read(&person, PASS).class, MailClass::Reply);
}

#[test]
fn reports_other_than_delivery_status_are_automatic() {
    let report = |kind: &str| {
        mail(&[
            "From: Camille Martin <camille.martin@etu.example.fr>",
            "Subject: Lu : Premier rappel",
            &format!("Content-Type: multipart/report; report-type={kind}; boundary=\"b\""),
            "",
            "--b",
            "Content-Type: text/plain",
            "",
            "Votre message a été lu.",
            "--b--",
        ])
    };
    assert_eq!(
        read(&report("disposition-notification"), PASS).class,
        MailClass::AutoReply
    );
    assert_eq!(
        read(&report("Delivery-Status"), PASS).class,
        MailClass::DeliveryReport
    );
}

#[test]
fn replied_to_ids_lose_their_brackets_repeats_and_malformed_ones() {
    let raw = mail(&[
        "From: a@example.fr",
        "In-Reply-To: <c@example.fr>",
        "References: <a@example.fr> <b@example.fr>",
        " <c@example.fr> <with space@example.fr>",
        "",
        "x",
    ]);
    assert_eq!(
        read(&raw, PASS).replied_to,
        ["c@example.fr", "b@example.fr", "a@example.fr"]
    );
    let many: String = (0..100).map(|n| format!("<id{n}@example.fr> ")).collect();
    let raw = mail(&[
        "From: a@example.fr",
        &format!("References: {many}"),
        "",
        "x",
    ]);
    let ids = read(&raw, PASS).replied_to;
    assert_eq!(ids.len(), MAX_REPLIED_TO);
    assert_eq!(ids[0], "id99@example.fr");
}

#[test]
fn subjects_and_names_lose_control_characters_and_bidi_overrides() {
    let raw = mail(&[
        "From: =?utf-8?Q?Camille=0D=0ABcc=3A_x=E2=80=AE?= <camille.martin@etu.example.fr>",
        "Subject: =?utf-8?Q?Re=3A_livre=0D=0ABcc=3A_evil=40example=2Ecom=09rendu?=",
        "",
        "x",
    ]);
    let mail = read(&raw, PASS);
    assert_eq!(mail.subject, "Re: livre Bcc: evil@example.com rendu");
    assert_eq!(sender(&mail).0, Some("Camille Bcc: x"));
}

#[test]
fn a_sender_whose_address_does_not_parse_is_unknown() {
    for from in [
        "From: Camille <not an address>",
        "From: Camille <caf\u{e9}@example.fr>",
        "From: undisclosed-recipients:;",
        "X-No-From: x",
    ] {
        let raw = mail(&[from, "Subject: x", "", "x"]);
        assert_eq!(read(&raw, PASS).from, None, "{from}");
    }
}

#[test]
fn the_text_is_cut_to_the_limit_on_a_character_boundary() {
    let body = "é".repeat(TEXT_LIMIT + 10);
    let raw = mail(&[
        "From: a@example.fr",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        &body,
    ]);
    let text = read(&raw, PASS).text;
    assert_eq!(text.chars().count(), TEXT_LIMIT);
    assert!(text.chars().all(|c| c == 'é'));
}
