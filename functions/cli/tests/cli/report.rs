//! The run report: one email to the staff inbox after each run, whose CSV matches
//! the ledger.

use crate::common::*;
use mail_parser::{MessageParser, MimeHeaders};
use relance_core::notice::NoticeStatus;
use relance_local::Store;

#[test]
fn each_run_writes_a_report_to_the_staff_inbox_whose_csv_matches_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 300);
    let summary = json(&ok(relance(&config, &["run", "--date", TODAY, "--json"])));
    let path = dir
        .path()
        .join(format!("var/outbox/{TODAY}/mail/report-{TODAY}.eml"));
    let raw = std::fs::read(&path).expect("the report is in the outbox");
    let message = MessageParser::default().parse(&raw).expect("it parses");
    let to = message.to().and_then(|a| a.first()).unwrap();
    assert_eq!(
        to.address(),
        Some("equipe-contentieux@bibliotheques.example.fr")
    );
    // The sample institution writes French: dates as people read them there.
    let today: chrono::NaiveDate = TODAY.parse().unwrap();
    let shown = today.format("%d/%m/%Y").to_string();
    assert!(
        message
            .subject()
            .unwrap()
            .starts_with(&format!("Relance – exécution du {shown} : ")),
        "{:?}",
        message.subject()
    );
    let text = message.body_text(0).unwrap();
    for (stage, n) in summary["notices"].as_object().unwrap() {
        let line = format!("  {stage:<24} {:>6}", n.as_u64().unwrap());
        assert!(text.contains(&line), "{line:?} in {text}");
    }
    assert!(text.contains("Dernier import"), "{text}");
    assert!(
        text.contains(&format!(
            "{:<27}{:>6}",
            "courriels envoyés",
            summary["emails_sent"].as_u64().unwrap()
        )),
        "{text}"
    );

    let attachment = message.attachment(0).expect("the CSV is attached");
    assert_eq!(
        attachment.attachment_name(),
        Some(format!("notices-{TODAY}.csv").as_str())
    );
    let mut reader = csv::Reader::from_reader(attachment.contents());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();

    let store = Store::open(&dir.path().join("var/relance.db")).unwrap();
    let ledger = store.notices_on(TODAY.parse().unwrap()).unwrap();
    assert!(!ledger.is_empty());
    assert_eq!(rows.len(), ledger.len());
    for notice in &ledger {
        let row = rows
            .iter()
            .find(|r| &r[0] == notice.id.as_str())
            .unwrap_or_else(|| panic!("notice {} in the CSV", notice.id));
        assert_eq!(&row[1], notice.reference.as_str());
        assert_eq!(&row[2], notice.patron_id.as_str());
        assert_eq!(&row[3], notice.stage.as_str());
        assert_eq!(&row[4], notice.channel.as_str());
        if let Some(library) = &notice.library {
            assert_eq!(&row[5], library.as_str());
        }
        let mut loans: Vec<&str> = notice.loans.iter().map(|l| l.loan_id.as_str()).collect();
        let mut listed: Vec<&str> = row[6].split(' ').collect();
        loans.sort();
        listed.sort();
        assert_eq!(listed, loans);
        let status = match &notice.status {
            NoticeStatus::Pending => "pending",
            NoticeStatus::Sent { .. } => "sent",
            NoticeStatus::Cancelled { .. } => "cancelled",
        };
        assert_eq!(&row[7], status);
    }
    let sent = rows.iter().filter(|r| &r[7] == "sent").count() as u64;
    let sent_expected =
        summary["emails_sent"].as_u64().unwrap() + summary["letters_rendered"].as_u64().unwrap();
    assert_eq!(sent, sent_expected);
}

#[test]
fn a_dry_run_writes_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 100);
    ok(relance(&config, &["run", "--date", TODAY, "--dry-run"]));
    assert!(!dir.path().join("var/outbox").exists());
}

#[test]
fn the_report_lists_the_last_imports_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 100);
    let loans = dir.path().join("bad-loans.csv");
    std::fs::write(
        &loans,
        "loan_id,patron_id,library_code,barcode,title,author,call_number,loaned_at,due_at,returned_at\n\
         LBAD1,P0000001,STS,B1,A title,,,,not-a-date,\n",
    )
    .unwrap();
    let out = relance(&config, &["import", "--loans", loans.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(0), "the bad row is reported");
    ok(relance(&config, &["run", "--date", TODAY]));
    let raw = std::fs::read(
        dir.path()
            .join(format!("var/outbox/{TODAY}/mail/report-{TODAY}.eml")),
    )
    .unwrap();
    let message = MessageParser::default().parse(&raw).unwrap();
    let text = message.body_text(0).unwrap();
    assert!(text.contains("1 lignes rejetées"), "{text}");
    assert!(text.contains("LBAD1 due_at"), "{text}");
}
