//! Runs the serverless functions on this machine, against the emulators, the
//! way Lambda runs them: each step builds a function from its environment
//! (`Settings::from_env`) and calls its handler with the event Lambda would give.
//! The README's serverless walk-through uses it:
//!
//! ```text
//! invoke import FILE...        put each export under imports/ in the bucket, run the importer on its S3 event
//! invoke planner [EVENT_JSON]  run the planner with a console event (default: today's run)
//! invoke deliver               drain the mail and letters queues through the mailer and letters functions
//! invoke sent                  list the mail SES (moto) accepted: recipient, subject
//! ```
//!
//! Environment: what `scripts/emulators.sh env` and `scripts/emulators.sh provision`
//! print, plus `RELANCE_CONFIG` (a path or `s3://bucket/key`).

use std::path::Path;

use anyhow::{Context as _, bail};
use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::Utc;
use relance_aws::Clients;
use relance_aws::env;
use relance_aws::queue::Queue;
use relance_tests::emulators::sent_mail;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let clients = Clients::from_env().await;
    match args.first().map(String::as_str) {
        Some("import") if args.len() > 1 => import(&clients, &args[1..]).await,
        Some("planner") => planner(args.get(1).map(String::as_str)).await,
        Some("deliver") => deliver(&clients).await,
        Some("sent") => {
            sent();
            Ok(())
        }
        _ => bail!("usage: invoke import FILE... | planner [EVENT_JSON] | deliver | sent"),
    }
}

async fn import(clients: &Clients, files: &[String]) -> anyhow::Result<()> {
    let bucket = env::required("RELANCE_BUCKET")?;
    let importer = relance_importer::Importer::from_env().await?;
    for file in files {
        let name = Path::new(file)
            .file_name()
            .and_then(|n| n.to_str())
            .context("a file name")?;
        let key = format!("imports/{name}");
        let bytes = std::fs::read(file).with_context(|| format!("reading {file}"))?;
        clients
            .s3
            .put_object()
            .bucket(&bucket)
            .key(&key)
            .body(bytes.into())
            .send()
            .await
            .with_context(|| format!("uploading {file}"))?;
        let mut event: serde_json::Value =
            serde_json::from_str(include_str!("../../functions/importer/events/s3-put.json"))?;
        event["Records"][0]["s3"]["bucket"]["name"] = bucket.clone().into();
        event["Records"][0]["s3"]["object"]["key"] = key.clone().into();
        let event: S3Event = serde_json::from_value(event)?;
        for done in importer.handle(event, Utc::now()).await? {
            println!("{}: {}", done.key, serde_json::to_string(&done.summary)?);
            if let Some(rejects) = done.rejects_key {
                println!("  rejects: s3://{bucket}/{rejects}");
            }
        }
    }
    Ok(())
}

async fn planner(event: Option<&str>) -> anyhow::Result<()> {
    let planner = relance_planner::Planner::from_env().await?;
    let event = match event {
        Some(json) => serde_json::from_str(json).context("the planner event")?,
        None => relance_planner::PlannerEvent {
            scheduled_time: Some(Utc::now()),
            ..Default::default()
        },
    };
    let output = planner.handle(event).await?;
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}

/// Every message waiting on a queue as one SQS event, deleted from the queue
/// (as the event source mapping does once the handler reports success).
async fn drain(clients: &Clients, url: &str) -> anyhow::Result<SqsEvent> {
    let queue = Queue::new(clients.sqs.clone(), url);
    let mut event = SqsEvent::default();
    loop {
        let received = queue.receive(10, 1).await?;
        if received.is_empty() {
            return Ok(event);
        }
        for (receipt, body) in received {
            let mut message = SqsMessage::default();
            message.message_id = Some(format!("local-{}", event.records.len()));
            message.body = Some(body);
            event.records.push(message);
            queue.delete(&receipt).await?;
        }
    }
}

async fn deliver(clients: &Clients) -> anyhow::Result<()> {
    let mail = drain(clients, &env::required("RELANCE_MAIL_QUEUE_URL")?).await?;
    let count = mail.records.len();
    let mailer = relance_mailer::Mailer::from_env().await?;
    let failed = mailer
        .handle(mail, Utc::now())
        .await
        .batch_item_failures
        .len();
    println!("mailer: {count} message(s), {failed} to retry");
    let letters_event = drain(clients, &env::required("RELANCE_LETTER_QUEUE_URL")?).await?;
    let count = letters_event.records.len();
    let letters = relance_letters::Letters::from_env().await?;
    let failed = letters
        .handle(letters_event, Utc::now())
        .await
        .batch_item_failures
        .len();
    println!("letters: {count} library batch(es), {failed} to retry");
    Ok(())
}

fn sent() {
    for mail in sent_mail() {
        let parsed = mail_parser::MessageParser::default().parse(mail.raw.as_bytes());
        let subject = parsed
            .as_ref()
            .and_then(|m| m.subject())
            .unwrap_or_default()
            .to_owned();
        println!("{}\t{}", mail.destinations.join(","), subject);
    }
}
