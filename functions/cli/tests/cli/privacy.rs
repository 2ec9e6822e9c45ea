//! `relance purge` and `relance patron export|erase` (rules §16).

use crate::common::*;

#[test]
fn a_dry_purge_says_what_a_purge_then_removes_from_the_store_and_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 60);
    ok(relance(&config, &["run", "--date", TODAY]));
    let outbox_day = dir.path().join("var/outbox").join(TODAY);
    let files = files_under(&outbox_day).len();
    assert!(files > 0, "the run wrote mail");

    let later = day(400);
    let dry = json(&ok(relance(
        &config,
        &["purge", "--date", &later, "--dry-run", "--json", "--force"],
    )));
    assert_eq!(dry["dry_run"], true);
    let mail = dry["mail_files"].as_u64().unwrap() + dry["letter_files"].as_u64().unwrap();
    assert_eq!(mail as usize, files, "{dry}");
    assert!(dry["notices"].as_u64().unwrap() > 0, "{dry}");
    assert_eq!(
        files_under(&outbox_day).len(),
        files,
        "a dry purge removes nothing"
    );

    let done = json(&ok(relance(
        &config,
        &["purge", "--date", &later, "--json", "--force"],
    )));
    for kind in ["notices", "mail_files", "letter_files", "returned_loans"] {
        assert_eq!(done[kind], dry[kind], "{kind}");
    }
    assert!(!outbox_day.exists());
    let again = json(&ok(relance(
        &config,
        &["purge", "--date", &later, "--json", "--force"],
    )));
    assert_eq!(again["notices"], 0);
    assert_eq!(again["mail_files"], 0);
}

#[test]
fn a_purge_far_from_today_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 10);
    let out = relance(&config, &["purge", "--date", "2099-01-01"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
}

#[test]
fn an_erased_patron_exports_nothing_and_running_the_day_again_sends_them_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 60);
    ok(relance(&config, &["run", "--date", TODAY]));
    let mail_dir = dir.path().join("var/outbox").join(TODAY).join("mail");
    let notice_file = files_under(&mail_dir)
        .into_iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .find(|name| name.starts_with("first_reminder-") || name.starts_with("courtesy-"))
        .expect("an email to a patron");
    let patron = notice_file.split_once('-').unwrap().1.to_owned();

    let export = json(&ok(relance(
        &config,
        &["patron", "export", &patron, "--json"],
    )));
    assert_eq!(export["patron"]["id"], patron.as_str());
    assert!(!export["notices"].as_array().unwrap().is_empty());
    assert!(!export["loans"].as_array().unwrap().is_empty());

    let erased = json(&ok(relance(
        &config,
        &["patron", "erase", &patron, "--json"],
    )));
    assert_eq!(erased["patrons"], 1);
    assert!(erased["markers_kept"].as_u64().unwrap() > 0, "{erased}");
    assert!(erased["outbox_files"].as_u64().unwrap() > 0, "{erased}");
    assert!(!mail_dir.join(format!("{notice_file}.eml")).exists());
    let text = ok(relance(&config, &["patron", "export", &patron]));
    assert!(text.contains("Nothing is stored"), "{text}");

    // The library system's export brings the patron back; the day run again
    // (resume, run) finds their loans handled.
    let sample = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    ok(relance(
        &config,
        &[
            "import",
            "--patrons",
            &sample("patrons.csv"),
            "--loans",
            &sample("loans.csv"),
        ],
    ));
    ok(relance(&config, &["resume", "--date", TODAY]));
    ok(relance(&config, &["run", "--date", TODAY]));
    let again = json(&ok(relance(
        &config,
        &["patron", "export", &patron, "--json"],
    )));
    assert!(again["patron"].is_object(), "imported again");
    assert_eq!(
        again["notices"],
        serde_json::json!([]),
        "nothing notified twice"
    );
}
