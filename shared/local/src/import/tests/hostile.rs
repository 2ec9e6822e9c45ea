//! Exports that go wrong in the ways real ones do: a quote never closed,
//! addresses the mail builder refuses, implausible values.

use super::*;

/// 30 loans of P1 where the title of the 5th opens a quote it never closes;
/// the 20th quotes its title properly, which closes the broken one.
fn loans_with_a_broken_quote() -> String {
    let rows: Vec<String> = (1..=30)
        .map(|i| match i {
            5 => format!("L{i},P1,STS,33001L{i},\"Les Misérables,Victor Hugo,,,2026-11-29,"),
            20 => {
                format!("L{i},P1,STS,33001L{i},\"Notre-Dame, de Paris\",Victor Hugo,,,2026-11-29,")
            }
            _ => loan(&format!("L{i}"), "P1", "2026-11-29"),
        })
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    loans_csv(&rows)
}

#[test]
fn every_line_of_a_file_with_a_broken_quote_is_imported_or_rejected() {
    let fx = Fixture::new();
    let loans = loans_with_a_broken_quote();
    let lines_in = loans.lines().count() as u64 - 1;
    let summary = fx
        .import(Some(PATRONS), Some(&loans), &fx.options())
        .unwrap();
    assert_eq!(summary.loans_inserted + summary.rejected, lines_in);
    assert_eq!(summary.rejected, 16, "L5 to L20");
    let rejects = fx.rejects();
    for i in 5..=20 {
        let line = i + 1;
        let listed = format!("loans.csv,{line},L{i},row,");
        assert!(rejects.contains(&listed), "line {line} missing:\n{rejects}");
    }
    assert!(rejects.contains("opened on line 6"), "{rejects}");
}

#[test]
fn a_snapshot_with_a_broken_quote_closes_none_of_the_swallowed_loans() {
    let fx = Fixture::new();
    fx.seed_loans(30);
    let options = ImportOptions {
        snapshot: true,
        force: true,
        ..fx.options()
    };
    let summary = fx
        .import(None, Some(&loans_with_a_broken_quote()), &options)
        .unwrap();
    assert_eq!(summary.closed_by_snapshot, 0);
    assert_eq!(
        fx.count("SELECT COUNT(*) FROM loans WHERE returned_at IS NULL"),
        30
    );
}
