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

#[test]
fn a_patron_whose_email_holds_a_line_break_is_imported_with_their_loans() {
    let fx = Fixture::new();
    let patrons = "P1,Zoë Martin,\"zoe@example.fr\r\nBcc: x@example.fr\",12 rue Sainte-Catherine,,33000,Bordeaux,,fr,no\n\
                   P2,Łukasz Nowak,\"\"\"lukasz nowak\"\"@example.fr\",3 cours Pasteur,,33000,Bordeaux,,en,yes\n";
    let loans = loans_csv(&[&loan("L1", "P1", "2026-11-29")]);
    let summary = fx
        .import(Some(patrons), Some(&loans), &fx.options())
        .unwrap();
    assert_eq!((summary.patrons_inserted, summary.loans_inserted), (2, 1));
    assert_eq!((summary.rejected, summary.warnings), (0, 2));
    assert_eq!(
        fx.count("SELECT COUNT(*) FROM patrons WHERE email IS NULL"),
        2
    );
    let rejects = fx.rejects();
    assert!(
        rejects.contains("patrons.csv,2,P1,email,\"unusable ("),
        "{rejects}"
    );
    assert!(!rejects.contains("Bcc"), "{rejects}");
}

#[test]
fn a_patron_stored_with_an_address_now_refused_reads_as_having_no_email() {
    use relance_core::ids::PatronId;
    use relance_core::ports::LoanStore;
    let fx = Fixture::new();
    fx.seed_loans(1);
    fx.store
        .conn()
        .execute(
            "UPDATE patrons SET email = '\"zoe martin\"@example.fr' WHERE patron_id = 'P1'",
            [],
        )
        .unwrap();
    let ids = [PatronId::parse("P1").unwrap()];
    let patrons = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(fx.store.patrons(&ids))
        .expect("an unusable stored address is not a corrupt store");
    assert_eq!(patrons[0].email, None);
}

#[test]
fn two_imports_given_the_same_rejects_path_keep_both_reports() {
    let fx = Fixture::new();
    let first = loans_csv(&[&loan("L1", "P9", "2026-11-29")]);
    let second = loans_csv(&[&loan("L2", "P8", "2026-11-29")]);
    let one = fx
        .import(Some(PATRONS), Some(&first), &fx.options())
        .unwrap();
    let two = fx.import(None, Some(&second), &fx.options()).unwrap();
    let (one, two) = (one.rejects_file.unwrap(), two.rejects_file.unwrap());
    assert_ne!(one, two);
    assert!(one.is_absolute() && two.is_absolute());
    assert!(two.ends_with("imports/rejects-2.csv"), "{}", two.display());
    assert!(std::fs::read_to_string(&one).unwrap().contains(",L1,"));
    assert!(std::fs::read_to_string(&two).unwrap().contains(",L2,"));
}
