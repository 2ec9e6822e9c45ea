//! The SES v2, S3 and SQS adapters and provisioning, against moto (and DynamoDB
//! Local for the table). Each test makes its own uniquely named resources. Sent
//! mail is read back from moto's `GET /moto-api/data.json` (see [`support`]).

mod provisioning;
mod support;

use relance_aws::archive::S3Archive;
use relance_aws::mail::SesTransport;
use relance_aws::provision;
use relance_aws::queue::{MailMessage, Queue, decode};
use relance_core::ids::LibraryCode;
use relance_core::ports::{LetterArchive, MailTransport, TransportError};
use relance_tests::emulators::{clients, sent_mail, unique};
use support::{day, outgoing, raw_mime};

#[tokio::test]
async fn raw_mime_reaches_ses_byte_for_byte_with_its_message_id() {
    let clients = clients();
    let from = format!("contentieux@{}.example.fr", unique("ses"));
    provision::identity(&clients.ses, &from)
        .await
        .expect("identity");
    let marker = unique("mime");
    let raw = raw_mime(&from, "patron@example.org", &marker);
    let transport = SesTransport::new(&clients.ses, None);

    let id = transport
        .send(&outgoing(&from, "patron@example.org", raw.clone()))
        .await
        .expect("sent");

    let sent = sent_mail();
    let relance_tests::emulators::SentMail {
        source,
        destinations,
        raw: data,
        ..
    } = sent
        .iter()
        .find(|m| m.id == id)
        .unwrap_or_else(|| panic!("message {id} not in moto's {} sent messages", sent.len()));
    assert_eq!(source, &from);
    assert!(
        destinations.iter().any(|d| d == "patron@example.org"),
        "{destinations:?}"
    );
    assert_eq!(
        data.as_bytes(),
        raw.as_slice(),
        "the raw message must not be rebuilt"
    );
    let parsed = mail_parser::MessageParser::default()
        .parse(data.as_bytes())
        .expect("parses");
    assert_eq!(
        parsed.message_id(),
        Some(format!("{marker}@relance.example").as_str())
    );
    assert_eq!(parsed.subject(), Some("Première relance — Réf. R7K2-9QF"));
    assert_eq!(
        parsed.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-generated")
    );
    assert_eq!(
        parsed.header_raw("X-Relance-Test").map(str::trim),
        Some(marker.as_str())
    );
}

#[tokio::test]
async fn a_sender_that_is_not_a_verified_identity_is_refused_as_misconfiguration() {
    let clients = clients();
    let from = format!("contentieux@{}.example.fr", unique("unverified"));
    let marker = unique("refused");
    let transport = SesTransport::new(&clients.ses, None);

    let err = transport
        .send(&outgoing(
            &from,
            "patron@example.org",
            raw_mime(&from, "patron@example.org", &marker),
        ))
        .await
        .expect_err("an unverified sender must be refused");

    // Our sender, not the patron's address: no fallback to print, stop and report.
    assert!(matches!(err, TransportError::Unexpected { .. }), "{err:?}");
    assert!(err.to_string().contains(&from), "{err}");
    assert!(!sent_mail().iter().any(|m| m.raw.contains(&marker)));
}

#[tokio::test]
async fn letters_round_trip_encrypted() {
    let clients = clients();
    let bucket = unique("letters");
    provision::bucket(&clients.s3, &bucket)
        .await
        .expect("bucket");
    let archive = S3Archive::new(clients.s3.clone(), &bucket);
    let sts = LibraryCode::parse("STS").expect("code");
    let pdf = b"%PDF-1.7\n% lettre de relance\n".repeat(100);

    let location = archive
        .put(day(), &sts, "batch.pdf", &pdf)
        .await
        .expect("put");

    let key = "letters/2026-11-29/STS/batch.pdf";
    assert_eq!(location, format!("s3://{bucket}/{key}"));
    assert_eq!(archive.get(key).await.expect("get"), pdf);
    let head = clients
        .s3
        .head_object()
        .bucket(&bucket)
        .key(key)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.server_side_encryption().map(|s| s.as_str()),
        Some("AES256")
    );
    assert_eq!(head.content_type(), Some("application/pdf"));
}

#[tokio::test]
async fn the_archive_refuses_unsafe_names_and_reports_missing_keys() {
    let clients = clients();
    let bucket = unique("unsafe");
    provision::bucket(&clients.s3, &bucket)
        .await
        .expect("bucket");
    let archive = S3Archive::new(clients.s3.clone(), &bucket);
    let sts = LibraryCode::parse("STS").expect("code");

    assert!(
        archive
            .put(day(), &sts, "../escape.pdf", b"x")
            .await
            .is_err()
    );
    assert!(
        archive
            .put_object("imports/../letters/x.csv", b"x", "text/csv")
            .await
            .is_err()
    );
    let rejects = archive
        .put_object(
            "imports/rejects/2026-11-29/loans.csv",
            b"line,reason\n",
            "text/csv; charset=utf-8",
        )
        .await
        .expect("rejects file");
    assert_eq!(
        rejects,
        format!("s3://{bucket}/imports/rejects/2026-11-29/loans.csv")
    );
    // Keys of uploaded exports are named by people, not built from ids.
    let upload = "imports/prêts du jour.csv";
    archive
        .put_object(upload, b"loan_id\n", "text/csv")
        .await
        .expect("upload");
    assert_eq!(archive.get(upload).await.expect("get upload"), b"loan_id\n");
    let listed = clients
        .s3
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .expect("list");
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, [upload, "imports/rejects/2026-11-29/loans.csv"]);
    assert!(
        archive
            .get("letters/2026-11-29/STS/missing.pdf")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn twenty_five_messages_go_out_in_batches_and_come_back_decoded() {
    let clients = clients();
    let url = provision::queue(&clients.sqs, &unique("mail"), 30)
        .await
        .expect("queue");
    let queue = Queue::new(clients.sqs.clone(), &url);
    let messages: Vec<MailMessage> = (0..25)
        .map(|i| MailMessage {
            notice_id: relance_core::ids::NoticeId::derive(&format!("N{i:03}")),
            run_day: day(),
        })
        .collect();

    assert_eq!(queue.send_all(&messages).await.expect("sent"), 25);

    let mut received = Vec::new();
    for _ in 0..20 {
        if received.len() >= 25 {
            break;
        }
        for (receipt, body) in queue.receive(10, 1).await.expect("receive") {
            received.push(decode::<MailMessage>(&body).expect("decodes"));
            queue.delete(&receipt).await.expect("delete");
        }
    }
    received.sort_by(|a, b| a.notice_id.cmp(&b.notice_id));
    let mut messages = messages;
    messages.sort_by(|a, b| a.notice_id.cmp(&b.notice_id));
    assert_eq!(received, messages);
    assert!(
        queue.receive(10, 1).await.expect("receive").is_empty(),
        "deleted messages stay deleted"
    );
}
