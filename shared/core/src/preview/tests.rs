use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;
use crate::address::EmailAddress;
use crate::forecast::{Forecast, ForecastDay};
use crate::ids::{LibraryCode, NoticeId, StageName};
use crate::ladder::Channel;
use crate::model::{EmailStatus, Item, Language, PostalAddress};
use crate::notice::{Notice, NoticeLoan, NoticeStatus};

const CONFIG: &str = r#"
[institution]
name = "Université <de> Bordeaux"
timezone = "Europe/Paris"
default_language = "fr"

[mail]
from = "Service du contentieux <contentieux@bibliotheques.example.fr>"
staff_inbox = "equipe@bibliotheques.example.fr"

[[libraries]]
code = "STS"
name = "Sciences & techniques"
inbox = "bu-sciences@bibliotheques.example.fr"
address = ["Allée Baudour", "33400 Talence"]
"#;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

fn preview() -> Preview {
    let patron = Patron {
        id: PatronId::parse("P1").unwrap(),
        full_name: "<script>alert(1)</script> Martin".into(),
        email: Some(EmailAddress::parse("p1@example.fr").unwrap()),
        email_status: EmailStatus::Deliverable,
        address: PostalAddress::default(),
        language: None,
        courtesy_opt_out: false,
    };
    let loan = Loan {
        id: LoanId::parse("L1").unwrap(),
        patron_id: patron.id.clone(),
        library: LibraryCode::parse("STS").unwrap(),
        item: Item {
            barcode: "B1".into(),
            title: "Title \" onmouseover=\"x".into(),
            author: String::new(),
            call_number: String::new(),
        },
        loaned_at: None,
        due_at: Utc.with_ymd_and_hms(2026, 11, 22, 17, 0, 0).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        returned_at: None,
    };
    let stage = StageName::parse("first_reminder").unwrap();
    let id = NoticeId::derive("x");
    let mut notice = Notice::pending(
        id,
        day(),
        patron.id.clone(),
        Channel::Email,
        stage.clone(),
        None,
        vec![NoticeLoan {
            loan_id: loan.id.clone(),
            due_date: loan.due_date,
            stage,
        }],
    );
    notice.status = NoticeStatus::Sent {
        message_id: "mail/first_reminder-P1.eml".into(),
        at: DateTime::from_timestamp(1_796_000_000, 0).unwrap(),
    };
    Preview {
        summary: RunSummary {
            run_day: day(),
            planned_days: vec![day()],
            notices: [("first_reminder".to_owned(), 1)].into_iter().collect(),
            emails_sent: 1,
            ..RunSummary::default()
        },
        notices: vec![PreviewedNotice {
            notice,
            new: true,
            error: None,
        }],
        patrons: HashMap::from([(patron.id.clone(), patron)]),
        loans: HashMap::from([(loan.id.clone(), loan)]),
    }
}

/// The page of the English institution (the config above is French).
fn render() -> String {
    render_in(Language::En)
}

fn render_in(language: Language) -> String {
    let mut config = Config::parse(CONFIG).unwrap();
    config.institution.default_language = language;
    let forecast = Forecast {
        watermark: None,
        stages: vec!["first_reminder".into()],
        days: vec![ForecastDay {
            day: day(),
            letters: 3,
            ..ForecastDay::default()
        }],
    };
    render_page(&PageInput {
        config: &config,
        day: day(),
        generated_at: DateTime::from_timestamp(1_796_000_000, 0).unwrap(),
        preview: &preview(),
        previous: &PreviousDay {
            day: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
            source: PreviousSource::Recorded,
            notices: BTreeMap::from([("first_reminder".to_owned(), 3)]),
        },
        forecast: &forecast,
        chart_svg: "<svg id=\"chart-svg\"></svg>",
    })
    .unwrap()
}

#[test]
fn data_on_the_page_is_escaped_and_the_chart_is_inlined() {
    let page = render();
    assert!(!page.contains("<script>"), "patron name escaped");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; Martin"),
        "{page}"
    );
    assert!(page.contains("Title &quot; onmouseover=&quot;x"));
    assert!(page.contains("Université &lt;de&gt; Bordeaux"));
    assert!(page.contains("Sciences &amp; techniques"));
    assert!(page.contains("<svg id=\"chart-svg\"></svg>"));
}

#[test]
fn the_page_counts_each_stage_against_the_previous_day_and_links_the_email() {
    let page = render();
    assert!(page.contains(
        "<tr data-stage=\"first_reminder\"><td>first_reminder</td><td class=\"n count\" data-count=\"1\">1</td><td class=\"n previous\" data-count=\"3\">3</td><td class=\"n\">−2</td></tr>"
    ), "{page}");
    assert!(
        page.contains("href=\"mail&#x2f;first_reminder-P1.eml\""),
        "{page}"
    );
    assert!(page.contains("src=\"mail&#x2f;first_reminder-P1.html\""));
    assert!(page.contains("7 days overdue"));
    assert!(page.contains("id=\"peak-letters\">3<"));
}

#[test]
fn a_french_institution_gets_its_page_in_french() {
    let page = render_in(Language::Fr);
    for expected in [
        "<html lang=\"fr\">",
        "<title>Aperçu Relance – 29/11/2026</title>",
        "<h1>Ce qui part le 29/11/2026</h1>",
        "<strong>rien n&#x27;a été envoyé ni enregistré</strong>",
        "L&#x27;exécution du 29/11/2026 planifie 29/11/2026.",
        "<thead><tr><th>étape</th><th class=\"n\">29/11/2026</th><th class=\"n\">28/11/2026</th>\
         <th class=\"n\">écart</th></tr></thead>",
        "28/11/2026 : tel que le registre l&#x27;a enregistré lors des exécutions de ce jour.",
        "<dt>courriels à envoyer</dt><dd id=\"emails-sent\">1</dd>",
        "<h2>Prévision : les 1 prochains jours</h2>",
        "Le plus de lettres à imprimer : <strong id=\"peak-letters\">3</strong> le \
         <strong>29/11/2026</strong>.",
        "<tr data-day=\"2026-11-29\" class=\"peak\"><td>dim. 29/11/2026</td>",
        "<h2>first_reminder : courriels <span class=\"note\">(1)</span></h2>",
        "<th>référence</th><th>lecteur</th><th>documents</th><th>résultat</th>",
        "à rendre le 22/11/2026, 7 jours de retard",
        "<td>serait envoyé</td>",
        "<summary>voir le courriel</summary>",
    ] {
        assert!(page.contains(expected), "{expected:?} not in:\n{page}");
    }
    for english in [
        "What goes out",
        "preview made",
        "days overdue",
        "would be sent",
        "lang=\"en\"",
    ] {
        assert!(!page.contains(english), "{english:?} in:\n{page}");
    }
    // The ids the browser test and the CLI read stay the same.
    for id in [
        "id=\"summary\"",
        "id=\"counts\"",
        "id=\"total\"",
        "id=\"delivery\"",
        "id=\"chart\"",
        "id=\"forecast-table\"",
        "id=\"section-first_reminder-email\"",
    ] {
        assert!(page.contains(id), "{id}");
    }
}

#[test]
fn an_english_institution_gets_its_page_in_english_with_iso_dates() {
    let page = render();
    for expected in [
        "<html lang=\"en\">",
        "<h1>What goes out on 2026-11-29</h1>",
        "The run of 2026-11-29 plans 2026-11-29.",
        "2026-11-28: as recorded in the ledger by the runs of that day.",
        "<h2>first_reminder: emails <span class=\"note\">(1)</span></h2>",
        "<td>Sun 2026-11-29</td>",
        "due 2026-11-22, 7 days overdue",
    ] {
        assert!(page.contains(expected), "{expected:?} not in:\n{page}");
    }
}
