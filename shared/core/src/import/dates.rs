//! Dates and times as exports write them (rules §15): RFC 3339 with an offset
//! (`+01:00` or `+0100`), `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` (local),
//! `DD/MM/YYYY` and `DD/MM/YYYY HH:MM[:SS]` (or month first, as `[import]
//! date_order` says). A time without an offset is the institution's local time.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::calendar::end_of_day;
use crate::config::DateOrder;

/// A value that is not a date Relance reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "is not a date or time Relance reads (2026-11-29T18:00:00+01:00, 2026-11-29, {} or {} 18:00)",
    example(*.0),
    example(*.0)
)]
pub struct DateError(DateOrder);

fn example(order: DateOrder) -> &'static str {
    match order {
        DateOrder::Dmy => "29/11/2026",
        DateOrder::Mdy => "11/29/2026",
    }
}

/// What a plain date (no time) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainDate {
    /// The end of that local day: a due date.
    EndOfDay,
    /// Its start: a loan or a return that day.
    StartOfDay,
}

/// Reads a moment written in any of the accepted forms.
pub fn parse_moment(
    value: &str,
    tz: Tz,
    order: DateOrder,
    plain: PlainDate,
) -> Result<DateTime<Utc>, DateError> {
    let value = value.trim();
    if let Ok(at) = DateTime::<FixedOffset>::parse_from_rfc3339(value)
        .or_else(|_| DateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f%z"))
    {
        return Ok(at.with_timezone(&Utc));
    }
    let slashed = match order {
        DateOrder::Dmy => "%d/%m/%Y",
        DateOrder::Mdy => "%m/%d/%Y",
    };
    for format in ["%Y-%m-%d", slashed] {
        if let Ok(date) = NaiveDate::parse_from_str(value, format) {
            return Ok(match plain {
                PlainDate::EndOfDay => end_of_day(date, tz),
                PlainDate::StartOfDay => local(date.and_time(NaiveTime::MIN), tz),
            });
        }
    }
    let times = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ];
    let slashed_times = match order {
        DateOrder::Dmy => ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"],
        DateOrder::Mdy => ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M"],
    };
    times
        .iter()
        .chain(&slashed_times)
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| local(naive, tz))
        .ok_or(DateError(order))
}

/// A local time in `tz`: the earlier of two at a clock change back, an hour
/// later in the gap of a change forward.
fn local(naive: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use chrono_tz::Europe::Paris;

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn every_accepted_form_reads_to_the_same_moment() {
        let read = |value| parse_moment(value, Paris, DateOrder::Dmy, PlainDate::StartOfDay);
        let expected = at("2026-11-29T18:05:00+01:00");
        for value in [
            "2026-11-29T18:05:00+01:00",
            "2026-11-29T17:05:00.000+0000",
            "2026-11-29T18:05:00",
            "2026-11-29 18:05",
            "29/11/2026 18:05",
            "29/11/2026 18:05:00",
        ] {
            assert_eq!(read(value), Ok(expected), "{value}");
        }
        assert_eq!(read("29/11/2026"), Ok(at("2026-11-29T00:00:00+01:00")));
    }

    #[test]
    fn a_plain_due_date_is_the_end_of_that_local_day() {
        let due = parse_moment("29/11/2026", Paris, DateOrder::Dmy, PlainDate::EndOfDay);
        assert_eq!(due, Ok(at("2026-11-29T23:59:59+01:00")));
    }

    #[test]
    fn the_date_order_decides_what_slashes_mean() {
        let us = parse_moment("11/29/2026", Paris, DateOrder::Mdy, PlainDate::EndOfDay);
        assert_eq!(us, Ok(at("2026-11-29T23:59:59+01:00")));
        let err = parse_moment("11/29/2026", Paris, DateOrder::Dmy, PlainDate::EndOfDay);
        assert_eq!(err, Err(DateError(DateOrder::Dmy)));
        assert!(err.unwrap_err().to_string().contains("29/11/2026"));
    }

    #[test]
    fn nonsense_is_refused() {
        for value in ["", "demain", "2026-13-01", "31/02/2026", "2026/11/29"] {
            assert!(
                parse_moment(value, Paris, DateOrder::Dmy, PlainDate::EndOfDay).is_err(),
                "{value}"
            );
        }
    }
}
