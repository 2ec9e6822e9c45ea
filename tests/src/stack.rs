//! A provisioned serverless institution on the emulators, with its functions
//! called the way Lambda calls them: the tests' `spawn_app` for the AWS path.

use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::ses::SimpleEmailEvent;
use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use relance_aws::dynamo::Dynamo;
use relance_aws::env::ConfigSource;
use relance_aws::provision::{Names, Resources, provision};
use relance_aws::queue::Queue;
use relance_aws::{Clients, Function};
use relance_core::service::{FeedbackOutcome, Received};
use relance_feedback::Feedback;
use relance_importer::Importer;
use relance_inbound::{INBOUND_PREFIX, Inbound};
use relance_letters::Letters;
use relance_mailer::Mailer;
use relance_planner::{Planner, PlannerEvent, PlannerOutput};
use relance_report::Report;
use relance_sync::{SourceSync, SyncEvent, SyncOutput};

use crate::CONFIG;
use crate::emulators::{SentMail, clients, sent_mail, unique};

/// Held by every test that reads moto's record of sent mail (`new_mail`,
/// `sent_mail`): that record is one list for the whole moto server, so those
/// tests run one at a time, whichever module they are in.
pub static SENT_MAIL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The institution's generic sender in [`CONFIG`], a verified SES identity.
pub const SENDER: &str = "contentieux@bibliotheques.example.fr";

/// A provisioned institution with its functions.
pub struct Stack {
    /// The clients, pointed at the emulators.
    pub clients: Clients,
    /// What was provisioned.
    pub resources: Resources,
    /// Where the config is (`s3://{bucket}/config/relance.toml`).
    pub config: ConfigSource,
}

impl Stack {
    /// Provisions fresh resources and uploads [`CONFIG`].
    pub async fn new() -> Self {
        Self::with_config(CONFIG, &[]).await
    }

    /// Provisions fresh resources and uploads that config, with `files` beside
    /// it (name, text: an iCalendar file of closures, say).
    pub async fn with_config(config: &str, files: &[(&str, &str)]) -> Self {
        let clients = clients();
        let names = Names {
            table: unique("table"),
            bucket: unique("bucket"),
            mail_queue: unique("mail"),
            letter_queue: unique("letters"),
            visibility_timeout_s: 1,
        };
        let resources = provision(&clients, &names, SENDER)
            .await
            .expect("provision");
        clients
            .s3
            .put_object()
            .bucket(&resources.bucket)
            .key("config/relance.toml")
            .body(config.as_bytes().to_vec().into())
            .send()
            .await
            .expect("config uploaded");
        for (name, text) in files {
            clients
                .s3
                .put_object()
                .bucket(&resources.bucket)
                .key(format!("config/{name}"))
                .body(text.as_bytes().to_vec().into())
                .send()
                .await
                .expect("file uploaded beside the config");
        }
        let config =
            ConfigSource::parse(&format!("s3://{}/config/relance.toml", resources.bucket)).unwrap();
        Self {
            clients,
            resources,
            config,
        }
    }

    /// What each function is built from: these clients, the table, the config in the bucket.
    pub async fn function(&self) -> Function {
        self.function_with(self.clients.clone()).await
    }

    /// The same with other clients (one going through a proxy).
    pub async fn function_with(&self, clients: Clients) -> Function {
        Function::load(clients, &self.resources.table, &self.config)
            .await
            .expect("the function's config")
    }

    /// The DynamoDB adapter on the table.
    pub fn dynamo(&self) -> Dynamo {
        Dynamo::new(self.clients.dynamodb.clone(), &self.resources.table)
    }

    /// Drops an export in the bucket and runs the importer on its S3 event.
    pub async fn import(&self, name: &str, rows: &[String], header: &str) {
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
            serde_json::from_str(include_str!("../../functions/importer/events/s3-put.json"))
                .unwrap();
        event["Records"][0]["s3"]["bucket"]["name"] = self.resources.bucket.clone().into();
        event["Records"][0]["s3"]["object"]["key"] = key.clone().into();
        let event: S3Event = serde_json::from_value(event).expect("an S3 event");
        let importer = Importer::new(self.function().await);
        let done = importer.handle(event, Utc::now()).await.expect("imported");
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].summary.rejected, 0, "{name}: {:?}", done[0].summary);
    }

    /// Stores `value` as a new Secrets Manager secret; its ARN.
    pub async fn secret(&self, value: &str) -> String {
        let created = self
            .clients
            .secretsmanager
            .create_secret()
            .name(unique("source"))
            .secret_string(value)
            .send()
            .await
            .expect("secret created");
        created.arn().expect("the secret's ARN").to_owned()
    }

    /// Gives the institution `source` as its `[source]` section: the bucket's
    /// config becomes [`CONFIG`] with it, for the functions built after.
    pub async fn use_source(&self, source: &str) {
        self.clients
            .s3
            .put_object()
            .bucket(&self.resources.bucket)
            .key("config/relance.toml")
            .body(format!("{CONFIG}\n{source}").into_bytes().into())
            .send()
            .await
            .expect("config uploaded");
    }

    /// The sync function of an institution whose config has `source` as its
    /// `[source]` section ([`Stack::use_source`]), with these clients.
    pub async fn sync_function(
        &self,
        source: &str,
        clients: Clients,
    ) -> anyhow::Result<SourceSync> {
        self.use_source(source).await;
        let function = Function::load(clients, &self.resources.table, &self.config).await?;
        SourceSync::new(function, &self.resources.bucket).await
    }

    /// Runs the sync function once (as the schedule does, now) with that `[source]`.
    pub async fn sync(&self, source: &str) -> anyhow::Result<SyncOutput> {
        let sync = self.sync_function(source, self.clients.clone()).await?;
        let event = SyncEvent {
            scheduled_time: Some(Utc::now()),
            ..SyncEvent::default()
        };
        sync.handle(event, Utc::now()).await
    }

    /// The planner function.
    pub async fn planner(&self) -> Planner {
        Planner::new(
            self.function().await,
            &self.resources.mail_queue_url,
            &self.resources.letter_queue_url,
        )
    }

    /// Runs the planner for `run_day` (a console event).
    pub async fn plan(&self, run_day: NaiveDate) -> PlannerOutput {
        let event = PlannerEvent {
            date: Some(run_day),
            ..PlannerEvent::default()
        };
        self.planner().await.handle(event).await.expect("planned")
    }

    /// The mailer function.
    pub async fn mailer(&self) -> Mailer {
        Mailer::new(self.function().await, None).await
    }

    /// The letters function.
    pub async fn letters(&self) -> Letters {
        Letters::new(self.function().await, &self.resources.bucket).await
    }

    /// A fresh queue standing for a dead-letter queue; its URL.
    pub async fn dead_letter_queue(&self) -> String {
        self.clients
            .sqs
            .create_queue()
            .queue_name(unique("dlq"))
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("a queue URL")
    }

    /// The report function, with these dead-letter queues (name, URL).
    pub async fn report(&self, dead_letters: &[(String, String)]) -> Report {
        Report::new(self.function().await, dead_letters)
    }

    /// The inbound function.
    pub async fn inbound(&self) -> Inbound {
        Inbound::new(self.function().await, &self.resources.bucket)
    }

    /// Stores `raw` where SES receiving puts mail and runs the inbound function
    /// on the receipt event (the console event shipped with the function, with
    /// this message id and these spam and virus verdicts).
    pub async fn receive(&self, ses_id: &str, raw: &[u8], spam: &str, virus: &str) -> Received {
        self.receive_with(
            ses_id,
            raw,
            &[("spamVerdict", spam), ("virusVerdict", virus)],
        )
        .await
    }

    /// [`Stack::receive`] with the receipt's verdicts given by name
    /// (`("dmarcVerdict", "FAIL")`); the others as in the shipped event.
    pub async fn receive_with(
        &self,
        ses_id: &str,
        raw: &[u8],
        verdicts: &[(&str, &str)],
    ) -> Received {
        self.clients
            .s3
            .put_object()
            .bucket(&self.resources.bucket)
            .key(format!("{INBOUND_PREFIX}{ses_id}"))
            .body(raw.to_vec().into())
            .send()
            .await
            .expect("mail stored");
        let mut event: serde_json::Value =
            serde_json::from_str(include_str!("../../functions/inbound/events/ses.json")).unwrap();
        let ses = &mut event["Records"][0]["ses"];
        ses["mail"]["messageId"] = ses_id.into();
        for (verdict, status) in verdicts {
            ses["receipt"][*verdict]["status"] = (*status).into();
        }
        let event: SimpleEmailEvent = serde_json::from_value(event).expect("an SES event");
        let mut received = self.inbound().await.handle(event).await.expect("received");
        assert_eq!(received.len(), 1);
        received.remove(0)
    }

    /// Runs the feedback function on an SNS delivery of this SES event (the
    /// console event shipped with the function, with this message).
    pub async fn feedback(&self, ses_event: &serde_json::Value) -> Vec<FeedbackOutcome> {
        let mut event: serde_json::Value = serde_json::from_str(include_str!(
            "../../functions/feedback/events/sns-bounce.json"
        ))
        .unwrap();
        event["Records"][0]["Sns"]["Message"] = ses_event.to_string().into();
        let event: SnsEvent = serde_json::from_value(event).expect("an SNS event");
        let feedback = Feedback::new(self.function().await);
        feedback.handle(event).await.expect("feedback handled")
    }

    /// Every message waiting on a queue, as a Lambda SQS event (deleted from the queue).
    pub async fn drain(&self, url: &str) -> SqsEvent {
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
    pub async fn deliver_mail(&self, now: DateTime<Utc>) -> usize {
        let event = self.drain(&self.resources.mail_queue_url).await;
        self.mailer()
            .await
            .handle(event, now)
            .await
            .batch_item_failures
            .len()
    }

    /// Runs the letters function on every queued batch; returns the failures reported.
    pub async fn deliver_letters(&self, now: DateTime<Utc>) -> usize {
        let event = self.drain(&self.resources.letter_queue_url).await;
        self.letters()
            .await
            .handle(event, now)
            .await
            .batch_item_failures
            .len()
    }

    /// The keys under `letters/{run_day}/`, sorted.
    pub async fn letter_keys(&self, run_day: NaiveDate) -> Vec<String> {
        let listed = self
            .clients
            .s3
            .list_objects_v2()
            .bucket(&self.resources.bucket)
            .prefix(format!("letters/{run_day}/"))
            .send()
            .await
            .expect("list");
        let mut keys: Vec<String> = listed
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        keys.sort();
        keys
    }
}

/// 08:00 in Paris on `day`.
pub fn morning(day: NaiveDate) -> DateTime<Utc> {
    chrono_tz::Europe::Paris
        .from_local_datetime(&day.and_hms_opt(8, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// The mail moto accepted since `before` messages.
pub fn new_mail(before: usize) -> Vec<SentMail> {
    sent_mail().into_iter().skip(before).collect()
}

/// The messages sent to `address`.
pub fn to(mail: &[SentMail], address: &str) -> Vec<SentMail> {
    mail.iter()
        .filter(|m| m.destinations.iter().any(|d| d == address))
        .cloned()
        .collect()
}
