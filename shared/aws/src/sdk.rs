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
    /// The library system's credentials (`[source] *_secret`).
    pub secretsmanager: aws_sdk_secretsmanager::Client,
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
            secretsmanager: aws_sdk_secretsmanager::Client::new(sdk),
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
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let text = aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string();
    let error = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => StoreError::unavailable(text),
        SdkError::ServiceError(service) => match service.err().code() {
            Some(
                "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded"
                | "ThrottlingException"
                | "InternalServerError"
                | "ServiceUnavailable",
            ) => StoreError::unavailable(text),
            Some("ConditionalCheckFailedException" | "TransactionConflictException") => {
                StoreError::conflict(text)
            }
            _ => StoreError::unexpected(text),
        },
        _ => StoreError::unexpected(text),
    };
    error.caused_by(err)
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use aws_sdk_dynamodb::config::http::HttpResponse;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;

    use super::*;

    type PutItemFailure = SdkError<PutItemError, HttpResponse>;

    fn service(code: &str, status: u16) -> PutItemFailure {
        let err = PutItemError::generic(ErrorMetadata::builder().code(code).message("no").build());
        let raw = HttpResponse::new(status.try_into().expect("status"), Vec::new().into());
        SdkError::service_error(err, raw)
    }

    #[test]
    fn a_failed_condition_is_a_conflict_that_keeps_the_sdk_error() {
        let err = store_error(service("ConditionalCheckFailedException", 400));
        assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("conflicting write: service error: "),
            "{err}"
        );
        let source = err.source().expect("the SDK error is kept");
        let sdk = source
            .downcast_ref::<PutItemFailure>()
            .expect("the source is the SDK error itself");
        assert_eq!(
            sdk.as_service_error().and_then(|e| e.code()),
            Some("ConditionalCheckFailedException")
        );
    }

    #[test]
    fn throttling_is_unavailable_and_the_rest_unexpected_each_with_its_cause() {
        for (code, unavailable) in [
            ("ProvisionedThroughputExceededException", true),
            ("ThrottlingException", true),
            ("ValidationException", false),
        ] {
            let err = store_error(service(code, 400));
            let kind_holds = if unavailable {
                matches!(err, StoreError::Unavailable { .. })
            } else {
                matches!(err, StoreError::Unexpected { .. })
            };
            assert!(kind_holds, "{code}: {err:?}");
            assert!(err.message().contains(code), "{code}: {err}");
            assert!(
                err.source().is_some_and(|s| s.is::<PutItemFailure>()),
                "{code}"
            );
        }
    }
}
