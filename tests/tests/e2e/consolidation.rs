//! One email per (patron, stage, run day), library by library, with the recap of
//! the patron's other overdue loans; headers built from data come out encoded.

use mail_parser::MessageParser;
use relance_core::calendar::shift;
use relance_tests::{TestEnv, day, loan_row, patron_row};

const DAY: &str = "2026-11-30";

fn parse(path: &std::path::Path) -> (Vec<u8>, String) {
    let raw = std::fs::read(path).unwrap();
    let text = MessageParser::default()
        .parse(&raw)
        .expect("a parsable message")
        .body_text(0)
        .expect("a text part")
        .into_owned();
    (raw, text)
}

#[test]
fn a_patron_with_loans_at_three_libraries_gets_one_email_with_three_sections_and_a_recap() {
    let env = TestEnv::new();
    let today = day(DAY);
    let late7 = shift(today, -7).unwrap();
    env.import(
        &[patron_row(
            "P1",
            "Camille Martin",
            "camille@example.fr",
            false,
        )],
        &[
            loan_row("L1", "P1", "STS", late7, None),
            loan_row("L2", "P1", "DRT", late7, None),
            loan_row("L3", "P1", "LSH", late7, None),
            // Ten days late: its first reminder day is past, so it only shows in the recap.
            loan_row("L4", "P1", "STS", shift(today, -10).unwrap(), None),
            // Due in three days: a separate courtesy email.
            loan_row("L5", "P1", "DRT", shift(today, 3).unwrap(), None),
        ],
    );
    let summary = env.run(today);
    assert_eq!(summary.emails_sent, 2);
    let files = env.mail_files(today);
    let names: Vec<_> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["courtesy-P1.eml", "first_reminder-P1.eml"]);

    let (_, reminder) = parse(&files[1]);
    let sections: Vec<usize> = [
        "Bibliothèque Droit et science politique",
        "Bibliothèque Lettres et sciences humaines",
        "Bibliothèque Sciences et techniques",
    ]
    .iter()
    .map(|name| {
        reminder
            .find(name)
            .unwrap_or_else(|| panic!("{name} in:\n{reminder}"))
    })
    .collect();
    assert!(
        sections.windows(2).all(|w| w[0] < w[1]),
        "one section per library, in order"
    );
    for title in ["Titre L1", "Titre L2", "Titre L3"] {
        assert_eq!(reminder.matches(title).count(), 1, "{title} listed once");
    }
    let recap_at = reminder
        .find("Titre L4")
        .expect("the other overdue loan in the recap");
    assert!(recap_at > sections[2], "the recap comes after the sections");
    assert!(
        !reminder.contains("Titre L5"),
        "a loan not yet due is not in the recap"
    );

    let (_, courtesy) = parse(&files[0]);
    assert!(courtesy.contains("Titre L5"));
    assert!(!courtesy.contains("Titre L1"));
}

#[test]
fn non_ascii_names_are_encoded_in_headers_and_decoded_intact() {
    let env = TestEnv::new();
    let today = day(DAY);
    env.import(
        &[patron_row(
            "P1",
            "Zoë Ñúñez-Łukasiewicz",
            "zoe@example.fr",
            false,
        )],
        &[loan_row("L1", "P1", "STS", shift(today, -7).unwrap(), None)],
    );
    env.run(today);
    let (raw, _) = parse(&env.mail_files(today)[0]);
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    assert!(
        raw[..head_end].is_ascii(),
        "raw headers are 7-bit (RFC 2047)"
    );
    let message = MessageParser::default().parse(&raw).unwrap();
    let to = message.to().and_then(|a| a.first()).unwrap();
    assert_eq!(to.name(), Some("Zoë Ñúñez-Łukasiewicz"));
    assert_eq!(to.address(), Some("zoe@example.fr"));
    let reply_to = message.reply_to().and_then(|a| a.first()).unwrap();
    assert_eq!(
        reply_to.address(),
        Some("contentieux@bibliotheques.example.fr")
    );
}
