use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::address::EmailAddress;
use crate::config::{Config, Library};
use crate::ids::{LibraryCode, LoanId, StageName};
use crate::model::{EmailStatus, Item, PostalAddress};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn patron(id: &str, email: bool, opted_out: bool) -> Patron {
    Patron {
        id: PatronId::parse(id).unwrap(),
        full_name: format!("Patron {id}"),
        email: email.then(|| EmailAddress::parse(&format!("{id}@example.fr")).unwrap()),
        email_status: EmailStatus::Deliverable,
        address: PostalAddress::default(),
        language: None,
        courtesy_opt_out: opted_out,
    }
}

fn loan(id: &str, patron: &str, library: &str, due: NaiveDate) -> Loan {
    Loan {
        id: LoanId::parse(id).unwrap(),
        patron_id: PatronId::parse(patron).unwrap(),
        library: LibraryCode::parse(library).unwrap(),
        item: Item {
            barcode: format!("B{id}"),
            title: format!("Title {id}"),
            author: String::new(),
            call_number: String::new(),
        },
        loaned_at: None,
        due_at: Utc.from_utc_datetime(&due.and_hms_opt(18, 0, 0).unwrap()),
        due_date: due,
        returned_at: None,
    }
}

struct Fixture {
    ladder: Ladder,
    libraries: Vec<Library>,
    loans: Vec<Loan>,
    patrons: HashMap<PatronId, Patron>,
    handled: HashSet<MarkerKey>,
}

impl Fixture {
    fn new(loans: Vec<Loan>, patrons: Vec<Patron>) -> Self {
        Self {
            ladder: Ladder::standard(),
            libraries: Vec::new(),
            loans,
            patrons: patrons.into_iter().map(|p| (p.id.clone(), p)).collect(),
            handled: HashSet::new(),
        }
    }

    fn run(&self, watermark: Option<NaiveDate>, from: NaiveDate, days: usize) -> Forecast {
        let schedule = daily_schedule(watermark, from, days, 2);
        let mut by_due: BTreeMap<NaiveDate, Vec<Loan>> = BTreeMap::new();
        let needed = due_dates_needed(&self.ladder, &schedule);
        for l in &self.loans {
            if needed.contains(&l.due_date) {
                by_due.entry(l.due_date).or_default().push(l.clone());
            }
        }
        forecast(&ForecastInput {
            ladder: &self.ladder,
            libraries: &self.libraries,
            schedule: &schedule,
            loans_by_due: &by_due,
            patrons: &self.patrons,
            handled: &self.handled,
            watermark,
        })
    }
}

fn on(f: &Forecast, day: &str) -> ForecastDay {
    f.days.iter().find(|x| x.day == d(day)).cloned().unwrap()
}

#[test]
fn each_stage_is_forecast_on_the_day_the_ladder_says() {
    let fx = Fixture::new(
        vec![loan("L1", "P1", "STS", d("2026-12-10"))],
        vec![patron("P1", true, false)],
    );
    let f = fx.run(None, d("2026-12-01"), 50);
    assert_eq!(f.days.len(), 50);
    assert_eq!(on(&f, "2026-12-07").notices["courtesy"], 1);
    assert_eq!(on(&f, "2026-12-17").emails["first_reminder"], 1);
    assert_eq!(on(&f, "2026-12-31").emails["second_reminder"], 1);
    let letter = on(&f, "2027-01-14");
    assert_eq!((letter.letters, letter.notices["letter"]), (1, 1));
    let total: usize = f.days.iter().map(ForecastDay::total).sum();
    assert_eq!(total, 4, "nothing on other days");
}

#[test]
fn a_patrons_loans_due_the_same_day_make_one_email_and_one_letter_per_library() {
    let due = d("2026-12-10");
    let fx = Fixture::new(
        vec![
            loan("L1", "P1", "STS", due),
            loan("L2", "P1", "STS", due),
            loan("L3", "P1", "DRT", due),
        ],
        vec![patron("P1", true, false)],
    );
    let f = fx.run(None, d("2026-12-01"), 50);
    let courtesy = on(&f, "2026-12-07");
    assert_eq!(courtesy.notices["courtesy"], 1);
    assert_eq!(courtesy.loans["courtesy"], 3);
    assert_eq!(on(&f, "2027-01-14").letters, 2, "one letter per library");
}

#[test]
fn opted_out_patrons_get_no_courtesy_and_patrons_without_email_get_reminders_by_letter() {
    let due = d("2026-12-10");
    let fx = Fixture::new(
        vec![loan("L1", "P1", "STS", due), loan("L2", "P2", "STS", due)],
        vec![patron("P1", true, true), patron("P2", false, false)],
    );
    let f = fx.run(None, d("2026-12-01"), 20);
    let courtesy = on(&f, "2026-12-07");
    assert_eq!(courtesy.total(), 0);
    assert_eq!(courtesy.skipped["opted_out"], 1);
    assert_eq!(courtesy.skipped["no_usable_email"], 1);
    let first = on(&f, "2026-12-17");
    assert_eq!(first.emails["first_reminder"], 1);
    assert_eq!((first.letters, first.print_fallbacks), (1, 1));
    assert_eq!(first.notices["first_reminder"], 2);
}

#[test]
fn the_first_day_catches_up_as_the_schedule_does_and_later_days_plan_alone() {
    let fx = Fixture::new(
        vec![
            loan("L1", "P1", "STS", d("2026-12-13")),
            loan("L2", "P1", "STS", d("2026-12-14")),
        ],
        vec![patron("P1", true, false)],
    );
    // Watermark two days back: the run of the 11th plans the 10th and the 11th.
    let f = fx.run(Some(d("2026-12-09")), d("2026-12-11"), 3);
    let first = on(&f, "2026-12-11");
    assert_eq!(first.planned_days, [d("2026-12-10"), d("2026-12-11")]);
    assert_eq!(first.notices["courtesy"], 1, "both loans in one email");
    assert_eq!(first.loans["courtesy"], 2);
    assert_eq!(on(&f, "2026-12-12").planned_days, [d("2026-12-12")]);
}

#[test]
fn days_already_planned_and_markers_already_handled_forecast_nothing() {
    let mut fx = Fixture::new(
        vec![
            loan("L1", "P1", "STS", d("2026-12-13")),
            loan("L2", "P2", "STS", d("2026-12-14")),
        ],
        vec![patron("P1", true, false), patron("P2", true, false)],
    );
    let f = fx.run(Some(d("2026-12-10")), d("2026-12-10"), 2);
    assert!(on(&f, "2026-12-10").planned_days.is_empty());
    assert_eq!(on(&f, "2026-12-10").total(), 0);
    assert_eq!(on(&f, "2026-12-11").notices["courtesy"], 1);

    fx.handled.insert(MarkerKey {
        loan_id: LoanId::parse("L2").unwrap(),
        due_date: d("2026-12-14"),
        stage: StageName::parse("courtesy").unwrap(),
    });
    let f = fx.run(None, d("2026-12-11"), 1);
    assert_eq!(f.days[0].total(), 0);
}

#[test]
fn the_chart_is_an_svg_with_one_legend_entry_per_series_escaped() {
    let fx = Fixture::new(
        vec![loan("L1", "P1", "STS", d("2026-12-10"))],
        vec![patron("P1", true, false)],
    );
    let f = fx.run(None, d("2026-12-01"), 45);
    let svg = forecast_svg(&f, &["courtesy".into(), "a<b".into()]).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    assert!(svg.contains("courtesy (email)"));
    assert!(svg.contains("letters to print"));
    assert!(svg.contains("a&lt;b (email)") && !svg.contains("a<b"));
    assert!(svg.contains("<rect"), "bars are drawn");
}

#[test]
fn letters_of_a_closed_day_are_forecast_on_their_librarys_next_open_day() {
    let config = Config::parse(
        r#"
[institution]
name = "Université"
closed_weekdays = ["sunday"]
holidays = "FR"
closures = ["2026-12-24..2027-01-02"]

[mail]
from = "Service <contentieux@example.fr>"
staff_inbox = "equipe@example.fr"

[[libraries]]
code = "STS"
name = "BU Sciences"
inbox = "bu-sciences@example.fr"

[[libraries]]
code = "DRT"
name = "BU Droit"
inbox = "bu-droit@example.fr"
closed_weekdays = []
holidays = "none"
closures = []
"#,
    )
    .unwrap();
    // Letters on Sunday 6 December (+35 from 1 November) and Christmas Day.
    let mut fx = Fixture::new(
        vec![
            loan("L1", "P1", "STS", d("2026-11-01")),
            loan("L2", "P2", "STS", d("2026-11-01")),
            loan("L3", "P1", "DRT", d("2026-11-01")),
            loan("L4", "P1", "STS", d("2026-11-20")),
        ],
        vec![patron("P1", true, false), patron("P2", true, false)],
    );
    fx.libraries = config.libraries.clone();
    let f = fx.run(None, d("2026-12-05"), 40);
    let sunday = on(&f, "2026-12-06");
    assert_eq!(
        (sunday.letters, sunday.letters_held),
        (1, 2),
        "DRT prints on Sundays"
    );
    let monday = on(&f, "2026-12-07");
    assert_eq!(monday.letters, 2);
    assert_eq!(
        monday.deferred_letters[0].to_string(),
        "2 letters of STS deferred from 2026-12-06: BU Sciences closed (Sunday)"
    );
    let christmas = on(&f, "2026-12-25");
    assert_eq!((christmas.letters, christmas.letters_held), (0, 1));
    assert_eq!(on(&f, "2027-01-04").letters, 1);
    assert_eq!(
        on(&f, "2027-01-04").deferred_letters[0].reason,
        "BU Sciences closed (closure 2026-12-24..2027-01-02)"
    );
    let printed: usize = f.days.iter().map(|d| d.letters).sum();
    assert_eq!(printed, 4, "every letter printed once");
}
