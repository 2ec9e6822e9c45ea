//! Closures from an iCalendar file (RFC 5545), read with the `icalendar` crate
//! and its recurrences expanded with `rrule`: an all-day `VEVENT` is a closure,
//! on each of its occurrences for a recurring one.

use chrono::{NaiveDate, TimeZone as _};
use icalendar::{Calendar, Component, DatePerhapsTime, EventLike, EventStatus};

use super::DateRange;
use crate::calendar::shift;

/// Occurrences of a recurring closure are expanded up to this day (exclusive).
const HORIZON: (i32, u32, u32) = (2100, 1, 1);

/// Why an iCalendar file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IcsError {
    /// The text is not iCalendar.
    #[error("is not an iCalendar file: {reason}")]
    Syntax { reason: String },
    /// An event's recurrence rule is refused.
    #[error("event {event:?} has a recurrence that cannot be read: {reason}")]
    Recurrence { event: String, reason: String },
}

/// The closures of a calendar's text: each all-day event's days (its `DTEND`
/// is exclusive, as RFC 5545 says), for each of its occurrences.
pub(super) fn closures(text: &str) -> Result<Vec<(DateRange, Option<String>)>, IcsError> {
    let calendar: Calendar = text.parse().map_err(|reason: String| IcsError::Syntax {
        reason: reason.lines().next().unwrap_or_default().to_owned(),
    })?;
    let horizon = NaiveDate::from_ymd_opt(HORIZON.0, HORIZON.1, HORIZON.2).expect("valid date");
    let mut closures = Vec::new();
    for event in calendar.events() {
        if event.get_status() == Some(EventStatus::Cancelled) {
            continue;
        }
        // A closure is a whole day; an event with a time of day (a meeting) is not.
        let Some(DatePerhapsTime::Date(start)) = event.get_start() else {
            continue;
        };
        let last = match event.get_end() {
            Some(DatePerhapsTime::Date(end)) if end > start => end.pred_opt().unwrap_or(start),
            _ => start,
        };
        let length = (last - start).num_days();
        let summary = event.get_summary().map(|s| s.trim().to_owned());
        let starts: Vec<NaiveDate> =
            if event.property_value("RRULE").is_some() || event.property_value("RDATE").is_some() {
                let name = summary.clone().unwrap_or_else(|| start.to_string());
                let set = event.get_recurrence().map_err(|e| IcsError::Recurrence {
                    event: name.clone(),
                    reason: e.to_string(),
                })?;
                let before = horizon.and_hms_opt(0, 0, 0).expect("valid time");
                let before = icalendar::Tz::UTC.from_utc_datetime(&before);
                set.before(before)
                    .all(u16::MAX)
                    .dates
                    .into_iter()
                    .map(|occurrence| occurrence.date_naive())
                    .collect()
            } else {
                vec![start]
            };
        for first in starts {
            let Some(last) = shift(first, length) else {
                continue;
            };
            closures.push((DateRange { first, last }, summary.clone()));
        }
    }
    Ok(closures)
}
