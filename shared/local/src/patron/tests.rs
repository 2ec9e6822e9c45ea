use relance_core::ids::PatronId;
use relance_core::ports::{Ledger, PatronRecords};
use relance_core::retention::PatronErasure;

use super::*;

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn store() -> Store {
    let store = Store::in_memory().unwrap();
    store
        .conn()
        .execute_batch(
            "INSERT INTO patrons (patron_id, full_name, email) VALUES ('P1', 'Camille', 'c@example.fr'), ('P2', 'Dominique', NULL);
             INSERT INTO loans (loan_id, patron_id, library_code, barcode, title, due_at, due_date, returned_at)
             VALUES ('L1', 'P1', 'STS', 'B1', 'T1', '2026-12-28T22:59:00Z', '2026-12-28', NULL),
                    ('L2', 'P1', 'STS', 'B2', 'T2', '2026-12-28T22:59:00Z', '2026-12-28', '2027-01-01T10:00:00Z'),
                    ('L3', 'P2', 'STS', 'B3', 'T3', '2026-12-20T22:59:00Z', '2026-12-20', NULL);
             INSERT INTO notices (notice_id, reference, run_day, patron_id, channel, stage, status)
             VALUES ('N1', 'R1', '2027-01-04', 'P1', 'email', 'first_reminder', 'pending');
             INSERT INTO notice_loans VALUES ('N1', 'L1', '2026-12-28', 'first_reminder');
             INSERT INTO markers VALUES ('L1', '2026-12-28', 'first_reminder', '2027-01-04', 'N1', NULL);
             INSERT INTO replies (reply_id, received_at, class, patron_id, notice_id, source)
             VALUES ('M1', '2027-01-05T09:00:00Z', 'reply', 'P1', 'N1', 'inbound/m1');
             INSERT INTO feedback VALUES ('F1', '2027-01-05T09:00:00Z', 'complaint', 'P1', 'N1');",
        )
        .unwrap();
    store
}

fn p(id: &str) -> PatronId {
    PatronId::parse(id).unwrap()
}

#[test]
fn the_export_holds_the_patron_their_loans_notices_replies_and_feedback_only() {
    let store = store();
    let export = block(store.export_patron(&p("P1"))).unwrap();
    assert_eq!(export.patron.as_ref().unwrap().full_name, "Camille");
    let loans: Vec<_> = export.loans.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(loans, ["L1", "L2"]);
    assert_eq!(export.notices.len(), 1);
    assert_eq!(export.notices[0].loans.len(), 1);
    assert_eq!(export.replies.len(), 1);
    assert_eq!(export.feedback.len(), 1);
}

#[test]
fn an_unknown_patron_exports_nothing() {
    assert!(block(store().export_patron(&p("P9"))).unwrap().is_empty());
}

#[test]
fn erasing_removes_everything_of_the_patron_and_keeps_the_marker_without_its_notice() {
    let store = store();
    let erased = block(store.erase_patron(&p("P1"))).unwrap();
    assert_eq!(
        erased,
        PatronErasure {
            patrons: 1,
            loans: 2,
            notices: 1,
            replies: 1,
            feedback: 1,
            markers_kept: 1,
        }
    );
    assert!(block(store.export_patron(&p("P1"))).unwrap().is_empty());
    let marker: (Option<String>, Option<String>) = store
        .conn()
        .query_row("SELECT notice_id, skipped FROM markers", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(marker, (None, Some("erased".to_owned())));
    let key = relance_core::notice::MarkerKey {
        loan_id: relance_core::ids::LoanId::parse("L1").unwrap(),
        due_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 28).unwrap(),
        stage: relance_core::ids::StageName::parse("first_reminder").unwrap(),
    };
    assert_eq!(
        block(store.handled(std::slice::from_ref(&key)))
            .unwrap()
            .len(),
        1
    );
    // The other patron is untouched.
    assert!(
        block(store.export_patron(&p("P2")))
            .unwrap()
            .patron
            .is_some()
    );
}
