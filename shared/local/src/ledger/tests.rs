use super::*;
use relance_core::ids::{LibraryCode, PatronId};
use relance_core::notice::{Marker, NoticeStatus};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn email_notice(patron: &str, loans: &[&str], day: &str) -> Notice {
    let patron = PatronId::parse(patron).unwrap();
    let stage = StageName::parse("first_reminder").unwrap();
    let id = Notice::email_id(&patron, &stage, d(day));
    let loans = loans
        .iter()
        .map(|l| NoticeLoan {
            loan_id: LoanId::parse(l).unwrap(),
            due_date: d("2026-11-22"),
            stage: stage.clone(),
        })
        .collect();
    Notice::pending(id, d(day), patron, Channel::Email, stage, None, loans)
}

fn plan_of(notices: Vec<Notice>, day: &str) -> RunPlan {
    let markers = notices
        .iter()
        .flat_map(|n| {
            n.loans.iter().map(|l| Marker {
                key: MarkerKey {
                    loan_id: l.loan_id.clone(),
                    due_date: l.due_date,
                    stage: l.stage.clone(),
                },
                run_day: d(day),
                outcome: MarkerOutcome::Notice(n.id.clone()),
            })
        })
        .collect();
    RunPlan {
        run_day: Some(d(day)),
        planned_days: vec![d(day)],
        notices,
        markers,
        ..RunPlan::default()
    }
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn a_plan_is_recorded_with_its_markers_and_moves_the_watermark() {
    let store = Store::in_memory().unwrap();
    let plan = plan_of(
        vec![email_notice("P1", &["L1", "L2"], "2026-11-29")],
        "2026-11-29",
    );
    block(store.record_plan(&plan, None)).unwrap();
    assert_eq!(block(store.watermark()).unwrap(), Some(d("2026-11-29")));
    let keys: Vec<_> = plan.markers.iter().map(|m| m.key.clone()).collect();
    assert_eq!(block(store.handled(&keys)).unwrap().len(), 2);
    let pending = block(store.pending_notices(Channel::Email, d("2026-11-29"))).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].loans.len(), 2);
    assert_eq!(pending[0].reference, plan.notices[0].reference);
}

#[test]
fn a_plan_made_against_an_old_watermark_is_refused_and_writes_nothing() {
    let store = Store::in_memory().unwrap();
    block(store.set_watermark(d("2026-11-29"))).unwrap();
    let plan = plan_of(
        vec![email_notice("P1", &["L1"], "2026-11-29")],
        "2026-11-29",
    );
    let err = block(store.record_plan(&plan, Some(d("2026-11-28")))).unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert!(
        block(store.pending_notices(Channel::Email, d("2026-11-30")))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_colliding_reference_is_derived_again() {
    let store = Store::in_memory().unwrap();
    let first = email_notice("P1", &["L1"], "2026-11-29");
    let mut second = email_notice("P2", &["L2"], "2026-11-29");
    second.reference = first.reference.clone();
    block(store.record_plan(&plan_of(vec![first, second], "2026-11-29"), None)).unwrap();
    let pending = block(store.pending_notices(Channel::Email, d("2026-11-29"))).unwrap();
    assert_eq!(pending.len(), 2);
    assert_ne!(pending[0].reference, pending[1].reference);
}

#[test]
fn sent_and_cancelled_notices_are_no_longer_pending() {
    let store = Store::in_memory().unwrap();
    let a = email_notice("P1", &["L1"], "2026-11-29");
    let b = email_notice("P2", &["L2"], "2026-11-29");
    let (ida, idb) = (a.id.clone(), b.id.clone());
    block(store.record_plan(&plan_of(vec![a, b], "2026-11-29"), None)).unwrap();
    block(store.record_failure(&ida, "timeout")).unwrap();
    let pending = block(store.pending_notices(Channel::Email, d("2026-11-29"))).unwrap();
    assert_eq!(pending.iter().find(|n| n.id == ida).unwrap().attempts, 1);
    block(store.record_sent(&ida, "outbox:x", Utc::now())).unwrap();
    block(store.cancel(&idb, CancelReason::NothingLeft)).unwrap();
    assert!(
        block(store.pending_notices(Channel::Email, d("2026-11-29")))
            .unwrap()
            .is_empty()
    );
    let b = notices_where(&store.conn(), "notice_id = ?1", [idb.as_str()]).unwrap();
    assert_eq!(
        b[0].status,
        NoticeStatus::Cancelled {
            reason: CancelReason::NothingLeft
        }
    );
}

#[test]
fn falling_back_to_print_cancels_the_email_and_merges_into_the_library_letter() {
    let store = Store::in_memory().unwrap();
    let email = email_notice("P1", &["L1", "L2"], "2026-11-29");
    let email_id = email.id.clone();
    block(store.record_plan(&plan_of(vec![email.clone()], "2026-11-29"), None)).unwrap();
    let library = LibraryCode::parse("STS").unwrap();
    let letter = Notice::pending(
        Notice::letter_id(&email.patron_id, &library, email.run_day),
        email.run_day,
        email.patron_id.clone(),
        Channel::Letter,
        email.stage.clone(),
        Some(library),
        email.loans.clone(),
    );
    block(store.fall_back_to_print(&email_id, std::slice::from_ref(&letter))).unwrap();
    assert!(
        block(store.pending_notices(Channel::Email, d("2026-11-29")))
            .unwrap()
            .is_empty()
    );
    let letters = block(store.pending_notices(Channel::Letter, d("2026-11-29"))).unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].loans.len(), 2);
    let on_letter: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM markers WHERE notice_id = ?1",
            [letter.id.as_str()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(on_letter, 2, "the markers follow the loans to the letter");
}

#[test]
fn a_fallback_after_the_day_letter_went_out_makes_a_new_letter() {
    let store = Store::in_memory().unwrap();
    let email = email_notice("P1", &["L1"], "2026-11-29");
    let library = LibraryCode::parse("STS").unwrap();
    let day_letter = Notice::pending(
        Notice::letter_id(&email.patron_id, &library, email.run_day),
        email.run_day,
        email.patron_id.clone(),
        Channel::Letter,
        StageName::parse("letter").unwrap(),
        Some(library.clone()),
        vec![],
    );
    let plan = plan_of(vec![email.clone(), day_letter.clone()], "2026-11-29");
    block(store.record_plan(&plan, None)).unwrap();
    block(store.record_sent(&day_letter.id, "outbox:batch", Utc::now())).unwrap();
    let fallback = Notice {
        loans: email.loans.clone(),
        ..day_letter.clone()
    };
    block(store.fall_back_to_print(&email.id, &[fallback])).unwrap();
    let pending = block(store.pending_notices(Channel::Letter, d("2026-11-29"))).unwrap();
    assert_eq!(
        pending.len(),
        1,
        "the loans are not merged into the printed letter"
    );
    assert_ne!(pending[0].id, day_letter.id);
    assert_eq!(pending[0].loans.len(), 1);
}
