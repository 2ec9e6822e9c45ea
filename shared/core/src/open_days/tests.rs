use super::*;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A library closed on Sundays, French holidays and the Christmas closure.
fn bu_centre() -> OpenDays {
    OpenDays {
        closed_weekdays: vec![Weekday::Sun],
        closures: vec![DateRange::parse("2026-12-24..2027-01-02").unwrap()],
        holidays: Some(Holidays::Fr),
        calendar: None,
    }
}

#[test]
fn easter_is_computed_for_any_year() {
    assert_eq!(easter_sunday(2024), Some(day("2024-03-31")));
    assert_eq!(easter_sunday(2026), Some(day("2026-04-05")));
    assert_eq!(easter_sunday(2027), Some(day("2027-03-28")));
    assert_eq!(easter_sunday(2038), Some(day("2038-04-25")));
    assert_eq!(easter_sunday(2285), Some(day("2285-03-22")));
}

#[test]
fn the_french_holidays_of_2027_include_easter_monday_and_ascension() {
    let fr = Holidays::Fr;
    assert_eq!(fr.holiday_on(day("2027-03-29")), Some("Easter Monday"));
    assert_eq!(fr.holiday_on(day("2027-05-06")), Some("Ascension Day"));
    assert_eq!(fr.holiday_on(day("2027-05-17")), Some("Whit Monday"));
    assert_eq!(fr.holiday_on(day("2027-07-14")), Some("Bastille Day"));
    assert_eq!(fr.holiday_on(day("2027-03-30")), None);
    let year: Vec<_> = day("2027-01-01")
        .iter_days()
        .take_while(|d| d.year() == 2027)
        .filter(|d| fr.holiday_on(*d).is_some())
        .collect();
    assert_eq!(year.len(), 11, "{year:?}");
}

#[test]
fn a_letter_of_easter_monday_2027_waits_for_the_tuesday() {
    let open = bu_centre();
    assert_eq!(
        open.closed_on(day("2027-03-29")).unwrap().to_string(),
        "Easter Monday"
    );
    // Sunday 28 March is Easter and a Sunday: the next open day is Tuesday 30.
    assert_eq!(
        open.next_open_day(day("2027-03-28")),
        Some(day("2027-03-30"))
    );
}

#[test]
fn a_letter_of_ascension_2027_waits_for_the_friday() {
    assert_eq!(
        bu_centre().next_open_day(day("2027-05-06")),
        Some(day("2027-05-07"))
    );
}

#[test]
fn a_sunday_waits_for_the_monday() {
    let open = bu_centre();
    assert_eq!(
        open.closed_on(day("2026-12-06")),
        Some(ClosedBecause::Weekday {
            weekday: "Sunday".into()
        })
    );
    assert_eq!(
        open.next_open_day(day("2026-12-06")),
        Some(day("2026-12-07"))
    );
    assert!(open.is_open(day("2026-12-05")), "Saturdays are open");
}

#[test]
fn the_christmas_closure_waits_for_monday_4_january() {
    let open = bu_centre();
    for d in day("2026-12-24").iter_days().take(10) {
        assert!(!open.is_open(d), "{d} is in the closure");
        assert_eq!(open.next_open_day(d), Some(day("2027-01-04")), "from {d}");
    }
    // The dated closure is named before the holiday it contains.
    assert_eq!(
        open.closed_on(day("2026-12-25")).unwrap().to_string(),
        "closure 2026-12-24..2027-01-02"
    );
    assert!(open.is_open(day("2026-12-23")));
}

#[test]
fn closures_are_days_or_ranges_that_end_after_they_start() {
    assert_eq!(
        DateRange::parse("2027-05-14").unwrap(),
        DateRange {
            first: day("2027-05-14"),
            last: day("2027-05-14")
        }
    );
    let err = DateRange::parse("2027-01-02..2026-12-24").unwrap_err();
    assert!(err.contains("ends before it starts"), "{err}");
    assert!(DateRange::parse("24/12/2026").is_err());
}

#[test]
fn weekdays_are_read_in_english_or_french() {
    assert_eq!(parse_weekday("sunday"), Some(Weekday::Sun));
    assert_eq!(parse_weekday("Sun"), Some(Weekday::Sun));
    assert_eq!(parse_weekday("Dimanche"), Some(Weekday::Sun));
    assert_eq!(parse_weekday("sundy"), None);
}

const WEEKLY_ICS: &str = "BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Relance//tests//FR\r
BEGIN:VEVENT\r
UID:inventaire@example.fr\r
DTSTAMP:20261101T000000Z\r
DTSTART;VALUE=DATE:20270106\r
DTEND;VALUE=DATE:20270107\r
RRULE:FREQ=WEEKLY;BYDAY=WE;UNTIL=20270630\r
EXDATE;VALUE=DATE:20270113\r
SUMMARY:Fermeture hebdomadaire\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:pont@example.fr\r
DTSTAMP:20261101T000000Z\r
DTSTART;VALUE=DATE:20270514\r
DTEND;VALUE=DATE:20270516\r
SUMMARY:Pont de l'Ascension\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:reunion@example.fr\r
DTSTAMP:20261101T000000Z\r
DTSTART:20270108T090000Z\r
DTEND:20270108T100000Z\r
SUMMARY:Réunion\r
END:VEVENT\r
END:VCALENDAR\r
";

#[test]
fn an_ics_with_a_weekly_recurring_closure_closes_every_occurrence() {
    let mut calendar = ClosureCalendar::new("institution.calendar", "closures.ics");
    calendar.read(WEEKLY_ICS).unwrap();
    let open = OpenDays {
        calendar: Some(calendar),
        ..OpenDays::default()
    };
    for wednesday in ["2027-01-06", "2027-01-20", "2027-01-27", "2027-06-30"] {
        assert_eq!(
            open.closed_on(day(wednesday)).map(|c| c.to_string()),
            Some("Fermeture hebdomadaire".to_owned()),
            "{wednesday}"
        );
        assert_eq!(
            open.next_open_day(day(wednesday)),
            day(wednesday).succ_opt()
        );
    }
    assert!(open.is_open(day("2027-01-13")), "excluded by EXDATE");
    assert!(open.is_open(day("2027-07-07")), "after UNTIL");
    assert!(open.is_open(day("2027-01-05")));
    // A two-day all-day event: DTEND is exclusive.
    assert!(!open.is_open(day("2027-05-14")));
    assert!(!open.is_open(day("2027-05-15")));
    assert!(open.is_open(day("2027-05-16")));
    // An event with a time of day is a meeting, not a closure.
    assert!(open.is_open(day("2027-01-08")));
}

#[test]
fn an_unending_weekly_closure_is_expanded_for_years() {
    let text = WEEKLY_ICS.replace(";UNTIL=20270630", "");
    let mut calendar = ClosureCalendar::new("institution.calendar", "closures.ics");
    calendar.read(&text).unwrap();
    let open = OpenDays {
        calendar: Some(calendar),
        ..OpenDays::default()
    };
    assert!(
        !open.is_open(day("2030-01-02")),
        "a Wednesday three years on"
    );
    assert!(open.is_open(day("2030-01-03")));
}

#[test]
fn a_file_that_is_not_icalendar_is_refused() {
    let mut calendar = ClosureCalendar::new("institution.calendar", "closures.ics");
    assert!(matches!(
        calendar.read("not a calendar"),
        Err(IcsError::Syntax { .. })
    ));
}
