//! Mail coming back, through the functions against the emulators: a reminder is
//! sent through SES (moto), the patron's reply is stored where SES receiving
//! puts it and the inbound function links it through the SES message id the
//! mailer recorded, records it once and forwards it to staff; auto-replies and
//! spam are recorded only; a bounce published through SNS turns the patron's
//! next reminder into a letter. Tests run one at a time because moto's record of
//! sent mail is shared.

use chrono::{Duration, NaiveDate};
use mail_parser::{MessageParser, MimeHeaders};
use relance_core::ids::{LibraryCode, PatronId, StageName};
use relance_core::inbound::{LinkedBy, MailClass};
use relance_core::ladder::Channel;
use relance_core::model::EmailStatus;
use relance_core::notice::{Notice, NoticeStatus};
use relance_core::ports::{Correspondence, LoanStore};
use relance_tests::emulators::{SentMail, sent_mail, unique};
use relance_tests::stack::{SENDER, SENT_MAIL, Stack, morning, new_mail, to};
use relance_tests::{LOANS_HEADER, PATRONS_HEADER, day, loan_row, patron_row};

const STAFF: &str = "equipe-contentieux@bibliotheques.example.fr";
const CAMILLE: &str = "camille.martin@example.org";

/// Camille's loans reach the first reminder on `run_day`; the reminder is sent.
/// Returns her notice as recorded (sent, with SES's message id).
async fn reminded(stack: &Stack, run_day: NaiveDate) -> Notice {
    let due = run_day - Duration::days(7);
    stack
        .import(
            "patrons.csv",
            &[
                patron_row("P1", "Camille Martin", CAMILLE, false),
                patron_row("P2", "Ngozi Okafor", "ngozi.okafor@example.org", false),
            ],
            PATRONS_HEADER,
        )
        .await;
    stack
        .import(
            "loans.csv",
            &[
                loan_row("L1", "P1", "STS", due, None),
                loan_row("L2", "P1", "DRT", due, None),
                loan_row("L3", "P2", "LSH", due + Duration::days(30), None),
            ],
            LOANS_HEADER,
        )
        .await;
    stack.plan(run_day).await;
    assert_eq!(stack.deliver_mail(morning(run_day)).await, 0);
    let id = Notice::email_id(
        &PatronId::parse("P1").unwrap(),
        &StageName::parse("first_reminder").unwrap(),
        run_day,
    );
    let notice = stack.dynamo().notice(&id).await.unwrap().expect("recorded");
    assert!(matches!(notice.status, NoticeStatus::Sent { .. }));
    notice
}

fn ses_message_id(notice: &Notice) -> &str {
    match &notice.status {
        NoticeStatus::Sent { message_id, .. } => message_id,
        other => panic!("not sent: {other:?}"),
    }
}

/// A reply as a webmail writes it, answering `in_reply_to`.
fn reply(from: &str, subject: &str, in_reply_to: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {SENDER}\r\nSubject: {subject}\r\nDate: Mon, 30 Nov 2026 09:14:02 +0100\r\n\
         Message-ID: <{}@mail.example.org>\r\nIn-Reply-To: <{in_reply_to}>\r\n\
         References: <{in_reply_to}>\r\n{extra}MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n",
        unique("reply")
    )
    .into_bytes()
}

fn parse(mail: &SentMail) -> mail_parser::Message<'_> {
    MessageParser::default()
        .parse(mail.raw.as_bytes())
        .expect("MIME")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_through_ses_is_linked_recorded_and_forwarded_once() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::new().await;
    let run_day = day("2026-11-30");
    let notice = reminded(&stack, run_day).await;
    // SES rewrites the Message-ID of what it sends to `{its id}@{region}.amazonses.com`.
    let answered = format!("{}@eu-west-1.amazonses.com", ses_message_id(&notice));
    let before = sent_mail().len();

    let raw = reply(
        "Camille Martin <camille.martin@example.org>",
        &format!(
            "Re: Rappel : documents en retard - Réf. {}",
            notice.reference
        ),
        &answered,
        "",
        "Bonjour, j'ai rendu les deux livres hier à la BU Sciences.\r\n> Madame, Monsieur,",
    );
    let ses_id = unique("ses");
    let received = stack.receive(&ses_id, &raw, "PASS", "PASS").await;
    assert_eq!(received.record.class, MailClass::Reply);
    assert_eq!(received.record.linked_by, Some(LinkedBy::MessageId));
    assert_eq!(received.record.notice_id.as_ref(), Some(&notice.id));
    assert_eq!(
        received.record.patron_id,
        Some(PatronId::parse("P1").unwrap())
    );
    assert_eq!(
        received.record.source,
        format!("s3://{}/inbound/{ses_id}", stack.resources.bucket)
    );
    assert!(received.forwarded_now);

    let forwarded = new_mail(before);
    let staff = to(&forwarded, STAFF);
    assert_eq!(staff.len(), 1, "one forward to staff");
    assert_eq!(staff[0].source, SENDER, "sent from the verified sender");
    let message = parse(&staff[0]);
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Camille Martin via Relance"));
    assert_eq!(
        message.reply_to().unwrap().first().unwrap().address(),
        Some(CAMILLE)
    );
    let text = message.body_text(0).unwrap();
    for expected in [
        "P1",
        "Camille Martin",
        notice.reference.as_str(),
        "Titre L1",
        "Titre L2",
    ] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    assert!(!text.contains("Titre L3"), "another patron's loan:\n{text}");
    let original = message
        .attachments()
        .find(|a| a.is_content_type("message", "rfc822"))
        .expect("the original attached");
    assert_eq!(original.contents(), raw.as_slice());

    // SES invokes again (a retry): nothing more is recorded or sent.
    let again = stack.receive(&ses_id, &raw, "PASS", "PASS").await;
    assert!(!again.forwarded_now);
    assert_eq!(again.record.forwarded, received.record.forwarded);
    assert_eq!(to(&new_mail(before), STAFF).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sender_whose_dmarc_failed_never_links_a_mail_though_its_reference_does() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::new().await;
    let run_day = day("2026-11-30");
    let notice = reminded(&stack, run_day).await;
    let before = sent_mail().len();
    let plain = |subject: &str| {
        format!(
            "From: Camille Martin <{CAMILLE}>\r\nTo: {SENDER}\r\nSubject: {subject}\r\n\
             Message-ID: <{}@mail.example.org>\r\n\r\nJ'ai rendu mes livres.\r\n",
            unique("forged")
        )
        .into_bytes()
    };
    let checks = |dmarc| {
        [
            ("spfVerdict", "PASS"),
            ("dkimVerdict", "FAIL"),
            ("dmarcVerdict", dmarc),
        ]
    };

    let forged = stack
        .receive_with(&unique("ses"), &plain("Mes livres"), &checks("FAIL"))
        .await;
    assert_eq!(forged.record.linked_by, None, "a failed DMARC names no one");
    assert_eq!(forged.record.patron_id, None);
    let trusted = stack
        .receive_with(&unique("ses"), &plain("Mes livres"), &checks("PASS"))
        .await;
    assert_eq!(trusted.record.linked_by, Some(LinkedBy::Sender));
    let referenced = stack
        .receive_with(
            &unique("ses"),
            &plain(&format!("Réf. {}", notice.reference)),
            &checks("FAIL"),
        )
        .await;
    assert_eq!(referenced.record.linked_by, Some(LinkedBy::Reference));

    let forwards = to(&new_mail(before), STAFF);
    assert_eq!(forwards.len(), 3);
    let text = parse(&forwards[0]).body_text(0).unwrap().into_owned();
    assert!(text.contains("SPF pass, DKIM fail, DMARC fail"), "{text}");
    assert!(text.contains("DMARC en échec"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_replies_and_spam_are_recorded_and_never_forwarded() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::new().await;
    let run_day = day("2026-11-30");
    let notice = reminded(&stack, run_day).await;
    let answered = format!("{}@eu-west-1.amazonses.com", ses_message_id(&notice));
    let before = sent_mail().len();

    let out_of_office = reply(
        CAMILLE,
        "Réponse automatique : Rappel : documents en retard",
        &answered,
        "Auto-Submitted: auto-replied\r\n",
        "Je suis absente du bureau jusqu'au 4 janvier.",
    );
    let received = stack
        .receive(&unique("ses"), &out_of_office, "PASS", "PASS")
        .await;
    assert_eq!(received.record.class, MailClass::AutoReply);
    assert_eq!(received.record.notice_id.as_ref(), Some(&notice.id));
    assert!(!received.forwarded_now);

    let spam = reply(CAMILLE, "Gagnez un iPhone", &answered, "", "Cliquez ici.");
    let received = stack.receive(&unique("ses"), &spam, "FAIL", "PASS").await;
    assert_eq!(received.record.class, MailClass::Spam);
    assert!(!received.forwarded_now);

    let virus = reply(CAMILLE, "Facture", &answered, "", "Voir la pièce jointe.");
    let received = stack.receive(&unique("ses"), &virus, "PASS", "FAIL").await;
    assert_eq!(received.record.class, MailClass::Virus);
    assert!(!received.forwarded_now);

    assert!(to(&new_mail(before), STAFF).is_empty(), "nothing forwarded");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bounce_and_a_complaint_turn_the_next_reminders_into_letters() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::new().await;
    let run_day = day("2026-11-30");
    let notice = reminded(&stack, run_day).await;
    let dynamo = stack.dynamo();

    let bounce = serde_json::json!({
        "eventType": "Bounce",
        "bounce": {
            "feedbackId": unique("feedback"),
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": "Camille.Martin@example.org", "status": "5.1.1"}],
            "timestamp": "2026-11-30T07:02:11.000Z"
        },
        "mail": {"messageId": ses_message_id(&notice), "destination": [CAMILLE]}
    });
    let outcomes = stack.feedback(&bounce).await;
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].new);
    assert_eq!(
        outcomes[0].record.patron_id,
        Some(PatronId::parse("P1").unwrap())
    );
    assert_eq!(outcomes[0].record.notice_id.as_ref(), Some(&notice.id));
    // SNS delivers again: recorded once.
    assert!(!stack.feedback(&bounce).await[0].new);

    let complaint = serde_json::json!({
        "eventType": "Complaint",
        "complaint": {
            "feedbackId": unique("feedback"),
            "complainedRecipients": [{"emailAddress": "ngozi.okafor@example.org"}],
            "timestamp": "2026-11-30T07:05:00.000Z",
            "complaintFeedbackType": "abuse"
        },
        "mail": {"messageId": "0102017c-unknown", "destination": ["ngozi.okafor@example.org"]}
    });
    assert_eq!(stack.feedback(&complaint).await.len(), 1);

    let patrons = dynamo
        .patrons(&[
            PatronId::parse("P1").unwrap(),
            PatronId::parse("P2").unwrap(),
        ])
        .await
        .unwrap();
    let status: Vec<_> = patrons
        .iter()
        .map(|p| (p.id.as_str(), p.email_status))
        .collect();
    assert!(
        status.contains(&("P1", EmailStatus::Bouncing)),
        "{status:?}"
    );
    assert!(
        status.contains(&("P2", EmailStatus::Complaining)),
        "{status:?}"
    );

    // Two weeks later Camille's loans reach the second reminder: a letter.
    let later = run_day + Duration::days(14);
    let planned = stack.plan(later).await;
    assert_eq!(planned.emails_queued, 0, "{:?}", planned.summary);
    let letter_id = Notice::letter_id(
        &PatronId::parse("P1").unwrap(),
        &LibraryCode::parse("STS").unwrap(),
        later,
    );
    let letter = Correspondence::notice(&dynamo, &letter_id)
        .await
        .unwrap()
        .expect("Camille's STS loan goes out as a letter");
    assert_eq!(letter.channel, Channel::Letter);
    assert_eq!(letter.stage.as_str(), "second_reminder");
}

/// One fixture of `tests/fixtures/inbound/` and what must come of it (see its README).
struct Expected {
    file: &'static str,
    class: MailClass,
    linked_by: Option<LinkedBy>,
    /// (patron, stage, run day) of the notice it links to.
    notice: Option<(&'static str, &'static str, &'static str)>,
    patron: Option<&'static str>,
    /// The sender staff can answer (Reply-To of the forward).
    sender: Option<&'static str>,
}

const CORPUS: [Expected; 10] = [
    Expected {
        file: "webmail-reply.eml",
        class: MailClass::Reply,
        linked_by: Some(LinkedBy::MessageId),
        notice: Some(("P0000042", "first_reminder", "2026-11-29")),
        patron: Some("P0000042"),
        sender: Some("camille.martin@etu.example.fr"),
    },
    Expected {
        file: "outlook-reply.eml",
        class: MailClass::Reply,
        linked_by: Some(LinkedBy::Reference),
        notice: Some(("P0000107", "second_reminder", "2026-12-13")),
        patron: Some("P0000107"),
        sender: Some("jerome.lefevre@courriel.example.org"),
    },
    Expected {
        file: "out-of-office-fr.eml",
        class: MailClass::AutoReply,
        linked_by: Some(LinkedBy::MessageId),
        notice: Some(("P0000213", "courtesy", "2026-11-27")),
        patron: Some("P0000213"),
        sender: None,
    },
    Expected {
        file: "exchange-dsn.eml",
        class: MailClass::DeliveryReport,
        linked_by: Some(LinkedBy::MessageId),
        notice: Some(("P0000318", "first_reminder", "2026-11-29")),
        patron: Some("P0000318"),
        sender: None,
    },
    Expected {
        file: "reply-with-photo.eml",
        class: MailClass::Reply,
        linked_by: Some(LinkedBy::Sender),
        notice: None,
        patron: Some("P0000451"),
        sender: Some("theo.nguyen@etu.example.fr"),
    },
    Expected {
        file: "latin1.eml",
        class: MailClass::Reply,
        linked_by: Some(LinkedBy::Reference),
        notice: Some(("P0000523", "first_reminder", "2026-12-01")),
        patron: Some("P0000523"),
        sender: Some("gaetan.rousseau@example.fr"),
    },
    Expected {
        file: "windows-1252.eml",
        class: MailClass::Reply,
        linked_by: None,
        notice: None,
        patron: None,
        sender: Some("zoe.muller@courriel.example.org"),
    },
    Expected {
        file: "html-only.eml",
        class: MailClass::Reply,
        linked_by: Some(LinkedBy::MessageId),
        notice: Some(("P0000777", "second_reminder", "2026-12-06")),
        patron: Some("P0000777"),
        sender: Some("adele.fontaine@etu.example.fr"),
    },
    Expected {
        file: "malformed.eml",
        class: MailClass::Reply,
        linked_by: Some(LinkedBy::Sender),
        notice: None,
        patron: Some("P0000602"),
        sender: Some("mamadou.diallo@etu.example.fr"),
    },
    Expected {
        file: "unreadable.eml",
        class: MailClass::Unreadable,
        linked_by: None,
        notice: None,
        patron: None,
        sender: None,
    },
];

/// The fixtures' patrons, and loans that make the planner derive exactly the
/// notices the fixtures answer, planned day by day as the schedule would.
async fn fixtures_institution(stack: &Stack) {
    let patrons = [
        (
            "P0000042",
            "Camille Martin",
            "camille.martin@etu.example.fr",
        ),
        (
            "P0000107",
            "Jérôme Lefèvre",
            "jerome.lefevre@courriel.example.org",
        ),
        ("P0000213", "Hélène Garnier", "helene.garnier@example.fr"),
        ("P0000318", "Noémie Bonnet", "noemie.bonnet@etu.example.fr"),
        ("P0000451", "Théo Nguyễn", "theo.nguyen@etu.example.fr"),
        ("P0000523", "Gaëtan Rousseau", "gaetan.rousseau@example.fr"),
        (
            "P0000602",
            "Mamadou Diallo",
            "mamadou.diallo@etu.example.fr",
        ),
        (
            "P0000777",
            "Adèle Fontaine",
            "adele.fontaine@etu.example.fr",
        ),
    ];
    let rows: Vec<String> = patrons
        .iter()
        .map(|(id, name, email)| patron_row(id, name, email, false))
        .collect();
    stack.import("patrons.csv", &rows, PATRONS_HEADER).await;
    let loans = [
        ("L42", "P0000042", "2026-11-22"),
        ("L107", "P0000107", "2026-11-22"),
        ("L213", "P0000213", "2026-11-30"),
        ("L318", "P0000318", "2026-11-22"),
        ("L523", "P0000523", "2026-11-24"),
        ("L777", "P0000777", "2026-11-15"),
    ];
    let rows: Vec<String> = loans
        .iter()
        .map(|(id, patron, due)| loan_row(id, patron, "STS", day(due), None))
        .collect();
    stack.import("loans.csv", &rows, LOANS_HEADER).await;
    for run_day in [
        "2026-11-27",
        "2026-11-29",
        "2026-12-01",
        "2026-12-06",
        "2026-12-13",
    ] {
        stack.plan(day(run_day)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_fixture_is_classified_linked_and_forwarded_only_when_a_person_wrote_it() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::new().await;
    fixtures_institution(&stack).await;
    let before = sent_mail().len();
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/inbound");

    let mut forwarded_from = Vec::new();
    for expected in &CORPUS {
        let raw = std::fs::read(format!("{folder}/{}", expected.file)).unwrap();
        let received = stack.receive(&unique("ses"), &raw, "PASS", "PASS").await;
        let record = &received.record;
        let file = expected.file;
        assert_eq!(record.class, expected.class, "{file}");
        assert_eq!(record.linked_by, expected.linked_by, "{file}");
        let notice = expected.notice.map(|(patron, stage, run_day)| {
            Notice::email_id(
                &PatronId::parse(patron).unwrap(),
                &StageName::parse(stage).unwrap(),
                day(run_day),
            )
        });
        assert_eq!(record.notice_id, notice, "{file}");
        assert_eq!(
            record.patron_id,
            expected.patron.map(|p| PatronId::parse(p).unwrap()),
            "{file}"
        );
        assert_eq!(
            received.forwarded_now,
            expected.class.is_forwarded(),
            "{file}"
        );
        if received.forwarded_now {
            forwarded_from.push(expected.sender);
        }
    }

    // Staff received exactly the human mail, each answerable to its sender and
    // carrying the original.
    let staff = to(&new_mail(before), STAFF);
    assert_eq!(staff.len(), forwarded_from.len());
    for (mail, sender) in staff.iter().zip(&forwarded_from) {
        let message = parse(mail);
        let reply_to = message
            .reply_to()
            .and_then(|r| r.first())
            .and_then(|a| a.address());
        assert_eq!(reply_to, *sender, "{:?}", message.subject());
        assert_eq!(
            message.from().unwrap().first().unwrap().address(),
            Some(SENDER)
        );
        assert!(
            message
                .attachments()
                .any(|a| a.is_content_type("message", "rfc822")),
            "{:?}: the original is attached",
            message.subject()
        );
    }
}
