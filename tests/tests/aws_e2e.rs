//! The serverless path end to end against the emulators: exports dropped in S3
//! → importer → planner → the mailer and letters handlers invoked with the SQS
//! messages actually received → what SES (moto) accepted, parsed and checked,
//! and the letters in S3. Each test provisions its own table, queues and bucket;
//! they run one at a time because moto's record of sent mail is shared.

use std::sync::Mutex;

use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use mail_parser::{MessageParser, MimeHeaders};
use relance_aws::Clients;
use relance_aws::dynamo::Dynamo;
use relance_aws::env::ConfigSource;
use relance_aws::provision::{Names, Resources, provision};
use relance_aws::queue::Queue;
use relance_core::ids::NoticeId;
use relance_importer::Importer;
use relance_letters::Letters;
use relance_mailer::{LEASE, Mailer};
use relance_planner::{Planner, PlannerEvent, PlannerOutput};
use relance_tests::emulators::{SentMail, clients, sent_mail, unique};
use relance_tests::{CONFIG, LOANS_HEADER, PATRONS_HEADER, day, loan_row, patron_row};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const SENDER: &str = "contentieux@bibliotheques.example.fr";

/// A provisioned institution with its functions.
struct Stack {
    clients: Clients,
    resources: Resources,
    config: ConfigSource,
}

impl Stack {
    async fn new() -> Self {
        let clients = clients();
        let names = Names {
            table: unique("table"),
            bucket: unique("bucket"),
            mail_queue: unique("mail"),
            letter_queue: unique("letters"),
            visibility_timeout_s: 1,
        };
        let resources = provision(&clients, &names, SENDER).await.expect("provision");
        clients
            .s3
            .put_object()
            .bucket(&resources.bucket)
            .key("config/relance.toml")
            .body(CONFIG.as_bytes().to_vec().into())
            .send()
            .await
            .expect("config uploaded");
        let config = ConfigSource::parse(&format!("s3://{}/config/relance.toml", resources.bucket)).unwrap();
        Self {
            clients,
            resources,
            config,
        }
    }

    fn dynamo(&self) -> Dynamo {
        Dynamo::new(self.clients.dynamodb.clone(), &self.resources.table)
    }

    /// Drops an export in the bucket and runs the importer on its S3 event.
    async fn import(&self, name: &str, rows: &[String], header: &str) {
        let key = format!("imports/{name}");
        let body = format!("{header}\n{}\n", rows.join("\n"));
        self.clients
            .s3
            .put_object()
            .bucket(&self.resources.bucket)
            .key(&key)
            .body(body.into_bytes().into())
            .send()
            .await
            .expect("export uploaded");
        // The console test event shipped with the function, pointed at this export.
        let mut event: serde_json::Value =
            serde_json::from_str(include_str!("../../functions/importer/events/s3-put.json")).unwrap();
        event["Records"][0]["s3"]["bucket"]["name"] = self.resources.bucket.clone().into();
        event["Records"][0]["s3"]["object"]["key"] = key.clone().into();
        let event: S3Event = serde_json::from_value(event)
        .expect("an S3 event");
        let importer = Importer::new(
            self.clients.clone(),
            relance_importer::Settings {
                table: self.resources.table.clone(),
                config: self.config.clone(),
            },
        )
        .await
        .expect("importer");
        let done = importer.handle(event, Utc::now()).await.expect("imported");
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].summary.rejected, 0, "{name}: {:?}", done[0].summary);
    }

    async fn planner(&self) -> Planner {
        Planner::new(
            self.clients.clone(),
            relance_planner::Settings {
                table: self.resources.table.clone(),
                mail_queue_url: self.resources.mail_queue_url.clone(),
                letter_queue_url: self.resources.letter_queue_url.clone(),
                config: self.config.clone(),
            },
        )
        .await
        .expect("planner")
    }

    async fn plan(&self, run_day: NaiveDate) -> PlannerOutput {
        let event = PlannerEvent {
            date: Some(run_day),
            ..PlannerEvent::default()
        };
        self.planner().await.handle(event).await.expect("planned")
    }

    async fn mailer(&self) -> Mailer {
        Mailer::new(
            self.clients.clone(),
            relance_mailer::Settings {
                table: self.resources.table.clone(),
                config: self.config.clone(),
                configuration_set: None,
            },
        )
        .await
        .expect("mailer")
    }

    async fn letters(&self) -> Letters {
        Letters::new(
            self.clients.clone(),
            relance_letters::Settings {
                table: self.resources.table.clone(),
                bucket: self.resources.bucket.clone(),
                config: self.config.clone(),
            },
        )
        .await
        .expect("letters")
    }

    /// Every message waiting on a queue, as a Lambda SQS event (deleted from the queue).
    async fn drain(&self, url: &str) -> SqsEvent {
        let queue = Queue::new(self.clients.sqs.clone(), url);
        let mut event = SqsEvent::default();
        loop {
            let received = queue.receive(10, 1).await.expect("receive");
            if received.is_empty() {
                return event;
            }
            for (receipt, body) in received {
                let mut message = SqsMessage::default();
                message.message_id = Some(format!("m{}", event.records.len()));
                message.body = Some(body);
                event.records.push(message);
                queue.delete(&receipt).await.expect("delete");
            }
        }
    }

    /// Runs the mailer on every queued email notice; returns the failures reported.
    async fn deliver_mail(&self, now: DateTime<Utc>) -> usize {
        let event = self.drain(&self.resources.mail_queue_url).await;
        self.mailer().await.handle(event, now).await.batch_item_failures.len()
    }

    async fn deliver_letters(&self, now: DateTime<Utc>) -> usize {
        let event = self.drain(&self.resources.letter_queue_url).await;
        self.letters().await.handle(event, now).await.batch_item_failures.len()
    }

    async fn letter_keys(&self, run_day: NaiveDate) -> Vec<String> {
        let listed = self
            .clients
            .s3
            .list_objects_v2()
            .bucket(&self.resources.bucket)
            .prefix(format!("letters/{run_day}/"))
            .send()
            .await
            .expect("list");
        let mut keys: Vec<String> = listed.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect();
        keys.sort();
        keys
    }
}

/// 08:00 in Paris on `day`.
fn morning(day: NaiveDate) -> DateTime<Utc> {
    chrono_tz::Europe::Paris
        .from_local_datetime(&day.and_hms_opt(8, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// The mail moto accepted since `before` messages.
fn new_mail(before: usize) -> Vec<SentMail> {
    sent_mail().into_iter().skip(before).collect()
}

fn to(mail: &[SentMail], address: &str) -> Vec<SentMail> {
    mail.iter().filter(|m| m.destinations.iter().any(|d| d == address)).cloned().collect()
}

/// A patron with loans at three libraries reaching the first reminder, one
/// patron without email (print fallback), one reaching the letter stage.
async fn institution(stack: &Stack, run_day: NaiveDate) {
    let first = run_day - Duration::days(7);
    let letter = run_day - Duration::days(35);
    stack
        .import(
            "patrons.csv",
            &[
                patron_row("P1", "Camille Martin", "camille.martin@example.org", false),
                patron_row("P2", "Jean Sans-Courriel", "", false),
                patron_row("P3", "Ngozi Okafor", "ngozi.okafor@example.org", false),
            ],
            PATRONS_HEADER,
        )
        .await;
    stack
        .import(
            "loans.csv",
            &[
                loan_row("L1", "P1", "STS", first, None),
                loan_row("L2", "P1", "DRT", first, None),
                loan_row("L3", "P1", "LSH", first, None),
                loan_row("L4", "P2", "STS", first, None),
                loan_row("L5", "P3", "DRT", letter, None),
            ],
            LOANS_HEADER,
        )
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_day_goes_through_the_functions() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let stack = Stack::new().await;
    let run_day = day("2026-11-30");
    institution(&stack, run_day).await;
    let before = sent_mail().len();

    let planned = stack.plan(run_day).await;
    assert_eq!(planned.summary.planned_days, vec![run_day]);
    assert_eq!(planned.summary.notices.get("first_reminder"), Some(&2), "{:?}", planned.summary.notices);
    assert_eq!(planned.summary.notices.get("letter"), Some(&1));
    assert_eq!(planned.emails_queued, 1, "P1's reminder; P2 has no email");
    assert_eq!(planned.letter_batches_queued, 2, "STS (P2's fallback) and DRT (P3's letter)");
    assert!(planned.read_units > 0.0);

    assert_eq!(stack.deliver_mail(morning(run_day)).await, 0);
    assert_eq!(stack.deliver_letters(morning(run_day)).await, 0);

    let mail = new_mail(before);
    let patron_mail = to(&mail, "camille.martin@example.org");
    assert_eq!(patron_mail.len(), 1, "one consolidated reminder");
    let parsed = MessageParser::default().parse(patron_mail[0].raw.as_bytes()).expect("MIME");
    assert_eq!(parsed.reply_to().and_then(|a| a.first()).and_then(|a| a.address()), Some(SENDER));
    let subject = parsed.subject().unwrap_or_default();
    assert!(subject.contains("Réf."), "{subject}");
    let text = parsed.body_text(0).expect("text part");
    for library in [
        "Bibliothèque Sciences et techniques",
        "Bibliothèque Droit et science politique",
    ] {
        assert!(text.contains(library), "section for {library} missing:\n{text}");
    }
    for title in ["Titre L1", "Titre L2", "Titre L3"] {
        assert!(text.contains(title), "{title} missing");
    }
    assert!(!text.contains("Titre L4"), "another patron's loan listed");

    let sts = to(&mail, "bu-sciences@bibliotheques.example.fr");
    let drt = to(&mail, "bu-droit@bibliotheques.example.fr");
    assert_eq!((sts.len(), drt.len()), (1, 1), "one print batch per library");
    let batch = MessageParser::default().parse(sts[0].raw.as_bytes()).expect("MIME");
    let attached: Vec<_> = batch.attachments().filter_map(|a| a.attachment_name()).collect();
    assert!(attached.contains(&format!("relance-STS-{run_day}.pdf").as_str()), "{attached:?}");
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
    assert!(head.server_side_encryption().is_some(), "letters are encrypted at rest");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_notice_is_sent_once_whatever_is_repeated() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
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
    assert_eq!(to(&new_mail(before), "bu-droit@bibliotheques.example.fr").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notice_whose_invocation_died_after_its_claim_is_sent_after_the_lease() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let stack = Stack::new().await;
    let run_day = day("2026-11-30");
    institution(&stack, run_day).await;
    let before = sent_mail().len();
    stack.plan(run_day).await;
    let event = stack.drain(&stack.resources.mail_queue_url).await;
    let request: relance_aws::queue::MailMessage =
        relance_aws::queue::decode(event.records[0].body.as_deref().unwrap()).unwrap();
    let id = NoticeId::parse(&request.notice_id).unwrap();

    // An invocation claims the notice, then dies before sending.
    let claimed_at = morning(run_day);
    let claim = stack.dynamo().claim(&id, claimed_at, LEASE).await.expect("claim");
    assert!(matches!(claim, relance_aws::dynamo::ledger::Claim::Claimed(_)));

    // SQS shows the message again while the lease runs: retried later, not sent.
    let mailer = stack.mailer().await;
    let early = mailer.handle(event.clone(), claimed_at + Duration::seconds(30)).await;
    assert_eq!(early.batch_item_failures.len(), 1);
    assert!(to(&new_mail(before), "camille.martin@example.org").is_empty());

    // After the lease: sent, once.
    let late = mailer.handle(event.clone(), claimed_at + LEASE + Duration::seconds(1)).await;
    assert!(late.batch_item_failures.is_empty());
    let again = mailer.handle(event, claimed_at + LEASE + Duration::seconds(2)).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(to(&new_mail(before), "camille.martin@example.org").len(), 1);
}
