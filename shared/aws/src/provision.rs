//! Creates the resources Relance runs on — the table, the two fan-out queues with
//! their dead-letter queues, the letters bucket and the sender's SES identity —
//! on the emulators (`relance-provision`, `scripts/emulators.sh provision`) and
//! in tests, through the same code. Running it again changes nothing.

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use aws_sdk_sqs::types::QueueAttributeName;
use relance_core::address::{AddressError, EmailAddress};
use relance_core::ports::StoreError;

use crate::Clients;
use crate::dynamo::table::create_table;

/// Receives of a message before SQS moves it to the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 5;
/// How long a dead-letter queue keeps a message: 14 days, SQS's maximum.
const DLQ_RETENTION_S: u32 = 14 * 24 * 3600;

/// The names of the resources to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The DynamoDB table.
    pub table: String,
    /// The S3 bucket (letters, imports, inbound mail).
    pub bucket: String,
    /// The `mailer` function's queue; its dead-letter queue is `{name}-dlq`.
    pub mail_queue: String,
    /// The `letters` function's queue; its dead-letter queue is `{name}-dlq`.
    pub letter_queue: String,
    /// Visibility timeout of both queues, in seconds: at least six times the
    /// consuming function's timeout.
    pub visibility_timeout_s: u32,
}

impl Default for Names {
    /// `relance`, `relance-local`, `relance-mail`, `relance-letters`, 180 s
    /// (six times a 30 s function timeout).
    fn default() -> Self {
        Self {
            table: "relance".into(),
            bucket: "relance-local".into(),
            mail_queue: "relance-mail".into(),
            letter_queue: "relance-letters".into(),
            visibility_timeout_s: 180,
        }
    }
}

/// What was provisioned, as the functions' configuration names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    /// The DynamoDB table name.
    pub table: String,
    /// The bucket name.
    pub bucket: String,
    /// The URL of the `mailer` queue.
    pub mail_queue_url: String,
    /// The URL of the `letters` queue.
    pub letter_queue_url: String,
}

/// A provisioning failure, naming the resource.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The sender is not a plain email address.
    #[error("sender {sender:?} is not an email address")]
    Sender {
        /// The sender as given.
        sender: String,
        /// Why it is not one.
        #[source]
        source: AddressError,
    },
    /// The table could not be created.
    #[error("table {table}: {source}")]
    Table {
        /// The table name.
        table: String,
        source: StoreError,
    },
    /// A queue or its dead-letter queue could not be created or configured.
    #[error("queue {queue}: {reason}")]
    Queue {
        /// The queue name.
        queue: String,
        reason: String,
    },
    /// The bucket could not be created or configured.
    #[error("bucket {bucket}: {reason}")]
    Bucket {
        /// The bucket name.
        bucket: String,
        reason: String,
    },
    /// The SES identity could not be created.
    #[error("SES identity {identity}: {reason}")]
    Identity { identity: String, reason: String },
}

/// Creates what is missing among the table, the queues and their dead-letter
/// queues, the bucket and the SES identity of `sender`, and (re)applies their
/// settings. Idempotent.
pub async fn provision(
    clients: &Clients,
    names: &Names,
    sender: &str,
) -> Result<Resources, ProvisionError> {
    let sender = EmailAddress::parse(sender).map_err(|source| ProvisionError::Sender {
        sender: sender.to_owned(),
        source,
    })?;
    create_table(&clients.dynamodb, &names.table)
        .await
        .map_err(|source| ProvisionError::Table {
            table: names.table.clone(),
            source,
        })?;
    let mail_queue_url = queue(&clients.sqs, &names.mail_queue, names.visibility_timeout_s).await?;
    let letter_queue_url = queue(
        &clients.sqs,
        &names.letter_queue,
        names.visibility_timeout_s,
    )
    .await?;
    bucket(&clients.s3, &names.bucket).await?;
    identity(&clients.ses, sender.as_str()).await?;
    Ok(Resources {
        table: names.table.clone(),
        bucket: names.bucket.clone(),
        mail_queue_url,
        letter_queue_url,
    })
}

/// The dead-letter queue of queue `name`.
pub fn dead_letter_queue(name: &str) -> String {
    format!("{name}-dlq")
}

/// Creates queue `name` and its dead-letter queue and sets their attributes;
/// returns the queue URL. Attributes are set after creation, not passed to
/// CreateQueue, which refuses an existing queue whose attributes differ.
pub async fn queue(
    client: &aws_sdk_sqs::Client,
    name: &str,
    visibility_timeout_s: u32,
) -> Result<String, ProvisionError> {
    let fail = |queue: &str, e: &dyn std::fmt::Display| ProvisionError::Queue {
        queue: queue.to_owned(),
        reason: e.to_string(),
    };
    let dlq = dead_letter_queue(name);
    let dlq_url = create_queue(client, &dlq)
        .await
        .map_err(|e| fail(&dlq, &e))?;
    client
        .set_queue_attributes()
        .queue_url(&dlq_url)
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            DLQ_RETENTION_S.to_string(),
        )
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
        .send()
        .await
        .map_err(|e| fail(&dlq, &sqs_text(e)))?;
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| fail(&dlq, &sqs_text(e)))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| fail(&dlq, &"no QueueArn"))?;

    let url = create_queue(client, name)
        .await
        .map_err(|e| fail(name, &e))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": MAX_RECEIVE_COUNT.to_string(),
    });
    client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility_timeout_s.to_string(),
        )
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
        .send()
        .await
        .map_err(|e| fail(name, &sqs_text(e)))?;
    Ok(url)
}

async fn create_queue(client: &aws_sdk_sqs::Client, name: &str) -> Result<String, String> {
    let out = client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .map_err(sqs_text)?;
    out.queue_url
        .ok_or_else(|| "CreateQueue returned no URL".into())
}

fn sqs_text<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: aws_sdk_sqs::error::SdkError<E, R>,
) -> String {
    aws_sdk_sqs::error::DisplayErrorContext(&e).to_string()
}

/// Creates the bucket in the client's region, then sets default encryption
/// (SSE-S3) and blocks every form of public access.
pub async fn bucket(client: &aws_sdk_s3::Client, name: &str) -> Result<(), ProvisionError> {
    let fail = |reason: String| ProvisionError::Bucket {
        bucket: name.to_owned(),
        reason,
    };
    let text = |e: &dyn std::error::Error| aws_sdk_s3::error::DisplayErrorContext(e).to_string();
    let region = client.config().region().map(|r| r.as_ref().to_owned());
    let mut create = client.create_bucket().bucket(name);
    // us-east-1 is the one region that takes no location constraint.
    if let Some(region) = region.filter(|r| r != "us-east-1") {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you()) => {}
        Err(e) => return Err(fail(text(&e))),
    }
    let default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::Aes256)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let encryption = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(default)
                .build(),
        )
        .build()
        .map_err(|e| fail(e.to_string()))?;
    client
        .put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(encryption)
        .send()
        .await
        .map_err(|e| fail(text(&e)))?;
    client
        .put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| fail(text(&e)))?;
    Ok(())
}

/// Creates the SES identity of the sender; an existing one is kept as it is.
pub async fn identity(client: &aws_sdk_sesv2::Client, sender: &str) -> Result<(), ProvisionError> {
    match client
        .create_email_identity()
        .email_identity(sender)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_already_exists_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(ProvisionError::Identity {
            identity: sender.to_owned(),
            reason: aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string(),
        }),
    }
}
