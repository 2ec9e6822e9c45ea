//! A hostile week (rules §13): concurrent runs, a notice that cannot be sent, a
//! typo in a date, an emptied store — through the built binary, with real
//! concurrent processes.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{RELANCE, TODAY, day, files_under, imported_sample, json, ok, relance};
use relance_local::lock::StateLock;

fn spawn(config: &Path, args: &[&str]) -> Child {
    Command::new(RELANCE)
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RELANCE_CONFIG")
        .env_remove("RELANCE_LOCK_WAIT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the relance binary starts")
}

/// Waits for a `run --json` and returns its summary.
fn summary_of(child: Child) -> serde_json::Value {
    json(&ok(child.wait_with_output().unwrap()))
}

/// The patrons' emails of a run day in the outbox (not the print batches, not the report).
fn patron_emails(state: &Path, run_day: &str) -> usize {
    files_under(&state.join("outbox").join(run_day).join("mail"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("letters-") && !n.starts_with("report-"))
        .count()
}

/// Every letter reference in every print batch manifest of the outbox.
fn batched_references(state: &Path) -> Vec<String> {
    let mut references = Vec::new();
    for path in files_under(&state.join("outbox")) {
        if path.file_name().is_some_and(|n| n == "manifest.csv") {
            let mut csv = csv::Reader::from_path(&path).unwrap();
            let column = csv
                .headers()
                .unwrap()
                .iter()
                .position(|h| h == "reference")
                .expect("a reference column");
            for row in csv.records() {
                references.push(row.unwrap()[column].to_owned());
            }
        }
    }
    references
}

#[test]
fn two_runs_of_the_same_day_started_together_send_each_notice_once() {
    for attempt in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let config = imported_sample(dir.path(), 1500);
        let args = ["run", "--date", TODAY, "--json", "--lock-wait", "120"];
        let first = spawn(&config, &args);
        std::thread::sleep(Duration::from_millis(20 * attempt));
        let second = spawn(&config, &args);
        let (a, b) = (summary_of(first), summary_of(second));
        let sent = a["emails_sent"].as_u64().unwrap() + b["emails_sent"].as_u64().unwrap();
        let state = dir.path().join("var");
        assert!(sent > 0);
        assert_eq!(sent as usize, patron_emails(&state, TODAY), "{a} {b}");
        let letters =
            a["letters_rendered"].as_u64().unwrap() + b["letters_rendered"].as_u64().unwrap();
        let references = batched_references(&state);
        assert_eq!(letters as usize, references.len(), "{a} {b}");
        let unique: HashSet<_> = references.iter().collect();
        assert_eq!(unique.len(), references.len(), "a letter batched twice");
    }
}

#[test]
fn runs_of_two_consecutive_days_started_together_never_batch_a_letter_twice() {
    for (first_day, second_day) in [(day(0), day(1)), (day(1), day(0))] {
        let dir = tempfile::tempdir().unwrap();
        let config = imported_sample(dir.path(), 1500);
        let first = spawn(
            &config,
            &["run", "--date", &first_day, "--json", "--lock-wait", "120"],
        );
        let second = spawn(
            &config,
            &["run", "--date", &second_day, "--json", "--lock-wait", "120"],
        );
        summary_of(first);
        summary_of(second);
        let references = batched_references(&dir.path().join("var"));
        assert!(!references.is_empty());
        let unique: HashSet<_> = references.iter().collect();
        assert_eq!(
            unique.len(),
            references.len(),
            "{first_day} then {second_day}: a letter in two batches"
        );
    }
}

#[test]
fn a_command_that_writes_gives_up_after_its_wait_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 100);
    let now = "2026-11-20T05:00:00Z".parse().unwrap();
    let loans = dir.path().join("loans.csv");
    let loans = loans.to_str().unwrap();
    let _held =
        StateLock::acquire(&dir.path().join("var"), "relance run", Duration::ZERO, now).unwrap();
    for args in [
        vec!["run", "--date", TODAY, "--lock-wait", "1"],
        vec!["resume", "--date", TODAY, "--lock-wait", "1"],
        vec!["import", "--loans", loans, "--lock-wait", "1"],
    ] {
        let out = relance(&config, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let holder = format!(
            "pid {} (relance run) since 2026-11-20T05:00:00Z",
            std::process::id()
        );
        assert!(err.contains(&holder), "{args:?}: {err}");
    }
    // Reading takes no lock.
    ok(relance(&config, &["status"]));
    ok(relance(&config, &["run", "--date", TODAY, "--dry-run"]));
    let status = json(&ok(relance(&config, &["status", "--json"])));
    assert!(status["watermark"].is_null(), "nothing ran: {status}");
}

#[test]
fn a_read_only_command_on_a_fresh_folder_creates_no_store() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(RELANCE)
        .args([
            "sample",
            "--out",
            dir.path().to_str().unwrap(),
            "--loans",
            "20",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let config = dir.path().join("relance.toml");
    ok(relance(&config, &["status"]));
    ok(relance(&config, &["run", "--dry-run"]));
    assert!(!dir.path().join("var/relance.db").exists());
}

#[test]
fn an_emptied_database_is_an_error_naming_the_file_never_a_new_store() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 100);
    ok(relance(&config, &["run", "--date", TODAY]));
    let db = dir.path().join("var/relance.db");
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("var/relance.db{suffix}")));
    }
    std::fs::write(&db, b"").unwrap();
    for args in [vec!["run", "--date", &day(1)], vec!["status"]] {
        let out = relance(&config, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&db.display().to_string()), "{err}");
        assert!(err.contains("move it aside"), "{err}");
    }
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0, "left as it was");

    std::fs::write(&db, b"not a database, a note someone saved here\n").unwrap();
    let err =
        String::from_utf8_lossy(&relance(&config, &["run", "--date", &day(1)]).stderr).into_owned();
    assert!(err.contains("is not a Relance store"), "{err}");
}

#[test]
fn a_day_more_than_a_year_away_is_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 100);
    for args in [
        vec!["run", "--date", "2072-01-10"],
        vec!["resume", "--date", "9999-12-31"],
    ] {
        let out = relance(&config, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--force"), "{err}");
    }
    let status = json(&ok(relance(&config, &["status", "--json"])));
    assert!(status["watermark"].is_null(), "{status}");

    ok(relance(
        &config,
        &["resume", "--date", "2072-01-10", "--force"],
    ));
    let out = relance(&config, &["status"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the watermark (2072-01-09) is after today"),
        "{err}"
    );
    assert!(err.contains("resume --date"), "{err}");
    let out = relance(&config, &["forecast", "--days", "3"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("resume --date"));
}

#[test]
fn a_notice_whose_template_fails_fails_alone_and_the_report_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 600);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("[mail]\n", "[mail]\ntemplates = \"broken\"\n"),
    )
    .unwrap();
    let folder = dir.path().join("broken/en");
    std::fs::create_dir_all(&folder).unwrap();
    // Data-dependent, so that loading the templates (which renders samples
    // with the patron "Patron") does not catch it: it fails at send time.
    std::fs::write(
        folder.join("subject.txt"),
        r#"{% if patron.name != "Patron" %}{{ no_such_function() }}{% endif %}Reminder"#,
    )
    .unwrap();

    let out = relance(&config, &["run", "--date", TODAY, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = json(&String::from_utf8(out.stdout).unwrap());
    let failures = summary["failures"].as_array().expect("failures listed");
    assert!(!failures.is_empty(), "{summary}");
    assert_eq!(summary["failed"].as_u64().unwrap() as usize, failures.len());
    assert!(
        summary["emails_sent"].as_u64().unwrap() > 0,
        "the others went"
    );
    assert!(
        summary["letters_rendered"].as_u64().unwrap() > 0,
        "the letters went"
    );
    let report = dir
        .path()
        .join("var/outbox")
        .join(TODAY)
        .join(format!("mail/report-{TODAY}.eml"));
    let report = std::fs::read_to_string(report).expect("the report is written");
    let reference = failures[0]["reference"].as_str().unwrap();
    assert!(report.contains(reference), "the report lists {reference}");

    let status = ok(relance(&config, &["status"]));
    assert!(status.contains(reference), "status says why: {status}");
    assert!(status.contains("no_such_function"), "{status}");
}

#[test]
fn a_library_missing_from_the_config_holds_up_only_its_own_notices() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 600);
    let text = std::fs::read_to_string(&config).unwrap();
    // Drop the first [[libraries]] entry after the import.
    let start = text.find("[[libraries]]").unwrap();
    let end = start + 1 + text[start + 1..].find("[[libraries]]").unwrap();
    let dropped = text[start..end]
        .lines()
        .find_map(|l| l.strip_prefix("code = "))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    std::fs::write(&config, format!("{}{}", &text[..start], &text[end..])).unwrap();

    let out = relance(&config, &["run", "--date", TODAY, "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("library \"{dropped}\"")), "{err}");
    let summary = json(&String::from_utf8(out.stdout).unwrap());
    assert!(summary["emails_sent"].as_u64().unwrap() > 0, "{summary}");
    let report = std::fs::read_to_string(
        dir.path()
            .join("var/outbox")
            .join(TODAY)
            .join(format!("mail/report-{TODAY}.eml")),
    )
    .unwrap();
    assert!(report.contains(&dropped), "the report names the code");
}

#[test]
fn a_typo_in_the_config_is_named_with_the_key_it_meant() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 20);
    let text = std::fs::read_to_string(&config).unwrap();
    for (typo, meant) in [
        (
            "[institution]\ncatchup_days = 5\n",
            "institution.catch_up_days",
        ),
        ("[locale]\nstate_dir = \"x\"\n", "local"),
    ] {
        let edited = if typo.starts_with("[institution]") {
            text.replacen("[institution]\n", typo, 1)
        } else {
            format!("{typo}{text}")
        };
        std::fs::write(&config, edited).unwrap();
        let out = relance(&config, &["run", "--date", TODAY]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("did you mean \"{meant}\"?")), "{err}");
    }
    assert!(!dir.path().join("x").exists(), "no other store was used");
}
