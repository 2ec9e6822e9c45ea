//! Personal data expires on AWS too (rules §16): items get their `expires_at`
//! (DynamoDB TTL, epoch seconds) when they become purgeable, after the config's
//! `[retention]`; and a patron's data is exported and erased through the
//! `PatronRecords` port, their markers kept. Against DynamoDB Local.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use relance_aws::dynamo::table::{
    EXPIRES_AT, create_table, loan_key, marker_key, notice_key, patron_key, reference_key,
    reply_key,
};
use relance_aws::dynamo::{Dynamo, Item, key_item};
use relance_core::address::EmailAddress;
use relance_core::config::Retention;
use relance_core::ids::{LibraryCode, LoanId, PatronId, StageName};
use relance_core::inbound::{FeedbackKind, FeedbackRecord, MailClass, ReplyRecord};
use relance_core::ladder::Channel;
use relance_core::model::{self, EmailStatus, Loan, Patron, PostalAddress};
use relance_core::notice::{Marker, MarkerKey, MarkerOutcome, Notice, NoticeLoan};
use relance_core::plan::RunPlan;
use relance_core::ports::{Correspondence, Ledger, PatronRecords};
use relance_tests::day;
use relance_tests::emulators::{clients, unique};

async fn store() -> Dynamo {
    let clients = clients();
    let table = unique("retention");
    create_table(&clients.dynamodb, &table)
        .await
        .expect("table");
    Dynamo::new(clients.dynamodb, table).with_retention(Retention::default(), Paris)
}

async fn item(store: &Dynamo, key: (String, String)) -> Option<Item> {
    store
        .client()
        .get_item()
        .table_name(store.table())
        .set_key(Some(key_item(key)))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

async fn expires(store: &Dynamo, key: (String, String)) -> Option<i64> {
    let value = item(store, key)
        .await
        .expect("item")
        .get(EXPIRES_AT)
        .cloned()?;
    let n = value
        .as_n()
        .unwrap_or_else(|_| panic!("expires_at must be a number: {value:?}"));
    Some(n.parse().unwrap())
}

fn paris(date: &str, hour: u32) -> DateTime<Utc> {
    Paris
        .from_local_datetime(&day(date).and_hms_opt(hour, 0, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn patron(id: &str) -> Patron {
    Patron {
        id: PatronId::parse(id).unwrap(),
        full_name: "Camille Martin".into(),
        email: Some(EmailAddress::parse("camille.martin@etu.example.fr").unwrap()),
        email_status: EmailStatus::Deliverable,
        address: PostalAddress {
            line1: "12 rue Sainte-Catherine".into(),
            line2: String::new(),
            postcode: "33000".into(),
            city: "Bordeaux".into(),
            country: String::new(),
        },
        language: None,
        courtesy_opt_out: false,
    }
}

fn loan(id: &str, patron: &str, returned: Option<DateTime<Utc>>) -> Loan {
    let due_at = paris("2026-12-28", 23);
    Loan {
        id: LoanId::parse(id).unwrap(),
        patron_id: PatronId::parse(patron).unwrap(),
        library: LibraryCode::parse("STS").unwrap(),
        item: model::Item {
            barcode: format!("B{id}"),
            title: "Les Misérables".into(),
            author: "Victor Hugo".into(),
            call_number: "843.7 HUG".into(),
        },
        loaned_at: None,
        due_at,
        due_date: day("2026-12-28"),
        returned_at: returned,
    }
}

/// A plan of 2027-01-04: P1's first reminder for L1, due 2026-12-28.
fn plan() -> (RunPlan, Notice, MarkerKey) {
    let run_day = day("2027-01-04");
    let patron = PatronId::parse("P1").unwrap();
    let stage = StageName::parse("first_reminder").unwrap();
    let key = MarkerKey {
        loan_id: LoanId::parse("L1").unwrap(),
        due_date: day("2026-12-28"),
        stage: stage.clone(),
    };
    let notice = Notice::pending(
        Notice::email_id(&patron, &stage, run_day),
        run_day,
        patron,
        Channel::Email,
        stage.clone(),
        None,
        vec![NoticeLoan {
            loan_id: key.loan_id.clone(),
            due_date: key.due_date,
            stage,
        }],
    );
    let plan = RunPlan {
        run_day: Some(run_day),
        planned_days: vec![run_day],
        notices: vec![notice.clone()],
        markers: vec![Marker {
            key: key.clone(),
            run_day,
            outcome: MarkerOutcome::Notice(notice.id.clone()),
        }],
        ..RunPlan::default()
    };
    (plan, notice, key)
}

fn start(date: &str) -> i64 {
    relance_core::retention::start_of_day(day(date), Paris).timestamp()
}

#[tokio::test]
async fn a_returned_loan_and_its_patron_left_without_loans_expire_and_a_new_loan_keeps_the_patron()
{
    let store = store().await;
    store.put_patrons(&[patron("P1")]).await.unwrap();
    store
        .put_loans(&[loan("L1", "P1", None), loan("L2", "P1", None)])
        .await
        .unwrap();
    assert_eq!(
        expires(&store, loan_key(&LoanId::parse("L1").unwrap())).await,
        None
    );
    let p1 = patron_key(&PatronId::parse("P1").unwrap());
    assert_eq!(expires(&store, p1.clone()).await, None);

    let returned = paris("2027-01-01", 11);
    store
        .put_loans(&[loan("L1", "P1", Some(returned))])
        .await
        .unwrap();
    assert_eq!(
        expires(&store, loan_key(&LoanId::parse("L1").unwrap())).await,
        Some(start("2027-01-31")),
        "30 days after the local day of return"
    );
    assert_eq!(expires(&store, p1.clone()).await, None, "L2 is still open");

    store
        .put_loans(&[loan("L2", "P1", Some(returned))])
        .await
        .unwrap();
    assert_eq!(
        expires(&store, p1.clone()).await,
        Some(start("2028-01-01")),
        "the patron outlives the notices they may have had"
    );

    store.put_loans(&[loan("L3", "P1", None)]).await.unwrap();
    assert_eq!(
        expires(&store, p1).await,
        None,
        "borrowing again keeps the patron"
    );
}

#[tokio::test]
async fn notices_references_markers_and_mail_records_carry_their_expiry() {
    let store = store().await;
    let (plan, notice, key) = plan();
    store.record_plan(&plan, None).await.unwrap();
    assert_eq!(
        expires(&store, notice_key(&notice.id)).await,
        Some(start("2028-01-04"))
    );
    assert_eq!(
        expires(&store, reference_key(notice.reference.as_str())).await,
        Some(start("2028-01-04"))
    );
    assert_eq!(
        expires(&store, marker_key(&key)).await,
        Some(start("2028-02-08")),
        "a marker is kept at least 400 days"
    );
    let reply = ReplyRecord {
        id: "m-1".into(),
        received_at: paris("2027-01-05", 10),
        class: MailClass::Reply,
        patron_id: Some(notice.patron_id.clone()),
        notice_id: Some(notice.id.clone()),
        linked_by: None,
        source: "inbound/m-1".into(),
        forwarded: None,
    };
    store.record_reply(&reply).await.unwrap();
    assert_eq!(
        expires(&store, reply_key("m-1")).await,
        Some(start("2027-04-05"))
    );
}

#[tokio::test]
async fn a_patron_is_exported_then_erased_and_their_marker_still_stops_a_second_notice() {
    let store = store().await;
    store
        .put_patrons(&[patron("P1"), patron("P2")])
        .await
        .unwrap();
    store
        .put_loans(&[loan("L1", "P1", None), loan("L9", "P2", None)])
        .await
        .unwrap();
    let (plan, notice, key) = plan();
    store.record_plan(&plan, None).await.unwrap();
    let p1 = PatronId::parse("P1").unwrap();
    store
        .record_feedback(&FeedbackRecord {
            id: "f-1".into(),
            at: paris("2027-01-05", 10),
            kind: FeedbackKind::HardBounce,
            patron_id: Some(p1.clone()),
            notice_id: Some(notice.id.clone()),
        })
        .await
        .unwrap();

    let export = store.export_patron(&p1).await.unwrap();
    assert_eq!(export.patron.as_ref().map(|p| p.id.as_str()), Some("P1"));
    assert_eq!(export.loans.len(), 1);
    assert_eq!(export.notices, vec![notice.clone()]);
    assert_eq!(export.feedback.len(), 1);

    let erased = store.erase_patron(&p1).await.unwrap();
    assert_eq!(
        (
            erased.patrons,
            erased.loans,
            erased.notices,
            erased.feedback,
            erased.markers_kept
        ),
        (1, 1, 1, 1, 1)
    );
    assert!(store.export_patron(&p1).await.unwrap().is_empty());
    assert!(
        item(&store, reference_key(notice.reference.as_str()))
            .await
            .is_none()
    );
    let marker = item(&store, marker_key(&key))
        .await
        .expect("the marker stays");
    assert!(!marker.contains_key("notice_id"), "{marker:?}");
    assert_eq!(
        store
            .handled(std::slice::from_ref(&key))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .export_patron(&PatronId::parse("P2").unwrap())
            .await
            .unwrap()
            .patron
            .is_some()
    );
}
