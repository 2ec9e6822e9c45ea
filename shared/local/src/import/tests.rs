use chrono::{TimeZone, Utc};
use relance_core::config::Config;
use relance_core::import::{CsvInput, ImportError, ImportOptions, ImportSummary};
use tempfile::TempDir;

use super::*;

mod hostile;
mod snapshot;

const CONFIG: &str = include_str!("../../../testkit/src/institution.toml");

const PATRONS_HEADER: &str = "patron_id,full_name,email,address_line1,address_line2,postcode,city,country,language,courtesy_opt_out\n";
const LOANS_HEADER: &str = "loan_id,patron_id,library_code,barcode,title,author,call_number,loaned_at,due_at,returned_at\n";

const PATRONS: &str = "P1,Zoë Martin,zoe@example.fr,12 rue Sainte-Catherine,,33000,Bordeaux,,fr,no\n\
                       P2,Łukasz Nowak,lukasz@example.fr,3 cours Pasteur,,33000,Bordeaux,,en,yes\n";

fn loans_csv(rows: &[&str]) -> String {
    let mut text = LOANS_HEADER.to_owned();
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text
}

fn loan(id: &str, patron: &str, due: &str) -> String {
    format!("{id},{patron},STS,33001{id},Les Misérables,Victor Hugo,843.7 HUG,,{due},")
}

struct Fixture {
    store: Store,
    config: Config,
    dir: TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            store: Store::in_memory().unwrap(),
            config: Config::parse(CONFIG).unwrap(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn options(&self) -> ImportOptions {
        ImportOptions {
            snapshot: false,
            force: false,
            strict: false,
            now: Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
        }
    }

    fn import(
        &self,
        patrons: Option<&str>,
        loans: Option<&str>,
        options: &ImportOptions,
    ) -> Result<ImportSummary, ImportError> {
        let patrons_text = patrons.map(|body| format!("{PATRONS_HEADER}{body}"));
        let mut patrons_bytes = patrons_text.as_deref().map(str::as_bytes);
        let mut loans_bytes = loans.map(str::as_bytes);
        let patrons = patrons_bytes.as_mut().map(|reader| CsvInput {
            name: "patrons.csv",
            reader,
        });
        let loans = loans_bytes.as_mut().map(|reader| CsvInput {
            name: "loans.csv",
            reader,
        });
        self.store.import(
            &self.config,
            patrons,
            loans,
            options,
            &self.dir.path().join("imports/rejects.csv"),
            &mut |_| {},
        )
    }

    fn count(&self, sql: &str) -> i64 {
        self.store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn text(&self, sql: &str) -> Option<String> {
        self.store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn rejects(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("imports/rejects.csv")).unwrap()
    }

    /// Imports the two patrons and `n` open loans L1…Ln of P1.
    fn seed_loans(&self, n: usize) {
        let rows: Vec<String> = (1..=n)
            .map(|i| loan(&format!("L{i}"), "P1", "2026-11-29"))
            .collect();
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let summary = self
            .import(Some(PATRONS), Some(&loans_csv(&rows)), &self.options())
            .unwrap();
        assert_eq!(summary.loans_inserted, n as u64);
    }
}

#[test]
fn a_clean_import_inserts_everything_and_records_its_summary() {
    let fx = Fixture::new();
    let loans = loans_csv(&[
        &loan("L1", "P1", "2026-11-29"),
        "L2,P2,LSH,33002,Pedro Páramo,Juan Rulfo,,2026-10-01T10:00:00+02:00,2026-11-30T23:30:00Z,",
    ]);
    let summary = fx
        .import(Some(PATRONS), Some(&loans), &fx.options())
        .unwrap();
    assert_eq!((summary.patrons_inserted, summary.loans_inserted), (2, 2));
    assert_eq!((summary.rejected, summary.warnings), (0, 0));
    assert!(summary.committed);
    assert_eq!(summary.rejects_file, None);
    assert!(!fx.dir.path().join("imports/rejects.csv").exists());
    // 23:30 UTC on 30 November is 1 December in Paris.
    assert_eq!(
        fx.text("SELECT due_date FROM loans WHERE loan_id = 'L2'")
            .unwrap(),
        "2026-12-01"
    );
    assert_eq!(
        fx.text("SELECT language FROM patrons WHERE patron_id = 'P2'")
            .unwrap(),
        "en"
    );
    assert_eq!(
        fx.count("SELECT courtesy_opt_out FROM patrons WHERE patron_id = 'P2'"),
        1
    );
    let stored = fx.text("SELECT summary FROM imports").unwrap();
    let stored: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored["loans_inserted"], 2);
    assert_eq!(stored["batch"], summary.batch);
}

#[test]
fn a_second_import_updates_existing_rows() {
    let fx = Fixture::new();
    fx.seed_loans(3);
    let patrons =
        "P1,Zoë Martin-Dupont,zoe@example.fr,4 place de la Victoire,,33000,Bordeaux,,fr,yes\n";
    // L1 keeps its keys (updated in place), L2 is renewed and L3 moves to P2
    // (both rewrite the indexes), in an order that switches between the two ways.
    let loans = loans_csv(&[
        "L1,P1,LSH,33001L1,Les Misérables (édition de poche),Victor Hugo,843.7 HUG,,2026-11-29,",
        &loan("L2", "P1", "2026-12-20"),
        &loan("L3", "P2", "2026-11-29"),
    ]);
    let summary = fx
        .import(Some(patrons), Some(&loans), &fx.options())
        .unwrap();
    assert_eq!((summary.patrons_updated, summary.patrons_inserted), (1, 0));
    assert_eq!((summary.loans_updated, summary.loans_inserted), (3, 0));
    let text = |sql| fx.text(sql).unwrap();
    assert_eq!(
        text("SELECT full_name FROM patrons WHERE patron_id = 'P1'"),
        "Zoë Martin-Dupont"
    );
    assert_eq!(
        fx.count("SELECT courtesy_opt_out FROM patrons WHERE patron_id = 'P1'"),
        1
    );
    assert_eq!(
        text("SELECT title || ' @' || library_code FROM loans WHERE loan_id = 'L1'"),
        "Les Misérables (édition de poche) @LSH"
    );
    assert_eq!(
        text("SELECT due_date FROM loans WHERE loan_id = 'L2'"),
        "2026-12-20"
    );
    assert_eq!(
        text("SELECT patron_id FROM loans WHERE loan_id = 'L3'"),
        "P2"
    );
    // The partial indexes the planner reads agree with the rows.
    assert_eq!(
        fx.count("SELECT COUNT(*) FROM loans INDEXED BY loans_open_by_due_date WHERE due_date = '2026-11-29' AND returned_at IS NULL"),
        2
    );
    assert_eq!(
        fx.count("SELECT COUNT(*) FROM loans INDEXED BY loans_open_by_patron WHERE patron_id = 'P2' AND returned_at IS NULL"),
        1
    );
    assert_eq!(fx.count("SELECT COUNT(*) FROM patrons"), 2);
}

#[test]
fn the_email_status_learnt_from_bounces_survives_a_reimport_of_the_same_address() {
    let fx = Fixture::new();
    fx.seed_loans(0);
    fx.store
        .conn()
        .execute("UPDATE patrons SET email_status = 'bouncing'", [])
        .unwrap();
    fx.import(Some(PATRONS), None, &fx.options()).unwrap();
    let status = |id| {
        fx.text(&format!(
            "SELECT email_status FROM patrons WHERE patron_id = '{id}'"
        ))
        .unwrap()
    };
    assert_eq!(status("P1"), "bouncing");
    // A new address deserves a new chance.
    let changed =
        "P1,Zoë Martin,zoe.martin@example.fr,12 rue Sainte-Catherine,,33000,Bordeaux,,fr,no\n";
    fx.import(Some(changed), None, &fx.options()).unwrap();
    assert_eq!(status("P1"), "deliverable");
    assert_eq!(status("P2"), "bouncing");
}

#[test]
fn the_rejects_file_names_the_line_field_and_reason_of_each_problem() {
    let fx = Fixture::new();
    let patrons = "P1,Zoë Martin,zoe@@example,12 rue Sainte-Catherine,,33000,Bordeaux,,fr,no\n\
                   P2,Łukasz Nowak,,3 cours Pasteur,,33000,Bordeaux,,de,no\n";
    let loans = loans_csv(&[
        &loan("L1", "P1", "2026-11-29"),
        &loan("L2", "P1", "29.11.2026"),
    ]);
    let summary = fx
        .import(Some(patrons), Some(&loans), &fx.options())
        .unwrap();
    assert_eq!((summary.patrons_inserted, summary.loans_inserted), (1, 1));
    assert_eq!((summary.rejected, summary.warnings), (2, 1));
    assert_eq!(
        summary.rejects_file.as_deref(),
        Some(fx.dir.path().join("imports/rejects.csv").as_path())
    );
    let lines: Vec<String> = fx.rejects().lines().map(str::to_owned).collect();
    assert_eq!(lines[0], "file,line,record_id,field,reason,outcome");
    assert!(
        lines[1].starts_with("patrons.csv,2,P1,email,\"malformed"),
        "{}",
        lines[1]
    );
    assert!(lines[1].ends_with(",imported"), "{}", lines[1]);
    assert!(
        lines[2].starts_with("patrons.csv,3,P2,language,"),
        "{}",
        lines[2]
    );
    assert!(lines[2].ends_with(",rejected"), "{}", lines[2]);
    assert!(
        lines[3].starts_with("loans.csv,3,L2,due_at,"),
        "{}",
        lines[3]
    );
    assert_eq!(lines.len(), 4);
    assert!(
        !fx.rejects().contains("zoe@@example"),
        "no email address in the report"
    );
}

#[test]
fn a_duplicate_id_in_one_file_rejects_the_second_occurrence() {
    let fx = Fixture::new();
    let patrons = format!("{PATRONS}P1,Zoë Autre,,1 rue X,,33000,Bordeaux,,,\n");
    let loans = loans_csv(&[
        &loan("L1", "P1", "2026-11-29"),
        &loan("L2", "P1", "2026-11-29"),
        &loan("L1", "P2", "2026-12-24"),
    ]);
    let summary = fx
        .import(Some(&patrons), Some(&loans), &fx.options())
        .unwrap();
    assert_eq!((summary.patrons_inserted, summary.loans_inserted), (2, 2));
    assert_eq!(summary.rejected, 2);
    assert_eq!(
        fx.text("SELECT full_name FROM patrons WHERE patron_id = 'P1'")
            .unwrap(),
        "Zoë Martin"
    );
    assert_eq!(
        fx.text("SELECT patron_id FROM loans WHERE loan_id = 'L1'")
            .unwrap(),
        "P1"
    );
    let report = fx.rejects();
    assert!(
        report.contains("patrons.csv,4,P1,patron_id,appears again in this file (first on line 2)"),
        "{report}"
    );
    assert!(
        report.contains("loans.csv,4,L1,loan_id,appears earlier in this file"),
        "{report}"
    );
    // The next import is a new batch: the same ids update, they are not duplicates.
    let again = fx
        .import(
            Some(PATRONS),
            Some(&loans_csv(&[&loan("L1", "P1", "2026-11-29")])),
            &fx.options(),
        )
        .unwrap();
    assert_eq!(
        (again.rejected, again.loans_updated, again.patrons_updated),
        (0, 1, 2)
    );
}

#[test]
fn a_loan_of_an_unknown_patron_is_rejected() {
    let fx = Fixture::new();
    let patrons = "P1,Zoë Martin,,12 rue Sainte-Catherine,,33000,Bordeaux,,fr,peut-être\n";
    let loans = loans_csv(&[
        &loan("L1", "P9", "2026-11-29"),
        &loan("L2", "P1", "2026-11-29"),
    ]);
    let summary = fx
        .import(Some(patrons), Some(&loans), &fx.options())
        .unwrap();
    assert_eq!(summary.rejected, 3, "the bad patron and both loans");
    assert_eq!(fx.count("SELECT COUNT(*) FROM loans"), 0);
    let report = fx.rejects();
    assert!(
        report.contains("loans.csv,2,L1,patron_id,unknown patron P9"),
        "{report}"
    );
    assert!(
        report.contains("loans.csv,3,L2,patron_id,unknown patron P1"),
        "{report}"
    );
}

#[test]
fn a_returned_at_in_the_file_closes_the_loan() {
    let fx = Fixture::new();
    fx.seed_loans(2);
    let returned = loans_csv(&[
        "L1,P1,STS,33001L1,Les Misérables,Victor Hugo,843.7 HUG,,2026-11-29,2026-11-18T16:05:00+01:00",
    ]);
    fx.import(None, Some(&returned), &fx.options()).unwrap();
    assert_eq!(
        fx.text("SELECT returned_at FROM loans WHERE loan_id = 'L1'")
            .unwrap(),
        "2026-11-18T15:05:00Z"
    );
    assert_eq!(
        fx.count("SELECT COUNT(*) FROM loans WHERE returned_at IS NULL"),
        1
    );
}

#[test]
fn a_first_import_leaves_every_index_in_place_whether_kept_or_rolled_back() {
    let indexes = |fx: &Fixture| {
        fx.count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('loans', 'patrons') AND sql IS NOT NULL")
    };
    let fx = Fixture::new();
    let before = indexes(&fx);
    assert_eq!(before, 3, "two on loans, one on patrons");

    // Strict with a bad row: nothing is kept, and the indexes dropped for the
    // bulk load come back with the rollback.
    let strict = ImportOptions {
        strict: true,
        ..fx.options()
    };
    let loans = loans_csv(&[
        &loan("L1", "P1", "2026-11-29"),
        &loan("L2", "P9", "2026-11-29"),
    ]);
    let summary = fx.import(Some(PATRONS), Some(&loans), &strict).unwrap();
    assert!(!summary.committed);
    assert_eq!(fx.count("SELECT COUNT(*) FROM loans"), 0);
    assert_eq!(indexes(&fx), before);

    let summary = fx
        .import(Some(PATRONS), Some(&loans), &fx.options())
        .unwrap();
    assert_eq!(summary.loans_inserted, 1);
    assert_eq!(indexes(&fx), before);
    assert_eq!(
        fx.count("SELECT COUNT(*) FROM loans INDEXED BY loans_open_by_patron WHERE patron_id = 'P1' AND returned_at IS NULL"),
        1
    );
    assert_eq!(
        fx.count("SELECT COUNT(*) FROM patrons INDEXED BY patrons_by_email WHERE lower(email) = 'zoe@example.fr' AND email IS NOT NULL"),
        1
    );
}
