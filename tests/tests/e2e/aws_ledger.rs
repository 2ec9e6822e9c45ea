//! The DynamoDB ledger against DynamoDB Local: the same contract as the SQLite
//! ledger, plus what only DynamoDB needs (planners racing, a plan written halfway,
//! claims and leases). Each test makes its own table.

use chrono::{DateTime, Duration, TimeZone, Utc};
use relance_aws::dynamo::Dynamo;
use relance_aws::dynamo::key_item;
use relance_aws::dynamo::ledger::Claim;
use relance_aws::dynamo::table::{create_table, marker_key};
use relance_core::ids::{LibraryCode, LoanId, NoticeId, PatronId, StageName};
use relance_core::ladder::Channel;
use relance_core::notice::{
    CancelReason, Marker, MarkerKey, MarkerOutcome, Notice, NoticeLoan, NoticeStatus, SkipReason,
};
use relance_core::plan::RunPlan;
use relance_core::ports::{Ledger, StoreError};
use relance_core::summary::RunSummary;
use relance_tests::day;
use relance_tests::emulators::{clients, unique};

const DAY: &str = "2026-11-29";

async fn ledger() -> Dynamo {
    let clients = clients();
    let table = unique("ledger");
    create_table(&clients.dynamodb, &table)
        .await
        .expect("table");
    Dynamo::new(clients.dynamodb, table)
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 7, 0, 0).unwrap()
}

fn loan(id: &str, stage: &StageName) -> NoticeLoan {
    NoticeLoan {
        loan_id: LoanId::parse(id).unwrap(),
        due_date: day("2026-11-22"),
        stage: stage.clone(),
    }
}

fn key_of(loan: &NoticeLoan) -> MarkerKey {
    MarkerKey {
        loan_id: loan.loan_id.clone(),
        due_date: loan.due_date,
        stage: loan.stage.clone(),
    }
}

fn email_notice(patron: &str, loans: &[&str], run_day: &str) -> Notice {
    let patron = PatronId::parse(patron).unwrap();
    let stage = StageName::parse("first_reminder").unwrap();
    let id = Notice::email_id(&patron, &stage, day(run_day));
    let loans = loans.iter().map(|l| loan(l, &stage)).collect();
    Notice::pending(id, day(run_day), patron, Channel::Email, stage, None, loans)
}

fn letter_for(email: &Notice, loans: Vec<NoticeLoan>) -> Notice {
    let library = LibraryCode::parse("STS").unwrap();
    Notice::pending(
        Notice::letter_id(&email.patron_id, &library, email.run_day),
        email.run_day,
        email.patron_id.clone(),
        Channel::Letter,
        email.stage.clone(),
        Some(library),
        loans,
    )
}

fn plan_of(notices: Vec<Notice>, run_day: &str) -> RunPlan {
    let markers = notices
        .iter()
        .flat_map(|n| {
            n.loans.iter().map(|l| Marker {
                key: key_of(l),
                run_day: day(run_day),
                outcome: MarkerOutcome::Notice(n.id.clone()),
            })
        })
        .collect();
    RunPlan {
        run_day: Some(day(run_day)),
        planned_days: vec![day(run_day)],
        notices,
        markers,
        ..RunPlan::default()
    }
}

async fn pending(ledger: &Dynamo, channel: Channel) -> Vec<Notice> {
    ledger.pending_notices(channel, day(DAY)).await.unwrap()
}

fn loan_ids(notice: &Notice) -> Vec<&str> {
    notice.loans.iter().map(|l| l.loan_id.as_str()).collect()
}

/// The notice id a marker names, read raw from the table.
async fn marker_notice(ledger: &Dynamo, key: &MarkerKey) -> Option<String> {
    let out = ledger
        .client()
        .get_item()
        .table_name(ledger.table())
        .set_key(Some(key_item(marker_key(key))))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    out.item?.get("notice_id")?.as_s().ok().cloned()
}

fn is_conflict<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict { .. }))
}

#[tokio::test]
async fn a_plan_is_recorded_with_its_markers_and_moves_the_watermark() {
    let ledger = ledger().await;
    let mut plan = plan_of(vec![email_notice("P1", &["L1", "L2"], DAY)], DAY);
    let courtesy = StageName::parse("courtesy").unwrap();
    let skipped = key_of(&loan("L9", &courtesy));
    plan.markers.push(Marker {
        key: skipped.clone(),
        run_day: day(DAY),
        outcome: MarkerOutcome::Skipped(SkipReason::OptedOut),
    });
    ledger.record_plan(&plan, None).await.unwrap();

    assert_eq!(ledger.watermark().await.unwrap(), Some(day(DAY)));
    let never = key_of(&loan("L3", &plan.notices[0].stage));
    let mut keys: Vec<_> = plan.markers.iter().map(|m| m.key.clone()).collect();
    keys.push(never.clone());
    keys.push(keys[0].clone());
    let handled = ledger.handled(&keys).await.unwrap();
    assert_eq!(handled.len(), 3, "two notice loans and one skip");
    assert!(handled.contains(&skipped) && !handled.contains(&never));

    let emails = pending(&ledger, Channel::Email).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0], plan.notices[0], "read back as written");
    assert!(pending(&ledger, Channel::Letter).await.is_empty());
    let before = ledger
        .pending_notices(Channel::Email, day("2026-11-28"))
        .await
        .unwrap();
    assert!(before.is_empty(), "a later run day is not pending yet");
    assert!(ledger.read_units() > 0.0, "reads are counted");
}

#[tokio::test]
async fn pending_notices_come_oldest_first() {
    let ledger = ledger().await;
    ledger.set_watermark(day("2026-11-26")).await.unwrap();
    let later = plan_of(
        vec![email_notice("P1", &["L1"], "2026-11-28")],
        "2026-11-28",
    );
    let earlier = plan_of(
        vec![email_notice("P2", &["L2"], "2026-11-27")],
        "2026-11-27",
    );
    ledger
        .record_plan(&earlier, Some(day("2026-11-26")))
        .await
        .unwrap();
    ledger
        .record_plan(&later, Some(day("2026-11-27")))
        .await
        .unwrap();
    let days: Vec<_> = pending(&ledger, Channel::Email)
        .await
        .iter()
        .map(|n| n.run_day)
        .collect();
    assert_eq!(days, [day("2026-11-27"), day("2026-11-28")]);
}

#[tokio::test]
async fn a_plan_made_against_an_old_watermark_is_refused_and_writes_nothing() {
    let ledger = ledger().await;
    ledger.set_watermark(day(DAY)).await.unwrap();
    let plan = plan_of(vec![email_notice("P1", &["L1"], DAY)], DAY);
    let refused = ledger.record_plan(&plan, Some(day("2026-11-28"))).await;
    assert!(is_conflict(&refused), "{refused:?}");
    assert!(pending(&ledger, Channel::Email).await.is_empty());
    let keys: Vec<_> = plan.markers.iter().map(|m| m.key.clone()).collect();
    assert!(ledger.handled(&keys).await.unwrap().is_empty());
    assert_eq!(ledger.watermark().await.unwrap(), Some(day(DAY)));
}

#[tokio::test]
async fn the_same_plan_recorded_twice_is_refused_the_second_time_and_nothing_doubles() {
    let ledger = ledger().await;
    let plan = plan_of(vec![email_notice("P1", &["L1", "L2"], DAY)], DAY);
    ledger.record_plan(&plan, None).await.unwrap();
    let again = ledger.record_plan(&plan, None).await;
    assert!(is_conflict(&again), "{again:?}");
    let emails = pending(&ledger, Channel::Email).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(loan_ids(&emails[0]), ["L1", "L2"]);
}

#[tokio::test]
async fn of_two_planners_racing_for_one_day_exactly_one_wins_and_nothing_is_recorded_twice() {
    let ledger = ledger().await;
    // The second planner saw one more loan of the same patron (an import between).
    let a = plan_of(
        vec![
            email_notice("P1", &["L1"], DAY),
            email_notice("P2", &["L2"], DAY),
        ],
        DAY,
    );
    let b = plan_of(
        vec![
            email_notice("P1", &["L1", "L3"], DAY),
            email_notice("P2", &["L2"], DAY),
        ],
        DAY,
    );
    let (ra, rb) = tokio::join!(ledger.record_plan(&a, None), ledger.record_plan(&b, None));
    assert!(
        ra.is_ok() != rb.is_ok() && (is_conflict(&ra) || is_conflict(&rb)),
        "exactly one wins, the other conflicts: {ra:?} {rb:?}"
    );
    assert_eq!(ledger.watermark().await.unwrap(), Some(day(DAY)));
    let emails = pending(&ledger, Channel::Email).await;
    assert_eq!(emails.len(), 2, "one notice per patron: {emails:?}");
    let p1 = emails
        .iter()
        .find(|n| n.patron_id.as_str() == "P1")
        .unwrap();
    let p2 = emails
        .iter()
        .find(|n| n.patron_id.as_str() == "P2")
        .unwrap();
    assert_eq!(loan_ids(p2), ["L2"]);
    // L3 was recorded only if the second planner got to write it; never twice.
    assert!(
        loan_ids(p1) == ["L1"] || loan_ids(p1) == ["L1", "L3"],
        "{p1:?}"
    );
    let l3 = key_of(&loan("L3", &p1.stage));
    let l3_handled = ledger
        .handled(std::slice::from_ref(&l3))
        .await
        .unwrap()
        .contains(&l3);
    assert_eq!(
        l3_handled,
        loan_ids(p1).contains(&"L3"),
        "a loan is in its notice iff marked"
    );
}

/// A planner that died after writing part of its plan: the watermark did not move.
async fn crashed_after_first_notice(ledger: &Dynamo, first: &Notice) {
    ledger.set_watermark(day("2026-11-28")).await.unwrap();
    let partial = plan_of(vec![first.clone()], DAY);
    ledger
        .record_plan(&partial, Some(day("2026-11-28")))
        .await
        .unwrap();
    ledger.set_watermark(day("2026-11-28")).await.unwrap();
}

#[tokio::test]
async fn a_rerun_after_a_plan_written_halfway_keeps_what_was_written_and_adds_the_rest() {
    let ledger = ledger().await;
    crashed_after_first_notice(&ledger, &email_notice("P1", &["L1", "L2"], DAY)).await;
    // The re-run sees the same notice again, with a loan imported since.
    let full = plan_of(
        vec![
            email_notice("P1", &["L1", "L2", "L3"], DAY),
            email_notice("P2", &["L4"], DAY),
        ],
        DAY,
    );
    ledger
        .record_plan(&full, Some(day("2026-11-28")))
        .await
        .unwrap();
    assert_eq!(ledger.watermark().await.unwrap(), Some(day(DAY)));
    let emails = pending(&ledger, Channel::Email).await;
    assert_eq!(emails.len(), 2);
    let p1 = emails.iter().find(|n| n.id == full.notices[0].id).unwrap();
    assert_eq!(loan_ids(p1), ["L1", "L2", "L3"]);
    assert_eq!(
        p1.reference, full.notices[0].reference,
        "the first reference stays"
    );
}

#[tokio::test]
async fn a_rerun_meeting_its_notice_already_sent_puts_only_the_new_loans_in_a_fresh_notice() {
    let ledger = ledger().await;
    let first = email_notice("P1", &["L1"], DAY);
    crashed_after_first_notice(&ledger, &first).await;
    ledger.record_sent(&first.id, "ses-1", now()).await.unwrap();
    let full = plan_of(vec![email_notice("P1", &["L1", "L2"], DAY)], DAY);
    ledger
        .record_plan(&full, Some(day("2026-11-28")))
        .await
        .unwrap();
    let emails = pending(&ledger, Channel::Email).await;
    assert_eq!(emails.len(), 1);
    assert_ne!(emails[0].id, first.id);
    assert_eq!(loan_ids(&emails[0]), ["L2"], "L1 went out already");
    let sent = ledger.notice(&first.id).await.unwrap().unwrap();
    assert_eq!(loan_ids(&sent), ["L1"]);
}

#[tokio::test]
async fn a_colliding_reference_is_derived_again() {
    let ledger = ledger().await;
    let first = email_notice("P1", &["L1"], DAY);
    let mut second = email_notice("P2", &["L2"], DAY);
    second.reference = first.reference.clone();
    ledger
        .record_plan(&plan_of(vec![first.clone(), second], DAY), None)
        .await
        .unwrap();
    let emails = pending(&ledger, Channel::Email).await;
    assert_eq!(emails.len(), 2);
    assert_ne!(emails[0].reference, emails[1].reference);
    let kept = emails.iter().find(|n| n.id == first.id).unwrap();
    assert_eq!(kept.reference, first.reference, "the first holder keeps it");
}

#[tokio::test]
async fn a_notice_with_more_loans_than_a_transaction_holds_is_recorded_whole() {
    let ledger = ledger().await;
    let ids: Vec<String> = (0..150).map(|i| format!("L{i:03}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let plan = plan_of(vec![email_notice("P1", &refs, DAY)], DAY);
    ledger.record_plan(&plan, None).await.unwrap();
    let emails = pending(&ledger, Channel::Email).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(loan_ids(&emails[0]), refs);
    let keys: Vec<_> = plan.markers.iter().map(|m| m.key.clone()).collect();
    assert_eq!(ledger.handled(&keys).await.unwrap().len(), 150);
}

#[tokio::test]
async fn a_skip_never_overwrites_a_marker_already_there() {
    let ledger = ledger().await;
    let plan = plan_of(vec![email_notice("P1", &["L1"], DAY)], DAY);
    ledger.record_plan(&plan, None).await.unwrap();
    let key = plan.markers[0].key.clone();
    let skip = RunPlan {
        run_day: Some(day("2026-11-30")),
        planned_days: vec![day("2026-11-30")],
        notices: vec![],
        markers: vec![Marker {
            key: key.clone(),
            run_day: day("2026-11-30"),
            outcome: MarkerOutcome::Skipped(SkipReason::NoUsableEmail),
        }],
        ..RunPlan::default()
    };
    ledger.record_plan(&skip, Some(day(DAY))).await.unwrap();
    assert_eq!(
        marker_notice(&ledger, &key).await.as_deref(),
        Some(plan.notices[0].id.as_str())
    );
}

#[tokio::test]
async fn a_claimed_notice_is_held_until_its_lease_ends_and_is_done_once_sent() {
    let ledger = ledger().await;
    let notice = email_notice("P1", &["L1"], DAY);
    ledger
        .record_plan(&plan_of(vec![notice.clone()], DAY), None)
        .await
        .unwrap();
    let lease = Duration::minutes(5);

    let first = ledger.claim(&notice.id, now(), lease).await.unwrap();
    assert_eq!(first, Claim::Claimed(notice.clone()));
    let during = ledger
        .claim(&notice.id, now() + Duration::minutes(4), lease)
        .await;
    assert_eq!(during.unwrap(), Claim::Leased);
    let after = ledger
        .claim(&notice.id, now() + Duration::minutes(6), lease)
        .await;
    assert!(
        matches!(after.unwrap(), Claim::Claimed(_)),
        "a crashed holder's lease ends"
    );

    ledger
        .record_sent(&notice.id, "ses-0001", now())
        .await
        .unwrap();
    let done = ledger
        .claim(&notice.id, now() + Duration::hours(1), lease)
        .await;
    assert_eq!(done.unwrap(), Claim::Done);
    assert!(pending(&ledger, Channel::Email).await.is_empty());
    let missing = NoticeId::derive("nobody");
    assert_eq!(
        ledger.claim(&missing, now(), lease).await.unwrap(),
        Claim::Missing
    );
}

#[tokio::test]
async fn a_sent_notice_is_found_by_its_message_id() {
    let ledger = ledger().await;
    let notice = email_notice("P1", &["L1"], DAY);
    ledger
        .record_plan(&plan_of(vec![notice.clone()], DAY), None)
        .await
        .unwrap();
    assert_eq!(ledger.notice_id_of_message("ses-0042").await.unwrap(), None);
    ledger
        .record_sent(&notice.id, "ses-0042", now())
        .await
        .unwrap();
    assert_eq!(
        ledger.notice_id_of_message("ses-0042").await.unwrap(),
        Some(notice.id.clone())
    );
    let stored = ledger.notice(&notice.id).await.unwrap().unwrap();
    assert_eq!(
        stored.status,
        NoticeStatus::Sent {
            message_id: "ses-0042".into(),
            at: now()
        }
    );
}

#[tokio::test]
async fn a_failure_is_counted_releases_the_lease_and_keeps_the_notice_pending() {
    let ledger = ledger().await;
    let notice = email_notice("P1", &["L1"], DAY);
    ledger
        .record_plan(&plan_of(vec![notice.clone()], DAY), None)
        .await
        .unwrap();
    let lease = Duration::minutes(5);
    assert!(matches!(
        ledger.claim(&notice.id, now(), lease).await.unwrap(),
        Claim::Claimed(_)
    ));
    ledger
        .record_failure(&notice.id, "throttled")
        .await
        .unwrap();
    ledger
        .record_failure(&notice.id, "throttled")
        .await
        .unwrap();
    let emails = pending(&ledger, Channel::Email).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].attempts, 2);
    let retried = ledger
        .claim(&notice.id, now() + Duration::minutes(1), lease)
        .await;
    assert!(matches!(retried.unwrap(), Claim::Claimed(n) if n.attempts == 2));
}

#[tokio::test]
async fn cancelled_notices_leave_the_pending_list_and_sent_ones_stay_sent() {
    let ledger = ledger().await;
    let a = email_notice("P1", &["L1"], DAY);
    let b = email_notice("P2", &["L2"], DAY);
    ledger
        .record_plan(&plan_of(vec![a.clone(), b.clone()], DAY), None)
        .await
        .unwrap();
    ledger.record_sent(&a.id, "ses-a", now()).await.unwrap();
    ledger
        .cancel(&a.id, CancelReason::NothingLeft)
        .await
        .unwrap();
    ledger
        .cancel(&b.id, CancelReason::NothingLeft)
        .await
        .unwrap();
    assert!(pending(&ledger, Channel::Email).await.is_empty());
    let a = ledger.notice(&a.id).await.unwrap().unwrap();
    assert!(
        matches!(a.status, NoticeStatus::Sent { .. }),
        "{:?}",
        a.status
    );
    let b = ledger.notice(&b.id).await.unwrap().unwrap();
    assert_eq!(
        b.status,
        NoticeStatus::Cancelled {
            reason: CancelReason::NothingLeft
        }
    );
    assert_eq!(
        ledger
            .claim(&b.id, now(), Duration::minutes(5))
            .await
            .unwrap(),
        Claim::Done
    );
}

#[tokio::test]
async fn falling_back_to_print_cancels_the_email_and_merges_into_the_library_letter() {
    let ledger = ledger().await;
    let email = email_notice("P1", &["L1", "L2"], DAY);
    ledger
        .record_plan(&plan_of(vec![email.clone()], DAY), None)
        .await
        .unwrap();
    let letter = letter_for(&email, email.loans.clone());
    ledger
        .fall_back_to_print(&email.id, std::slice::from_ref(&letter))
        .await
        .unwrap();
    // A retry (the first attempt's reply was lost) changes nothing.
    ledger
        .fall_back_to_print(&email.id, std::slice::from_ref(&letter))
        .await
        .unwrap();

    assert!(pending(&ledger, Channel::Email).await.is_empty());
    let cancelled = ledger.notice(&email.id).await.unwrap().unwrap();
    assert_eq!(
        cancelled.status,
        NoticeStatus::Cancelled {
            reason: CancelReason::FellBackToPrint
        }
    );
    let letters = pending(&ledger, Channel::Letter).await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].id, letter.id);
    assert_eq!(loan_ids(&letters[0]), ["L1", "L2"]);
    for loan in &email.loans {
        assert_eq!(
            marker_notice(&ledger, &key_of(loan)).await.as_deref(),
            Some(letter.id.as_str()),
            "the markers follow the loans to the letter"
        );
    }
}

#[tokio::test]
async fn a_fallback_merges_into_the_pending_letter_of_that_day() {
    let ledger = ledger().await;
    let email = email_notice("P1", &["L1"], DAY);
    let stage = StageName::parse("letter").unwrap();
    let day_letter = Notice {
        stage: stage.clone(),
        ..letter_for(&email, vec![loan("L7", &stage)])
    };
    let plan = plan_of(vec![email.clone(), day_letter.clone()], DAY);
    ledger.record_plan(&plan, None).await.unwrap();
    let fallback = letter_for(&email, email.loans.clone());
    ledger
        .fall_back_to_print(&email.id, &[fallback])
        .await
        .unwrap();
    let letters = pending(&ledger, Channel::Letter).await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].id, day_letter.id);
    assert_eq!(loan_ids(&letters[0]), ["L1", "L7"]);
}

#[tokio::test]
async fn a_fallback_after_the_day_letter_went_out_makes_a_new_letter() {
    let ledger = ledger().await;
    let email = email_notice("P1", &["L1"], DAY);
    let day_letter = Notice {
        stage: StageName::parse("letter").unwrap(),
        ..letter_for(&email, vec![])
    };
    let plan = plan_of(vec![email.clone(), day_letter.clone()], DAY);
    ledger.record_plan(&plan, None).await.unwrap();
    ledger
        .record_sent(&day_letter.id, "outbox:batch", now())
        .await
        .unwrap();
    let fallback = Notice {
        loans: email.loans.clone(),
        ..day_letter.clone()
    };
    ledger
        .fall_back_to_print(&email.id, &[fallback])
        .await
        .unwrap();
    let letters = pending(&ledger, Channel::Letter).await;
    assert_eq!(
        letters.len(),
        1,
        "the loans are not merged into the printed letter"
    );
    assert_ne!(letters[0].id, day_letter.id);
    assert_eq!(
        letters[0].id,
        NoticeId::derive(&format!("{}|after|{}", day_letter.id, email.id)),
        "the fresh letter's id is the one the SQLite ledger gives"
    );
    assert_eq!(loan_ids(&letters[0]), ["L1"]);
    let printed = ledger.notice(&day_letter.id).await.unwrap().unwrap();
    assert!(printed.loans.is_empty());
}

#[tokio::test]
async fn runs_are_listed_latest_first() {
    let ledger = ledger().await;
    let summary = |d: &str, sent: usize| RunSummary {
        run_day: day(d),
        emails_sent: sent,
        ..RunSummary::default()
    };
    ledger.record_run(&summary("2026-11-28", 1)).await.unwrap();
    ledger.record_run(&summary(DAY, 2)).await.unwrap();
    ledger.record_run(&summary(DAY, 3)).await.unwrap();
    let runs = ledger.runs(2).await.unwrap();
    assert_eq!(runs, [summary(DAY, 3), summary(DAY, 2)]);
    assert_eq!(ledger.runs(10).await.unwrap().len(), 3);
}
