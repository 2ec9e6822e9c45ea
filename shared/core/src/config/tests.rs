use super::*;

const VALID: &str = r#"
[institution]
name = "Université de Bordeaux"
timezone = "Europe/Paris"
default_language = "fr"
catch_up_days = 2

[mail]
from = "Service du contentieux des bibliothèques <contentieux@bibliotheques.example.fr>"
staff_inbox = "equipe-contentieux@bibliotheques.example.fr"

[[libraries]]
code = "STS"
name = "Bibliothèque Sciences et techniques"
inbox = "bu-sciences@bibliotheques.example.fr"
address = ["Allée Baudour", "33400 Talence"]
phone = "05 40 00 00 00"
"#;

fn error_of(text: &str) -> String {
    Config::parse(text).unwrap_err().to_string()
}

#[test]
fn a_complete_config_gets_the_standard_ladder_and_defaults() {
    let config = Config::parse(VALID).unwrap();
    assert_eq!(config.ladder, Ladder::standard());
    assert_eq!(
        config.mail.reply_to.as_str(),
        "contentieux@bibliotheques.example.fr"
    );
    assert_eq!(config.local.state_dir, PathBuf::from("var"));
    assert_eq!(config.place(), "Talence");
    assert_eq!(config.mail.batch_attachment_bytes, 7 * 1024 * 1024);
    assert_eq!(
        config.libraries[0].public_email().as_str(),
        "bu-sciences@bibliotheques.example.fr"
    );
}

#[test]
fn an_unknown_timezone_names_its_key() {
    let err = error_of(&VALID.replace("Europe/Paris", "Europe/Pariss"));
    assert!(
        err.starts_with("institution.timezone: unknown timezone"),
        "{err}"
    );
}

#[test]
fn stage_errors_name_the_stage_and_field() {
    let stages = |body: &str| format!("{VALID}\n{body}");
    let dup = error_of(&stages(
        "[[stages]]\nname=\"a\"\noffset_days=1\nchannel=\"email\"\n[[stages]]\nname=\"a\"\noffset_days=2\nchannel=\"email\"",
    ));
    assert_eq!(dup, "stages[1].name: stage name \"a\" is used twice");
    let flat = error_of(&stages(
        "[[stages]]\nname=\"a\"\noffset_days=7\nchannel=\"email\"\n[[stages]]\nname=\"b\"\noffset_days=3\nchannel=\"email\"",
    ));
    assert!(
        flat.starts_with("stages[1].offset_days: offsets must strictly increase"),
        "{flat}"
    );
    let sms = error_of(&stages(
        "[[stages]]\nname=\"a\"\noffset_days=7\nchannel=\"sms\"",
    ));
    assert_eq!(
        sms,
        "stages[0].channel: unknown channel \"sms\" (email or letter)"
    );
    assert_eq!(
        error_of(&format!("stages = []\n{VALID}")),
        "stages: at least one stage is needed"
    );
}

#[test]
fn a_library_without_inbox_or_with_a_bad_address_is_refused() {
    let no_inbox =
        error_of(&VALID.replace("inbox = \"bu-sciences@bibliotheques.example.fr\"\n", ""));
    assert!(
        no_inbox.starts_with("libraries[0].inbox: is missing"),
        "{no_inbox}"
    );
    let bad = error_of(&VALID.replace("bu-sciences@bibliotheques.example.fr", "bu-sciences"));
    assert!(
        bad.starts_with("libraries[0].inbox: \"bu-sciences\""),
        "{bad}"
    );
    let from = error_of(&VALID.replace("<contentieux@bibliotheques.example.fr>", "<contentieux>"));
    assert!(from.starts_with("mail.from:"), "{from}");
}

#[test]
fn a_syntax_error_gives_its_line() {
    let err = error_of("[institution\nname=1");
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn the_batch_attachment_limit_is_in_kib_and_bounded() {
    let with = |value: &str| {
        VALID.replace(
            "[mail]\n",
            &format!("[mail]\nbatch_attachment_kib = {value}\n"),
        )
    };
    let config = Config::parse(&with("20480")).unwrap();
    assert_eq!(config.mail.batch_attachment_bytes, 20 * 1024 * 1024);
    for refused in ["0", "40000"] {
        let error = error_of(&with(refused));
        assert!(
            error.starts_with("mail.batch_attachment_kib: ") && error.contains(refused),
            "{error}"
        );
    }
    assert!(error_of(&with("-1")).contains("batch_attachment_kib"));
}

fn with_calendar(institution: &str, library: &str) -> String {
    VALID
        .replace("catch_up_days = 2\n", &format!("catch_up_days = 2\n{institution}\n"))
        .replace(
            "phone = \"05 40 00 00 00\"\n",
            &format!(
                "phone = \"05 40 00 00 00\"\n{library}\n\n[[libraries]]\ncode = \"DRT\"\nname = \"Droit\"\ninbox = \"bu-droit@bibliotheques.example.fr\"\n"
            ),
        )
}

#[test]
fn the_institution_calendar_is_the_default_and_a_library_key_replaces_it() {
    use crate::open_days::{EmailOnClosedDays, Holidays};
    use chrono::{NaiveDate, Weekday};
    let config = Config::parse(&with_calendar(
        "closed_weekdays = [\"sunday\"]\nholidays = \"FR\"\nclosures = [\"2026-12-24..2027-01-02\"]\nemail_on_closed_days = \"next_open_day\"",
        "closed_weekdays = [\"saturday\", \"sunday\"]",
    ))
    .unwrap();
    assert_eq!(
        config.institution.email_on_closed_days,
        EmailOnClosedDays::NextOpenDay
    );
    let sts = &config.libraries[0].open_days;
    let drt = &config.libraries[1].open_days;
    assert_eq!(sts.closed_weekdays, vec![Weekday::Sat, Weekday::Sun]);
    assert_eq!(drt.closed_weekdays, vec![Weekday::Sun]);
    for days in [sts, drt] {
        assert_eq!(days.holidays, Some(Holidays::Fr));
        assert_eq!(days.closures.len(), 1);
    }
    let saturday = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
    assert!(!sts.is_open(saturday));
    assert!(drt.is_open(saturday));
    let plain = Config::parse(VALID).unwrap();
    assert_eq!(
        plain.institution.email_on_closed_days,
        EmailOnClosedDays::Send
    );
    assert!(
        plain.libraries[0]
            .open_days
            .is_open(saturday.succ_opt().unwrap())
    );
}

#[test]
fn calendar_errors_name_their_key() {
    let err = error_of(&with_calendar(
        "closed_weekdays = [\"sunday\", \"sundy\"]",
        "",
    ));
    assert_eq!(
        err,
        "institution.closed_weekdays[1]: unknown weekday \"sundy\" (monday … sunday)"
    );
    let err = error_of(&with_calendar(
        "",
        "closures = [\"2027-05-14\", \"2027-01-02..2026-12-24\"]",
    ));
    assert!(
        err.starts_with(
            "libraries[0].closures[1]: the range 2027-01-02..2026-12-24 ends before it starts"
        ),
        "{err}"
    );
    let err = error_of(&with_calendar("holidays = \"XX\"", ""));
    assert!(
        err.starts_with("institution.holidays: unknown country"),
        "{err}"
    );
    let err = error_of(&with_calendar("email_on_closed_days = \"wait\"", ""));
    assert!(err.starts_with("institution.email_on_closed_days"), "{err}");
    let every_day =
        "closed_weekdays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]";
    let err = error_of(&with_calendar("", every_day));
    assert!(
        err.starts_with("libraries[0].closed_weekdays: closes every day"),
        "{err}"
    );
}

#[test]
fn a_misspelt_calendar_key_suggests_the_right_one() {
    let err = error_of(&with_calendar("closed_weekday = [\"sunday\"]", ""));
    assert!(
        err.contains("did you mean \"institution.closed_weekdays\"?"),
        "{err}"
    );
    let err = error_of(&with_calendar("", "holiday = \"FR\""));
    assert!(
        err.contains("did you mean \"libraries.holidays\"?"),
        "{err}"
    );
}

#[test]
fn an_unreadable_calendar_file_names_its_key_and_file() {
    let mut config = Config::parse(&with_calendar("", "calendar = \"closures.ics\"")).unwrap();
    assert_eq!(config.calendar_files(), vec![PathBuf::from("closures.ics")]);
    let err = config
        .read_calendars(|_| Err("No such file or directory".into()))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "libraries[0].calendar: cannot read closures.ics: No such file or directory"
    );
    let err = config
        .read_calendars(|_| Ok("hello".into()))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("libraries[0].calendar: closures.ics is not an iCalendar file"),
        "{err}"
    );
}

#[test]
fn a_calendar_file_of_the_institution_is_read_once_for_every_library() {
    let mut config = Config::parse(&with_calendar("calendar = \"fermetures.ics\"", "")).unwrap();
    let mut reads = 0;
    config
        .read_calendars(|path| {
            reads += 1;
            assert_eq!(path, std::path::Path::new("fermetures.ics"));
            Ok("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//FR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;VALUE=DATE:20270104\r\nSUMMARY:Inventaire\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".into())
        })
        .unwrap();
    assert_eq!(reads, 1);
    let monday = chrono::NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
    for library in &config.libraries {
        assert_eq!(
            library.open_days.closed_on(monday).map(|c| c.to_string()),
            Some("Inventaire".to_owned())
        );
    }
}

#[test]
fn import_settings_take_a_profile_and_column_overrides() {
    let config = Config::parse(&format!(
        "{VALID}\n[import]\nprofile = \"koha\"\nencoding = \"windows-1252\"\n\
         date_order = \"mdy\"\n[import.columns.loans]\ndue_at = \"Date due\"\n\
         [import.columns.patrons]\nfull_name = [\"Prénom\", \"Nom\"]\n"
    ))
    .unwrap();
    let import = &config.import;
    assert_eq!(import.profile, Some(crate::import::Profile::Koha));
    assert_eq!(import.encoding, EncodingSetting::Windows1252);
    assert_eq!(import.date_order, DateOrder::Mdy);
    assert_eq!(
        import.loan_columns.of("due_at"),
        Some(&["Date due".to_owned()][..])
    );
    // The profile's headings for the rest.
    assert_eq!(
        import.loan_columns.of("loan_id"),
        Some(&["checkout_id".to_owned()][..])
    );
    assert_eq!(
        import.patron_columns.of("full_name"),
        Some(&["Prénom".to_owned(), "Nom".to_owned()][..])
    );
    // Without [import]: UTF-8 or Windows-1252, day first, the file's own names.
    let plain = Config::parse(VALID).unwrap().import;
    assert_eq!(plain, ImportSettings::default());
    assert_eq!(plain.loan_columns.of("due_at"), None);
}

#[test]
fn import_errors_name_their_key() {
    let profile = error_of(&format!("{VALID}\n[import]\nprofile = \"aleph\"\n"));
    assert!(
        profile.starts_with("import.profile: unknown profile \"aleph\""),
        "{profile}"
    );
    assert!(profile.contains("alma-analytics, koha, folio"), "{profile}");
    let column = error_of(&format!(
        "{VALID}\n[import.columns.loans]\ndue_date = \"Due\"\n"
    ));
    assert!(
        column.contains("unknown key \"import.columns.loans.due_date\""),
        "{column}"
    );
    assert!(
        column.contains("did you mean \"import.columns.loans.due_at\""),
        "{column}"
    );
    let empty = error_of(&format!(
        "{VALID}\n[import.columns.patrons]\nemail = \"\"\n"
    ));
    assert!(
        empty.starts_with("import.columns.patrons.email: a heading is empty"),
        "{empty}"
    );
    let encoding = error_of(&format!("{VALID}\n[import]\nencoding = \"latin9\"\n"));
    assert!(encoding.contains("latin9"), "{encoding}");
}
