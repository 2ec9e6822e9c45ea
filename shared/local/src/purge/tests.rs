use chrono::NaiveDate;
use chrono_tz::Europe::Paris;
use relance_core::config::Retention;

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A store with patron P1 (one loan open, one returned 2027-01-01), patron P2
/// (one loan returned 2027-01-01, nothing else), a sent notice of P1 of
/// 2027-01-05 with its markers, and a reply and a bounce of 2027-01-02.
fn store() -> Store {
    let store = Store::in_memory().unwrap();
    store
        .conn()
        .execute_batch(
            "INSERT INTO patrons (patron_id, full_name) VALUES ('P1', 'Camille'), ('P2', 'Dominique');
             INSERT INTO loans (loan_id, patron_id, library_code, barcode, title, due_at, due_date, returned_at)
             VALUES ('L1', 'P1', 'STS', 'B1', 'T1', '2026-12-28T22:59:00Z', '2026-12-28', NULL),
                    ('L2', 'P1', 'STS', 'B2', 'T2', '2026-12-28T22:59:00Z', '2026-12-28', '2027-01-01T10:00:00Z'),
                    ('L3', 'P2', 'STS', 'B3', 'T3', '2026-12-20T22:59:00Z', '2026-12-20', '2027-01-01T10:00:00Z');
             INSERT INTO notices (notice_id, reference, run_day, patron_id, channel, stage, status)
             VALUES ('N1', 'R1', '2027-01-05', 'P1', 'email', 'first_reminder', 'sent');
             INSERT INTO notice_loans VALUES ('N1', 'L1', '2026-12-28', 'first_reminder'),
                                             ('N1', 'L2', '2026-12-28', 'first_reminder');
             INSERT INTO markers VALUES ('L1', '2026-12-28', 'first_reminder', '2027-01-05', 'N1', NULL),
                                        ('L2', '2026-12-28', 'first_reminder', '2027-01-05', 'N1', NULL);
             INSERT INTO replies (reply_id, received_at, class, patron_id, source)
             VALUES ('M1', '2027-01-02T09:00:00Z', 'reply', 'P1', 'inbound/m1');
             INSERT INTO feedback VALUES ('F1', '2027-01-02T09:00:00Z', 'hard_bounce', 'P1', 'N1');",
        )
        .unwrap();
    store
}

fn count(store: &Store, table: &str) -> i64 {
    store
        .conn()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn purge(store: &Store, day: &str, dry_run: bool) -> PurgeCounts {
    let cutoffs = Retention::default().cutoffs(d(day), Paris);
    store.purge(&cutoffs, dry_run).unwrap()
}

#[test]
fn nothing_is_due_before_its_period() {
    let store = store();
    assert_eq!(purge(&store, "2027-01-30", false), PurgeCounts::default());
}

#[test]
fn returned_loans_go_after_thirty_days_and_the_patron_left_without_anything_with_them() {
    let store = store();
    let counts = purge(&store, "2027-01-31", false);
    assert_eq!(counts.returned_loans, 2, "{counts:?}");
    // P2 had only L3, returned 30 days ago; P1 has an open loan and a notice.
    assert_eq!(counts.patrons, 1, "{counts:?}");
    assert_eq!(count(&store, "loans"), 1);
    let left: String = store
        .conn()
        .query_row("SELECT patron_id FROM patrons", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, "P1");
}

#[test]
fn mail_records_go_after_ninety_days() {
    let store = store();
    let counts = purge(&store, "2027-04-02", false);
    assert_eq!((counts.replies, counts.feedback), (1, 1), "{counts:?}");
    assert_eq!(count(&store, "replies") + count(&store, "feedback"), 0);
}

#[test]
fn a_notice_goes_after_a_year_but_the_marker_of_a_loan_still_open_stays() {
    let store = store();
    let counts = purge(&store, "2028-01-05", false);
    assert_eq!(counts.notices, 1, "{counts:?}");
    assert_eq!(count(&store, "notice_loans"), 0);
    // L2 is returned (and purged): its marker goes; L1 is still open with
    // that due date: its marker is what keeps it from a second reminder.
    assert_eq!(counts.markers, 1, "{counts:?}");
    let kept: String = store
        .conn()
        .query_row("SELECT loan_id FROM markers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, "L1");
}

#[test]
fn the_marker_of_a_renewed_loan_goes_with_its_notice() {
    let store = store();
    store
        .execute(
            "UPDATE loans SET due_date = '2027-02-28' WHERE loan_id = 'L1'",
            [],
        )
        .unwrap();
    assert_eq!(purge(&store, "2028-01-05", false).markers, 2);
}

#[test]
fn a_dry_purge_counts_what_a_purge_removes_and_keeps_everything() {
    let store = store();
    let dry = purge(&store, "2028-06-01", true);
    assert_eq!(count(&store, "notices"), 1);
    assert_eq!(count(&store, "loans"), 3);
    assert_eq!(count(&store, "patrons"), 2);
    assert_eq!(purge(&store, "2028-06-01", false), dry);
    assert_eq!(dry.total(), 2 + 1 + 1 + 1 + 1 + 1, "{dry:?}");
}

/// The query plan of `statement`: each step's id, parent and text.
fn plan(store: &Store, statement: &str) -> Vec<(i64, i64, String)> {
    let conn = store.conn();
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {statement}"))
        .unwrap();
    stmt.query_map(["2027-01-01"], |r| Ok((r.get(0)?, r.get(1)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn no_purge_statement_scans_a_table_once_per_row() {
    // A purge runs after every `relance run`: a table scanned inside a
    // correlated subquery costs rows × rows (an hour on a million loans).
    let store = store();
    for statement in [
        NOTICE_LOANS,
        NOTICES,
        MARKERS,
        PATRONS,
        RETURNED_LOANS,
        REPLIES,
        FEEDBACK,
    ] {
        let steps = plan(&store, statement);
        let correlated: Vec<i64> = steps
            .iter()
            .filter(|(_, _, detail)| detail.starts_with("CORRELATED"))
            .map(|(id, _, _)| *id)
            .collect();
        let under_correlated = |mut id: i64| {
            while let Some((_, parent, _)) = steps.iter().find(|(i, _, _)| *i == id) {
                if correlated.contains(parent) {
                    return true;
                }
                id = *parent;
            }
            false
        };
        for (id, _, detail) in &steps {
            assert!(
                !(detail.starts_with("SCAN ") && under_correlated(*id)),
                "{statement}\nscans a table for each row: {steps:#?}"
            );
        }
    }
}
