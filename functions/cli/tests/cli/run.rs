//! `relance run`, `resume` and `status` through the built binary, on a sample.

use crate::common::{TODAY, files_under, json, ok, relance};

fn imported_sample(dir: &std::path::Path) -> std::path::PathBuf {
    crate::common::imported_sample(dir, 300)
}

#[test]
fn run_json_reports_the_binding_keys_and_writes_the_outbox_layout() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path());
    let summary = json(&ok(relance(&config, &["run", "--date", TODAY, "--json"])));
    for key in [
        "run_day",
        "planned_days",
        "notices",
        "emails_sent",
        "letters_rendered",
        "cancelled",
    ] {
        assert!(summary.get(key).is_some(), "{key} in {summary}");
    }
    assert_eq!(summary["run_day"], TODAY);
    assert_eq!(summary["planned_days"], serde_json::json!([TODAY]));
    let sent = summary["emails_sent"].as_u64().unwrap();
    assert!(
        sent > 0 && summary["letters_rendered"].as_u64().unwrap() > 0,
        "{summary}"
    );

    let outbox = dir.path().join("var/outbox").join(TODAY);
    let files = files_under(&outbox);
    let emails = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            // The libraries' print batches and the run report to the staff inbox.
            !name.starts_with("letters-") && !name.starts_with("report-")
        })
        .count() as u64;
    assert_eq!(emails, sent);
    assert!(files.iter().any(|p| p.ends_with("batch.pdf")));
    assert!(files.iter().any(|p| p.ends_with("manifest.csv")));
}

#[test]
fn a_dry_run_records_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path());
    let dry = json(&ok(relance(
        &config,
        &["run", "--date", TODAY, "--dry-run", "--json"],
    )));
    assert_eq!(dry["emails_sent"], 0);
    assert!(files_under(&dir.path().join("var/outbox")).is_empty());
    let status = json(&ok(relance(&config, &["status", "--json"])));
    assert!(status["watermark"].is_null(), "{status}");
    let real = json(&ok(relance(&config, &["run", "--date", TODAY, "--json"])));
    assert_eq!(
        real["notices"], dry["notices"],
        "the dry run planned what the run does"
    );
}

#[test]
fn resume_makes_the_next_run_plan_its_day_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path());
    ok(relance(&config, &["run", "--date", "2026-11-18", "--json"]));
    ok(relance(&config, &["resume", "--date", TODAY]));
    let status = json(&ok(relance(&config, &["status", "--json"])));
    assert_eq!(status["watermark"], "2026-11-19");
    let summary = json(&ok(relance(&config, &["run", "--date", TODAY, "--json"])));
    assert_eq!(summary["planned_days"], serde_json::json!([TODAY]));
}

#[test]
fn a_templates_folder_named_in_the_config_overrides_the_shipped_subject() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path());
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace("[mail]\n", "[mail]\ntemplates = \"gabarits\"\n");
    std::fs::write(&config, text).unwrap();
    let folder = dir.path().join("gabarits/fr");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("subject.txt"),
        "Bibliothèques : avis {{ reference }}",
    )
    .unwrap();
    std::fs::write(folder.join("README.md"), "not a template {{").unwrap();
    ok(relance(&config, &["run", "--date", TODAY]));
    let outbox = dir.path().join("var/outbox").join(TODAY).join("mail");
    let french = files_under(&outbox)
        .into_iter()
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("letters-")
        })
        .map(|p| std::fs::read(p).unwrap())
        .map(|raw| {
            let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
            (
                message
                    .header_raw("Content-Language")
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                message.subject().unwrap_or_default().to_owned(),
            )
        })
        .filter(|(lang, _)| lang == "fr")
        .collect::<Vec<_>>();
    assert!(!french.is_empty());
    for (_, subject) in french {
        assert!(subject.starts_with("Bibliothèques : avis R"), "{subject}");
    }
}

#[test]
fn a_config_error_names_the_key_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relance.toml");
    std::fs::write(
        &config,
        "[institution]\nname = \"X\"\ntimezone = \"Mars/Olympus\"\n",
    )
    .unwrap();
    let out = relance(&config, &["run"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("institution.timezone: unknown timezone \"Mars/Olympus\""),
        "{err}"
    );
}
