//! Provisioning: idempotent, converging, with the redrive policy in force.

use relance_aws::provision::{self, MAX_RECEIVE_COUNT, Names, ProvisionError, dead_letter_queue};
use relance_aws::queue::{MailMessage, Queue, decode};
use relance_tests::emulators::{clients, unique};

use super::support::day;

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
    let mut indexes: Vec<&str> = described
        .table()
        .map(|t| t.global_secondary_indexes())
        .unwrap_or_default()
        .iter()
        .filter_map(|index| index.index_name())
        .collect();
    indexes.sort_unstable();
    assert_eq!(
        indexes,
        [
            "by_day",
            "by_due",
            "by_email",
            "by_message",
            "by_patron",
            "by_pending"
        ]
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
        // Serialised as is, refused when read: the mailer can never handle it.
        notice_id: relance_core::ids::NoticeId::from_stored("N-POISON".into()),
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
    assert_eq!(moved[0].1, serde_json::to_string(&poison).expect("encodes"));
    assert!(
        decode::<MailMessage>(&moved[0].1).is_err(),
        "a poison message: refused whenever it is read"
    );
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
    assert!(matches!(err, ProvisionError::Sender { .. }), "{err:?}");
    let tables = clients.dynamodb.list_tables().send().await.expect("tables");
    assert!(
        !tables.table_names().contains(&names.table),
        "nothing is created before the sender is checked"
    );
}
