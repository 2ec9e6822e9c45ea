//! The serverless path end to end against the emulators: exports dropped in S3
//! → importer → planner → the mailer and letters handlers invoked with the SQS
//! messages actually received → what SES (moto) accepted, parsed and checked,
//! and the letters in S3. Each test provisions its own table, queues and bucket;
//! they run one at a time because moto's record of sent mail is shared.

use chrono::{Duration, NaiveDate};
use mail_parser::{MessageParser, MimeHeaders};
use relance_mailer::LEASE;
use relance_planner::PlannerEvent;
use relance_tests::emulators::sent_mail;
use relance_tests::stack::{SENDER, SENT_MAIL, Stack, morning, new_mail, to};
use relance_tests::{LOANS_HEADER, PATRONS_HEADER, TestEnv, day, loan_row, patron_row};

/// A patron with loans at three libraries reaching the first reminder, one
/// patron without email (print fallback), one reaching the letter stage.
fn patrons() -> Vec<String> {
    vec![
        patron_row("P1", "Camille Martin", "camille.martin@example.org", false),
        patron_row("P2", "Jean Sans-Courriel", "", false),
        patron_row("P3", "Ngozi Okafor", "ngozi.okafor@example.org", false),
    ]
}

fn loans(run_day: NaiveDate) -> Vec<String> {
    let first = run_day - Duration::days(7);
    let letter = run_day - Duration::days(35);
    vec![
        loan_row("L1", "P1", "STS", first, None),
        loan_row("L2", "P1", "DRT", first, None),
        loan_row("L3", "P1", "LSH", first, None),
        loan_row("L4", "P2", "STS", first, None),
        loan_row("L5", "P3", "DRT", letter, None),
    ]
}

async fn institution(stack: &Stack, run_day: NaiveDate) {
    stack
        .import("patrons.csv", &patrons(), PATRONS_HEADER)
        .await;
    stack
        .import("loans.csv", &loans(run_day), LOANS_HEADER)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notice_reads_the_same_through_the_functions_as_through_the_command() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::new().await;
    // A console event for a day weeks away from the wall clock of its delivery.
    let run_day = day("2027-01-04");
    institution(&stack, run_day).await;
    let before = sent_mail().len();
    stack.plan(run_day).await;
    assert_eq!(stack.deliver_mail(morning(day("2026-12-14"))).await, 0);
    let through_functions = to(&new_mail(before), "camille.martin@example.org");
    assert_eq!(through_functions.len(), 1);

    // The command's engine on the embedded store (it blocks: off the runtime).
    let through_command = tokio::task::spawn_blocking(move || {
        let local = TestEnv::new();
        local.import(&patrons(), &loans(run_day));
        local.run(run_day);
        let path = local
            .mail_files(run_day)
            .into_iter()
            .find(|p| p.ends_with("first_reminder-P1.eml"))
            .expect("the command's reminder");
        std::fs::read(path).unwrap()
    })
    .await
    .unwrap();

    let aws = MessageParser::default()
        .parse(through_functions[0].raw.as_bytes())
        .unwrap();
    let cli = MessageParser::default().parse(&through_command).unwrap();
    assert_eq!(aws.subject(), cli.subject());
    assert_eq!(aws.message_id(), cli.message_id(), "the same notice");
    assert_eq!(aws.body_text(0), cli.body_text(0));
    assert_eq!(aws.body_html(0), cli.body_html(0));
    let text = aws.body_text(0).unwrap();
    assert!(text.contains("7 jours de retard"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_day_goes_through_the_functions() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::new().await;
    let run_day = day("2026-11-30");
    institution(&stack, run_day).await;
    let before = sent_mail().len();

    let planned = stack.plan(run_day).await;
    assert_eq!(planned.summary.planned_days, vec![run_day]);
    assert_eq!(
        planned.summary.notices.get("first_reminder"),
        Some(&2),
        "{:?}",
        planned.summary.notices
    );
    assert_eq!(planned.summary.notices.get("letter"), Some(&1));
    assert_eq!(planned.emails_queued, 1, "P1's reminder; P2 has no email");
    assert_eq!(
        planned.letter_batches_queued, 2,
        "STS (P2's fallback) and DRT (P3's letter)"
    );
    assert!(planned.read_units > 0.0);

    assert_eq!(stack.deliver_mail(morning(run_day)).await, 0);
    assert_eq!(stack.deliver_letters(morning(run_day)).await, 0);

    let mail = new_mail(before);
    let patron_mail = to(&mail, "camille.martin@example.org");
    assert_eq!(patron_mail.len(), 1, "one consolidated reminder");
    let parsed = MessageParser::default()
        .parse(patron_mail[0].raw.as_bytes())
        .expect("MIME");
    assert_eq!(
        parsed
            .reply_to()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some(SENDER)
    );
    let subject = parsed.subject().unwrap_or_default();
    assert!(subject.contains("Réf."), "{subject}");
    let text = parsed.body_text(0).expect("text part");
    for library in [
        "Bibliothèque Sciences et techniques",
        "Bibliothèque Droit et science politique",
    ] {
        assert!(
            text.contains(library),
            "section for {library} missing:\n{text}"
        );
    }
    for title in ["Titre L1", "Titre L2", "Titre L3"] {
        assert!(text.contains(title), "{title} missing");
    }
    assert!(!text.contains("Titre L4"), "another patron's loan listed");

    let sts = to(&mail, "bu-sciences@bibliotheques.example.fr");
    let drt = to(&mail, "bu-droit@bibliotheques.example.fr");
    assert_eq!(
        (sts.len(), drt.len()),
        (1, 1),
        "one print batch per library"
    );
    let batch = MessageParser::default()
        .parse(sts[0].raw.as_bytes())
        .expect("MIME");
    let attached: Vec<_> = batch
        .attachments()
        .filter_map(|a| a.attachment_name())
        .collect();
    assert!(
        attached.contains(&format!("relance-STS-{run_day}.pdf").as_str()),
        "{attached:?}"
    );
    assert!(attached.contains(&"manifest.csv"), "{attached:?}");

    let keys = stack.letter_keys(run_day).await;
    for expected in [
        format!("letters/{run_day}/STS/P2.pdf"),
        format!("letters/{run_day}/STS/batch.pdf"),
        format!("letters/{run_day}/STS/manifest.csv"),
        format!("letters/{run_day}/DRT/P3.pdf"),
        format!("letters/{run_day}/DRT/batch.pdf"),
    ] {
        assert!(keys.contains(&expected), "{expected} not in {keys:?}");
    }
    let head = stack
        .clients
        .s3
        .head_object()
        .bucket(&stack.resources.bucket)
        .key(format!("letters/{run_day}/DRT/batch.pdf"))
        .send()
        .await
        .expect("head");
    assert!(
        head.server_side_encryption().is_some(),
        "letters are encrypted at rest"
    );

    // The console's status event returns the run's manifest.
    let event: PlannerEvent = serde_json::from_str(include_str!(
        "../../../functions/planner/events/status.json"
    ))
    .unwrap();
    let status = stack.planner().await.invoke(event).await.expect("status");
    assert_eq!(status["watermark"], run_day.to_string());
    let runs = status["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["run_day"], run_day.to_string());
    assert_eq!(
        runs[0]["notices"],
        serde_json::to_value(&planned.summary.notices).unwrap()
    );
    // With what the mailer and the letters function delivered for the day.
    assert_eq!(runs[0]["delivered"]["sent"], 1, "{}", runs[0]);
    assert_eq!(runs[0]["delivered"]["letters_rendered"], 2, "{}", runs[0]);
    assert_eq!(runs[0]["delivered"]["letter_batches"], 2, "{}", runs[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_notice_is_sent_once_whatever_is_repeated() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::new().await;
    let run_day = day("2026-11-30");
    institution(&stack, run_day).await;
    let before = sent_mail().len();

    // The planner twice for the same day: the second plans nothing new and
    // queues the notice again, still pending.
    let first = stack.plan(run_day).await;
    let second = stack.plan(run_day).await;
    assert_eq!(first.summary.planned_days, vec![run_day]);
    assert!(second.summary.planned_days.is_empty());
    assert_eq!(second.summary.notices.values().sum::<usize>(), 0);
    assert_eq!(second.emails_queued, 1);

    // Both queued messages delivered, and the first one delivered twice by SQS.
    let mut event = stack.drain(&stack.resources.mail_queue_url).await;
    assert_eq!(event.records.len(), 2);
    event.records.push(event.records[0].clone());
    let failures = stack.mailer().await.handle(event, morning(run_day)).await;
    assert!(failures.batch_item_failures.is_empty());
    assert_eq!(to(&new_mail(before), "camille.martin@example.org").len(), 1);
    assert_eq!(stack.deliver_letters(morning(run_day)).await, 0);
    assert_eq!(stack.deliver_letters(morning(run_day)).await, 0);
    assert_eq!(
        to(&new_mail(before), "bu-droit@bibliotheques.example.fr").len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notice_whose_invocation_died_after_its_claim_is_sent_after_the_lease() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::new().await;
    let run_day = day("2026-11-30");
    institution(&stack, run_day).await;
    let before = sent_mail().len();
    stack.plan(run_day).await;
    let event = stack.drain(&stack.resources.mail_queue_url).await;
    let request: relance_aws::queue::MailMessage =
        relance_aws::queue::decode(event.records[0].body.as_deref().unwrap()).unwrap();
    let id = request.notice_id.clone();

    // An invocation claims the notice, then dies before sending.
    let claimed_at = morning(run_day);
    let claim = stack
        .dynamo()
        .claim(&id, claimed_at, LEASE)
        .await
        .expect("claim");
    assert!(matches!(
        claim,
        relance_aws::dynamo::ledger::Claim::Claimed(_)
    ));

    // SQS shows the message again while the lease runs: retried later, not sent.
    let mailer = stack.mailer().await;
    let early = mailer
        .handle(event.clone(), claimed_at + Duration::seconds(30))
        .await;
    assert_eq!(early.batch_item_failures.len(), 1);
    assert!(to(&new_mail(before), "camille.martin@example.org").is_empty());

    // After the lease: sent, once.
    let late = mailer
        .handle(event.clone(), claimed_at + LEASE + Duration::seconds(1))
        .await;
    assert!(late.batch_item_failures.is_empty());
    let again = mailer
        .handle(event, claimed_at + LEASE + Duration::seconds(2))
        .await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(to(&new_mail(before), "camille.martin@example.org").len(), 1);
}
