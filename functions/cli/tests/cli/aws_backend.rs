//! `relance --backend aws` against the emulators (rules §13): the same commands
//! read and act on the deployment's DynamoDB table and its config in S3, and
//! show what the embedded store shows for the same data.

use std::process::{Command, Output};

use relance_tests::stack::Stack;
use relance_tests::{LOANS_HEADER, PATRONS_HEADER, TestEnv, block_on, day, loan_row, patron_row};

const RELANCE: &str = env!("CARGO_BIN_EXE_relance");

/// The command on the stack's deployment, with the functions' variables and
/// the emulators' endpoints and dummy credentials.
fn on_aws(stack: &Stack, args: &[&str]) -> Output {
    let port = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let config = format!("s3://{}/config/relance.toml", stack.resources.bucket);
    Command::new(RELANCE)
        .args(["--backend", "aws", "--config", &config])
        .args(args)
        .env("RELANCE_TABLE", &stack.resources.table)
        .env(
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", port("RELANCE_MOTO_PORT", "5000")),
        )
        .env(
            "AWS_ENDPOINT_URL_DYNAMODB",
            format!("http://127.0.0.1:{}", port("RELANCE_DYNAMODB_PORT", "8000")),
        )
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "eu-west-3")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the relance binary runs")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn patrons() -> Vec<String> {
    vec![
        patron_row("P1", "Camille Martin", "camille.martin@example.org", false),
        patron_row("P2", "Jean Sans-Courriel", "", false),
    ]
}

fn loans() -> Vec<String> {
    let run_day = day("2026-11-30");
    vec![
        loan_row("L1", "P1", "STS", run_day - chrono::Duration::days(7), None),
        loan_row("L2", "P1", "DRT", run_day - chrono::Duration::days(7), None),
        loan_row(
            "L3",
            "P2",
            "LSH",
            run_day - chrono::Duration::days(35),
            None,
        ),
    ]
}

#[test]
fn status_dry_run_resume_forecast_and_preview_work_on_the_deployment() {
    let stack = block_on(async {
        let stack = Stack::new().await;
        stack
            .import("patrons.csv", &patrons(), PATRONS_HEADER)
            .await;
        stack.import("loans.csv", &loans(), LOANS_HEADER).await;
        stack
    });

    // What the embedded store plans for the same data.
    let local = TestEnv::new();
    local.import(&patrons(), &loans());
    let (expected, _) =
        block_on(local.engine().plan_and_record(day("2026-11-30"), true)).expect("planned");

    let planned = json(&on_aws(
        &stack,
        &["run", "--dry-run", "--date", "2026-11-30", "--json"],
    ));
    assert_eq!(
        planned["notices"],
        serde_json::to_value(&expected.notices).unwrap()
    );
    assert_eq!(planned["dry_run"], true);
    let status = json(&on_aws(&stack, &["status", "--json"]));
    assert_eq!(
        status["watermark"],
        serde_json::Value::Null,
        "a dry run records nothing"
    );
    assert_eq!(status["table"], stack.resources.table.as_str());

    // The planner runs the day: status shows its manifest and what waits.
    block_on(stack.plan(day("2026-11-30")));
    let status = json(&on_aws(&stack, &["status", "--json"]));
    assert_eq!(status["watermark"], "2026-11-30");
    assert_eq!(status["last_runs"][0]["run_day"], "2026-11-30");
    let pending: u64 = status["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        pending, 2,
        "P1's reminder and P2's letter, not delivered yet"
    );

    // A patron's notices, as the table holds them.
    let history = on_aws(&stack, &["history", "P1"]);
    let text = String::from_utf8_lossy(&history.stdout);
    assert!(
        history.status.success(),
        "{}",
        String::from_utf8_lossy(&history.stderr)
    );
    assert!(
        text.starts_with("Patron P1: 1 notices, newest first"),
        "{text}"
    );
    assert!(text.contains("first_reminder email"), "{text}");
    assert!(text.contains("L1 ") && text.contains("L2 "), "{text}");

    // Resume moves the deployment's watermark.
    let resumed = on_aws(&stack, &["resume", "--date", "2026-12-10"]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let status = json(&on_aws(&stack, &["status", "--json"]));
    assert_eq!(status["watermark"], "2026-12-09");

    let forecast = json(&on_aws(
        &stack,
        &["forecast", "--from", "2026-12-10", "--days", "60", "--json"],
    ));
    assert!(
        forecast["days"].as_array().is_some_and(|d| d.len() == 60),
        "{forecast}"
    );

    let out = tempfile::tempdir().unwrap();
    let preview = on_aws(
        &stack,
        &[
            "preview",
            "--date",
            "2026-12-10",
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    assert!(
        preview.status.success(),
        "{}",
        String::from_utf8_lossy(&preview.stderr)
    );
    assert!(out.path().join("index.html").exists());
}

#[test]
fn a_command_that_only_the_embedded_store_has_says_what_does_its_job_on_aws() {
    let stack = block_on(Stack::new());
    let out = on_aws(&stack, &["import", "--loans", "loans.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not with --backend aws: imports go through the importer"),
        "{err}"
    );
    let out = on_aws(&stack, &["run", "--date", "2026-11-30"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("the planner function"));
}
