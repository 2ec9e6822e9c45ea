//! `relance sync` against the stand-ins of Alma, Koha and FOLIO: the same
//! store as the equivalent CSV import; a failure mid-pull leaves the store as
//! it was; `[source] recheck` cancels a notice whose loan came back.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use relance_core::ids::{LoanId, PatronId};
use relance_core::model::{Loan, Patron};
use relance_core::ports::LoanStore;
use relance_local::Store;
use relance_tests::standins::{Fault, Fixture, Kind, StandIn};
use relance_tests::{CONFIG, block_on};

use crate::common::{RELANCE, json, ok};

fn relance_with(config: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(RELANCE)
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RELANCE_CONFIG")
        .envs(env.iter().copied())
        .output()
        .expect("the relance binary runs")
}

fn write_config(dir: &Path, extra: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("relance.toml");
    std::fs::write(&path, format!("{CONFIG}\n{extra}")).unwrap();
    path
}

fn fixture() -> Fixture {
    Fixture::sample(60, 250, "2026-11-20")
}

/// Every loan and patron of the fixture as the store at `config` has them.
fn store_of(config: &Path, fixture: &Fixture) -> (Vec<Loan>, Vec<Patron>) {
    let store = Store::open_read_only(&config.parent().unwrap().join("var/relance.db")).unwrap();
    let loan_ids: Vec<LoanId> = fixture
        .loans
        .iter()
        .map(|l| LoanId::parse(&l.id).unwrap())
        .collect();
    let patron_ids: Vec<PatronId> = fixture
        .patrons
        .iter()
        .map(|p| PatronId::parse(&p.id).unwrap())
        .collect();
    let mut loans = block_on(store.loans(&loan_ids)).unwrap();
    let mut patrons = block_on(store.patrons(&patron_ids)).unwrap();
    loans.sort_by(|a, b| a.id.cmp(&b.id));
    patrons.sort_by(|a, b| a.id.cmp(&b.id));
    (loans, patrons)
}

/// The store a CSV import of the fixture makes.
fn imported(dir: &Path, fixture: &Fixture, languages: bool) -> (Vec<Loan>, Vec<Patron>) {
    let config = write_config(dir, "");
    std::fs::write(dir.join("patrons.csv"), fixture.patrons_csv(languages)).unwrap();
    std::fs::write(dir.join("loans.csv"), fixture.loans_csv()).unwrap();
    let patrons = dir.join("patrons.csv");
    let loans = dir.join("loans.csv");
    ok(relance_with(
        &config,
        &[],
        &[
            "import",
            "--patrons",
            patrons.to_str().unwrap(),
            "--loans",
            loans.to_str().unwrap(),
        ],
    ));
    store_of(&config, fixture)
}

fn synced_equals_imported(kind: Kind, languages: bool) -> StandIn {
    let fixture = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let expected = imported(&tmp.path().join("csv"), &fixture, languages);
    let stand_in = StandIn::start(kind, fixture.clone());
    let config = write_config(&tmp.path().join("api"), &stand_in.source_toml(false));
    let out = ok(relance_with(&config, &stand_in.env(), &["sync"]));
    assert!(out.contains("250 open loan(s), 60 patron(s)"), "{out}");
    let synced = store_of(&config, &fixture);
    assert_eq!(synced.0.len(), 250);
    assert_eq!(synced.1.len(), 60);
    assert_eq!(synced.1, expected.1, "patrons");
    for (got, want) in synced.0.iter().zip(&expected.0) {
        assert_eq!(got, want);
    }
    stand_in
}

#[test]
fn sync_from_alma_gives_the_store_the_csv_import_gives() {
    let stand_in = synced_equals_imported(Kind::Alma, true);
    let requests = stand_in.requests();
    let reports: Vec<_> = requests
        .iter()
        .filter(|r| r.target.contains("/analytics/reports"))
        .collect();
    assert_eq!(reports.len(), 3, "three pages of 100 rows");
    assert!(reports[0].target.contains("path=") && reports[0].target.contains("limit=1000"));
    assert!(reports[1].target.contains("token=") && !reports[1].target.contains("path="));
    // The report has no email or language: the Users API gives them, one call a patron.
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.target.starts_with("/almaws/v1/users/"))
            .count(),
        60
    );
    assert!(
        requests.iter().all(|r| !r.target.contains("apikey")),
        "the key travels in a header"
    );
}

#[test]
fn sync_from_koha_gives_the_store_the_csv_import_gives() {
    let stand_in = synced_equals_imported(Kind::Koha, true);
    let pages = stand_in
        .requests()
        .iter()
        .filter(|r| r.target.starts_with("/api/v1/checkouts?"))
        .count();
    assert_eq!(pages, 3);
}

#[test]
fn sync_from_folio_gives_the_store_the_csv_import_gives() {
    // FOLIO users have no language: the CSV's is empty too.
    let stand_in = synced_equals_imported(Kind::Folio, false);
    let requests = stand_in.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.header("x-okapi-tenant") == Some("diku"))
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.target.starts_with("/circulation/loans?"))
            .count(),
        3
    );
}

/// Syncs once, then returns a few loans in the system and fails the next pull
/// with `fault` on page 2: the second sync fails and the store is as the first left it.
fn failed_pull_leaves_the_store_as_it_was(kind: Kind, fault: Fault) -> (Output, StandIn) {
    let fixture = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let stand_in = StandIn::start(kind, fixture.clone());
    let config = write_config(tmp.path(), &stand_in.source_toml(false));
    ok(relance_with(&config, &stand_in.env(), &["sync"]));
    let before = store_of(&config, &fixture);
    for loan in &fixture.loans[..5] {
        stand_in.return_loan(&loan.id, "2026-11-19T10:00:00+01:00");
    }
    stand_in.fail_page(2, fault);
    let out = relance_with(&config, &stand_in.env(), &["sync"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stderr.contains("nothing imported, the store is unchanged"),
        "{stderr}"
    );
    assert_eq!(store_of(&config, &fixture), before);
    (out, stand_in)
}

#[test]
fn an_alma_quota_spent_mid_pull_stops_at_once_and_changes_nothing() {
    let (out, stand_in) =
        failed_pull_leaves_the_store_as_it_was(Kind::Alma, Fault::TooManyRequests);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("daily call quota is spent"), "{stderr}");
    assert!(
        !stderr.contains(super::hostile_secret()),
        "no key in errors"
    );
    let token_calls = stand_in
        .requests()
        .iter()
        .filter(|r| r.target.contains("token="))
        .count();
    assert_eq!(
        token_calls, 3,
        "pages 2 and 3 of the first sync, page 2 once in the second: a spent quota is not retried"
    );
}

#[test]
fn a_koha_500_mid_pull_changes_nothing() {
    let (out, _) = failed_pull_leaves_the_store_as_it_was(Kind::Koha, Fault::ServerError);
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 500"));
}

#[test]
fn a_malformed_folio_page_changes_nothing() {
    let (out, _) = failed_pull_leaves_the_store_as_it_was(Kind::Folio, Fault::Malformed);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected answer"));
}

#[test]
fn a_500_once_is_retried_and_the_pull_completes() {
    let stand_in = StandIn::start(Kind::Koha, fixture());
    stand_in.fail_page(2, Fault::ServerErrorOnce);
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), &stand_in.source_toml(false));
    let out = ok(relance_with(&config, &stand_in.env(), &["sync"]));
    assert!(out.contains("250 open loan(s)"), "{out}");
}

#[test]
fn recheck_cancels_a_reminder_whose_loans_the_system_says_are_returned() {
    let fixture = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let stand_in = StandIn::start(Kind::Koha, fixture.clone());
    let config = write_config(tmp.path(), &stand_in.source_toml(true));
    ok(relance_with(&config, &stand_in.env(), &["sync"]));
    // Patron 1021's loans due on 20 November (50021, 50141) reach the first
    // reminder on the 27th; the library system has them back since the pull.
    stand_in.return_loan("50021", "2026-11-25T10:00:00+01:00");
    stand_in.return_loan("50141", "2026-11-25T10:00:00+01:00");
    let out = ok(relance_with(
        &config,
        &stand_in.env(),
        &["run", "--date", "2026-11-27", "--json", "--force"],
    ));
    let summary = json(&out);
    assert_eq!(summary["cancelled"], 1, "{summary}");
    assert!(summary["emails_sent"].as_u64().unwrap() > 0);
    let mail = tmp.path().join("var/outbox/2026-11-27/mail");
    assert!(!mail.join("first_reminder-1021.eml").exists());
    let asked: Vec<String> = stand_in
        .requests()
        .iter()
        .filter_map(|r| {
            r.target
                .strip_prefix("/api/v1/checkouts/")
                .map(str::to_owned)
        })
        .collect();
    assert!(asked.contains(&"50021".to_owned()) && asked.contains(&"50141".to_owned()));
    let (loans, _) = store_of(&config, &fixture);
    let returned: Vec<_> = loans
        .iter()
        .filter(|l| !l.is_open())
        .map(|l| l.id.as_str())
        .collect();
    assert_eq!(returned, ["50021", "50141"], "the returns are recorded");
}
