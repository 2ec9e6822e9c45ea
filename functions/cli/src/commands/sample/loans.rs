//! `loans.csv` of the sample: due dates spread so that every stage fires in the
//! 36 days from the sample's day.

use std::io::Write;

use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::SampleLibrary;
use super::data;
use super::patrons::patron_id;

/// Due dates run from `today + EARLIEST_DUE` to `today + LATEST_DUE`: the letter
/// (+35) of the oldest falls in the window, the courtesy (−3) of the newest too.
const EARLIEST_DUE: i64 = -40;
const LATEST_DUE: i64 = 35;
/// The first loans take every due day once, so even a small sample fires every stage.
const SPREAD: i64 = LATEST_DUE - EARLIEST_DUE + 1;
/// Loans last up to 90 days, so they may start this long before `today`.
const EARLIEST_DAY: i64 = EARLIEST_DUE - 90;

/// What was written.
pub struct Written {
    /// Loans with a `returned_at`.
    pub returned: usize,
    /// Earliest due date.
    pub first_due: NaiveDate,
    /// Latest due date.
    pub last_due: NaiveDate,
    /// Patrons with loans from more than one library.
    pub multi_library_patrons: usize,
}

/// One calendar day around `today`, formatted once for every loan on it.
struct Day {
    date: String,
    /// Paris offset of the daytime hours, e.g. `+01:00`.
    offset: String,
    /// 19:00 in Paris, written in UTC (`Z`), as some systems export it.
    closing_utc: String,
}

fn days(today: NaiveDate) -> anyhow::Result<Vec<Day>> {
    (EARLIEST_DAY..=LATEST_DUE)
        .map(|offset| {
            let date = relance_core::calendar::shift(today, offset).ok_or_else(|| {
                anyhow::anyhow!("{today} is too close to the end of the calendar")
            })?;
            let at = |hour| {
                Paris
                    .from_local_datetime(&date.and_hms_opt(hour, 0, 0).unwrap_or_default())
                    .earliest()
                    .ok_or_else(|| anyhow::anyhow!("no {hour}:00 in Paris on {date}"))
            };
            Ok(Day {
                date: date.format("%Y-%m-%d").to_string(),
                offset: at(12)?.format("%:z").to_string(),
                closing_utc: at(19)?
                    .with_timezone(&Utc)
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
            })
        })
        .collect()
}

/// Writes `count` loans of the patrons whose home libraries are given.
pub fn write<W: Write>(
    mut csv: csv::Writer<W>,
    count: usize,
    homes: &[u8],
    libraries: &[SampleLibrary],
    today: NaiveDate,
    rng: &mut StdRng,
) -> anyhow::Result<Written> {
    csv.write_record(relance_core::import::LOAN_COLUMNS)?;
    let days = days(today)?;
    let day = |offset: i64| &days[(offset - EARLIEST_DAY) as usize];
    // Which library each patron borrowed from first, and whether from another.
    let mut first_library = vec![u8::MAX; homes.len()];
    let mut several = vec![false; homes.len()];
    let (mut returned, mut earliest, mut latest) = (0, LATEST_DUE, EARLIEST_DUE);
    for i in 0..count {
        let patron = rng.random_range(0..homes.len());
        let library = if rng.random_bool(0.75) {
            homes[patron]
        } else {
            rng.random_range(0..libraries.len()) as u8
        };
        match first_library[patron] {
            u8::MAX => first_library[patron] = library,
            first if first != library => several[patron] = true,
            _ => {}
        }
        let stratified = (i as i64) < SPREAD;
        let due = if stratified {
            EARLIEST_DUE + (i as i64 * 37) % SPREAD
        } else {
            rng.random_range(EARLIEST_DUE..=LATEST_DUE)
        };
        earliest = earliest.min(due);
        latest = latest.max(due);
        let due_day = day(due);
        let due_at = match rng.random_range(0..20) {
            0..9 => due_day.date.clone(),
            9..17 => format!("{}T23:59:00{}", due_day.date, due_day.offset),
            _ => due_day.closing_utc.clone(),
        };
        let length = *[21, 28, 28, 28, 42, 56, 90].choose(rng).unwrap_or(&28);
        let mut lent = due - length;
        if lent >= 0 {
            lent = -rng.random_range(1..=7);
        }
        let loaned_at = if rng.random_bool(0.05) {
            String::new()
        } else {
            stamp(day(lent), rng.random_range(9..13), rng)
        };
        // The first loans stay open so that every stage has something to send.
        let returned_at = if !stratified && rng.random_bool(0.10) {
            returned += 1;
            stamp(
                day(rng.random_range(lent..=-1)),
                rng.random_range(14..19),
                rng,
            )
        } else {
            String::new()
        };
        let (title, author, call_number) = *data::BOOKS.choose(rng).unwrap_or(&data::BOOKS[0]);
        let library_code = &libraries[usize::from(library)].code;
        csv.write_record([
            format!("L{:08}", i + 1).as_str(),
            &patron_id(patron),
            library_code,
            &format!("33{:02}{:09}", library, i + 1),
            title,
            author,
            call_number,
            &loaned_at,
            &due_at,
            &returned_at,
        ])?;
    }
    csv.flush()?;
    let date = |offset| relance_core::calendar::shift(today, offset).unwrap_or(today);
    Ok(Written {
        returned,
        first_due: date(earliest.min(latest)),
        last_due: date(latest.max(earliest)),
        multi_library_patrons: several.iter().filter(|s| **s).count(),
    })
}

/// An RFC 3339 time at `hour` local on `day`.
fn stamp(day: &Day, hour: u32, rng: &mut StdRng) -> String {
    let minute: u32 = rng.random_range(0..60);
    format!("{}T{hour:02}:{minute:02}:00{}", day.date, day.offset)
}
