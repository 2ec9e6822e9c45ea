//! Open days (rules §14): the calendar of the days a library is open, so that
//! its letters are printed on a day someone is there to print them. A library's
//! calendar combines closed weekdays, dated closures, a country's public
//! holidays and the all-day events of an iCalendar file.

mod holidays;
mod ics;

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::calendar::shift;

pub use holidays::{Holidays, easter_sunday};
pub use ics::IcsError;

/// How far ahead [`OpenDays::next_open_day`] looks: a library closed for more
/// than ten years has no next open day.
const LOOKAHEAD_DAYS: i64 = 3660;

/// Days from `first` to `last`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateRange {
    /// The first closed day.
    pub first: NaiveDate,
    /// The last closed day (the same as `first` for a single day).
    pub last: NaiveDate,
}

impl DateRange {
    /// Whether `day` falls in the range.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.first <= day && day <= self.last
    }

    /// Reads `2027-05-14` or `2026-12-24..2027-01-02`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let date = |t: &str| {
            NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")
                .map_err(|_| format!("{:?} is not a date (YYYY-MM-DD)", t.trim()))
        };
        let (first, last) = match text.split_once("..") {
            Some((a, b)) => (date(a)?, date(b)?),
            None => {
                let day = date(text)?;
                (day, day)
            }
        };
        if last < first {
            return Err(format!(
                "the range {first}..{last} ends before it starts (write it {last}..{first})"
            ));
        }
        Ok(Self { first, last })
    }
}

impl fmt::Display for DateRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}..{}", self.first, self.last)
        }
    }
}

/// Reads a weekday as written in the config: English or French, full or three
/// letters, any case (`sunday`, `Sun`, `dimanche`).
pub fn parse_weekday(text: &str) -> Option<Weekday> {
    let lower = text.trim().to_lowercase();
    let french = [
        ("lundi", Weekday::Mon),
        ("mardi", Weekday::Tue),
        ("mercredi", Weekday::Wed),
        ("jeudi", Weekday::Thu),
        ("vendredi", Weekday::Fri),
        ("samedi", Weekday::Sat),
        ("dimanche", Weekday::Sun),
    ];
    if let Some((_, day)) = french.iter().find(|(name, _)| *name == lower) {
        return Some(*day);
    }
    // chrono reads "sunday" and "sun" (and nothing looser).
    lower.parse::<Weekday>().ok()
}

/// An iCalendar file of closures, as named by the config, and its closures
/// once read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosureCalendar {
    /// The config key that names it (`institution.calendar`), for errors.
    pub key: String,
    /// The file, relative to the config file's folder.
    pub path: PathBuf,
    /// Its all-day events, recurrences expanded; empty until read.
    closures: Vec<CalendarClosure>,
}

/// One closure of an iCalendar file: an occurrence of an all-day event.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CalendarClosure {
    days: DateRange,
    summary: Option<String>,
}

impl ClosureCalendar {
    /// A file not read yet.
    pub fn new(key: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self {
            key: key.into(),
            path: path.into(),
            closures: Vec::new(),
        }
    }

    /// Reads the file's text: every all-day `VEVENT` is a closure (each of its
    /// occurrences, for a recurring one); events with a time of day are not.
    pub fn read(&mut self, text: &str) -> Result<(), IcsError> {
        self.closures = ics::closures(text)?
            .into_iter()
            .map(|(days, summary)| CalendarClosure { days, summary })
            .collect();
        Ok(())
    }

    fn closure_on(&self, day: NaiveDate) -> Option<&CalendarClosure> {
        self.closures.iter().find(|c| c.days.contains(day))
    }
}

/// A library's calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenDays {
    /// Weekdays the library is closed every week.
    pub closed_weekdays: Vec<Weekday>,
    /// Dated closures.
    pub closures: Vec<DateRange>,
    /// Whose public holidays close it.
    pub holidays: Option<Holidays>,
    /// An iCalendar file of closures.
    pub calendar: Option<ClosureCalendar>,
}

/// Why a library is closed on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClosedBecause {
    /// A dated closure of the config.
    Closure { range: String },
    /// An event of the iCalendar file.
    Calendar { summary: Option<String> },
    /// A public holiday.
    Holiday { name: String },
    /// A weekday it is always closed.
    Weekday { weekday: String },
}

impl fmt::Display for ClosedBecause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closure { range } => write!(f, "closure {range}"),
            Self::Calendar { summary: Some(s) } => write!(f, "{s}"),
            Self::Calendar { summary: None } => write!(f, "calendar closure"),
            Self::Holiday { name } => write!(f, "{name}"),
            Self::Weekday { weekday } => write!(f, "{weekday}"),
        }
    }
}

impl OpenDays {
    /// Why the library is closed on `day`, or `None` when it is open. Dated
    /// closures are named first, then the calendar file, holidays, weekdays.
    pub fn closed_on(&self, day: NaiveDate) -> Option<ClosedBecause> {
        if let Some(range) = self.closures.iter().find(|r| r.contains(day)) {
            return Some(ClosedBecause::Closure {
                range: range.to_string(),
            });
        }
        if let Some(closure) = self.calendar.as_ref().and_then(|c| c.closure_on(day)) {
            return Some(ClosedBecause::Calendar {
                summary: closure.summary.clone(),
            });
        }
        if let Some(name) = self.holidays.and_then(|h| h.holiday_on(day)) {
            return Some(ClosedBecause::Holiday {
                name: name.to_owned(),
            });
        }
        let weekday = day.weekday();
        self.closed_weekdays
            .contains(&weekday)
            .then(|| ClosedBecause::Weekday {
                weekday: weekday_name(weekday).to_owned(),
            })
    }

    /// Whether the library is open on `day`.
    pub fn is_open(&self, day: NaiveDate) -> bool {
        self.closed_on(day).is_none()
    }

    /// The first day on or after `day` the library is open; `None` when it stays
    /// closed for the next ten years.
    pub fn next_open_day(&self, day: NaiveDate) -> Option<NaiveDate> {
        (0..LOOKAHEAD_DAYS)
            .filter_map(|i| shift(day, i))
            .find(|&d| self.is_open(d))
    }

    /// The iCalendar file to read, if any.
    pub fn calendar_path(&self) -> Option<&Path> {
        self.calendar.as_ref().map(|c| c.path.as_path())
    }
}

/// A weekday's English name, as reasons show it.
pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// Whether emails wait for an open day too (`[institution] email_on_closed_days`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EmailOnClosedDays {
    /// Emails go on their day, open or not (the default).
    #[default]
    Send,
    /// An email waits for the first day one of its loans' libraries is open.
    NextOpenDay,
}

impl EmailOnClosedDays {
    /// Reads `send` or `next_open_day`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "send" => Some(Self::Send),
            "next_open_day" => Some(Self::NextOpenDay),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
