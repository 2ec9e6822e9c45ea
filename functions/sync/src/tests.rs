use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::TimeZone;
use relance_core::config::source::System;
use relance_core::ids::{LoanId, PatronId};
use relance_core::model::{Loan, Patron};
use relance_core::ports::StoreError;
use relance_sources::Table;

use super::*;

/// What the in-memory table holds: open loans by id, patrons by id.
#[derive(Default)]
struct MemoryStore {
    open: Mutex<HashMap<LoanId, Loan>>,
    patrons: Mutex<HashMap<PatronId, Patron>>,
    commits: Mutex<u32>,
}

struct MemorySink<'a> {
    store: &'a MemoryStore,
    loans: Vec<Loan>,
    patrons: Vec<Patron>,
    closed: Vec<LoanId>,
}

impl ImportSink for MemorySink<'_> {
    fn batch(&self) -> i64 {
        1
    }

    async fn known_patrons(&mut self, ids: &[PatronId]) -> Result<HashSet<PatronId>, StoreError> {
        let patrons = self.store.patrons.lock().unwrap();
        Ok(ids
            .iter()
            .filter(|id| patrons.contains_key(*id))
            .cloned()
            .collect())
    }

    async fn upsert_patrons(&mut self, patrons: &[Patron]) -> Result<u64, StoreError> {
        self.patrons.extend_from_slice(patrons);
        Ok(patrons.len() as u64)
    }

    async fn upsert_loans(&mut self, loans: &[Loan]) -> Result<u64, StoreError> {
        self.loans.extend_from_slice(loans);
        Ok(loans.len() as u64)
    }

    async fn open_loan_ids(&mut self) -> Result<HashSet<LoanId>, StoreError> {
        Ok(self.store.open.lock().unwrap().keys().cloned().collect())
    }

    async fn close_loans(&mut self, ids: &[LoanId], _at: DateTime<Utc>) -> Result<u64, StoreError> {
        self.closed.extend_from_slice(ids);
        Ok(ids.len() as u64)
    }

    async fn commit(self, _summary: &ImportSummary) -> Result<(), StoreError> {
        let mut open = self.store.open.lock().unwrap();
        for id in &self.closed {
            open.remove(id);
        }
        for loan in self.loans {
            open.insert(loan.id.clone(), loan);
        }
        let mut patrons = self.store.patrons.lock().unwrap();
        for patron in self.patrons {
            patrons.insert(patron.id.clone(), patron);
        }
        *self.store.commits.lock().unwrap() += 1;
        Ok(())
    }
}

impl Snapshots for MemoryStore {
    type Sink<'a> = MemorySink<'a>;

    fn sink<'a>(&'a self, _options: &ImportOptions) -> MemorySink<'a> {
        MemorySink {
            store: self,
            loans: Vec::new(),
            patrons: Vec::new(),
            closed: Vec::new(),
        }
    }
}

/// The rejects reports kept, by key.
#[derive(Default)]
struct Shelf {
    kept: Mutex<Vec<(String, Vec<u8>)>>,
}

impl Rejects for Shelf {
    async fn keep(
        &self,
        stem: &str,
        report: &[u8],
        _now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let key = format!("imports/rejects/{stem}.csv");
        self.kept
            .lock()
            .unwrap()
            .push((key.clone(), report.to_vec()));
        Ok(key)
    }
}

/// A library system that answers with these loans (Koha's field names), or fails.
struct FakeKoha {
    loans: Vec<(&'static str, &'static str)>,
    fails: bool,
}

impl Pull for FakeKoha {
    fn system(&self) -> &'static str {
        "koha"
    }

    fn calls(&self) -> u32 {
        3
    }

    async fn pull(&self) -> Result<Pulled, SourceError> {
        if self.fails {
            return Err(SourceError::Unavailable {
                what: "GET /api/v1/checkouts?_page=2".to_owned(),
                status: Some(500),
                attempts: 3,
                source: None,
            });
        }
        let mut loans = Table::new([
            "checkout_id",
            "patron_id",
            "library_id",
            "external_id",
            "title",
            "checkout_date",
            "due_date",
        ]);
        let mut patrons = Table::new([
            "patron_id",
            "firstname",
            "surname",
            "email",
            "address",
            "postal_code",
            "city",
        ]);
        let mut seen = HashSet::new();
        for (loan, patron) in &self.loans {
            loans.rows.push(
                [
                    *loan,
                    *patron,
                    "STS",
                    "B1",
                    "Titre",
                    "2026-11-01",
                    "2026-11-20",
                ]
                .map(str::to_owned)
                .to_vec(),
            );
            if seen.insert(*patron) {
                patrons.rows.push(
                    [
                        *patron,
                        "Camille",
                        "Martin",
                        "camille@example.org",
                        "1 rue Sainte-Catherine",
                        "33000",
                        "Bordeaux",
                    ]
                    .map(str::to_owned)
                    .to_vec(),
                );
            }
        }
        Ok(Pulled {
            system: System::Koha,
            loans,
            patrons,
            pages: 1,
            calls: 3,
            quota_left: None,
        })
    }
}

fn config() -> Config {
    Config::parse(&format!(
        "{}\n[source]\nsystem = \"koha\"\nbase_url = \"http://127.0.0.1:9\"\nclient_id = \"relance\"\n\
         client_secret_secret = \"arn:aws:secretsmanager:eu-west-3:123456789012:secret:koha\"\n",
        relance_testkit::CONFIG
    ))
    .expect("config")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap()
}

type TestSync = SourceSync<FakeKoha, MemoryStore, Shelf>;

fn sync(loans: Vec<(&'static str, &'static str)>, fails: bool) -> TestSync {
    SourceSync::with_ports(
        config(),
        FakeKoha { loans, fails },
        Arc::new(MemoryStore::default()),
        Shelf::default(),
    )
}

fn open_ids(sync: &TestSync) -> Vec<String> {
    let mut ids: Vec<String> = sync
        .store
        .open
        .lock()
        .unwrap()
        .keys()
        .map(|id| id.as_str().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_pull_is_imported_as_a_snapshot_and_counted() {
    let sync = sync(vec![("1", "P1"), ("2", "P1"), ("3", "P2")], false);
    let out = sync.handle(SyncEvent::default(), now()).await.unwrap();
    assert_eq!(
        (out.system, out.loans, out.patrons, out.calls),
        ("koha", 3, 2, 3)
    );
    let imported = out.imported.expect("imported");
    assert_eq!(
        (
            imported.loans_inserted,
            imported.patrons_inserted,
            imported.rejected
        ),
        (3, 2, 0)
    );
    assert_eq!(open_ids(&sync), ["1", "2", "3"]);
    assert!(out.rejects_key.is_none());
    assert!(sync.rejects.kept.lock().unwrap().is_empty());
}

#[tokio::test]
async fn rejected_rows_are_reported_in_the_bucket_and_the_rest_imported() {
    let sync = sync(vec![("1", "P1"), ("", "P1"), ("3", "P2")], false);
    let out = sync.handle(SyncEvent::default(), now()).await.unwrap();
    assert_eq!(out.imported.as_ref().unwrap().rejected, 1);
    assert_eq!(open_ids(&sync), ["1", "3"]);
    let kept = sync.rejects.kept.lock().unwrap();
    assert_eq!(
        out.rejects_key.as_deref(),
        Some("imports/rejects/koha-sync.csv")
    );
    assert_eq!(kept.len(), 1);
    let report = String::from_utf8(kept[0].1.clone()).unwrap();
    // The file and line of the pulled table, the field and the reason.
    assert!(report.contains("koha loans"), "{report}");
    assert!(report.contains("loan_id"), "{report}");
}

#[tokio::test]
async fn loans_the_pull_no_longer_lists_are_closed() {
    let sync = sync(
        (1..=10)
            .map(|i| {
                (
                    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"][i - 1],
                    "P1",
                )
            })
            .collect(),
        false,
    );
    sync.handle(SyncEvent::default(), now()).await.unwrap();
    let mut fewer = sync;
    fewer.source.loans.retain(|(id, _)| *id != "10");
    let out = fewer.handle(SyncEvent::default(), now()).await.unwrap();
    assert_eq!(out.imported.unwrap().closed_by_snapshot, 1);
    assert!(!open_ids(&fewer).contains(&"10".to_owned()));
}

#[tokio::test]
async fn a_failed_pull_imports_nothing_and_fails_the_invocation() {
    let sync = sync(vec![("1", "P1")], true);
    let err = sync.handle(SyncEvent::default(), now()).await.unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("pull from koha failed after 3 call(s)"),
        "{text}"
    );
    assert!(text.contains("HTTP 500"), "{text}");
    assert_eq!(*sync.store.commits.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_pull_closing_more_than_a_fifth_is_refused_never_forced() {
    let mut sync = sync(
        vec![("1", "P1"), ("2", "P1"), ("3", "P1"), ("4", "P1")],
        false,
    );
    sync.handle(SyncEvent::default(), now()).await.unwrap();
    sync.source.loans.truncate(2);
    let err = sync.handle(SyncEvent::default(), now()).await.unwrap_err();
    assert!(format!("{err:#}").contains("never forces"), "{err:#}");
    assert_eq!(open_ids(&sync), ["1", "2", "3", "4"]);
    assert_eq!(*sync.store.commits.lock().unwrap(), 1);
}

#[tokio::test]
async fn a_dry_run_pulls_and_imports_nothing() {
    let event: SyncEvent = serde_json::from_str(include_str!("../events/dry-run.json")).unwrap();
    let sync = sync(vec![("1", "P1")], false);
    let out = sync.handle(event, now()).await.unwrap();
    assert_eq!(out.loans, 1);
    assert!(out.imported.is_none());
    assert!(open_ids(&sync).is_empty());
}

#[test]
fn the_console_events_parse() {
    let scheduled: SyncEvent =
        serde_json::from_str(include_str!("../events/scheduled.json")).unwrap();
    assert_eq!(scheduled.scheduled_time, Some(now()));
    assert!(!scheduled.dry_run);
    let plain: SyncEvent = serde_json::from_str(include_str!("../events/now.json")).unwrap();
    assert!(plain.scheduled_time.is_none() && !plain.dry_run);
}

#[test]
fn a_config_without_source_is_refused_at_start_saying_so() {
    let config = Config::parse(relance_testkit::CONFIG).unwrap();
    let err = source_settings(&config).unwrap_err();
    assert!(err.to_string().contains("no [source]"), "{err}");
}
