//! Code and infrastructure cannot silently part: `infra/template.yaml` is read
//! and checked against what the functions' code reads and calls.
//!
//! - Each function's environment variables are exactly those its crate reads
//!   (`env::required` / `env::optional` literals, and `RELANCE_CONFIG` where it
//!   calls `ConfigSource::from_env`), and each points at the right resource.
//! - Each function's IAM policy allows every AWS call the function makes,
//!   measured: the functions' handlers run against the emulators through a
//!   recording proxy (`relance_tests::recorder`), with settings taken from the
//!   template, and every recorded call (action, resource ARN, condition keys)
//!   must be allowed by that function's statements in the template.
//! - The table is the one `create_table` makes (its CreateTable request, recorded).
//! - Each SQS-triggered function reports batch item failures and its queue's
//!   visibility timeout is at least 6 times the function's timeout.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::Duration;
use relance_aws::env::ConfigSource;
use relance_tests::emulators::unique;
use relance_tests::recorder::{ACCOUNT, Access, RecordingProxy};
use relance_tests::stack::SENDER;

mod measure;
mod template;

use measure::measure;
use template::{Statement, Template, glob};

const REGION: &str = "eu-west-3";
const STACK_NAME: &str = "relance";
/// The staff inbox of the tests' config.
const STAFF: &str = "equipe-contentieux@bibliotheques.example.fr";
/// Functions written alongside the template: checked once their crate exists.
const UPCOMING: [&str; 2] = ["inbound", "feedback"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

// ---------------------------------------------------------------- the code

/// The variables a crate's sources read from the environment.
fn variables_read(crate_dir: &Path) -> BTreeSet<String> {
    let mut vars = BTreeSet::new();
    let mut pending = vec![crate_dir.join("src")];
    while let Some(dir) = pending.pop() {
        let entries: Vec<PathBuf> = if dir.is_file() {
            vec![dir.clone()]
        } else {
            let listed = std::fs::read_dir(&dir).expect("src folder").flatten();
            listed.map(|entry| entry.path()).collect()
        };
        for path in entries {
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            // What the shared function context reads, for the crates built on it.
            if text.contains("Function::from_env()") {
                pending.push(
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/aws/src/function.rs"),
                );
            }
            for call in [
                "env::required(\"",
                "env::optional(\"",
                "env::var(\"",
                "env::var_os(\"",
            ] {
                for (at, _) in text.match_indices(call) {
                    let rest = &text[at + call.len()..];
                    vars.insert(rest[..rest.find('"').expect("literal")].to_owned());
                }
            }
            if text.contains("ConfigSource::from_env()") {
                vars.insert("RELANCE_CONFIG".to_owned());
            }
        }
    }
    vars
}

/// The `[[bin]]` name of a crate.
fn binary_of(crate_dir: &Path) -> String {
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).expect("Cargo.toml");
    let bin = &manifest[manifest.find("[[bin]]").expect("[[bin]]")..];
    let line = bin
        .lines()
        .find(|l| l.trim_start().starts_with("name"))
        .expect("bin name");
    line.split('"').nth(1).expect("quoted name").to_owned()
}

/// The crate folder of a template function, or `None` for an upcoming one.
fn crate_of(function: &str, folder: &str) -> Option<PathBuf> {
    let dir = root().join("functions").join(folder);
    if dir.join("Cargo.toml").is_file() {
        return Some(dir);
    }
    assert!(
        UPCOMING.contains(&folder),
        "{function}: functions/{folder} does not exist"
    );
    eprintln!("{function}: functions/{folder} does not exist yet; not checked");
    None
}

#[test]
fn each_function_gets_exactly_the_variables_its_code_reads() {
    let template = Template::load();
    let functions = template.functions();
    assert!(functions.len() >= 4, "{functions:?}");
    let bucket = template.reference("Bucket");
    for (function, folder) in &functions {
        let Some(dir) = crate_of(function, folder) else {
            continue;
        };
        let meta = &template.resource(function)["Metadata"];
        assert_eq!(
            meta["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{function}"
        );
        assert_eq!(
            meta["BuildProperties"]["Binary"].as_str(),
            Some(binary_of(&dir).as_str()),
            "{function}: Binary is not the crate's [[bin]]"
        );
        let env = template.environment(function);
        let set: BTreeSet<String> = env.keys().cloned().collect();
        assert_eq!(
            set,
            variables_read(&dir),
            "{function}: template vs functions/{folder}/src"
        );
        // Each variable names the resource it must.
        for (name, value) in &env {
            let expected = match name.as_str() {
                "RELANCE_TABLE" => template.reference("Table"),
                "RELANCE_BUCKET" => bucket.clone(),
                "RELANCE_MAIL_QUEUE_URL" => template.reference("MailQueue"),
                "RELANCE_LETTER_QUEUE_URL" => template.reference("LetterQueue"),
                "RELANCE_MAIL_DLQ_URL" => template.reference("MailDeadLetterQueue"),
                "RELANCE_LETTER_DLQ_URL" => template.reference("LetterDeadLetterQueue"),
                "RELANCE_FAILED_INVOCATIONS_URL" => template.reference("FailedInvocationsQueue"),
                "RELANCE_SES_CONFIGURATION_SET" => template.reference("ConfigurationSet"),
                "RELANCE_CONFIG" => {
                    let key = template.reference("ConfigKey");
                    assert_eq!(
                        ConfigSource::parse(value).expect("RELANCE_CONFIG"),
                        ConfigSource::S3 {
                            bucket: bucket.clone(),
                            key
                        }
                    );
                    continue;
                }
                other => panic!("{function}: no expectation for {other}"),
            };
            assert_eq!(value, &expected, "{function}: {name}");
        }
    }
}

#[test]
fn queues_outlast_their_functions_and_report_partial_failures() {
    let template = Template::load();
    let mut checked = 0;
    for function in template.functions().keys() {
        let props = &template.resource(function)["Properties"];
        let timeout: u64 = template.text(&props["Timeout"]).parse().unwrap();
        for (_, event) in props["Events"].as_mapping().into_iter().flatten() {
            if event["Type"].as_str() != Some("SQS") {
                continue;
            }
            let p = &event["Properties"];
            let queue = template.render(&p["Queue"])[0]
                .rsplit(':')
                .next()
                .unwrap()
                .to_owned();
            let (id, _) = template
                .resources()
                .find(|(id, r)| {
                    r["Type"].as_str() == Some("AWS::SQS::Queue")
                        && template.attribute(id, "QueueName") == queue
                })
                .expect("the event's queue");
            let visibility: u64 = template
                .property(id, "VisibilityTimeout")
                .unwrap()
                .parse()
                .unwrap();
            assert!(
                visibility >= 6 * timeout,
                "{id}: {visibility} s < 6 x {function}'s {timeout} s"
            );
            assert!(
                !template.resource(id)["Properties"]["RedrivePolicy"].is_null(),
                "{id}: no DLQ"
            );
            assert_eq!(
                template.render(&p["FunctionResponseTypes"]),
                ["ReportBatchItemFailures"]
            );
            let concurrency: u64 = template
                .text(&p["ScalingConfig"]["MaximumConcurrency"])
                .parse()
                .unwrap();
            assert!(
                concurrency >= 2,
                "{function}: MaximumConcurrency {concurrency}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 2, "the mail and letters queues");
    // The mailer's claim must expire before SQS shows its message again.
    let visibility: i64 = template
        .property("MailQueue", "VisibilityTimeout")
        .unwrap()
        .parse()
        .unwrap();
    assert!(relance_mailer::LEASE < Duration::seconds(visibility));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_table_is_the_one_the_code_creates() {
    let template = Template::load();
    let proxy = RecordingProxy::for_emulators();
    let _ = relance_tests::emulators::clients();
    relance_aws::dynamo::table::create_table(&proxy.clients().dynamodb, &unique("table"))
        .await
        .expect("table");
    let recorded = proxy.take();
    let body = |op: &str| {
        recorded
            .iter()
            .find(|r| r.json_operation() == Some(op))
            .unwrap_or_else(|| panic!("no {op} recorded"))
            .json()
    };
    let created = body("CreateTable");
    let props = serde_json::to_value(&template.resource("Table")["Properties"]).unwrap();
    let set = |v: &serde_json::Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.to_string())
            .collect()
    };
    assert_eq!(props["KeySchema"], created["KeySchema"]);
    assert_eq!(
        set(&props["AttributeDefinitions"]),
        set(&created["AttributeDefinitions"])
    );
    let indexes = |v: &serde_json::Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| {
                format!(
                    "{} {} {}",
                    i["IndexName"], i["KeySchema"], i["Projection"]["ProjectionType"]
                )
            })
            .collect()
    };
    assert_eq!(
        indexes(&props["GlobalSecondaryIndexes"]),
        indexes(&created["GlobalSecondaryIndexes"])
    );
    assert_eq!(props["BillingMode"], created["BillingMode"]);
    assert_eq!(
        props["TimeToLiveSpecification"]["AttributeName"],
        body("UpdateTimeToLive")["TimeToLiveSpecification"]["AttributeName"]
    );
}

// ---------------------------------------------------------------- measured IAM

/// Why `access` is refused by `statements`, or `None` when it is allowed.
fn refusal(statements: &[Statement], access: &Access) -> Option<String> {
    if access.action.starts_with("unmapped:") {
        return Some(format!(
            "{}: map it in tests/src/recorder.rs",
            access.action
        ));
    }
    let denied = statements.iter().find(|s| !s.allow && s.applies(access));
    if let Some(s) = denied {
        return Some(format!(
            "{} on {}: denied by {}",
            access.action, access.resource, s.sid
        ));
    }
    if statements.iter().any(|s| s.allow && s.applies(access)) {
        None
    } else {
        Some(format!(
            "{} on {} ({:?})",
            access.action, access.resource, access.context
        ))
    }
}

#[test]
fn each_function_may_make_every_call_it_makes() {
    let template = Template::load();
    // Every function's handler in one future: in a debug build, polling it
    // outgrows a test thread's 2 MiB stack, so it runs on a thread of its own.
    let measured = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("measure".into())
            .stack_size(32 << 20)
            .spawn_scoped(scope, || {
                tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(measure(&template))
            })
            .expect("measuring thread")
            .join()
            .expect("measured")
    });
    let mut failures = Vec::new();
    for (function, folder) in template.functions() {
        if crate_of(&function, &folder).is_none() {
            continue;
        }
        let calls = measured
            .calls
            .get(&function)
            .unwrap_or_else(|| panic!("{function}: no scenario measures it; add one to measure()"));
        assert!(!calls.is_empty(), "{function}: no call recorded");
        let statements = template.statements(&function);
        let distinct: BTreeSet<(String, String)> = calls
            .iter()
            .map(|a| measured.as_deployed(a))
            .map(|a| (a.action, a.resource))
            .collect();
        for (action, resource) in &distinct {
            eprintln!("{function} calls {action} on {resource}");
        }
        let mut used = BTreeSet::new();
        let mut refused = BTreeSet::new();
        for access in calls.iter().map(|a| measured.as_deployed(a)) {
            match refusal(&statements, &access) {
                Some(why) => {
                    refused.insert(why);
                }
                None => {
                    for s in statements.iter().filter(|s| s.applies(&access)) {
                        used.insert((s.sid.clone(), access.action.to_ascii_lowercase()));
                    }
                }
            }
        }
        for why in refused {
            failures.push(format!("{function}: {why}"));
        }
        // Granted but not exercised by the scenario: shown for review, not failed
        // (some paths — a lost race, a conflict — are not taken here).
        for s in statements.iter().filter(|s| s.allow) {
            for action in &s.actions {
                if !used.contains(&(s.sid.clone(), action.to_ascii_lowercase())) {
                    eprintln!(
                        "{function}: {} grants {action}, not called in this scenario",
                        s.sid
                    );
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "calls the template does not allow:\n{}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------- the checker itself

const MINI: &str = r#"
Parameters:
  SenderAddress: {Type: String}
  StaffInbox: {Type: String}
Resources:
  Table: {Type: AWS::DynamoDB::Table, Properties: {}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Sid: Query
              Effect: Allow
              Action: dynamodb:Query
              Resource: !Sub "${Table.Arn}/index/by_due"
            - Sid: Send
              Effect: Allow
              Action: ses:SendRawEmail
              Resource: !Sub "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"
              Condition:
                StringEquals: {ses:FromAddress: !Ref SenderAddress}
                ForAllValues:StringEquals: {ses:Recipients: [!Ref StaffInbox]}
"#;

fn access(action: &str, resource: &str, context: &[(&str, &[&str])]) -> Access {
    Access {
        action: action.into(),
        resource: resource.into(),
        context: context
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
            .collect(),
    }
}

#[test]
fn the_checker_refuses_what_the_template_does_not_grant() {
    let template = Template::parse(MINI);
    let statements = template.statements("Fn");
    let table = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Table");
    assert_eq!(
        refusal(
            &statements,
            &access("dynamodb:Query", &format!("{table}/index/by_due"), &[])
        ),
        None
    );
    assert!(
        refusal(
            &statements,
            &access("dynamodb:Query", &format!("{table}/index/by_patron"), &[])
        )
        .is_some()
    );
    assert!(refusal(&statements, &access("dynamodb:Query", &table, &[])).is_some());
    assert!(
        refusal(
            &statements,
            &access("dynamodb:Scan", &format!("{table}/index/by_due"), &[])
        )
        .is_some()
    );
    let identity = format!("arn:aws:ses:{REGION}:{ACCOUNT}:identity/{SENDER}");
    let send = |from: &str, to: &str| {
        refusal(
            &statements,
            &access(
                "ses:SendRawEmail",
                &identity,
                &[("ses:FromAddress", &[from]), ("ses:Recipients", &[to])],
            ),
        )
    };
    assert_eq!(send(SENDER, STAFF), None);
    assert!(
        send("someone@else.example", STAFF).is_some(),
        "another sender"
    );
    assert!(
        send(SENDER, "patron@example.org").is_some(),
        "another recipient"
    );
    assert!(glob(
        "arn:aws:s3:::b/letters/*",
        "arn:aws:s3:::b/letters/2026-11-30/STS/batch.pdf"
    ));
    assert!(!glob(
        "arn:aws:s3:::b/letters/*",
        "arn:aws:s3:::b/imports/x.csv"
    ));
}

/// The bucket's lifecycle rules keep letters and inbound mail as long as the
/// config's `[retention]` does by default (rules §16): the template's parameters
/// default to the same numbers, and the rules use them.
#[test]
fn bucket_lifecycle_follows_the_retention_periods() {
    let template = Template::load();
    let defaults = relance_core::config::Retention::default();
    let rules = template.resource("Bucket")["Properties"]["LifecycleConfiguration"]["Rules"]
        .as_sequence()
        .expect("lifecycle rules")
        .clone();
    for (prefix, parameter, days) in [
        ("letters/", "LetterRetentionDays", defaults.letters),
        ("inbound/", "InboundRetentionDays", defaults.mail),
    ] {
        let rule = rules
            .iter()
            .find(|r| r["Prefix"].as_str() == Some(prefix))
            .unwrap_or_else(|| panic!("no lifecycle rule for {prefix}"));
        assert_eq!(
            template.text(&rule["ExpirationInDays"]),
            days.to_string(),
            "{prefix} expires after {parameter}, whose default is [retention]'s"
        );
        assert_eq!(template.reference(parameter), days.to_string());
    }
}
