//! Calendar days in the institution's timezone: the only clock the engine knows.

use chrono::{DateTime, Days, FixedOffset, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The local calendar date of an instant.
pub fn local_date(instant: DateTime<Utc>, tz: Tz) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// `day` moved by `offset` days; `None` only outside chrono's range.
pub fn shift(day: NaiveDate, offset: i64) -> Option<NaiveDate> {
    if offset >= 0 {
        day.checked_add_days(Days::new(offset.unsigned_abs()))
    } else {
        day.checked_sub_days(Days::new(offset.unsigned_abs()))
    }
}

/// Why a timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("is not an RFC 3339 timestamp with an offset (e.g. 2026-11-29T18:00:00+01:00)")]
    NotRfc3339,
    #[error("is neither an RFC 3339 timestamp with an offset nor a plain date (YYYY-MM-DD)")]
    NotRfc3339NorDate,
}

/// Reads an RFC 3339 timestamp with its offset.
pub fn parse_instant(value: &str) -> Result<DateTime<Utc>, TimestampError> {
    DateTime::<FixedOffset>::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| TimestampError::NotRfc3339)
}

/// Reads a due time: an RFC 3339 timestamp, or a plain date meaning the end of
/// that day in the institution's timezone.
pub fn parse_due(value: &str, tz: Tz) -> Result<DateTime<Utc>, TimestampError> {
    if let Ok(instant) = parse_instant(value) {
        return Ok(instant);
    }
    let date = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| TimestampError::NotRfc3339NorDate)?;
    Ok(end_of_day(date, tz))
}

/// 23:59:59 local on `date` (a DST change never falls at that hour in any zone
/// we serve, but an ambiguous or missing time still resolves to that date).
pub fn end_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid time"));
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(_, t) => t.with_timezone(&Utc),
        LocalResult::None => tz.from_utc_datetime(&naive).with_timezone(&Utc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Paris;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_due_time_just_after_local_midnight_is_on_the_local_date() {
        // 00:30 in Paris on 1 December is still 30 November in UTC.
        let due = parse_instant("2026-12-01T00:30:00+01:00").unwrap();
        assert_eq!(due.date_naive(), d("2026-11-30"));
        assert_eq!(local_date(due, Paris), d("2026-12-01"));
    }

    #[test]
    fn a_due_time_of_23_59_local_is_on_that_local_date() {
        let due = parse_instant("2026-07-14T21:59:00Z").unwrap();
        assert_eq!(local_date(due, Paris), d("2026-07-14"));
    }

    #[test]
    fn a_plain_due_date_means_the_end_of_that_local_day() {
        for day in ["2026-03-29", "2026-10-25", "2028-02-29", "2026-12-31"] {
            let due = parse_due(day, Paris).unwrap();
            assert_eq!(local_date(due, Paris), d(day), "{day}");
        }
    }

    #[test]
    fn day_offsets_ignore_dst_changes() {
        // Across the spring-forward and fall-back weekends a day is still a day.
        assert_eq!(days_between(d("2026-03-28"), d("2026-03-30")), 2);
        assert_eq!(days_between(d("2026-10-24"), d("2026-10-26")), 2);
        assert_eq!(shift(d("2028-02-22"), 7), Some(d("2028-02-29")));
        assert_eq!(shift(d("2026-03-03"), -3), Some(d("2026-02-28")));
    }

    #[test]
    fn timestamps_without_an_offset_are_refused() {
        assert_eq!(
            parse_instant("2026-11-29T10:00:00"),
            Err(TimestampError::NotRfc3339)
        );
        assert_eq!(
            parse_due("29/11/2026", Paris),
            Err(TimestampError::NotRfc3339NorDate)
        );
    }

    proptest! {
        #[test]
        fn any_local_time_of_a_day_maps_to_that_day(days in 0i64..3650, minute in 0u32..1440) {
            let date = shift(d("2025-01-01"), days).unwrap();
            let naive = date.and_hms_opt(minute / 60, minute % 60, 0).unwrap();
            // Skip the hour that does not exist on spring-forward days.
            if let Some(local) = Paris.from_local_datetime(&naive).earliest() {
                prop_assert_eq!(local_date(local.with_timezone(&Utc), Paris), date);
            }
        }

        #[test]
        fn shifting_back_and_forth_returns_the_same_day(days in 0i64..3650, offset in -400i64..400) {
            let day = shift(d("2025-01-01"), days).unwrap();
            let moved = shift(day, offset).unwrap();
            prop_assert_eq!(days_between(day, moved), offset);
            prop_assert_eq!(shift(moved, -offset).unwrap(), day);
        }
    }
}
