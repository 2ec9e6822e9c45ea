//! One place that builds the SDK clients. Endpoints are the SDK's standard ones,
//! overridable with `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` (which
//! `aws-config` reads itself); S3 is addressed path-style when an endpoint is
//! overridden, as emulators need.

use aws_config::{BehaviorVersion, SdkConfig};

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
