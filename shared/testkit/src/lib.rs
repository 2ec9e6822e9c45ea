//! The test kit: the institution of the tests, patron and loan rows, and a
//! [`TestEnv`] — a fresh store, outbox and config in a temporary folder per test
//! (zero-to-production's `spawn_app` pattern). Used by the end-to-end suites
//! and by the functions' unit tests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use relance_core::config::Config;
use relance_core::email::Templates;
use relance_core::import::{CsvInput, ImportOptions};
use relance_core::ports::{MailTransport, StoreError};
use relance_core::service::{Engine, RunError};
use relance_core::summary::RunSummary;
pub use relance_local::{Outbox, Store};

/// The institution of the tests: three libraries (STS, DRT, LSH), the standard
/// ladder, Europe/Paris. The core's own unit tests read the same file.
pub const CONFIG: &str = include_str!("institution.toml");

/// The header of patrons.csv.
pub const PATRONS_HEADER: &str = "patron_id,full_name,email,address_line1,address_line2,postcode,city,country,language,courtesy_opt_out";
/// The header of loans.csv.
pub const LOANS_HEADER: &str =
    "loan_id,patron_id,library_code,barcode,title,author,call_number,loaned_at,due_at,returned_at";

/// A patron row: id, name, email (may be empty), opted out of courtesy.
pub fn patron_row(id: &str, name: &str, email: &str, opt_out: bool) -> String {
    format!("{id},\"{name}\",{email},12 rue Sainte-Catherine,,33000,Bordeaux,,fr,{opt_out}")
}

/// A loan row due at the end of `due` (plain date), open unless `returned` is given.
pub fn loan_row(
    id: &str,
    patron: &str,
    library: &str,
    due: NaiveDate,
    returned: Option<&str>,
) -> String {
    format!(
        "{id},{patron},{library},B{id},\"Titre {id}\",Auteur,CN {id},2026-01-01T10:00:00+01:00,{due},{}",
        returned.unwrap_or_default()
    )
}

/// Parses `YYYY-MM-DD`.
pub fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test date")
}

/// One isolated Relance: config, store and outbox in a temporary folder.
pub struct TestEnv {
    /// The validated config.
    pub config: Config,
    /// The shipped templates.
    pub templates: Templates,
    /// The SQLite store (shared: a function's handler under test holds it too).
    pub store: Arc<Store>,
    pub outbox: Outbox,
    dir: tempfile::TempDir,
}

impl TestEnv {
    /// A fresh environment with [`CONFIG`].
    pub fn new() -> Self {
        Self::with_config(CONFIG)
    }

    /// A fresh environment with that config.
    pub fn with_config(text: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config::parse(text).expect("valid test config");
        let store = Arc::new(Store::open(&dir.path().join("relance.db")).expect("store"));
        let outbox = Outbox::new(dir.path().join("outbox"));
        Self {
            config,
            templates: Templates::shipped(),
            store,
            outbox,
            dir,
        }
    }

    /// The temporary folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Imports CSV bodies (header rows are added); panics on any rejected row.
    pub fn import(&self, patrons: &[String], loans: &[String]) {
        let patrons = format!("{PATRONS_HEADER}\n{}\n", patrons.join("\n"));
        let loans = format!("{LOANS_HEADER}\n{}\n", loans.join("\n"));
        let options = ImportOptions {
            snapshot: false,
            force: false,
            strict: false,
            now: self.now(day("2026-01-01")),
        };
        let summary = self
            .store
            .import(
                &self.config,
                Some(CsvInput {
                    name: "patrons.csv",
                    reader: &mut patrons.as_bytes(),
                }),
                Some(CsvInput {
                    name: "loans.csv",
                    reader: &mut loans.as_bytes(),
                }),
                &options,
                &self.path().join("rejects.csv"),
                &mut |_| {},
            )
            .expect("import");
        assert_eq!(
            summary.rejected, 0,
            "test data must import cleanly: {summary:?}"
        );
    }

    /// 08:00 in Paris on `day`, as a scheduled run would start.
    pub fn now(&self, day: NaiveDate) -> DateTime<Utc> {
        chrono_tz::Europe::Paris
            .from_local_datetime(&day.and_hms_opt(8, 0, 0).expect("time"))
            .single()
            .expect("unambiguous 08:00")
            .with_timezone(&Utc)
    }

    /// Runs `day` with the outbox as transport.
    pub fn run(&self, day: NaiveDate) -> RunSummary {
        self.run_with(day, &self.outbox).expect("run")
    }

    /// Runs `day` with another transport.
    pub fn run_with<T: MailTransport>(
        &self,
        day: NaiveDate,
        transport: &T,
    ) -> Result<RunSummary, RunError> {
        let engine = Engine {
            config: &self.config,
            templates: &self.templates,
            store: &*self.store,
            ledger: &*self.store,
            transport,
            archive: &self.outbox,
        };
        block_on(engine.run(day, false, self.now(day)))
    }

    /// The engine over the outbox, for steps finer than a run.
    pub fn engine(&self) -> Engine<'_, Store, Store, Outbox, Outbox> {
        Engine {
            config: &self.config,
            templates: &self.templates,
            store: &*self.store,
            ledger: &*self.store,
            transport: &self.outbox,
            archive: &self.outbox,
        }
    }

    /// The files of a library's letters for `day`, sorted by name.
    pub fn letter_files(&self, day: NaiveDate, library: &str) -> Vec<PathBuf> {
        let code = relance_core::ids::LibraryCode::parse(library).expect("library code");
        let mut files: Vec<_> = std::fs::read_dir(self.outbox.letters_dir(day, &code))
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files
    }

    /// The `.eml` files written for `day`, sorted by name.
    pub fn mail_files(&self, day: NaiveDate) -> Vec<PathBuf> {
        let dir = self.outbox.mail_dir(day);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        files.sort();
        files
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs a future to completion on a fresh current-thread runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// Maps the store error of a helper to a panic message.
pub fn ok<T>(result: Result<T, StoreError>) -> T {
    result.expect("store")
}

/// The library system as the send-time check asks it (rules §15), in memory:
/// the loans it says came back, or down; it counts the calls it was asked.
#[derive(Debug, Default)]
pub struct LibrarySystem {
    returned: std::collections::HashMap<String, DateTime<Utc>>,
    down: bool,
    calls: std::sync::atomic::AtomicU32,
}

impl LibrarySystem {
    /// A system that says these loans came back at `at`, and the others are out.
    pub fn returned(loans: &[&str], at: DateTime<Utc>) -> Self {
        Self {
            returned: loans.iter().map(|id| ((*id).to_owned(), at)).collect(),
            ..Self::default()
        }
    }

    /// A system that answers nothing (an HTTP 503).
    pub fn down() -> Self {
        Self {
            down: true,
            ..Self::default()
        }
    }

    /// The calls it was asked.
    pub fn calls(&self) -> u32 {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl relance_core::ports::LoanSystem for LibrarySystem {
    async fn loan_state(
        &self,
        loan: &relance_core::model::Loan,
    ) -> Result<relance_core::ports::LoanState, StoreError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if self.down {
            return Err(StoreError::unavailable("HTTP 503 from the library system"));
        }
        Ok(match self.returned.get(loan.id.as_str()) {
            Some(at) => relance_core::ports::LoanState::Returned { at: Some(*at) },
            None => relance_core::ports::LoanState::Open,
        })
    }
}
