use super::*;
use crate::address::EmailAddress;
use crate::ids::LoanId;
use crate::model::{EmailStatus, Item, PostalAddress};
use chrono::{TimeZone, Utc};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn patron(id: &str, email: Option<&str>, opt_out: bool) -> Patron {
    Patron {
        id: PatronId::parse(id).unwrap(),
        full_name: format!("Patron {id}"),
        email: email.map(|e| EmailAddress::parse(e).unwrap()),
        email_status: EmailStatus::Deliverable,
        address: PostalAddress::default(),
        language: None,
        courtesy_opt_out: opt_out,
    }
}

fn loan(id: &str, patron: &str, library: &str, due: &str) -> Loan {
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
        due_at: Utc.from_utc_datetime(&d(due).and_hms_opt(22, 0, 0).unwrap()),
        due_date: d(due),
        returned_at: None,
    }
}

fn candidate(loan: Loan, stage: &str, day: &str) -> Candidate {
    Candidate {
        loan,
        stage: StageName::parse(stage).unwrap(),
        day: d(day),
    }
}

fn patrons(list: Vec<Patron>) -> HashMap<PatronId, Patron> {
    list.into_iter().map(|p| (p.id.clone(), p)).collect()
}

const DAY: &str = "2026-11-29";

#[test]
fn loans_of_one_patron_at_several_libraries_make_one_email_per_stage() {
    let ps = patrons(vec![patron("P1", Some("p1@example.fr"), false)]);
    let cands = vec![
        candidate(loan("L1", "P1", "STS", "2026-11-22"), "first_reminder", DAY),
        candidate(loan("L2", "P1", "DRT", "2026-11-22"), "first_reminder", DAY),
        candidate(loan("L3", "P1", "LSH", "2026-11-22"), "first_reminder", DAY),
        candidate(loan("L4", "P1", "STS", "2026-12-02"), "courtesy", DAY),
    ];
    let plan = plan(
        &Ladder::standard(),
        d(DAY),
        vec![d(DAY)],
        cands,
        &ps,
        &HashSet::new(),
    );
    assert_eq!(plan.notices.len(), 2);
    let reminder = plan
        .notices
        .iter()
        .find(|n| n.stage.as_str() == "first_reminder")
        .unwrap();
    let ids: Vec<_> = reminder.loans.iter().map(|l| l.loan_id.as_str()).collect();
    assert_eq!(ids, ["L2", "L3", "L1"], "grouped library by library");
    assert_eq!(plan.markers.len(), 4);
}

#[test]
fn courtesy_is_not_sent_to_patrons_who_opted_out_or_cannot_be_emailed() {
    let ps = patrons(vec![
        patron("P1", Some("p1@example.fr"), true),
        patron("P2", None, false),
    ]);
    let cands = vec![
        candidate(loan("L1", "P1", "STS", "2026-12-02"), "courtesy", DAY),
        candidate(loan("L2", "P2", "STS", "2026-12-02"), "courtesy", DAY),
    ];
    let plan = plan(
        &Ladder::standard(),
        d(DAY),
        vec![d(DAY)],
        cands,
        &ps,
        &HashSet::new(),
    );
    assert!(plan.notices.is_empty());
    assert_eq!(plan.skipped().get("opted_out"), Some(&1));
    assert_eq!(plan.skipped().get("no_usable_email"), Some(&1));
}

#[test]
fn reminders_of_a_patron_without_email_go_to_the_owning_library_print_batch() {
    let ps = patrons(vec![patron("P2", None, false)]);
    let cands = vec![
        candidate(loan("L1", "P2", "STS", "2026-11-22"), "first_reminder", DAY),
        candidate(loan("L2", "P2", "DRT", "2026-11-22"), "first_reminder", DAY),
    ];
    let ladder = Ladder::standard();
    let plan = plan(&ladder, d(DAY), vec![d(DAY)], cands, &ps, &HashSet::new());
    assert_eq!(plan.notices.len(), 2, "one letter per owning library");
    assert!(
        plan.notices
            .iter()
            .all(|n| n.channel == Channel::Letter && n.stage.as_str() == "first_reminder")
    );
    assert_eq!(plan.print_fallbacks(&ladder), 2);
}

#[test]
fn a_letter_takes_the_highest_stage_of_its_loans() {
    let ps = patrons(vec![patron("P2", None, false)]);
    let cands = vec![
        candidate(loan("L1", "P2", "STS", "2026-11-22"), "first_reminder", DAY),
        candidate(loan("L2", "P2", "STS", "2026-10-25"), "letter", DAY),
    ];
    let plan = plan(
        &Ladder::standard(),
        d(DAY),
        vec![d(DAY)],
        cands,
        &ps,
        &HashSet::new(),
    );
    assert_eq!(plan.notices.len(), 1);
    assert_eq!(plan.notices[0].stage.as_str(), "letter");
    assert_eq!(plan.notices[0].loans.len(), 2);
}

#[test]
fn what_the_ledger_already_handled_is_left_out() {
    let ps = patrons(vec![patron("P1", Some("p1@example.fr"), false)]);
    let c = candidate(loan("L1", "P1", "STS", "2026-11-22"), "first_reminder", DAY);
    let handled = HashSet::from([c.key()]);
    let plan = plan(
        &Ladder::standard(),
        d(DAY),
        vec![d(DAY)],
        vec![c],
        &ps,
        &handled,
    );
    assert!(plan.notices.is_empty() && plan.markers.is_empty());
}

#[test]
fn catch_up_days_are_consolidated_into_the_run_day_notices() {
    let ps = patrons(vec![patron("P1", Some("p1@example.fr"), false)]);
    let cands = vec![
        candidate(
            loan("L1", "P1", "STS", "2026-11-20"),
            "first_reminder",
            "2026-11-27",
        ),
        candidate(loan("L2", "P1", "STS", "2026-11-22"), "first_reminder", DAY),
    ];
    let days = vec![d("2026-11-27"), d("2026-11-28"), d(DAY)];
    let plan = plan(
        &Ladder::standard(),
        d(DAY),
        days,
        cands,
        &ps,
        &HashSet::new(),
    );
    assert_eq!(plan.notices.len(), 1);
    assert_eq!(plan.notices[0].run_day, d(DAY));
    assert_eq!(plan.notices[0].loans.len(), 2);
}

#[test]
fn loans_of_unknown_patrons_are_marked_not_lost_silently() {
    let cands = vec![candidate(
        loan("L1", "P9", "STS", "2026-11-22"),
        "first_reminder",
        DAY,
    )];
    let plan = plan(
        &Ladder::standard(),
        d(DAY),
        vec![d(DAY)],
        cands,
        &HashMap::new(),
        &HashSet::new(),
    );
    assert_eq!(plan.skipped().get("unknown_patron"), Some(&1));
}
