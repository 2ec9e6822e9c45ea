//! The sync function (rules §15) against the emulators and Koha's stand-in: the
//! client secret read from Secrets Manager (moto), every open loan pulled into
//! DynamoDB as a snapshot, and the planner plans from it what it plans from the
//! equivalent CSV import; a 500 mid-pull leaves the table as it was; with
//! `[source] recheck`, the mailer drops a loan the system says came back.

use relance_core::ids::LoanId;
use relance_core::ladder::Channel;
use relance_core::notice::NoticeStatus;
use relance_core::ports::{Ledger, LoanStore};
use relance_tests::day;
use relance_tests::stack::{Stack, morning};
use relance_tests::standins::{CLIENT_SECRET, Fault, Fixture, Kind, StandIn};

/// The stand-in's `[source]`, its client secret named by the secret's ARN.
fn source_with_secret(stand_in: &StandIn, arn: &str) -> String {
    let source = stand_in.source_toml(false);
    let by_env = "client_secret_env = \"RELANCE_TEST_KOHA_SECRET\"";
    assert!(source.contains(by_env), "{source}");
    source.replace(by_env, &format!("client_secret_secret = \"{arn}\""))
}

fn fixture() -> Fixture {
    Fixture::sample(40, 150, "2026-11-20")
}

/// The CSV rows of an export (its header apart).
fn split(csv: &str) -> (String, Vec<String>) {
    let mut lines = csv.lines().map(str::to_owned);
    let header = lines.next().expect("header");
    (header, lines.filter(|l| !l.is_empty()).collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_through_the_sync_function_plans_what_the_csv_import_plans() {
    let fixture = fixture();
    let run_day = day("2026-11-30");

    let imported = Stack::new().await;
    let (header, rows) = split(&fixture.patrons_csv(true));
    imported.import("patrons.csv", &rows, &header).await;
    let (header, rows) = split(&fixture.loans_csv());
    imported.import("loans.csv", &rows, &header).await;
    let planned_from_csv = imported.plan(run_day).await;

    let synced = Stack::new().await;
    let stand_in = StandIn::start(Kind::Koha, fixture.clone());
    let arn = synced.secret(CLIENT_SECRET).await;
    let out = synced
        .sync(&source_with_secret(&stand_in, &arn))
        .await
        .expect("synced");
    assert_eq!((out.system, out.loans, out.patrons), ("koha", 150, 40));
    assert!(out.calls >= 3, "{out:?}");
    let summary = out.imported.as_ref().expect("imported");
    assert_eq!(
        (
            summary.loans_inserted,
            summary.patrons_inserted,
            summary.rejected
        ),
        (150, 40, 0)
    );
    // The secret went to the stand-in as the OAuth2 client secret, and nowhere in the output.
    assert!(
        stand_in
            .requests()
            .iter()
            .any(|r| String::from_utf8_lossy(&r.body).contains(CLIENT_SECRET)),
        "the token request carries the secret"
    );
    assert!(!format!("{out:?}").contains(CLIENT_SECRET));

    let planned = synced.plan(run_day).await;
    assert!(planned.emails_queued > 0, "{planned:?}");
    assert_eq!(planned.summary.notices, planned_from_csv.summary.notices);
    assert_eq!(
        (planned.emails_queued, planned.letter_batches_queued),
        (
            planned_from_csv.emails_queued,
            planned_from_csv.letter_batches_queued
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_500_mid_pull_leaves_the_table_as_it_was() {
    let fixture = fixture();
    let stack = Stack::new().await;
    let stand_in = StandIn::start(Kind::Koha, fixture.clone());
    let source = source_with_secret(&stand_in, &stack.secret(CLIENT_SECRET).await);
    stack.sync(&source).await.expect("first pull");

    // Returned since: a whole pull would close it; this one fails on page 2.
    let returned = &fixture.loans[0].id;
    stand_in.return_loan(returned, "2026-11-29T10:00:00+01:00");
    stand_in.fail_page(2, Fault::ServerError);
    let err = stack.sync(&source).await.expect_err("a failed pull");
    let text = format!("{err:#}");
    assert!(
        text.contains("the pull from koha failed") && text.contains("HTTP 500"),
        "{text}"
    );
    assert!(!text.contains(CLIENT_SECRET));

    let ids: Vec<LoanId> = fixture
        .loans
        .iter()
        .map(|l| LoanId::parse(&l.id).unwrap())
        .collect();
    let loans = stack.dynamo().loans(&ids).await.unwrap();
    assert_eq!(loans.len(), 150);
    assert!(
        loans.iter().all(|l| l.returned_at.is_none()),
        "no loan closed by a partial pull"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_that_cannot_be_read_is_an_error_at_start_naming_it() {
    let stack = Stack::new().await;
    let stand_in = StandIn::start(Kind::Koha, fixture());
    let missing = "arn:aws:secretsmanager:eu-west-3:123456789012:secret:relance-missing-AbCdEf";
    let err = match stack
        .sync_function(
            &source_with_secret(&stand_in, missing),
            stack.clients.clone(),
        )
        .await
    {
        Ok(_) => panic!("built without its secret"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains(missing), "{err}");
    assert!(stand_in.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mailer_checks_loans_against_the_system_and_drops_one_returned_since_the_pull() {
    let run_day = day("2026-11-30");
    let stack = Stack::new().await;
    let stand_in = StandIn::start(Kind::Koha, fixture());
    let source = source_with_secret(&stand_in, &stack.secret(CLIENT_SECRET).await);
    stack.sync(&source).await.expect("pulled");
    stack.plan(run_day).await;

    // One patron's reminder: every loan it lists came back after the pull.
    let notices = stack.dynamo().notices_on(run_day).await.unwrap();
    let emails: Vec<_> = notices
        .iter()
        .filter(|n| n.channel == Channel::Email && n.status == NoticeStatus::Pending)
        .collect();
    assert!(emails.len() >= 3, "{} email notices", emails.len());
    let back = &emails[0];
    let returned: Vec<LoanId> = back.loans.iter().map(|l| l.loan_id.clone()).collect();
    for id in &returned {
        stand_in.return_loan(id.as_str(), "2026-11-29T17:30:00+01:00");
    }
    let checked: usize = emails.iter().map(|n| n.loans.len()).sum();

    stack
        .use_source(&source.replace("recheck = false", "recheck = true"))
        .await;
    let asked_before = stand_in.requests().len();
    assert_eq!(stack.deliver_mail(morning(run_day)).await, 0);

    let after = stack.dynamo().notices_on(run_day).await.unwrap();
    let status = |id| &after.iter().find(|n| &n.id == id).unwrap().status;
    assert!(
        matches!(status(&back.id), NoticeStatus::Cancelled { .. }),
        "{:?}",
        status(&back.id)
    );
    for other in &emails[1..] {
        assert!(
            matches!(status(&other.id), NoticeStatus::Sent { .. }),
            "{:?}",
            status(&other.id)
        );
    }
    let loans = stack.dynamo().loans(&returned).await.unwrap();
    assert!(
        loans.iter().all(|l| l.returned_at.is_some()),
        "the returns are recorded in the table"
    );
    // One call per loan of the day's reminders, counted for the day.
    let asked = stand_in.requests().len() - asked_before;
    assert!(asked >= checked, "{asked} requests for {checked} loans");
    let delivered = stack.dynamo().delivered(&[run_day]).await.unwrap();
    let counters = &delivered[&run_day];
    assert_eq!(counters.get("recheck_calls"), Some(&(checked as u64)));
    assert_eq!(
        counters.get("rechecked_returned"),
        Some(&(returned.len() as u64))
    );
    assert_eq!(counters.get("not_rechecked"), None);
}
