//! `relance history`: a patron's notices, newest first, with their status.

use crate::common::*;
use relance_local::Store;

#[test]
fn history_lists_a_patrons_notices_newest_first_with_their_status() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 300);
    for offset in [0, 7, 14, 21] {
        ok(relance(&config, &["run", "--date", &day(offset), "--json"]));
    }
    let store = Store::open(&dir.path().join("var/relance.db")).unwrap();
    // A patron with notices on at least two run days.
    let patron = {
        let mut counts = std::collections::BTreeMap::new();
        for offset in [0, 7, 14, 21] {
            for n in store.notices_on(day(offset).parse().unwrap()).unwrap() {
                counts
                    .entry(n.patron_id.to_string())
                    .or_insert_with(std::collections::BTreeSet::new)
                    .insert(n.run_day);
            }
        }
        counts
            .into_iter()
            .find(|(_, days)| days.len() >= 2)
            .map(|(p, _)| p)
            .expect("a patron with notices on two run days")
    };
    let history = json(&ok(relance(&config, &["history", &patron, "--json"])));
    assert_eq!(history["patron_id"], patron.as_str());
    let notices = history["notices"].as_array().unwrap();
    let ledger = store
        .notices_of(&relance_core::ids::PatronId::parse(&patron).unwrap())
        .unwrap();
    assert_eq!(notices.len(), ledger.len());
    let days: Vec<&str> = notices
        .iter()
        .map(|n| n["run_day"].as_str().unwrap())
        .collect();
    let mut sorted = days.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(days, sorted, "newest first");
    assert!(days.first() > days.last());
    for n in notices {
        let stored = ledger
            .iter()
            .find(|l| l.id.as_str() == n["notice_id"])
            .unwrap();
        let status = serde_json::to_value(&stored.status).unwrap();
        assert_eq!(n["status"], status["status"]);
        if n["status"] == "sent" {
            assert_eq!(n["message_id"], status["message_id"]);
            assert!(n["message_id"].as_str().unwrap().starts_with("outbox:"));
        }
        assert_eq!(n["loans"].as_array().unwrap().len(), stored.loans.len());
        assert!(
            n["loans"][0]["title"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
        assert_eq!(n["replies"], serde_json::json!([]));
    }

    let text = ok(relance(&config, &["history", &patron]));
    assert!(text.contains(&format!("Patron {patron}")), "{text}");
    assert!(!text.contains("Other mail from the patron"), "{text}");
    let first = text.find(days[0]).unwrap();
    let last = text.rfind(days[days.len() - 1]).unwrap();
    assert!(first < last, "{text}");
}

#[test]
fn history_of_an_unknown_patron_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 50);
    let out = relance(&config, &["history", "NOBODY"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no patron NOBODY"));
}
