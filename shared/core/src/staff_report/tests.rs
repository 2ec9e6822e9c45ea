use std::collections::HashMap;

use chrono::{DateTime, NaiveDate};
use mail_parser::{MessageParser, MimeHeaders};

use super::*;
use crate::ids::{NoticeId, PatronId, StageName};
use crate::ladder::Channel;
use crate::notice::NoticeLoan;

const CONFIG: &str = crate::testing::INSTITUTION;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

fn notice(patron: &str, stage: &str, channel: Channel, loans: &[&str]) -> Notice {
    let patron_id = PatronId::parse(patron).unwrap();
    let stage = StageName::parse(stage).unwrap();
    let library = (channel == Channel::Letter).then(|| LibraryCode::parse("STS").unwrap());
    let id = NoticeId::derive(&format!("{patron}|{stage}|{channel}"));
    Notice::pending(
        id,
        day(),
        patron_id,
        channel,
        stage.clone(),
        library,
        loans
            .iter()
            .map(|l| NoticeLoan {
                loan_id: LoanId::parse(l).unwrap(),
                due_date: day(),
                stage: stage.clone(),
            })
            .collect(),
    )
}

fn fixture() -> (
    Config,
    RunSummary,
    Vec<Notice>,
    HashMap<LoanId, LibraryCode>,
) {
    let config = Config::parse(CONFIG).unwrap();
    let mut sent = notice("P1", "first_reminder", Channel::Email, &["L1", "L2"]);
    sent.status = NoticeStatus::Sent {
        message_id: "outbox:2026-11-29/mail/first_reminder-P1.eml".into(),
        at: DateTime::from_timestamp(1_796_000_000, 0).unwrap(),
    };
    let mut cancelled = notice("P2", "courtesy", Channel::Email, &["L3"]);
    cancelled.status = NoticeStatus::Cancelled {
        reason: CancelReason::NothingLeft,
    };
    let mut failing = notice("P3", "letter", Channel::Letter, &["L4"]);
    failing.attempts = 2;
    let libraries = [("L1", "STS"), ("L2", "DRT"), ("L3", "DRT"), ("L4", "STS")]
        .into_iter()
        .map(|(l, c)| (LoanId::parse(l).unwrap(), LibraryCode::parse(c).unwrap()))
        .collect();
    let summary = RunSummary {
        run_day: day(),
        planned_days: vec![day()],
        notices: [
            ("courtesy".to_owned(), 1),
            ("first_reminder".to_owned(), 1),
            ("letter".to_owned(), 1),
        ]
        .into_iter()
        .collect(),
        emails_sent: 1,
        cancelled: 1,
        failed: 1,
        print_fallbacks: 2,
        ..RunSummary::default()
    };
    (config, summary, vec![sent, cancelled, failing], libraries)
}

#[test]
fn the_report_goes_to_the_staff_inbox_with_the_counts_cancellations_and_failures() {
    let (config, summary, notices, libraries) = fixture();
    let import = LastImport {
        at: DateTime::from_timestamp(1_795_990_000, 0).unwrap(),
        rejected: 1,
        warnings: 0,
        committed: true,
        rejects_file: Some("var/imports/rejects-1.csv".into()),
        lines: vec![RejectLine {
            file: "loans.csv".into(),
            line: "7".into(),
            record_id: "L9".into(),
            field: "due_at".into(),
            reason: "is not a date".into(),
            outcome: "rejected".into(),
        }],
    };
    let report = compose_staff_report(&StaffReportInput {
        config: &config,
        summary: &summary,
        notices: &notices,
        libraries: &libraries,
        last_import: Some(&import),
        dead_letters: &[("mail".into(), 0), ("letters".into(), 2)],
        sent_at: DateTime::from_timestamp(1_796_000_100, 0).unwrap(),
    })
    .unwrap();
    let message = MessageParser::default().parse(&report.raw).unwrap();
    let to = message.to().and_then(|a| a.first()).unwrap();
    assert_eq!(
        to.address(),
        Some("equipe-contentieux@bibliotheques.example.fr")
    );
    let from = message.from().and_then(|a| a.first()).unwrap();
    assert_eq!(
        from.name(),
        Some("Service du contentieux des bibliothèques")
    );
    assert!(message.subject().unwrap().contains("run of 2026-11-29"));
    assert!(
        report.text.contains("Dead-letter queues"),
        "{}",
        report.text
    );
    assert!(
        report.text.contains("  mail 0, letters 2\n"),
        "{}",
        report.text
    );
    let text = message.body_text(0).unwrap();
    assert!(text.contains("first_reminder                1"), "{text}");
    assert!(
        text.contains("STS      Bibliothèque Sciences et techniques: first_reminder 1, letter 1"),
        "{text}"
    );
    assert!(
        text.contains(
            "DRT      Bibliothèque Droit et science politique: courtesy 1, first_reminder 1"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "1 every loan returned or renewed since planning: {}",
            notices[1].reference
        )),
        "{text}"
    );
    assert!(text.contains("2 reminder loans planned to print"), "{text}");
    assert!(
        text.contains(&format!(
            "{} letter letter P3: 2 failed attempts",
            notices[2].reference
        )),
        "{text}"
    );
    assert!(
        text.contains("loans.csv line 7 L9 due_at: is not a date (rejected)"),
        "{text}"
    );
    let csv = message.attachment(0).unwrap();
    assert_eq!(csv.attachment_name(), Some("notices-2026-11-29.csv"));
    assert_eq!(csv.contents(), report.csv.as_slice());
}

#[test]
fn the_csv_has_one_row_per_notice_with_its_libraries_loans_and_status() {
    let (_, _, notices, libraries) = fixture();
    let csv = notices_csv(&notices, &libraries).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    assert_eq!(reader.headers().unwrap(), CSV_COLUMNS.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][5], "DRT STS");
    assert_eq!(&rows[0][6], "L1 L2");
    assert_eq!(
        (&rows[0][7], &rows[0][8]),
        ("sent", "outbox:2026-11-29/mail/first_reminder-P1.eml")
    );
    assert_eq!((&rows[1][7], &rows[1][8]), ("cancelled", "nothing_left"));
    assert_eq!(
        (&rows[2][5], &rows[2][7], &rows[2][9]),
        ("STS", "pending", "2")
    );
}

#[test]
fn a_display_name_cannot_add_an_address() {
    let address = EmailAddress::parse("a@example.fr").unwrap();
    let header = mailbox(Some("Zoë\" <evil@example.com>, \"x"), &address).unwrap();
    assert!(header.is_ascii() && !header.contains("evil"), "{header}");
    assert_eq!(
        mailbox(Some("Plain \"name\""), &address).unwrap(),
        r#""Plain \"name\"" <a@example.fr>"#
    );
}

#[test]
fn the_report_lists_the_letters_that_wait_for_an_open_day_and_those_printed_after() {
    use crate::summary::OpenDayWait;
    let (config, mut summary, notices, libraries) = fixture();
    let sunday = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
    let monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    let mut waiting = notices[2].clone();
    waiting.run_day = sunday;
    summary.waiting_for_open_day = vec![OpenDayWait::of(
        &waiting,
        "STS",
        Some(monday),
        "Bibliothèque Sciences et techniques closed (Sunday)",
    )];
    let text = |summary: &RunSummary| {
        let report = compose_staff_report(&StaffReportInput {
            config: &config,
            summary,
            notices: &notices,
            libraries: &libraries,
            last_import: None,
            dead_letters: &[],
            sent_at: DateTime::from_timestamp(1_796_000_100, 0).unwrap(),
        })
        .unwrap();
        let message = MessageParser::default().parse(&report.raw).unwrap();
        message.body_text(0).unwrap().into_owned()
    };
    let body = text(&summary);
    assert!(body.contains("\nOpen days"), "{body}");
    assert!(
        body.contains("  1 waiting for their library's next open day"),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "{} letter letter P3 (STS): deferred from 2026-12-06: Bibliothèque Sciences et \
             techniques closed (Sunday); to deliver on 2026-12-07",
            waiting.reference
        )),
        "{body}"
    );
    summary.delivered_after_closure = std::mem::take(&mut summary.waiting_for_open_day);
    let body = text(&summary);
    assert!(
        body.contains("1 delivered in this run after waiting"),
        "{body}"
    );
    assert!(!body.contains("waiting for their library"), "{body}");
    let (_, plain, _, _) = fixture();
    assert!(!text(&plain).contains("Open days"));
}
