//! Snapshots, strict mode, header errors and progress: the imports that must
//! change nothing or report exactly.

use super::*;

#[test]
fn a_snapshot_closes_the_open_loans_it_does_not_list() {
    let fx = Fixture::new();
    fx.seed_loans(10);
    let listed: Vec<String> = (1..=8)
        .map(|i| loan(&format!("L{i}"), "P1", "2026-11-29"))
        .collect();
    let mut rows: Vec<&str> = listed.iter().map(String::as_str).collect();
    // L9 is listed but unreadable: a bad row must not close its loan.
    let bad = loan("L9", "P1", "not a date");
    rows.push(&bad);
    let options = ImportOptions {
        snapshot: true,
        ..fx.options()
    };
    let summary = fx.import(None, Some(&loans_csv(&rows)), &options).unwrap();
    assert_eq!((summary.closed_by_snapshot, summary.rejected), (1, 1));
    assert_eq!(
        fx.text("SELECT returned_at FROM loans WHERE loan_id = 'L10'")
            .unwrap(),
        "2026-11-20T09:00:00Z"
    );
    assert_eq!(
        fx.text("SELECT returned_at FROM loans WHERE loan_id = 'L9'"),
        None
    );
    assert_eq!(
        fx.count("SELECT COUNT(*) FROM loans WHERE returned_at IS NULL"),
        9
    );
}

#[test]
fn a_snapshot_closing_more_than_a_fifth_is_refused_and_changes_nothing() {
    let fx = Fixture::new();
    fx.seed_loans(10);
    let before = (
        fx.count("SELECT COUNT(*) FROM loans WHERE returned_at IS NULL"),
        fx.count("SELECT COUNT(*) FROM patrons"),
        fx.count("SELECT COUNT(*) FROM imports"),
        fx.count("SELECT MAX(import_batch) FROM loans"),
    );
    let listed: Vec<String> = (1..=7)
        .map(|i| loan(&format!("L{i}"), "P1", "2027-01-15"))
        .chain([loan("L99", "P3", "2027-01-15")])
        .collect();
    let rows: Vec<&str> = listed.iter().map(String::as_str).collect();
    let patrons = "P3,Nguyễn Thị Lan,lan@example.fr,5 rue Judaïque,,33000,Bordeaux,,,\n";
    let options = ImportOptions {
        snapshot: true,
        ..fx.options()
    };
    let err = fx
        .import(Some(patrons), Some(&loans_csv(&rows)), &options)
        .unwrap_err();
    match err {
        ImportError::SnapshotRefused(refused) => {
            assert_eq!((refused.open_before, refused.would_close), (10, 3));
        }
        other => panic!("unexpected {other}"),
    }
    let after = (
        fx.count("SELECT COUNT(*) FROM loans WHERE returned_at IS NULL"),
        fx.count("SELECT COUNT(*) FROM patrons"),
        fx.count("SELECT COUNT(*) FROM imports"),
        fx.count("SELECT MAX(import_batch) FROM loans"),
    );
    assert_eq!(before, after);
    assert_eq!(
        fx.count("SELECT COUNT(*) FROM loans WHERE due_date = '2027-01-15'"),
        0
    );
    // Forced, the same snapshot goes through.
    let forced = ImportOptions {
        force: true,
        ..options
    };
    let summary = fx
        .import(Some(patrons), Some(&loans_csv(&rows)), &forced)
        .unwrap();
    assert_eq!((summary.closed_by_snapshot, summary.loans_inserted), (3, 1));
}

#[test]
fn a_strict_import_with_one_bad_row_imports_nothing() {
    let fx = Fixture::new();
    fx.seed_loans(1);
    let loans = loans_csv(&[
        &loan("L1", "P1", "2026-12-31"),
        &loan("L2", "P1", "2026-12-31"),
        "L3,P1,XYZ,1,Titre,,,,2026-12-31,",
    ]);
    let options = ImportOptions {
        strict: true,
        ..fx.options()
    };
    let summary = fx.import(Some(PATRONS), Some(&loans), &options).unwrap();
    assert!(!summary.committed);
    assert_eq!(summary.rejected, 1);
    assert_eq!(fx.count("SELECT COUNT(*) FROM loans"), 1);
    assert_eq!(
        fx.text("SELECT due_date FROM loans WHERE loan_id = 'L1'")
            .unwrap(),
        "2026-11-29"
    );
    assert_eq!(fx.count("SELECT COUNT(*) FROM imports"), 1);
    let report = fx.rejects();
    assert!(
        report.contains("loans.csv,4,L3,library_code,\"unknown library \"\"XYZ\"\""),
        "{report}"
    );
}

#[test]
fn a_bad_header_names_the_file_and_column_and_imports_nothing() {
    let fx = Fixture::new();
    let loans =
        "loan_id,patron_id,library_code,barcode,title,author,call_number,loaned_at,returned_at\n";
    let err = fx
        .import(Some(PATRONS), Some(loans), &fx.options())
        .unwrap_err();
    // The file, then the header's own error, each said once.
    let source = std::error::Error::source(&err).map(ToString::to_string);
    let text = format!("{err}: {}", source.unwrap_or_default());
    assert!(
        text.starts_with("loans.csv: missing column \"due_at\""),
        "{text}"
    );
    assert_eq!(
        text.matches("missing column").count(),
        1,
        "said once: {text}"
    );
    assert!(
        text.contains(r#"the header row has "loan_id", "patron_id""#),
        "the headings it saw: {text}"
    );
    assert_eq!(fx.count("SELECT COUNT(*) FROM patrons"), 0);
}

#[test]
fn progress_reports_the_bytes_of_both_files() {
    let fx = Fixture::new();
    let patrons = format!("{PATRONS_HEADER}{PATRONS}");
    let loans = loans_csv(&[&loan("L1", "P1", "2026-11-29")]);
    let mut seen = Vec::new();
    fx.store
        .import(
            &fx.config,
            Some(CsvInput {
                name: "patrons.csv",
                reader: &mut patrons.as_bytes(),
            }),
            Some(CsvInput {
                name: "loans.csv",
                reader: &mut loans.as_bytes(),
            }),
            &fx.options(),
            &fx.dir.path().join("imports/rejects.csv"),
            &mut |bytes| seen.push(bytes),
        )
        .unwrap();
    assert_eq!(
        seen.last().copied(),
        Some((patrons.len() + loans.len()) as u64)
    );
}

#[test]
fn a_snapshot_counts_each_listed_loan_once_and_returns_as_closed() {
    let fx = Fixture::new();
    fx.seed_loans(10);
    let listed: Vec<String> = (3..=9)
        .map(|i| loan(&format!("L{i}"), "P1", "2026-11-29"))
        .collect();
    let mut rows: Vec<&str> = listed.iter().map(String::as_str).collect();
    let first = loan("L1", "P1", "2026-11-29");
    let returned =
        "L2,P1,STS,33001L2,Les Misérables,Victor Hugo,,,2026-11-29,2026-11-19T10:00:00+01:00";
    rows.extend([first.as_str(), first.as_str(), returned]);
    let options = ImportOptions {
        snapshot: true,
        ..fx.options()
    };
    let summary = fx.import(None, Some(&loans_csv(&rows)), &options).unwrap();
    // L10 alone is missing: L1 counts once, L2 is closed by the file itself.
    assert_eq!((summary.closed_by_snapshot, summary.rejected), (1, 1));
    assert_eq!(
        fx.text("SELECT returned_at FROM loans WHERE loan_id = 'L10'")
            .unwrap(),
        "2026-11-20T09:00:00Z"
    );
    assert_eq!(
        fx.count("SELECT COUNT(*) FROM loans WHERE returned_at IS NULL"),
        8
    );
}
