use std::collections::HashMap;

use chrono::{DateTime, NaiveDate};
use mail_parser::{MessageParser, MimeHeaders};

use super::*;
use crate::ids::{NoticeId, PatronId, StageName};
use crate::ladder::Channel;
use crate::model::Language;
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

/// The test institution writes French (`default_language = "fr"`); these tests
/// read the English wording unless they ask for French.
fn fixture() -> (
    Config,
    RunSummary,
    Vec<Notice>,
    HashMap<LoanId, LibraryCode>,
) {
    fixture_in(Language::En)
}

fn fixture_in(
    language: Language,
) -> (
    Config,
    RunSummary,
    Vec<Notice>,
    HashMap<LoanId, LibraryCode>,
) {
    let mut config = Config::parse(CONFIG).unwrap();
    config.institution.default_language = language;
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

fn rejected_import() -> LastImport {
    LastImport {
        at: DateTime::from_timestamp(1_795_990_000, 0).unwrap(),
        rejected: 1,
        warnings: 0,
        committed: false,
        rejects_file: Some("var/imports/rejects-1.csv".into()),
        lines: vec![RejectLine {
            file: "loans.csv".into(),
            line: "7".into(),
            record_id: "L9".into(),
            field: "due_at".into(),
            reason: "is not a date".into(),
            outcome: "rejected".into(),
        }],
    }
}

#[test]
fn a_french_institution_gets_its_report_in_french() {
    let (config, mut summary, notices, libraries) = fixture_in(Language::Fr);
    summary.not_rechecked = 3;
    summary.deferred = 1;
    let import = rejected_import();
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
    assert_eq!(
        report.subject,
        "Relance – exécution du 29/11/2026 : 3 nouveaux avis, 1 courriels envoyés, \
         0 lettres à imprimer, 2 échecs"
    );
    let message = MessageParser::default().parse(&report.raw).unwrap();
    assert_eq!(message.subject(), Some(report.subject.as_str()));
    let text = &report.text;
    assert!(message.body_text(0).unwrap().contains("Envoi"));
    for expected in [
        "Université de Bordeaux – exécution du 29/11/2026\n".to_owned(),
        "Jours planifiés : 29/11/2026\n".to_owned(),
        "\nNouveaux avis par étape\n".to_owned(),
        "  first_reminder                1\n".to_owned(),
        "  total                         3\n".to_owned(),
        "\nAvis du 29/11/2026 par bibliothèque et par étape (un courriel qui liste des prêts \
         de plusieurs bibliothèques compte pour chacune)\n"
            .to_owned(),
        "  STS      Bibliothèque Sciences et techniques : first_reminder 1, letter 1\n".to_owned(),
        "\nEnvoi\n  courriels envoyés               1\n  lettres produites               0  \
         (lots d'impression envoyés aux bibliothèques)\n  lettres encore en attente       0\n  \
         relancés des jours passés       0\n"
            .to_owned(),
        "\nRepli sur l'impression\n  2 prêts en relance prévus à l'impression (lecteur sans \
         courriel utilisable)\n  0 courriels changés en lettres (l'adresse ne fonctionne plus)\n"
            .to_owned(),
        "\nAnnulations : 1 dans cette exécution\n".to_owned(),
        "  3 prêts n'ont pas pu être vérifiés auprès du système de la bibliothèque avant \
         l'envoi (budget d'appels épuisé ou système indisponible) : leurs avis sont partis \
         comme prévu\n"
            .to_owned(),
        format!(
            "  1 tous les prêts rendus ou prolongés depuis la planification : {}\n",
            notices[1].reference
        ),
        "\nÉchecs : 1 en échec (relancés par la prochaine exécution), 1 non tentés \
         (transport indisponible)\n"
            .to_owned(),
        format!(
            "  {} letter letter P3 : 2 tentatives échouées\n",
            notices[2].reference
        ),
        "\nFiles des messages en échec (messages qui ont échoué à chaque nouvel essai : voir \
         « Dead letters » dans le README)\n  mail 0, letters 2\n"
            .to_owned(),
        format!(
            "\nDernier import\n  {} : 1 lignes rejetées, 0 avertissements (rien n'a été \
             conservé : import strict)\n",
            import.at.format("%d/%m/%Y %H:%M UTC")
        ),
        "  fichier des rejets : var/imports/rejects-1.csv\n".to_owned(),
        "  loans.csv ligne 7 L9 due_at : is not a date (rejected)\n".to_owned(),
        "\nPièce jointe : notices-2026-11-29.csv, les 3 avis du jour d'exécution 29/11/2026 \
         tels que le registre les contient.\n"
            .to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in:\n{text}");
    }
    for english in [
        "run of",
        "Delivery",
        "Failures",
        "Last import",
        "Attached",
        "2026-11-29:",
    ] {
        assert!(!text.contains(english), "{english:?} in:\n{text}");
    }
    // The file name and the CSV keep ISO dates and their column names.
    assert_eq!(report.csv_name, "notices-2026-11-29.csv");
    let mut reader = csv::Reader::from_reader(report.csv.as_slice());
    assert_eq!(reader.headers().unwrap(), CSV_COLUMNS.as_slice());
}

#[test]
fn a_french_report_tells_a_stopped_run_and_the_open_days_in_french() {
    use crate::summary::OpenDayWait;
    let (config, mut summary, notices, libraries) = fixture_in(Language::Fr);
    summary.stopped = Some("the store is unreachable".into());
    summary.planned_days.clear();
    let sunday = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
    let monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    let mut waiting = notices[2].clone();
    waiting.run_day = sunday;
    summary.waiting_for_open_day = vec![
        OpenDayWait::of(&waiting, "STS", Some(monday), "fermée (dimanche)"),
        OpenDayWait::of(&waiting, "STS", None, "fermée"),
    ];
    let report = compose_staff_report(&StaffReportInput {
        config: &config,
        summary: &summary,
        notices: &notices,
        libraries: &libraries,
        last_import: None,
        dead_letters: &[],
        sent_at: DateTime::from_timestamp(1_796_000_100, 0).unwrap(),
    })
    .unwrap();
    assert_eq!(
        report.subject,
        "Relance – exécution du 29/11/2026 INTERROMPUE : 1 courriels envoyés, 0 lettres à imprimer"
    );
    let text = &report.text;
    for expected in [
        "\nL'EXÉCUTION S'EST INTERROMPUE avant la fin : the store is unreachable\nCe qu'elle a \
         fait figure ci-dessous ; la prochaine exécution (ou une nouvelle exécution de ce jour) \
         reprend à partir de là.\n"
            .to_owned(),
        "Jours planifiés : aucun (déjà planifiés ; avis en attente relancés)\n".to_owned(),
        "\nJours d'ouverture\n  2 en attente du prochain jour d'ouverture de leur bibliothèque\n"
            .to_owned(),
        format!(
            "    {} letter letter P3 (STS) : reporté depuis le 06/12/2026 : fermée (dimanche) ; \
             à remettre le 07/12/2026\n",
            waiting.reference
        ),
        format!(
            "    {} letter letter P3 (STS) : reporté depuis le 06/12/2026 : fermée ; à remettre \
             le aucun jour d'ouverture en vue\n",
            waiting.reference
        ),
        "\nDernier import\n  aucun enregistré\n".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in:\n{text}");
    }
    summary.stopped = None;
    summary.delivered_after_closure = std::mem::take(&mut summary.waiting_for_open_day);
    let report = compose_staff_report(&StaffReportInput {
        config: &config,
        summary: &summary,
        notices: &notices,
        libraries: &libraries,
        last_import: None,
        dead_letters: &[],
        sent_at: DateTime::from_timestamp(1_796_000_100, 0).unwrap(),
    })
    .unwrap();
    assert!(
        report
            .subject
            .starts_with("Relance – exécution du 29/11/2026 : exécution reprise, 3 avis du jour, "),
        "{}",
        report.subject
    );
    assert!(
        report
            .text
            .contains("  2 remis dans cette exécution après attente\n"),
        "{}",
        report.text
    );
    assert!(
        report.text.contains("; remis le 07/12/2026\n"),
        "{}",
        report.text
    );
}

#[test]
fn an_english_report_keeps_its_wording_and_iso_dates() {
    let (config, mut summary, notices, libraries) = fixture();
    summary.not_rechecked = 3;
    let import = rejected_import();
    let report = compose_staff_report(&StaffReportInput {
        config: &config,
        summary: &summary,
        notices: &notices,
        libraries: &libraries,
        last_import: Some(&import),
        dead_letters: &[],
        sent_at: DateTime::from_timestamp(1_796_000_100, 0).unwrap(),
    })
    .unwrap();
    assert_eq!(
        report.subject,
        "Relance – run of 2026-11-29: 3 new notices, 1 emails sent, 0 letters to print, 1 failures"
    );
    for expected in [
        "\nDelivery\n  emails sent                     1\n  letters rendered                0  \
         (print batches emailed to the libraries)\n  letters still pending           0\n  \
         retried from earlier days       0\n",
        "\nCancellations: 1 in this run\n  3 loans could not be checked against the library \
         system before sending (call budget spent or system unavailable): their notices went \
         as planned\n",
        "\nFailures: 1 failed (retried by the next run), 0 not attempted (transport down)\n",
        " 1 rejected rows, 0 warnings (nothing kept: strict import)\n  rejects file: \
         var/imports/rejects-1.csv\n",
        "\nAttached: notices-2026-11-29.csv, the 3 notices of run day 2026-11-29 as the ledger \
         holds them.\n",
    ] {
        assert!(
            report.text.contains(expected),
            "{expected:?} not in:\n{}",
            report.text
        );
    }
}
