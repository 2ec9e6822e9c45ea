//! The SES v2, S3 and SQS adapters and provisioning, against moto (and DynamoDB
//! Local for the table). Each test makes its own uniquely named resources.
//!
//! moto keeps every message sent through SES (v1 or v2) as a `RawMessage` model
//! instance and lists the instances of every model at `GET /moto-api/data.json`
//! (under `ses` → `RawMessage`: `id`, `source`, `destinations`, `raw_data`); that is
//! how a sent message is read back.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use chrono::NaiveDate;
use relance_aws::archive::{MAX_LINK_LIFE, S3Archive};
use relance_aws::mail::SesTransport;
use relance_aws::provision::{self, MAX_RECEIVE_COUNT, Names, ProvisionError, dead_letter_queue};
use relance_aws::queue::{MailMessage, Queue, decode};
use relance_core::address::EmailAddress;
use relance_core::ids::{LibraryCode, NoticeId};
use relance_core::ports::{LetterArchive, MailTransport, OutgoingMail, TransportError};
use relance_tests::emulators::{clients, unique};

fn moto_url() -> String {
    let port = std::env::var("RELANCE_MOTO_PORT").unwrap_or_else(|_| "5000".into());
    format!("http://127.0.0.1:{port}")
}

/// A plain HTTP/1.0 GET on loopback (no keep-alive, no chunking): status and body.
fn http_get(url: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    assert!(host.starts_with("127.0.0.1:"), "loopback only, got {host}");
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("response");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, response[split + 4..].to_vec())
}

/// The messages moto's SES recorded: (id, source, destinations, raw data).
fn sent_messages() -> Vec<(String, String, Vec<String>, String)> {
    let (status, body) = http_get(&format!("{}/moto-api/data.json", moto_url()));
    assert_eq!(status, 200);
    let data: serde_json::Value = serde_json::from_slice(&body).expect("moto data is JSON");
    data["ses"]["RawMessage"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|m| {
                    let text = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
                    let destinations = m["destinations"]
                        .as_array()
                        .map(|d| {
                            d.iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    (text("id"), text("source"), destinations, text("raw_data"))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).expect("date")
}

/// A message as the core builds one: encoded subject, Message-ID,
/// Auto-Submitted, multipart/alternative, CRLF line ends.
fn raw_mime(from: &str, to: &str, marker: &str) -> Vec<u8> {
    format!(
        "From: =?utf-8?q?Service_du_contentieux_des_biblioth=C3=A8ques?= <{from}>\r\n\
         To: {to}\r\n\
         Reply-To: {from}\r\n\
         Subject: =?utf-8?q?Premi=C3=A8re_relance_=E2=80=94_R=C3=A9f=2E_R7K2-9QF?=\r\n\
         Date: Sun, 29 Nov 2026 08:00:00 +0100\r\n\
         Message-ID: <{marker}@relance.example>\r\n\
         Auto-Submitted: auto-generated\r\n\
         Content-Language: fr\r\n\
         X-Relance-Test: {marker}\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"b1\"\r\n\
         \r\n\
         --b1\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         Bonjour, R=C3=A9f. R7K2-9QF\r\n\
         --b1\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         <p>Bonjour, R=C3=A9f. R7K2-9QF</p>\r\n\
         --b1--\r\n"
    )
    .into_bytes()
}

fn outgoing(from: &str, to: &str, raw: Vec<u8>) -> OutgoingMail {
    OutgoingMail {
        notice_id: NoticeId::derive("aws-channels"),
        run_day: day(),
        name: "first_reminder-P0001".into(),
        from: EmailAddress::parse(from).expect("from"),
        to: EmailAddress::parse(to).expect("to"),
        raw,
    }
}

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

    let sent = sent_messages();
    let (_, source, destinations, data) = sent
        .iter()
        .find(|(sent_id, ..)| *sent_id == id)
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
    assert!(matches!(err, TransportError::Unexpected(_)), "{err:?}");
    assert!(err.to_string().contains(&from), "{err}");
    assert!(
        !sent_messages()
            .iter()
            .any(|(.., data)| data.contains(&marker))
    );
}

#[tokio::test]
async fn letters_round_trip_encrypted_and_through_a_presigned_link() {
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

    let link = archive
        .presign_get(key, MAX_LINK_LIFE)
        .await
        .expect("presign");
    assert!(link.contains("X-Amz-Expires=604800"), "{link}");
    assert!(link.contains("X-Amz-Signature="), "{link}");
    let (status, body) = http_get(&link);
    assert_eq!(status, 200);
    assert_eq!(body, pdf);
    assert!(
        archive
            .presign_get(key, MAX_LINK_LIFE + Duration::from_secs(1))
            .await
            .is_err()
    );
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
            notice_id: format!("N{i:03}"),
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
    assert_eq!(received, messages);
    assert!(
        queue.receive(10, 1).await.expect("receive").is_empty(),
        "deleted messages stay deleted"
    );
}

#[tokio::test]
async fn provisioning_twice_changes_nothing_and_sets_the_redrive_policy() {
    let clients = clients();
    let names = Names {
        table: unique("table"),
        bucket: unique("bucket"),
        mail_queue: unique("mail"),
        letter_queue: unique("letters"),
        visibility_timeout_s: 90,
    };
    let sender = format!("contentieux@{}.example.fr", unique("sender"));

    let first = provision::provision(&clients, &names, &sender)
        .await
        .expect("first");
    let second = provision::provision(&clients, &names, &sender)
        .await
        .expect("second");

    assert_eq!(first, second);
    assert_eq!(first.table, names.table);
    assert_eq!(first.bucket, names.bucket);
    let described = clients
        .dynamodb
        .describe_table()
        .table_name(&names.table)
        .send()
        .await
        .expect("table");
    assert_eq!(
        described
            .table()
            .map(|t| t.global_secondary_indexes().len()),
        Some(4)
    );
    for (name, url) in [
        (&names.mail_queue, &first.mail_queue_url),
        (&names.letter_queue, &first.letter_queue_url),
    ] {
        assert!(url.ends_with(name.as_str()), "{url}");
        let attributes = clients
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names("All".into())
            .send()
            .await
            .expect("attributes")
            .attributes
            .unwrap_or_default();
        let get = |k: &str| attributes.get(&k.into()).cloned().unwrap_or_default();
        assert_eq!(get("VisibilityTimeout"), "90");
        let redrive: serde_json::Value =
            serde_json::from_str(&get("RedrivePolicy")).expect("redrive policy");
        let target = redrive["deadLetterTargetArn"].as_str().expect("target");
        assert!(
            target.ends_with(&format!(":{}", dead_letter_queue(name))),
            "{target}"
        );
        assert_eq!(
            redrive["maxReceiveCount"].to_string().trim_matches('"'),
            MAX_RECEIVE_COUNT.to_string()
        );
    }
    let encryption = clients
        .s3
        .get_bucket_encryption()
        .bucket(&names.bucket)
        .send()
        .await
        .expect("encryption");
    let algorithm = encryption
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .map(|d| d.sse_algorithm().as_str().to_owned());
    assert_eq!(algorithm.as_deref(), Some("AES256"));
    let block = clients
        .s3
        .get_public_access_block()
        .bucket(&names.bucket)
        .send()
        .await
        .expect("public access block");
    let block = block
        .public_access_block_configuration()
        .expect("configuration");
    assert_eq!(
        [
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ],
        [Some(true); 4]
    );
    clients
        .ses
        .get_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .expect("SES identity exists");

    // Running again with another setting converges instead of failing.
    let slower = Names {
        visibility_timeout_s: 120,
        ..names.clone()
    };
    provision::provision(&clients, &slower, &sender)
        .await
        .expect("third");
    let attributes = clients
        .sqs
        .get_queue_attributes()
        .queue_url(&first.mail_queue_url)
        .attribute_names("VisibilityTimeout".into())
        .send()
        .await
        .expect("attributes");
    assert_eq!(
        attributes
            .attributes()
            .and_then(|a| a.get(&"VisibilityTimeout".into()))
            .map(String::as_str),
        Some("120")
    );
}

#[tokio::test]
async fn a_message_received_five_times_without_success_lands_in_the_dead_letter_queue() {
    let clients = clients();
    let name = unique("poison");
    let url = provision::queue(&clients.sqs, &name, 1)
        .await
        .expect("queue");
    let queue = Queue::new(clients.sqs.clone(), &url);
    let dlq_url = clients
        .sqs
        .get_queue_url()
        .queue_name(dead_letter_queue(&name))
        .send()
        .await
        .expect("dead-letter queue")
        .queue_url
        .expect("url");
    let dlq = Queue::new(clients.sqs.clone(), &dlq_url);
    let poison = MailMessage {
        notice_id: "N-POISON".into(),
        run_day: day(),
    };
    queue
        .send_all(std::slice::from_ref(&poison))
        .await
        .expect("sent");

    let mut receives = 0;
    for _ in 0..30 {
        // Received and never deleted, as a handler that keeps failing.
        receives += queue.receive(1, 2).await.expect("receive").len();
        if receives as u32 >= MAX_RECEIVE_COUNT {
            break;
        }
    }
    assert_eq!(receives as u32, MAX_RECEIVE_COUNT);

    let mut moved = Vec::new();
    for _ in 0..5 {
        // The next receive past the visibility timeout moves it.
        assert!(
            queue.receive(1, 2).await.expect("receive").is_empty(),
            "a sixth delivery"
        );
        moved = dlq.receive(1, 1).await.expect("receive dead letters");
        if !moved.is_empty() {
            break;
        }
    }
    assert_eq!(moved.len(), 1, "the message is in the dead-letter queue");
    assert_eq!(decode::<MailMessage>(&moved[0].1).expect("decodes"), poison);
}

#[tokio::test]
async fn provisioning_refuses_a_sender_that_is_not_an_address() {
    let clients = clients();
    let names = Names {
        table: unique("never"),
        ..Names::default()
    };
    let err = provision::provision(&clients, &names, "not an address")
        .await
        .expect_err("refused");
    assert!(matches!(err, ProvisionError::Sender(_)), "{err:?}");
    let tables = clients.dynamodb.list_tables().send().await.expect("tables");
    assert!(
        !tables.table_names().contains(&names.table),
        "nothing is created before the sender is checked"
    );
}
