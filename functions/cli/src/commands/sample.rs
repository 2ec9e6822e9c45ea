//! `relance sample`: a realistic sample institution (config, patrons, loans),
//! deterministic for a seed, whose loans make every stage fire over the 36 days
//! from `--today`. Streams its CSV files, so a million loans take seconds.

mod data;
mod loans;
mod patrons;

use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{Datelike, NaiveDate, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Write a realistic sample institution.
#[derive(clap::Args)]
pub struct SampleArgs {
    /// Folder to write relance.toml, patrons.csv and loans.csv into.
    #[arg(long)]
    pub out: PathBuf,
    /// Random seed: the same seed gives the same sample.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of loans.
    #[arg(long, default_value_t = 400)]
    pub loans: usize,
    /// Number of patrons (default: half the loans, at least 1).
    #[arg(long)]
    pub patrons: Option<usize>,
    /// Number of libraries.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=40))]
    pub libraries: u8,
    /// The day the sample is centred on (YYYY-MM-DD); today in Europe/Paris by default.
    #[arg(long)]
    pub today: Option<NaiveDate>,
}

/// A library of the sample.
pub struct SampleLibrary {
    /// Code used in loans.csv.
    pub code: String,
    name: String,
    street: String,
    town: String,
    phone: String,
}

/// Writes the three files and says what they hold.
pub fn run(args: SampleArgs) -> anyhow::Result<ExitCode> {
    let today = args.today.unwrap_or_else(|| {
        Utc::now()
            .with_timezone(&chrono_tz::Europe::Paris)
            .date_naive()
    });
    let patron_count = args.patrons.unwrap_or(args.loans / 2).max(1);
    let libraries = libraries(usize::from(args.libraries));
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut rng = StdRng::seed_from_u64(args.seed);

    let config_path = args.out.join("relance.toml");
    std::fs::write(&config_path, config_text(&libraries, today))
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    let calendar_path = args.out.join(CALENDAR_FILE);
    std::fs::write(&calendar_path, closures_ics(today))
        .with_context(|| format!("cannot write {}", calendar_path.display()))?;
    let patrons_path = args.out.join("patrons.csv");
    let people = patrons::write(
        csv_writer(&patrons_path)?,
        patron_count,
        libraries.len(),
        &mut rng,
    )
    .with_context(|| format!("cannot write {}", patrons_path.display()))?;
    let loans_path = args.out.join("loans.csv");
    let lent = loans::write(
        csv_writer(&loans_path)?,
        args.loans,
        &people.home_libraries,
        &libraries,
        today,
        &mut rng,
    )
    .with_context(|| format!("cannot write {}", loans_path.display()))?;

    let out = args.out.display();
    println!(
        "Sample institution written to {out} (seed {}, centred on {today}):",
        args.seed
    );
    println!(
        "  relance.toml  {} libraries, the four standard stages, timezone Europe/Paris; closed on \
         Sundays, French holidays and {} (the second library on Saturdays too)",
        libraries.len(),
        winter_closure(today)
    );
    println!(
        "  {CALENDAR_FILE} staff training on the first Thursday of each month, and the summer inventory"
    );
    println!(
        "  patrons.csv   {} patrons: {} without email, {} with a malformed email, {} opted out of courtesy emails",
        patron_count, people.without_email, people.malformed_email, people.opted_out
    );
    println!(
        "  loans.csv     {} loans ({} returned) due {} to {}; {} patrons borrow from several libraries",
        args.loans, lent.returned, lent.first_due, lent.last_due, lent.multi_library_patrons
    );
    println!(
        "Next: relance --config {out}/relance.toml import --patrons {out}/patrons.csv --loans {out}/loans.csv"
    );
    Ok(ExitCode::SUCCESS)
}

fn csv_writer(path: &Path) -> anyhow::Result<csv::Writer<BufWriter<File>>> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(csv::Writer::from_writer(BufWriter::with_capacity(
        1 << 20,
        file,
    )))
}

/// The hand-written libraries first, then disciplines × sites.
fn libraries(count: usize) -> Vec<SampleLibrary> {
    let written = data::LIBRARIES
        .iter()
        .map(|(code, name, street, town)| (code.to_string(), name.to_string(), *street, *town));
    let combined = data::SITES.iter().flat_map(|(site, street, town)| {
        let place = town.split_once(' ').map_or(*town, |(_, t)| t);
        data::DISCIPLINES.iter().map(move |(code, discipline)| {
            (
                format!("{code}-{site}"),
                format!("Bibliothèque {discipline} – {place}"),
                *street,
                *town,
            )
        })
    });
    written
        .chain(combined)
        .take(count)
        .enumerate()
        .map(|(i, (code, name, street, town))| SampleLibrary {
            code,
            name,
            street: street.to_owned(),
            town: town.to_owned(),
            // 05 36 49 xx xx: a range reserved for fiction, so nobody gets called.
            phone: format!("05 36 49 {:02} {:02}", 10 + i / 10, (i % 10) * 10),
        })
        .collect()
}

fn toml_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The iCalendar file of the sample's closures, beside its config.
const CALENDAR_FILE: &str = "fermetures.ics";

/// The winter closure in force on `today` or next: 24 December to 2 January.
fn winter_closure(today: NaiveDate) -> String {
    let year = if today.month() == 1 && today.day() <= 2 {
        today.year() - 1
    } else {
        today.year()
    };
    format!("{year}-12-24..{}-01-02", year + 1)
}

/// The sample's iCalendar closures (rules §14), as a library's calendar
/// application exports them: a monthly staff training day and the yearly
/// inventory week, both recurring.
fn closures_ics(today: NaiveDate) -> String {
    let year = today.year() - 1;
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Relance//sample//FR",
        "BEGIN:VEVENT",
        "UID:formation@bibliotheques.example.fr",
        "DTSTAMP:20260101T000000Z",
        &format!("DTSTART;VALUE=DATE:{year}0101"),
        &format!("DTEND;VALUE=DATE:{year}0102"),
        "RRULE:FREQ=MONTHLY;BYDAY=1TH",
        "SUMMARY:Formation du personnel",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:inventaire@bibliotheques.example.fr",
        "DTSTAMP:20260101T000000Z",
        &format!("DTSTART;VALUE=DATE:{year}0720"),
        &format!("DTEND;VALUE=DATE:{year}0725"),
        "RRULE:FREQ=YEARLY",
        "SUMMARY:Inventaire annuel",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    .join("\r\n")
}

/// A valid config (rules §9) with the standard ladder written out, and a
/// realistic calendar of open days (rules §14).
fn config_text(libraries: &[SampleLibrary], today: NaiveDate) -> String {
    let mut text = String::from(
        r#"# A sample institution written by `relance sample`: every address is an example.

[institution]
name = "Université de Bordeaux (exemple)"
timezone = "Europe/Paris"
default_language = "fr"
catch_up_days = 2
city = "Bordeaux"
# Open days: letters are printed in the libraries, on days they are open.
# The defaults of every library; a library entry below may set its own.
closed_weekdays = ["sunday"]
holidays = "FR"
"#,
    );
    let _ = write!(
        text,
        "closures = [\"{}\"]\ncalendar = \"{CALENDAR_FILE}\"\n",
        winter_closure(today)
    );
    text.push_str(
        r#"# Emails go on their day, open or not ("next_open_day" holds them too).
email_on_closed_days = "send"

[mail]
from = "Service du contentieux des bibliothèques <contentieux@bibliotheques.example.fr>"
reply_to = "contentieux@bibliotheques.example.fr"
staff_inbox = "equipe-contentieux@bibliotheques.example.fr"

[[stages]]
name = "courtesy"
offset_days = -3
channel = "email"

[[stages]]
name = "first_reminder"
offset_days = 7
channel = "email"

[[stages]]
name = "second_reminder"
offset_days = 21
channel = "email"

[[stages]]
name = "letter"
offset_days = 35
channel = "letter"
"#,
    );
    for (i, library) in libraries.iter().enumerate() {
        let mailbox = library.code.to_ascii_lowercase();
        // Writing to a String cannot fail.
        let _ = write!(
            text,
            "\n[[libraries]]\ncode = {}\nname = {}\ninbox = \"bu-{mailbox}@bibliotheques.example.fr\"\naddress = [{}, {}]\nphone = {}\n",
            toml_string(&library.code),
            toml_string(&library.name),
            toml_string(&library.street),
            toml_string(&library.town),
            toml_string(&library.phone),
        );
        if i == 1 {
            text.push_str("closed_weekdays = [\"saturday\", \"sunday\"]\n");
        }
    }
    text.push_str("\n[local]\nstate_dir = \"var\"\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_calendar_closes_sundays_holidays_christmas_and_training_days() {
        let libraries = libraries(4);
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let mut config =
            relance_core::config::Config::parse(&config_text(&libraries, today)).unwrap();
        config.read_calendars(|_| Ok(closures_ics(today))).unwrap();
        let open = |i: usize, d: &str| {
            config.libraries[i]
                .open_days
                .is_open(NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap())
        };
        assert!(
            open(0, "2026-12-05") && !open(1, "2026-12-05"),
            "a Saturday"
        );
        for closed in [
            "2026-12-06",
            "2026-12-03",
            "2026-12-24",
            "2027-01-01",
            "2027-03-29",
            "2027-07-21",
        ] {
            assert!(!open(0, closed), "{closed}");
        }
        assert!(open(0, "2027-01-04") && open(0, "2026-12-10"));
    }

    #[test]
    fn every_library_count_gives_a_valid_config_with_unique_codes() {
        for count in [1, 4, 10, 11, 40] {
            let libraries = libraries(count);
            assert_eq!(libraries.len(), count);
            let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
            let mut config = relance_core::config::Config::parse(&config_text(&libraries, today))
                .unwrap_or_else(|e| panic!("{count} libraries: {e}"));
            config.read_calendars(|_| Ok(closures_ics(today))).unwrap();
            assert_eq!(config.libraries.len(), count);
            assert_eq!(config.ladder, relance_core::ladder::Ladder::standard());
        }
    }
}
