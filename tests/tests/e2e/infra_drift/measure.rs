//! The functions' handlers run once through their paths, their AWS calls recorded.

use std::collections::BTreeMap;

use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::ses::SimpleEmailEvent;
use aws_lambda_events::event::sns::SnsEvent;
use chrono::Duration;
use relance_aws::Function;
use relance_core::ids::{PatronId, StageName};
use relance_core::notice::{Notice, NoticeStatus};
use relance_planner::PlannerEvent;
use relance_tests::emulators::unique;
use relance_tests::recorder::{Access, RecordingProxy};
use relance_tests::stack::{SENDER, Stack, morning};
use relance_tests::standins::{CLIENT_SECRET, Fixture, Kind, StandIn};
use relance_tests::{LOANS_HEADER, PATRONS_HEADER, day, loan_row, patron_row};

use super::template::Template;

/// What each function called, measured by running its handler.
pub(crate) struct Measured {
    pub(crate) calls: BTreeMap<String, Vec<Access>>,
    /// Physical test names → the template's names.
    pub(crate) names: Vec<(String, String)>,
}

impl Measured {
    pub(crate) fn record(&mut self, function: &str, proxy: &RecordingProxy) {
        let accesses = proxy.take().iter().flat_map(|r| r.accesses()).collect();
        self.calls.insert(function.to_owned(), accesses);
    }

    /// An access with the test's resource names replaced by the template's.
    pub(crate) fn as_deployed(&self, access: &Access) -> Access {
        let mut access = access.clone();
        for (physical, deployed) in &self.names {
            access.resource = access.resource.replace(physical.as_str(), deployed);
        }
        access
    }
}

/// Runs every function's handler once through its paths (import with rejects and
/// a snapshot, plan, resume, send, letters, a reply, a bounce) and records the
/// calls each made.
pub(crate) async fn measure(template: &Template) -> Measured {
    let stack = Stack::new().await;
    let proxy = RecordingProxy::for_emulators();
    let clients = proxy.clients();
    let resources = &stack.resources;
    let configuration_set = unique("notices");
    stack
        .clients
        .ses
        .create_configuration_set()
        .configuration_set_name(&configuration_set)
        .send()
        .await
        .expect("configuration set");
    let dead_letters = [
        ("RELANCE_MAIL_DLQ_URL", "MailDeadLetterQueue"),
        ("RELANCE_LETTER_DLQ_URL", "LetterDeadLetterQueue"),
        ("RELANCE_FAILED_INVOCATIONS_URL", "FailedInvocationsQueue"),
    ];
    let mut dead_letter_urls = Vec::new();
    for (variable, resource) in dead_letters {
        dead_letter_urls.push((variable, resource, stack.dead_letter_queue().await));
    }
    // Each function's settings are its template variables, pointed at the test's resources.
    let mut physical = BTreeMap::from([
        ("RELANCE_TABLE", resources.table.clone()),
        ("RELANCE_BUCKET", resources.bucket.clone()),
        ("RELANCE_MAIL_QUEUE_URL", resources.mail_queue_url.clone()),
        (
            "RELANCE_LETTER_QUEUE_URL",
            resources.letter_queue_url.clone(),
        ),
        ("RELANCE_SES_CONFIGURATION_SET", configuration_set.clone()),
    ]);
    for (variable, _, url) in &dead_letter_urls {
        physical.insert(variable, url.clone());
    }
    let var = |function: &str, name: &str| -> Option<String> {
        template
            .environment(function)
            .contains_key(name)
            .then(|| physical[name].clone())
    };
    let required = |function: &str, name: &str| {
        var(function, name).unwrap_or_else(|| panic!("{function}: {name} is not set"))
    };
    let config = |function: &str| {
        assert!(
            template
                .environment(function)
                .contains_key("RELANCE_CONFIG"),
            "{function}"
        );
        stack.config.clone()
    };
    // What a function is built from, with the variables the template gives it.
    let function = async |name: &str| {
        Function::load(
            clients.clone(),
            &required(name, "RELANCE_TABLE"),
            &config(name),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let queue_name = |url: &str| url.rsplit('/').next().unwrap().to_owned();
    let mut measured = Measured {
        calls: BTreeMap::new(),
        names: vec![
            (resources.table.clone(), template.reference("Table")),
            (resources.bucket.clone(), template.reference("Bucket")),
            (
                queue_name(&resources.mail_queue_url),
                template.attribute("MailQueue", "QueueName"),
            ),
            (
                queue_name(&resources.letter_queue_url),
                template.attribute("LetterQueue", "QueueName"),
            ),
            (
                configuration_set.clone(),
                template.reference("ConfigurationSet"),
            ),
        ],
    };
    for (_, resource, url) in &dead_letter_urls {
        measured
            .names
            .push((queue_name(url), template.attribute(resource, "QueueName")));
    }
    let run_day = day("2026-11-30");

    // Importer: patrons (one row rejected: its report goes to imports/rejects/),
    // loans, then a snapshot of the open loans.
    let importer = relance_importer::Importer::new(function("Importer").await);
    let first = run_day - Duration::days(7);
    let loans = [
        loan_row("L1", "P1", "STS", first, None),
        loan_row("L2", "P1", "DRT", first, None),
        loan_row("L3", "P2", "STS", first, None),
        loan_row("L4", "P3", "LSH", run_day - Duration::days(35), None),
    ];
    let patrons = [
        patron_row("P1", "Camille Martin", "camille.martin@example.org", false),
        patron_row("P2", "Jean Sans-Courriel", "", false),
        patron_row("P3", "Ngozi Okafor", "ngozi.okafor@example.org", false),
        patron_row("", "Sans Identifiant", "", false),
    ];
    for (key, header, rows) in [
        ("imports/patrons.csv", PATRONS_HEADER, &patrons[..]),
        ("imports/loans.csv", LOANS_HEADER, &loans[..]),
        ("imports/snapshot/loans.csv", LOANS_HEADER, &loans[..]),
    ] {
        put(
            &stack,
            key,
            format!("{header}\n{}\n", rows.join("\n")).into_bytes(),
        )
        .await;
        let mut event: serde_json::Value = serde_json::from_str(include_str!(
            "../../../../functions/importer/events/s3-put.json"
        ))
        .unwrap();
        event["Records"][0]["s3"]["bucket"]["name"] = resources.bucket.clone().into();
        event["Records"][0]["s3"]["object"]["key"] = key.into();
        let event: S3Event = serde_json::from_value(event).unwrap();
        let done = importer
            .handle(event, morning(run_day))
            .await
            .expect("imported");
        assert_eq!(done.len(), 1, "{key}");
    }
    measured.record("Importer", &proxy);

    // Planner: the day, then a resume for the next day.
    let planner = relance_planner::Planner::new(
        function("Planner").await,
        &required("Planner", "RELANCE_MAIL_QUEUE_URL"),
        &required("Planner", "RELANCE_LETTER_QUEUE_URL"),
    );
    let planned = planner
        .handle(PlannerEvent {
            date: Some(run_day),
            ..PlannerEvent::default()
        })
        .await
        .expect("planned");
    assert!(
        planned.emails_queued >= 1 && planned.letter_batches_queued >= 1,
        "{planned:?}"
    );
    planner
        .handle(PlannerEvent {
            date: Some(run_day + Duration::days(1)),
            resume: true,
            ..PlannerEvent::default()
        })
        .await
        .expect("resumed");
    measured.record("Planner", &proxy);

    // From here the config has a [source]: Koha's stand-in, its client secret
    // in Secrets Manager (the one the template's parameter names), checked at
    // send time. It lists the loans imported above (L1–L4) and two more; L2
    // and L4 came back since the export.
    let mut fixture = Fixture::sample(3, 6, "2026-11-20");
    for (i, loan) in fixture.loans.iter_mut().take(4).enumerate() {
        loan.id = format!("L{}", i + 1);
    }
    // The sixth's due date is unreadable: the sync rejects it and keeps a report.
    fixture.loans[5].due_at = "bientôt".to_owned();
    let stand_in = StandIn::start(Kind::Koha, fixture);
    stand_in.return_loan("L2", "2026-11-29T16:00:00Z");
    stand_in.return_loan("L4", "2026-11-29T16:05:00Z");
    let secret = stack.secret(CLIENT_SECRET).await;
    measured
        .names
        .push((secret.clone(), template.reference("SourceSecretArns")));
    let source = stand_in.source_toml(true).replace(
        "client_secret_env = \"RELANCE_TEST_KOHA_SECRET\"",
        &format!("client_secret_secret = \"{secret}\""),
    );
    stack.use_source(&source).await;

    // Mailer and letters: the messages the planner queued, their loans checked
    // (Camille's L2 is recorded returned, her reminder goes with L1; Ngozi's
    // letter for L4 is cancelled, Jean's goes).
    let mail = stack.drain(&resources.mail_queue_url).await;
    let mailer = relance_mailer::Mailer::new(
        function("Mailer").await,
        var("Mailer", "RELANCE_SES_CONFIGURATION_SET"),
    )
    .await;
    assert!(
        mailer
            .handle(mail, morning(run_day))
            .await
            .batch_item_failures
            .is_empty()
    );
    measured.record("Mailer", &proxy);

    let batches = stack.drain(&resources.letter_queue_url).await;
    let letters = relance_letters::Letters::new(
        function("Letters").await,
        &required("Letters", "RELANCE_BUCKET"),
    )
    .await;
    assert!(
        letters
            .handle(batches, morning(run_day))
            .await
            .batch_item_failures
            .is_empty()
    );
    measured.record("Letters", &proxy);

    // Inbound: Camille's reply to her reminder, stored where SES receiving puts it.
    let notice_id = Notice::email_id(
        &PatronId::parse("P1").unwrap(),
        &StageName::parse("first_reminder").unwrap(),
        run_day,
    );
    let notice = stack
        .dynamo()
        .notice(&notice_id)
        .await
        .unwrap()
        .expect("sent notice");
    let NoticeStatus::Sent { message_id, .. } = &notice.status else {
        panic!("not sent: {:?}", notice.status)
    };
    let ses_id = unique("ses");
    let reply = format!(
        "From: Camille Martin <camille.martin@example.org>\r\nTo: {SENDER}\r\n\
         Subject: Re: Rappel\r\nDate: Mon, 30 Nov 2026 09:14:02 +0100\r\n\
         Message-ID: <{ses_id}@mail.example.org>\r\n\
         In-Reply-To: <{message_id}@eu-west-1.amazonses.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nJ'ai rendu les livres hier.\r\n"
    );
    put(
        &stack,
        &format!("{}{ses_id}", relance_inbound::INBOUND_PREFIX),
        reply.into_bytes(),
    )
    .await;
    let mut event: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../functions/inbound/events/ses.json"
    ))
    .unwrap();
    event["Records"][0]["ses"]["mail"]["messageId"] = ses_id.clone().into();
    let event: SimpleEmailEvent = serde_json::from_value(event).unwrap();
    let inbound = relance_inbound::Inbound::new(
        function("Inbound").await,
        &required("Inbound", "RELANCE_BUCKET"),
    );
    assert_eq!(inbound.handle(event).await.expect("received").len(), 1);
    // And a message without In-Reply-To or reference: linked by its sender.
    let ses_id = unique("ses");
    let question = format!(
        "From: Ngozi Okafor <ngozi.okafor@example.org>\r\nTo: {SENDER}\r\n\
         Subject: Question\r\nDate: Mon, 30 Nov 2026 10:02:00 +0100\r\n\
         Message-ID: <{ses_id}@mail.example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nPuis-je prolonger mon emprunt ?\r\n"
    );
    put(
        &stack,
        &format!("{}{ses_id}", relance_inbound::INBOUND_PREFIX),
        question.into_bytes(),
    )
    .await;
    let mut event: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../functions/inbound/events/ses.json"
    ))
    .unwrap();
    event["Records"][0]["ses"]["mail"]["messageId"] = ses_id.clone().into();
    let event: SimpleEmailEvent = serde_json::from_value(event).unwrap();
    assert_eq!(inbound.handle(event).await.expect("received").len(), 1);
    measured.record("Inbound", &proxy);

    // Feedback: a bounce of that reminder, as SNS delivers it.
    let bounce = serde_json::json!({
        "eventType": "Bounce",
        "bounce": {
            "feedbackId": unique("feedback"),
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": "camille.martin@example.org", "status": "5.1.1"}],
            "timestamp": "2026-11-30T07:02:11.000Z"
        },
        "mail": {"messageId": message_id, "destination": ["camille.martin@example.org"]}
    });
    let mut event: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../functions/feedback/events/sns-bounce.json"
    ))
    .unwrap();
    event["Records"][0]["Sns"]["Message"] = bounce.to_string().into();
    let event: SnsEvent = serde_json::from_value(event).unwrap();
    let feedback = relance_feedback::Feedback::new(function("Feedback").await);
    assert_eq!(feedback.handle(event).await.expect("feedback").len(), 1);
    measured.record("Feedback", &proxy);

    // Report: the day's staff report, from the sender to the staff inbox, once.
    let queues: Vec<(String, String)> = ["mail", "letters", "failed invocations"]
        .into_iter()
        .zip(&dead_letter_urls)
        .map(|(name, (variable, _, _))| (name.to_owned(), required("Report", variable)))
        .collect();
    let report = relance_report::Report::new(function("Report").await, &queues);
    let event = relance_report::ReportEvent {
        date: Some(run_day),
        ..relance_report::ReportEvent::default()
    };
    let sent = report
        .handle(event, morning(run_day) + Duration::hours(4))
        .await
        .expect("report");
    assert!(sent.sent_now && sent.notices >= 2, "{sent:?}");
    measured.record("Report", &proxy);

    // Sync: a pull from Koha's stand-in as a snapshot: its four open loans,
    // one of them rejected (its report goes to imports/rejects/).
    // The template gives it the table, the bucket and the config (it panics otherwise).
    let (_table, _bucket, _config) = (
        required("Sync", "RELANCE_TABLE"),
        required("Sync", "RELANCE_BUCKET"),
        config("Sync"),
    );
    let sync = stack
        .sync_function(&source, clients.clone())
        .await
        .expect("the sync function");
    let synced = sync
        .handle(relance_sync::SyncEvent::default(), morning(run_day))
        .await
        .expect("synced");
    assert_eq!(synced.loans, 4, "{synced:?}");
    assert!(synced.rejects_key.is_some(), "{synced:?}");
    measured.record("Sync", &proxy);
    measured
}

pub(crate) async fn put(stack: &Stack, key: &str, body: Vec<u8>) {
    stack
        .clients
        .s3
        .put_object()
        .bucket(&stack.resources.bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .expect("object put");
}
