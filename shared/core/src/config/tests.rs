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
