//! One place that builds the SDK clients. Endpoints are the SDK's standard ones,
//! overridable with `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` (which
//! `aws-config` reads itself); S3 is addressed path-style when an endpoint is
//! overridden, as emulators need. And what every adapter does with the SDK's
//! answers: map its errors to the engine's, back off before retrying.

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use relance_core::ports::StoreError;

/// The clients of every service Relance calls.
#[derive(Debug, Clone)]
pub struct Clients {
    /// Patrons, loans and the ledger.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// Letters, imports and inbound mail.
    pub s3: aws_sdk_s3::Client,
    /// Outgoing mail.
    pub ses: aws_sdk_sesv2::Client,
    /// The fan-out queues.
    pub sqs: aws_sdk_sqs::Client,
}

impl Clients {
    /// Clients from the environment: region, credentials and endpoints as the
    /// SDK's default chain finds them.
    pub async fn from_env() -> Self {
        let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
        let overridden = ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
            .iter()
            .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
        Self::from_config(&sdk, overridden)
    }

    /// Clients from a loaded configuration; `path_style` addresses S3 buckets in
    /// the path (`http://host/bucket/key`), as emulators need.
    pub fn from_config(sdk: &SdkConfig, path_style: bool) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(path_style)
            .build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            s3: aws_sdk_s3::Client::from_conf(s3),
            ses: aws_sdk_sesv2::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
        }
    }

    /// Clients for emulators on loopback: DynamoDB at `dynamodb_url`, every
    /// other service at `moto_url`, dummy credentials, region `eu-west-3`.
    pub fn for_emulators(dynamodb_url: &str, moto_url: &str) -> Self {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-west-3"))
            .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                aws_sdk_dynamodb::config::Credentials::new(
                    "testing",
                    "testing",
                    None,
                    None,
                    "emulators",
                ),
            ))
            .endpoint_url(moto_url)
            .build();
        let mut clients = Self::from_config(&sdk, true);
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url(dynamodb_url)
            .build();
        clients.dynamodb = aws_sdk_dynamodb::Client::from_conf(dynamodb);
        clients
    }
}

/// Exponential backoff with jitter-free steps: 50 ms, 100 ms, … capped at 3.2 s.
pub async fn backoff(attempt: u32) {
    let ms = 50u64 << attempt.min(6);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Maps an SDK error to the engine's: throttling, timeouts and unreachable
/// endpoints are `Unavailable` (retry later), a failed condition is `Conflict`.
pub fn store_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let text = aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => StoreError::Unavailable(text),
        SdkError::ServiceError(service) => match service.err().code() {
            Some(
                "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded"
                | "ThrottlingException"
                | "InternalServerError"
                | "ServiceUnavailable",
            ) => StoreError::Unavailable(text),
            Some("ConditionalCheckFailedException" | "TransactionConflictException") => {
                StoreError::Conflict(text)
            }
            _ => StoreError::Unexpected(text),
        },
        _ => StoreError::Unexpected(text),
    }
}
