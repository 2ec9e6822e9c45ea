use super::*;

fn deferred(letters: usize) -> DeferredLetters {
    DeferredLetters {
        from: NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(),
        library: "STS".into(),
        letters,
        reason: "BU Sciences closed (Sunday)".into(),
    }
}

#[test]
fn letters_printed_after_waiting_are_told_in_the_page_language() {
    for n in [1, 2] {
        assert_eq!(EN.deferred(&deferred(n)), deferred(n).to_string());
    }
    assert_eq!(
        FR.deferred(&deferred(1)),
        "1 lettre de STS reportée depuis le 06/12/2026 : BU Sciences closed (Sunday)"
    );
    assert_eq!(
        FR.deferred(&deferred(2)),
        "2 lettres de STS reportées depuis le 06/12/2026 : BU Sciences closed (Sunday)"
    );
}

#[test]
fn weekdays_and_dates_follow_the_language() {
    let sunday = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
    assert_eq!(
        (EN.weekday(sunday), EN.day(sunday).as_str()),
        ("Sun", "2026-12-06")
    );
    assert_eq!(
        (FR.weekday(sunday), FR.day(sunday).as_str()),
        ("dim.", "06/12/2026")
    );
    assert_eq!(EN.weekday(sunday), sunday.format("%a").to_string());
}
