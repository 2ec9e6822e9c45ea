//! Letters end to end: the 35-day letter and the print fallback of reminders go
//! into the owning library's daily batch, archived and emailed to its inbox.

use mail_parser::{MessageParser, MimeHeaders};
use relance_core::calendar::shift;
use relance_core::ports::{MailTransport, OutgoingMail, TransportError};
use relance_tests::{TestEnv, day, loan_row, patron_row};

const DAY: &str = "2026-11-30";

fn file_names(files: &[std::path::PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn reminders_of_a_patron_without_email_go_to_the_library_batch_and_no_email() {
    let env = TestEnv::new();
    let today = day(DAY);
    env.import(
        &[patron_row("P1", "Camille Martin", "", false)],
        &[
            loan_row("L1", "P1", "STS", shift(today, -7).unwrap(), None),
            loan_row("L2", "P1", "STS", shift(today, 3).unwrap(), None),
        ],
    );
    let first = env.run(today);
    assert_eq!(first.emails_sent, 0);
    assert_eq!((first.letters_rendered, first.letters_pending), (1, 0));
    assert_eq!(first.print_fallbacks, 1);
    assert_eq!(
        first.skipped.get("no_usable_email"),
        Some(&1),
        "courtesy needs an email"
    );
    assert_eq!(file_names(&env.mail_files(today)), ["letters-STS.eml"]);
    assert_eq!(
        file_names(&env.letter_files(today, "STS")),
        ["P1.pdf", "batch.pdf", "manifest.csv"]
    );
    let manifest = std::fs::read_to_string(env.letter_files(today, "STS")[2].clone()).unwrap();
    let rows: Vec<_> = manifest.lines().collect();
    assert_eq!(
        rows[0],
        "patron_id,reference,stage,item_count,pages,first_page"
    );
    assert!(
        rows[1].starts_with("P1,R") && rows[1].contains(",first_reminder,1,"),
        "{manifest}"
    );

    let second_day = shift(today, 14).unwrap();
    let second = env.run(second_day);
    assert_eq!((second.emails_sent, second.letters_rendered), (0, 1));
    let manifest = std::fs::read_to_string(env.letter_files(second_day, "STS")[2].clone()).unwrap();
    assert!(manifest.contains(",second_reminder,1,"), "{manifest}");
}

#[test]
fn the_library_inbox_receives_its_batch_with_every_letter_of_the_day() {
    let env = TestEnv::new();
    let today = day(DAY);
    let late35 = shift(today, -35).unwrap();
    env.import(
        &[
            patron_row("P1", "Camille Martin", "camille@example.fr", false),
            patron_row("P2", "Émile Zola", "emile@example.fr", false),
            patron_row("P3", "Zoë Łukasiewicz", "zoe@example.fr", false),
        ],
        &[
            loan_row("L1", "P1", "STS", late35, None),
            loan_row("L2", "P2", "STS", late35, None),
            loan_row("L3", "P2", "STS", late35, None),
            loan_row("L4", "P3", "DRT", late35, None),
        ],
    );
    let summary = env.run(today);
    assert_eq!(summary.notices.get("letter"), Some(&3));
    assert_eq!(summary.letters_rendered, 3);
    assert_eq!(
        summary.emails_sent, 0,
        "the letter stage is always a letter"
    );
    assert_eq!(
        file_names(&env.mail_files(today)),
        ["letters-DRT.eml", "letters-STS.eml"]
    );

    let raw = std::fs::read(&env.mail_files(today)[1]).unwrap();
    let message = MessageParser::default().parse(&raw).unwrap();
    let to = message.to().and_then(|a| a.first()).unwrap();
    assert_eq!(to.address(), Some("bu-sciences@bibliotheques.example.fr"));
    let batch = message.attachment(0).unwrap();
    assert_eq!(batch.content_type().unwrap().subtype(), Some("pdf"));
    let archived = std::fs::read(
        env.letter_files(today, "STS")
            .iter()
            .find(|p| p.ends_with("batch.pdf"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        batch.contents(),
        archived.as_slice(),
        "the attachment is the archived batch"
    );
    let text = message.body_text(0).unwrap();
    for notice in env
        .store
        .notices_on(today)
        .unwrap()
        .iter()
        .filter(|n| n.library.as_ref().is_some_and(|l| l.as_str() == "STS"))
    {
        assert!(
            text.contains(notice.reference.as_str()),
            "{} listed in:\n{text}",
            notice.reference
        );
    }

    // Running the day again prints nothing twice.
    let again = env.run(today);
    assert_eq!(again.letters_rendered, 0);
}

#[test]
fn a_letter_whose_loans_were_all_returned_is_cancelled_not_printed() {
    let env = TestEnv::new();
    let today = day(DAY);
    let late35 = shift(today, -35).unwrap();
    env.import(
        &[patron_row(
            "P1",
            "Camille Martin",
            "camille@example.fr",
            false,
        )],
        &[loan_row("L1", "P1", "STS", late35, None)],
    );
    let engine = env.engine();
    let (plan, watermark) = relance_tests::block_on(engine.plan(today)).unwrap();
    relance_tests::block_on(relance_core::ports::Ledger::record_plan(
        &*env.store,
        &plan,
        watermark,
    ))
    .unwrap();
    env.import(
        &[patron_row(
            "P1",
            "Camille Martin",
            "camille@example.fr",
            false,
        )],
        &[loan_row(
            "L1",
            "P1",
            "STS",
            late35,
            Some("2026-11-30T07:30:00+01:00"),
        )],
    );
    let summary = env.run(today);
    assert_eq!((summary.letters_rendered, summary.cancelled), (0, 1));
    assert!(env.letter_files(today, "STS").is_empty());
    assert!(env.mail_files(today).is_empty());
}

/// Two patrons whose loans reach the letter stage on [`DAY`] at STS, the second
/// without a postal address (their letter cannot be printed yet).
fn one_letter_without_address() -> (TestEnv, chrono::NaiveDate) {
    let env = TestEnv::new();
    let today = day(DAY);
    let late35 = shift(today, -35).unwrap();
    let no_address = "P2,\"Alex Dupont\",alex@example.fr,,,,,,fr,false".to_owned();
    env.import(
        &[
            patron_row("P1", "Camille Martin", "camille@example.fr", false),
            no_address,
        ],
        &[
            loan_row("L1", "P1", "STS", late35, None),
            loan_row("L2", "P2", "STS", late35, None),
        ],
    );
    (env, today)
}

#[test]
fn a_letter_that_cannot_be_posted_stays_pending_without_holding_up_the_batch() {
    let (env, today) = one_letter_without_address();
    let summary = env.run(today);
    assert_eq!((summary.letters_rendered, summary.failed), (1, 1));
    let status = env.store.status(1).unwrap();
    assert_eq!(
        status.pending.len(),
        1,
        "the letter without address is kept, not dropped"
    );
    assert_eq!(status.pending[0].channel, "letter");
}

#[test]
fn a_letter_held_back_is_printed_with_a_later_batch_and_the_earlier_batch_stays_as_sent() {
    let (env, today) = one_letter_without_address();
    assert_eq!(env.run(today).letters_rendered, 1);
    let first_batch = env.letter_files(today, "STS");
    let sent_batch = std::fs::read(
        first_batch
            .iter()
            .find(|p| p.ends_with("batch.pdf"))
            .unwrap(),
    )
    .unwrap();

    // The address is fixed; the next day the held-back letter goes with that day's batch.
    env.import(
        &[patron_row("P2", "Alex Dupont", "alex@example.fr", false)],
        &[],
    );
    let next_day = shift(today, 1).unwrap();
    let next = env.run(next_day);
    assert_eq!(next.letters_rendered, 1);
    assert_eq!(
        file_names(&env.letter_files(next_day, "STS")),
        ["P2.pdf", "batch.pdf", "manifest.csv"]
    );
    let still = std::fs::read(
        first_batch
            .iter()
            .find(|p| p.ends_with("batch.pdf"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(still, sent_batch, "the batch already sent is not rewritten");
    assert_eq!(
        file_names(&env.letter_files(today, "STS")),
        ["P1.pdf", "batch.pdf", "manifest.csv"]
    );
}

#[test]
fn a_letter_retried_on_the_day_its_batch_went_makes_a_second_batch_and_leaves_the_first_as_sent() {
    let (env, today) = one_letter_without_address();
    assert_eq!(env.run(today).letters_rendered, 1);
    let read = |name: &str| {
        let path = env
            .letter_files(today, "STS")
            .into_iter()
            .chain(env.mail_files(today))
            .find(|p| p.file_name().unwrap() == name)
            .unwrap_or_else(|| panic!("{name}"));
        std::fs::read(path).unwrap()
    };
    let sent = (
        read("batch.pdf"),
        read("manifest.csv"),
        read("letters-STS.eml"),
    );

    // The address is fixed and the same day is run again: the held-back letter
    // goes in the day's second batch, with files and a Message-ID of its own.
    env.import(
        &[patron_row("P2", "Alex Dupont", "alex@example.fr", false)],
        &[],
    );
    assert_eq!(env.run(today).letters_rendered, 1);
    let mut names = file_names(&env.letter_files(today, "STS"));
    names.sort();
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.contains(&"batch-2.pdf".to_owned()), "{names:?}");
    assert!(names.contains(&"manifest-2.csv".to_owned()), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("P2-")), "{names:?}");
    assert_eq!(
        (
            read("batch.pdf"),
            read("manifest.csv"),
            read("letters-STS.eml")
        ),
        sent,
        "what was sent stays as it was"
    );
    let message_id = |raw: &[u8]| {
        MessageParser::default()
            .parse(raw)
            .unwrap()
            .message_id()
            .unwrap()
            .to_owned()
    };
    let second = read("letters-STS-batch2.eml");
    assert_ne!(message_id(&second), message_id(&sent.2));
    assert!(String::from_utf8_lossy(&read("manifest-2.csv")).contains("P2"));
}

/// The outbox, refusing the mails named in `refuse` (a print batch's parts).
struct RefusingParts<'a> {
    outbox: &'a relance_local::Outbox,
    refuse: &'a [&'a str],
}

impl MailTransport for RefusingParts<'_> {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, TransportError> {
        if self.refuse.contains(&mail.name.as_str()) {
            return Err(TransportError::transient("451 try again later"));
        }
        self.outbox.send(mail).await
    }
}

#[test]
fn a_batch_too_large_for_one_mail_goes_in_parts_and_a_refused_part_is_sent_later() {
    // A library whose mail server takes 48 KiB attachments, and 60 letters of
    // about 2 KB each (plus the fonts every PDF embeds): the batch needs parts.
    const LIMIT: usize = 48 * 1024;
    let env = TestEnv::with_config(
        &relance_tests::CONFIG.replace("[mail]\n", "[mail]\nbatch_attachment_kib = 48\n"),
    );
    let today = day(DAY);
    let late35 = shift(today, -35).unwrap();
    let patrons: Vec<String> = (0..60)
        .map(|n| patron_row(&format!("P{n:03}"), &format!("Lecteur {n:03}"), "", false))
        .collect();
    let loans: Vec<String> = (0..60 * 3)
        .map(|n| {
            loan_row(
                &format!("L{n:04}"),
                &format!("P{:03}", n / 3),
                "STS",
                late35,
                None,
            )
        })
        .collect();
    env.import(&patrons, &loans);

    let refusing = RefusingParts {
        outbox: &env.outbox,
        refuse: &["letters-STS-2"],
    };
    let first = env.run_with(today, &refusing).expect("run");
    // Part 1 went; part 2 was refused, so the parts after it wait with it.
    assert_eq!(file_names(&env.mail_files(today)), ["letters-STS-1.eml"]);
    assert_eq!(first.failed, 1);
    let raw = std::fs::read(&env.mail_files(today)[0]).unwrap();
    let part_one = MessageParser::default().parse(&raw).unwrap();
    let subject = part_one.subject().unwrap().to_owned();
    let count: usize = subject.rsplit('/').next().unwrap().parse().unwrap();
    assert!(subject.contains("envoi 1/"), "{subject}");
    assert!(count >= 3, "{subject}");
    let pdf = part_one.attachment(0).unwrap();
    assert_eq!(
        pdf.attachment_name(),
        Some(format!("relance-STS-{DAY}-1-{count}.pdf").as_str())
    );
    assert!(pdf.contents().len() <= LIMIT);
    let batch = std::fs::read(
        env.letter_files(today, "STS")
            .iter()
            .find(|p| p.ends_with("batch.pdf"))
            .unwrap(),
    )
    .unwrap();
    assert!(batch.len() > LIMIT, "the archived batch is whole");

    // The refused part's letters stay pending and go with the next run; every
    // letter reaches the library once.
    let pending = first.letters_pending;
    assert!(
        pending > 0 && first.letters_rendered + pending == 60,
        "{first:?}"
    );
    let next = shift(today, 1).unwrap();
    let second = env.run(next);
    assert_eq!(second.letters_rendered, pending);
    let mut references: Vec<String> = env
        .mail_files(today)
        .into_iter()
        .chain(env.mail_files(next))
        .flat_map(|p| {
            let raw = std::fs::read(p).unwrap();
            let message = MessageParser::default().parse(&raw).unwrap();
            let manifest = message.attachment(1).unwrap().contents().to_vec();
            csv::Reader::from_reader(manifest.as_slice())
                .records()
                .map(|r| r.unwrap()[1].to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    references.sort();
    let total = references.len();
    references.dedup();
    assert_eq!((total, references.len()), (60, 60));
}
