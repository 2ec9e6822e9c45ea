//! Open days through the command (rules §14): the sample's libraries are closed
//! on Sundays, so Sunday's letters wait, `run`, `status` and `preview` say so,
//! and Monday's batch prints them.

use crate::common::{files_under, imported_sample, ok, relance};

const SATURDAY: &str = "2026-11-21";
const SUNDAY: &str = "2026-11-22";
const MONDAY: &str = "2026-11-23";

#[test]
fn sundays_letters_wait_are_shown_waiting_and_are_printed_on_monday() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 400);
    ok(relance(&config, &["run", "--date", SATURDAY]));
    let sunday = ok(relance(&config, &["run", "--date", SUNDAY]));
    assert!(sunday.contains("waiting for an open day: "), "{sunday}");
    assert!(
        sunday.contains(&format!("deferred from {SUNDAY}")),
        "{sunday}"
    );
    assert!(
        sunday.contains("closed (Sunday); to deliver on 2026-11-23"),
        "{sunday}"
    );
    let outbox = dir.path().join("var/outbox");
    assert!(
        files_under(&outbox.join(SUNDAY).join("letters")).is_empty(),
        "no batch on a Sunday"
    );

    let status = ok(relance(&config, &["status"]));
    assert!(
        status.contains("Letters waiting for an open day of their library:"),
        "{status}"
    );
    assert!(
        status.contains(&format!("deferred from {SUNDAY}")),
        "{status}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(relance(&config, &["status", "--json"]))).unwrap();
    let waiting = json["waiting_for_open_day"].as_array().unwrap();
    assert!(!waiting.is_empty(), "{json}");
    let references: Vec<&str> = waiting
        .iter()
        .map(|w| w["reference"].as_str().unwrap())
        .collect();

    // The preview of Monday prints them, and says why they waited.
    let preview = ok(relance(
        &config,
        &["preview", "--date", MONDAY, "--forecast-days", "7"],
    ));
    assert!(preview.contains("delivered after waiting: "), "{preview}");
    let page = std::fs::read_to_string(
        dir.path()
            .join("var/preview")
            .join(MONDAY)
            .join("index.html"),
    )
    .unwrap();
    assert!(page.contains("id=\"open-days\""), "the page lists them");
    // In the sample institution's language (French).
    assert!(page.contains("reporté depuis le 22/11/2026"), "{page}");

    let monday = ok(relance(&config, &["run", "--date", MONDAY]));
    assert!(monday.contains("delivered after waiting: "), "{monday}");
    let manifests: String = files_under(&outbox.join(MONDAY).join("letters"))
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("manifest")
        })
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    for reference in references {
        assert_eq!(
            manifests.matches(reference).count(),
            1,
            "{reference} printed once on Monday"
        );
    }
    let status = ok(relance(&config, &["status"]));
    assert!(
        !status.contains("Letters waiting for an open day"),
        "{status}"
    );
}
