//! Open days (rules §14) on the embedded store: for any calendar and any run
//! days with gaps, every letter is printed exactly once, on an open day of its
//! library, on or after the day that decided it, and no later than the first run
//! on such a day; and the named closures of a French year.

use std::collections::HashMap;

use chrono::NaiveDate;
use proptest::prelude::*;
use relance_core::calendar::shift;
use relance_core::ids::{LibraryCode, PatronId};
use relance_core::ladder::Channel;
use relance_core::notice::{Notice, NoticeStatus};
use relance_tests::{CONFIG, TestEnv, day, loan_row, patron_row};

const LIBRARIES: [&str; 3] = ["STS", "DRT", "LSH"];

/// [`CONFIG`] with calendar keys added to the institution and to libraries
/// (by index; the third library keeps the institution's calendar).
fn config_with(institution: &str, libraries: [&str; 2]) -> String {
    CONFIG
        .replace(
            "catch_up_days = 2\n",
            &format!("catch_up_days = 2\n{institution}\n"),
        )
        .replace(
            "phone = \"05 40 00 00 00\"\n",
            &format!("phone = \"05 40 00 00 00\"\n{}\n", libraries[0]),
        )
        .replace(
            "phone = \"05 40 00 00 01\"\n",
            &format!("phone = \"05 40 00 00 01\"\n{}\n", libraries[1]),
        )
}

/// Where each letter was printed: reference → (print day, library), from the
/// manifests of every print batch in the outbox; a letter in two batches fails.
fn printed(env: &TestEnv, days: &[NaiveDate]) -> HashMap<String, (NaiveDate, String)> {
    let mut printed = HashMap::new();
    for &d in days {
        for library in LIBRARIES {
            let code = LibraryCode::parse(library).unwrap();
            let Ok(entries) = std::fs::read_dir(env.outbox.letters_dir(d, &code)) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if !name.starts_with("manifest") {
                    continue;
                }
                let mut reader = csv::Reader::from_path(&path).unwrap();
                for row in reader.records() {
                    let reference = row.unwrap()[1].to_owned();
                    let earlier = printed.insert(reference.clone(), (d, library.to_owned()));
                    assert!(
                        earlier.is_none(),
                        "{reference} printed twice: {earlier:?} and {d}"
                    );
                }
            }
        }
    }
    printed
}

/// Every letter notice of patrons P0…P3.
fn letters(env: &TestEnv) -> Vec<Notice> {
    (0..4)
        .flat_map(|p| {
            env.store
                .notices_of(&PatronId::parse(&format!("P{p}")).unwrap())
                .unwrap()
        })
        .filter(|n| n.channel == Channel::Letter)
        .collect()
}

#[derive(Debug, Clone)]
struct Calendar {
    weekdays: Vec<usize>,
    /// (first day as an offset from the base, length in days)
    closures: Vec<(i64, i64)>,
    holidays: bool,
}

impl Calendar {
    fn keys(&self, base: NaiveDate) -> String {
        const NAMES: [&str; 7] = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ];
        let weekdays: Vec<String> = self
            .weekdays
            .iter()
            .map(|&w| format!("\"{}\"", NAMES[w]))
            .collect();
        let closures: Vec<String> = self
            .closures
            .iter()
            .map(|&(first, len)| {
                let first = shift(base, first).unwrap();
                format!("\"{first}..{}\"", shift(first, len).unwrap())
            })
            .collect();
        format!(
            "closed_weekdays = [{}]\nclosures = [{}]\nholidays = \"{}\"",
            weekdays.join(", "),
            closures.join(", "),
            if self.holidays { "FR" } else { "none" }
        )
    }
}

fn calendar() -> impl Strategy<Value = Calendar> {
    (
        prop::collection::vec(0usize..7, 0..4),
        prop::collection::vec((0i64..60, 0i64..12), 0..3),
        any::<bool>(),
    )
        .prop_map(|(weekdays, closures, holidays)| Calendar {
            weekdays,
            closures,
            holidays,
        })
}

#[derive(Debug, Clone)]
struct Scenario {
    calendars: [Calendar; 2],
    /// (due offset from the base, patron, library)
    loans: Vec<(i64, usize, usize)>,
    /// Gaps between run days (1 = the next day).
    gaps: Vec<i64>,
    /// Which patrons have an email (those without get print fallbacks).
    emails: [bool; 4],
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        [calendar(), calendar()],
        prop::collection::vec((-34i64..10, 0usize..4, 0usize..3), 4..16),
        prop::collection::vec(1i64..5, 6..20),
        prop::array::uniform4(any::<bool>()),
    )
        .prop_map(|(calendars, loans, gaps, emails)| Scenario {
            calendars,
            loans,
            gaps,
            emails,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn every_letter_is_printed_once_on_the_first_run_its_library_is_open(s in scenario()) {
        // Christmas and the new year are in the window.
        let base = day("2026-12-10");
        let text = config_with(
            "",
            [&s.calendars[0].keys(base), &s.calendars[1].keys(base)],
        );
        let env = TestEnv::with_config(&text);
        let patrons: Vec<_> = (0..4)
            .map(|i| {
                let email = if s.emails[i] { format!("p{i}@example.fr") } else { String::new() };
                patron_row(&format!("P{i}"), "Alex Dupont", &email, false)
            })
            .collect();
        let loans: Vec<_> = s.loans.iter().enumerate()
            .map(|(n, &(due, p, l))| loan_row(&format!("L{n}"), &format!("P{p}"), LIBRARIES[l], shift(base, due).unwrap(), None))
            .collect();
        env.import(&patrons, &loans);

        let mut run_days = Vec::new();
        let mut run_day = base;
        for gap in &s.gaps {
            run_day = shift(run_day, *gap).unwrap();
            env.run(run_day);
            run_days.push(run_day);
        }

        let printed = printed(&env, &run_days);
        let letters = letters(&env);
        for letter in &letters {
            let code = letter.library.as_ref().unwrap();
            let open_days = &env.config.library(code).unwrap().open_days;
            let due_print = run_days
                .iter()
                .copied()
                .find(|&d| d >= letter.run_day && open_days.is_open(d));
            match (&letter.status, printed.get(letter.reference.as_str())) {
                (NoticeStatus::Sent { .. }, Some((print_day, library))) => {
                    prop_assert_eq!(library.as_str(), code.as_str());
                    prop_assert!(open_days.is_open(*print_day), "{} printed on {} when {} is closed", letter.reference, print_day, code);
                    prop_assert!(*print_day >= letter.run_day);
                    prop_assert_eq!(Some(*print_day), due_print, "{} decided on {}", letter.reference, letter.run_day);
                }
                (NoticeStatus::Pending, None) => {
                    prop_assert_eq!(due_print, None, "{} decided on {} was never printed", letter.reference, letter.run_day);
                }
                (status, place) => prop_assert!(false, "{}: {:?} but printed {:?}", letter.reference, status, place),
            }
        }
        prop_assert_eq!(printed.len(), letters.iter().filter(|l| matches!(l.status, NoticeStatus::Sent { .. })).count());
    }
}

/// BU Sciences: closed on Sundays, French holidays and 24 Dec–2 Jan.
const CLOSED_LIKE_A_FRENCH_LIBRARY: &str =
    "closed_weekdays = [\"sunday\"]\nholidays = \"FR\"\nclosures = [\"2026-12-24..2027-01-02\"]";

/// Runs every day from `first` to `last` with one loan of P0 at STS whose letter
/// falls on each day of `letter_days`; returns the print days of its letters.
fn letters_printed(letter_days: &[&str], first: &str, last: &str) -> (TestEnv, Vec<NaiveDate>) {
    let env = TestEnv::with_config(&config_with(CLOSED_LIKE_A_FRENCH_LIBRARY, ["", ""]));
    let loans: Vec<_> = letter_days
        .iter()
        .enumerate()
        .map(|(n, d)| {
            loan_row(
                &format!("L{n}"),
                "P0",
                "STS",
                shift(day(d), -35).unwrap(),
                None,
            )
        })
        .collect();
    env.import(
        &[patron_row("P0", "Alex Dupont", "p0@example.fr", false)],
        &loans,
    );
    let days: Vec<NaiveDate> = day(first)
        .iter_days()
        .take_while(|d| *d <= day(last))
        .collect();
    let mut waited = Vec::new();
    for &d in &days {
        let summary = env.run(d);
        waited.extend(summary.waiting_for_open_day);
    }
    let mut batches: Vec<NaiveDate> = days
        .iter()
        .copied()
        .filter(|&d| !env.letter_files(d, "STS").is_empty())
        .collect();
    batches.dedup();
    let printed = printed(&env, &days);
    assert_eq!(
        printed.len(),
        letter_days.len(),
        "every letter printed once: {printed:?}"
    );
    // Each letter of a closed day was said to wait (by each run it waited through).
    waited.sort_by(|a, b| a.reference.cmp(&b.reference));
    waited.dedup_by(|a, b| a.reference == b.reference);
    let closed = letter_days
        .iter()
        .filter(|d| !env.config.libraries[0].open_days.is_open(day(d)))
        .count();
    assert_eq!(waited.len(), closed, "{waited:?}");
    (env, batches)
}

#[test]
fn a_letter_of_a_sunday_is_printed_on_the_monday() {
    let (env, batches) = letters_printed(&["2026-12-05", "2026-12-06"], "2026-12-04", "2026-12-08");
    assert_eq!(batches, vec![day("2026-12-05"), day("2026-12-07")]);
    let summary = env.run(day("2026-12-08"));
    assert!(summary.waiting_for_open_day.is_empty());
}

#[test]
fn the_christmas_closure_prints_nothing_from_24_december_to_2_january() {
    let letter_days = [
        "2026-12-23",
        "2026-12-24",
        "2026-12-25",
        "2026-12-27",
        "2026-12-31",
        "2027-01-01",
        "2027-01-02",
    ];
    let (env, batches) = letters_printed(&letter_days, "2026-12-20", "2027-01-06");
    assert_eq!(batches, vec![day("2026-12-23"), day("2027-01-04")]);
    // The six letters of the closure went in Monday 4 January's batch, each with
    // its own reference, and nothing waits any more.
    let code = LibraryCode::parse("STS").unwrap();
    let manifest = std::fs::read_to_string(
        env.outbox
            .letters_dir(day("2027-01-04"), &code)
            .join("manifest.csv"),
    )
    .unwrap();
    assert_eq!(manifest.lines().count(), 1 + 6, "{manifest}");
    for d in day("2026-12-24").iter_days().take(10) {
        assert!(env.letter_files(d, "STS").is_empty(), "a batch on {d}");
    }
}

#[test]
fn a_run_on_a_closed_day_says_which_letters_wait_and_until_when() {
    let env = TestEnv::with_config(&config_with(CLOSED_LIKE_A_FRENCH_LIBRARY, ["", ""]));
    env.import(
        &[patron_row("P0", "Alex Dupont", "p0@example.fr", false)],
        &[loan_row(
            "L0",
            "P0",
            "STS",
            shift(day("2026-12-25"), -35).unwrap(),
            None,
        )],
    );
    let summary = env.run(day("2026-12-25"));
    assert_eq!(summary.letters_rendered, 0);
    assert_eq!(summary.letters_pending, 1);
    let wait = &summary.waiting_for_open_day[0];
    assert_eq!(wait.delivery_day, Some(day("2027-01-04")));
    assert_eq!(
        wait.to_string(),
        "deferred from 2026-12-25: Bibliothèque Sciences et techniques closed (closure 2026-12-24..2027-01-02)"
    );
    // A gap over the closure: the letter is printed by the first run after it.
    let summary = env.run(day("2027-01-05"));
    assert_eq!(summary.letters_rendered, 1);
    assert_eq!(summary.delivered_after_closure.len(), 1);
    assert_eq!(summary.delivered_after_closure[0].reference, wait.reference);
}

#[test]
fn easter_monday_and_ascension_2027_move_the_letters_to_the_next_day() {
    let (_, batches) = letters_printed(&["2027-03-29"], "2027-03-27", "2027-03-31");
    assert_eq!(batches, vec![day("2027-03-30")]);
    let (_, batches) = letters_printed(&["2027-05-06"], "2027-05-05", "2027-05-08");
    assert_eq!(batches, vec![day("2027-05-07")]);
}

#[test]
fn a_letter_whose_loans_come_back_while_it_waits_is_cancelled() {
    let env = TestEnv::with_config(&config_with(CLOSED_LIKE_A_FRENCH_LIBRARY, ["", ""]));
    let due = shift(day("2026-12-06"), -35).unwrap();
    env.import(
        &[patron_row("P0", "Alex Dupont", "p0@example.fr", false)],
        &[loan_row("L0", "P0", "STS", due, None)],
    );
    assert_eq!(env.run(day("2026-12-06")).waiting_for_open_day.len(), 1);
    env.import(
        &[patron_row("P0", "Alex Dupont", "p0@example.fr", false)],
        &[loan_row(
            "L0",
            "P0",
            "STS",
            due,
            Some("2026-12-06T15:00:00+01:00"),
        )],
    );
    let summary = env.run(day("2026-12-07"));
    assert_eq!(summary.cancelled, 1);
    assert_eq!(summary.letters_rendered, 0);
    assert!(env.letter_files(day("2026-12-07"), "STS").is_empty());
    let letter = &letters(&env)[0];
    assert!(
        matches!(letter.status, NoticeStatus::Cancelled { .. }),
        "{:?}",
        letter.status
    );
}

#[test]
fn emails_go_on_closed_days_unless_the_institution_holds_them() {
    let loan = |env: &TestEnv| {
        env.import(
            &[patron_row("P0", "Alex Dupont", "p0@example.fr", false)],
            &[
                loan_row(
                    "L0",
                    "P0",
                    "STS",
                    shift(day("2026-12-06"), -7).unwrap(),
                    None,
                ),
                loan_row(
                    "L1",
                    "P0",
                    "DRT",
                    shift(day("2026-12-06"), -7).unwrap(),
                    None,
                ),
            ],
        )
    };
    let sent = TestEnv::with_config(&config_with(CLOSED_LIKE_A_FRENCH_LIBRARY, ["", ""]));
    loan(&sent);
    assert_eq!(sent.run(day("2026-12-06")).emails_sent, 1);

    // Held: the email spans STS (closed on Saturdays and Sundays here) and DRT
    // (closed on Sundays and Mondays); it goes on the Monday, when STS opens.
    let held = TestEnv::with_config(&config_with(
        "closed_weekdays = [\"sunday\"]\nemail_on_closed_days = \"next_open_day\"",
        [
            "closed_weekdays = [\"saturday\", \"sunday\"]",
            "closed_weekdays = [\"sunday\", \"monday\"]",
        ],
    ));
    loan(&held);
    let sunday = held.run(day("2026-12-06"));
    assert_eq!(sunday.emails_sent, 0);
    let wait = &sunday.waiting_for_open_day[0];
    assert_eq!(wait.channel, "email");
    assert_eq!(wait.library, "DRT,STS");
    assert_eq!(wait.delivery_day, Some(day("2026-12-07")));
    assert!(held.mail_files(day("2026-12-06")).is_empty());
    let monday = held.run(day("2026-12-07"));
    assert_eq!(monday.emails_sent, 1);
    assert!(monday.waiting_for_open_day.is_empty());
}
