use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;
use crate::address::EmailAddress;
use crate::forecast::{Forecast, ForecastDay};
use crate::ids::{LibraryCode, NoticeId, StageName};
use crate::ladder::Channel;
use crate::model::{EmailStatus, Item, PostalAddress};
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

fn render() -> String {
    let config = Config::parse(CONFIG).unwrap();
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
