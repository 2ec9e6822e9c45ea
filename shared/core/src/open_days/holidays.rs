//! Public holidays by country, computed for any year: three French holidays
//! follow Easter, so a fixed list would be wrong from one year to the next.

use chrono::{Datelike, NaiveDate};

use crate::calendar::shift;

/// Whose public holidays close a library (`holidays = "FR"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holidays {
    /// The eleven French public holidays (jours fériés) of metropolitan France.
    Fr,
}

impl Holidays {
    /// Reads a country code (`FR`, any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_uppercase().as_str() {
            "FR" => Some(Self::Fr),
            _ => None,
        }
    }

    /// The holiday that falls on `day`, by name.
    pub fn holiday_on(self, day: NaiveDate) -> Option<&'static str> {
        match self {
            Self::Fr => french_holiday(day),
        }
    }
}

fn french_holiday(day: NaiveDate) -> Option<&'static str> {
    let fixed = match (day.month(), day.day()) {
        (1, 1) => Some("New Year's Day"),
        (5, 1) => Some("Labour Day"),
        (5, 8) => Some("Victory in Europe Day"),
        (7, 14) => Some("Bastille Day"),
        (8, 15) => Some("Assumption Day"),
        (11, 1) => Some("All Saints' Day"),
        (11, 11) => Some("Armistice Day"),
        (12, 25) => Some("Christmas Day"),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    let easter = easter_sunday(day.year())?;
    [
        (1, "Easter Monday"),
        (39, "Ascension Day"),
        (50, "Whit Monday"),
    ]
    .into_iter()
    .find(|&(offset, _)| shift(easter, offset) == Some(day))
    .map(|(_, name)| name)
}

/// Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm, also
/// known as Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}
