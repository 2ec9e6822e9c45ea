//! The calendar keys of `[institution]` and `[[libraries]]` (rules §14): the
//! institution's are the defaults, and each key a library sets replaces the
//! institution's value of that key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::{Config, ConfigError, Library, invalid};
use crate::ladder::Channel;
use crate::notice::Notice;
use crate::open_days::{
    ClosureCalendar, DateRange, EmailOnClosedDays, Holidays, OpenDays, parse_weekday,
};
use crate::summary::OpenDayWait;

/// The calendar keys as written in one section.
pub(super) struct CalendarKeys {
    pub closed_weekdays: Option<Vec<String>>,
    pub closures: Option<Vec<String>>,
    pub holidays: Option<String>,
    pub calendar: Option<PathBuf>,
}

/// The calendar of a section (`institution`, `libraries[2]`): its own keys over
/// `defaults`.
pub(super) fn open_days(
    keys: CalendarKeys,
    section: &str,
    defaults: &OpenDays,
) -> Result<OpenDays, ConfigError> {
    let mut days = defaults.clone();
    if let Some(weekdays) = keys.closed_weekdays {
        days.closed_weekdays.clear();
        for (i, text) in weekdays.iter().enumerate() {
            let weekday = parse_weekday(text).ok_or_else(|| {
                invalid(
                    format!("{section}.closed_weekdays[{i}]"),
                    format!("unknown weekday {text:?} (monday … sunday)"),
                )
            })?;
            if !days.closed_weekdays.contains(&weekday) {
                days.closed_weekdays.push(weekday);
            }
        }
        if days.closed_weekdays.len() == 7 {
            return Err(invalid(
                format!("{section}.closed_weekdays"),
                "closes every day of the week: its letters could never be printed",
            ));
        }
    }
    if let Some(closures) = keys.closures {
        days.closures = closures
            .iter()
            .enumerate()
            .map(|(i, text)| {
                DateRange::parse(text).map_err(|e| invalid(format!("{section}.closures[{i}]"), e))
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(text) = keys.holidays {
        days.holidays = match text.trim() {
            "" | "none" => None,
            code => Some(Holidays::parse(code).ok_or_else(|| {
                invalid(
                    format!("{section}.holidays"),
                    format!("unknown country {code:?} (\"FR\", or \"none\")"),
                )
            })?),
        };
    }
    if let Some(path) = keys.calendar {
        days.calendar = (!path.as_os_str().is_empty())
            .then(|| ClosureCalendar::new(format!("{section}.calendar"), path));
    }
    Ok(days)
}

/// `institution.email_on_closed_days`: `send` (the default) or `next_open_day`.
pub(super) fn email_on_closed_days(text: Option<String>) -> Result<EmailOnClosedDays, ConfigError> {
    let Some(text) = text else {
        return Ok(EmailOnClosedDays::Send);
    };
    EmailOnClosedDays::parse(&text).ok_or_else(|| {
        invalid(
            "institution.email_on_closed_days",
            format!("unknown choice {text:?} (\"send\" or \"next_open_day\")"),
        )
    })
}

impl Config {
    /// The iCalendar files the config names (relative to its folder), each once.
    pub fn calendar_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::iter::once(&self.institution.open_days)
            .chain(self.libraries.iter().map(|l| &l.open_days))
            .filter_map(|d| d.calendar_path().map(Path::to_path_buf))
            .collect();
        files.sort();
        files.dedup();
        files
    }

    /// Reads the iCalendar files the config names, each through `read` (its text,
    /// from a path relative to the config file's folder, or why it cannot be read).
    /// The error names the key that names the file.
    pub fn read_calendars(
        &mut self,
        mut read: impl FnMut(&Path) -> Result<String, String>,
    ) -> Result<(), ConfigError> {
        let mut texts: HashMap<PathBuf, String> = HashMap::new();
        let calendars = std::iter::once(&mut self.institution.open_days)
            .chain(self.libraries.iter_mut().map(|l| &mut l.open_days))
            .filter_map(|d| d.calendar.as_mut());
        for calendar in calendars {
            let path = calendar.path.clone();
            if !texts.contains_key(&path) {
                let text = read(&path).map_err(|reason| {
                    invalid(
                        &calendar.key,
                        format!("cannot read {}: {reason}", path.display()),
                    )
                })?;
                texts.insert(path.clone(), text);
            }
            calendar
                .read(&texts[&path])
                .map_err(|e| invalid(&calendar.key, format!("{} {e}", path.display())))?;
        }
        Ok(())
    }
}

impl Library {
    /// Why the library is closed on `day`, as staff read it ("BU Centre closed
    /// (Sunday)"), or `None` when it is open.
    pub fn closed_on(&self, day: NaiveDate) -> Option<String> {
        self.open_days
            .closed_on(day)
            .map(|because| format!("{} closed ({because})", self.name))
    }
}

impl Config {
    /// Which of these pending letters wait for an open day, seen on `today`
    /// (`relance status`): those decided on a day their library was closed, and
    /// those whose library is closed today. Each is delivered by the first run on
    /// an open day from today on.
    pub fn letters_waiting(&self, pending: &[Notice], today: NaiveDate) -> Vec<OpenDayWait> {
        pending
            .iter()
            .filter(|n| n.channel == Channel::Letter)
            .filter_map(|notice| {
                let library = self.library(notice.library.as_ref()?)?;
                let reason = library
                    .closed_on(notice.run_day)
                    .or_else(|| library.closed_on(today))?;
                let from = today.max(notice.run_day);
                Some(OpenDayWait::of(
                    notice,
                    library.code.as_str(),
                    library.open_days.next_open_day(from),
                    reason,
                ))
            })
            .collect()
    }
}
