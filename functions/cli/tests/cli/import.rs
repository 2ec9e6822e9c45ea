//! `relance sample` and `relance import` through the built binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const RELANCE: &str = env!("CARGO_BIN_EXE_relance");

pub(crate) fn relance(args: &[&str]) -> Output {
    Command::new(RELANCE)
        .args(args)
        .env_remove("RELANCE_CONFIG")
        .output()
        .expect("the relance binary runs")
}

pub(crate) fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// A sample of 300 loans centred on a fixed day, in a fresh folder.
pub(crate) fn sample(dir: &Path) -> PathBuf {
    let out = relance(&[
        "sample",
        "--out",
        path(dir),
        "--seed",
        "7",
        "--loans",
        "300",
        "--today",
        "2026-11-20",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("relance.toml")
}

pub(crate) fn import(dir: &Path, loans: &Path, extra: &[&str]) -> Output {
    let config = dir.join("relance.toml");
    let patrons = dir.join("patrons.csv");
    let mut args = vec![
        "--config",
        path(&config),
        "import",
        "--patrons",
        path(&patrons),
        "--loans",
        path(loans),
    ];
    args.extend_from_slice(extra);
    relance(&args)
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The sample's loans with one row naming a library the config does not have.
fn loans_with_a_bad_row(dir: &Path) -> (PathBuf, usize) {
    let mut text = std::fs::read_to_string(dir.join("loans.csv")).unwrap();
    text.push_str("LBAD,P0000001,NOPE,33999,Titre,,,,2026-11-29,\n");
    let line = text.lines().count();
    let path = dir.join("loans-bad.csv");
    std::fs::write(&path, text).unwrap();
    (path, line)
}

fn rejects_files(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir.join("var/imports")) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn the_sample_imports_cleanly_with_only_malformed_email_warnings() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let out = import(dir.path(), &dir.path().join("loans.csv"), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("Loans:   300 new, 0 updated."), "{text}");
    assert!(text.contains("Rejected: 0 row(s)."), "{text}");
    let rejects = rejects_files(dir.path());
    assert_eq!(rejects.len(), 1, "the warnings are reported");
    let report = std::fs::read_to_string(&rejects[0]).unwrap();
    assert!(
        report
            .lines()
            .skip(1)
            .all(|l| l.contains(",email,") && l.ends_with(",imported")),
        "{report}"
    );
    // Importing again only updates.
    let again = import(dir.path(), &dir.path().join("loans.csv"), &[]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stdout(&again).contains("Loans:   0 new, 300 updated."),
        "{}",
        stdout(&again)
    );
}

#[test]
fn a_bad_row_gives_exit_status_2_and_a_rejects_file_naming_its_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let (loans, line) = loans_with_a_bad_row(dir.path());
    let out = import(dir.path(), &loans, &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("Loans:   300 new"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("Rejected: 1 row(s)."),
        "{}",
        stdout(&out)
    );
    let rejects = rejects_files(dir.path());
    let report = std::fs::read_to_string(&rejects[0]).unwrap();
    let expected = format!(",{line},LBAD,library_code,");
    let row = report.lines().find(|l| l.contains(&expected));
    assert!(row.is_some_and(|l| l.ends_with(",rejected")), "{report}");
}

#[test]
fn strict_mode_with_a_bad_row_imports_nothing_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let (loans, _) = loans_with_a_bad_row(dir.path());
    let out = import(dir.path(), &loans, &["--strict"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("Nothing imported (--strict)"),
        "{}",
        stdout(&out)
    );
    // Nothing was kept: the next import finds every patron new.
    let next = import(dir.path(), &dir.path().join("loans.csv"), &[]);
    assert!(
        stdout(&next).contains("Patrons: 150 new, 0 updated."),
        "{}",
        stdout(&next)
    );
}

#[test]
fn a_snapshot_that_would_close_every_loan_is_refused_with_exit_status_1() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    assert_eq!(
        import(dir.path(), &dir.path().join("loans.csv"), &[])
            .status
            .code(),
        Some(0)
    );
    let empty = dir.path().join("empty-loans.csv");
    std::fs::write(
        &empty,
        "loan_id,patron_id,library_code,barcode,title,author,call_number,loaned_at,due_at,returned_at\n",
    )
    .unwrap();
    let out = import(dir.path(), &empty, &["--snapshot"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("snapshot refused"), "{err}");
    assert!(err.contains("rerun with --snapshot --force"), "{err}");
}

#[test]
fn a_missing_column_is_named_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let loans = dir.path().join("loans-no-due.csv");
    std::fs::write(
        &loans,
        "loan_id,patron_id,library_code,barcode,title\nL1,P0000001,STS,1,Titre\n",
    )
    .unwrap();
    let out = import(dir.path(), &loans, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("loans-no-due.csv: missing column \"due_at\""),
        "{err}"
    );
    assert_eq!(err.matches("missing column").count(), 1, "said once: {err}");
}

#[test]
fn a_semicolon_separated_file_imports_and_a_binary_one_is_named_for_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let mut reader = csv::Reader::from_path(dir.path().join("loans.csv")).unwrap();
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    writer.write_record(reader.headers().unwrap()).unwrap();
    for record in reader.records() {
        writer.write_record(&record.unwrap()).unwrap();
    }
    let semicolons = dir.path().join("loans-excel.csv");
    std::fs::write(&semicolons, writer.into_inner().unwrap()).unwrap();
    let out = import(dir.path(), &semicolons, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Loans:   300 new"),
        "{}",
        stdout(&out)
    );
    let png = dir.path().join("loans.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0").unwrap();
    let err = stderr(&import(dir.path(), &png, &[]));
    assert!(err.contains("not a text CSV: it is a PNG image"), "{err}");
    assert!(!err.contains("missing column"), "{err}");
}

#[test]
fn the_same_seed_gives_the_same_sample_and_another_seed_another() {
    let write = |seed: &str| {
        let dir = tempfile::tempdir().unwrap();
        let out = relance(&[
            "sample",
            "--out",
            path(dir.path()),
            "--seed",
            seed,
            "--loans",
            "500",
            "--libraries",
            "12",
            "--today",
            "2027-03-28",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
        (read("relance.toml"), read("patrons.csv"), read("loans.csv"))
    };
    let first = write("42");
    assert_eq!(first, write("42"));
    let other = write("43");
    assert_eq!(first.0, other.0, "the config does not depend on the seed");
    assert_ne!(first.2, other.2);
}

/// The numbers of a summary line such as `Loans:   0 new, 300 updated.`.
fn counts(out: &Output, prefix: &str) -> Vec<u64> {
    let text = stdout(out);
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} line in {text}"));
    line.split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

#[test]
fn a_broken_quote_in_a_snapshot_leaves_no_line_unaccounted_and_closes_no_loan() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    assert_eq!(
        import(dir.path(), &dir.path().join("loans.csv"), &[])
            .status
            .code(),
        Some(0)
    );
    let text = std::fs::read_to_string(dir.path().join("loans.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let keys: Vec<&str> = lines[100].splitn(5, ',').take(4).collect();
    let broken_row = format!("{},\"Titre jamais fermé,,,,2026-11-29,", keys.join(","));
    lines[100] = broken_row;
    let broken = dir.path().join("loans-broken.csv");
    std::fs::write(&broken, lines.join("\n") + "\n").unwrap();
    let out = import(dir.path(), &broken, &["--snapshot", "--force"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let loans = counts(&out, "Loans:");
    let rejected = counts(&out, "Rejected:")[0];
    assert!(
        rejected > 1,
        "the lines after the broken quote are rejected too"
    );
    assert_eq!(loans[0] + loans[1] + rejected, 300, "{}", stdout(&out));
    assert!(!stdout(&out).contains("Snapshot:"), "{}", stdout(&out));
}

#[test]
fn two_imports_in_the_same_second_keep_two_rejects_files_named_absolutely() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let (loans, _) = loans_with_a_bad_row(dir.path());
    let run = || {
        Command::new(RELANCE)
            .current_dir(dir.path())
            .args([
                "--config",
                "relance.toml",
                "import",
                "--patrons",
                "patrons.csv",
            ])
            .arg("--loans")
            .arg(&loans)
            .env_remove("RELANCE_CONFIG")
            .output()
            .unwrap()
    };
    let (first, second) = (run(), run());
    let rejects = rejects_files(dir.path());
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    for out in [first, second] {
        let text = stdout(&out);
        let path = text
            .lines()
            .find_map(|l| l.strip_prefix("Rejects and warnings (line, field, reason): "))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(Path::new(path).is_absolute(), "{path}");
    }
}
