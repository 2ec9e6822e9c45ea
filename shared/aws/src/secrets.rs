//! The library system's credentials on AWS (rules §15): `[source]` names each
//! by the ARN of a Secrets Manager secret (`api_key_secret`,
//! `client_secret_secret`, `token_secret`), read with `GetSecretValue` as its
//! `SecretString`. The values go straight into [`Secret`]s; errors name the
//! secret's ARN, never its value.

use std::collections::HashMap;

use anyhow::Context as _;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use relance_core::config::source::SourceSettings;
use relance_sources::{Credentials, Retry, Secret, Source, SourceError};

/// Why the credentials could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// `[source]` does not name a secret the system needs.
    #[error("[source] on AWS")]
    NotNamed {
        #[source]
        source: SourceError,
    },
    /// `GetSecretValue` failed (no such secret, no permission, throttled, …).
    #[error("cannot read the secret {arn} from Secrets Manager: {reason}")]
    Unreadable {
        arn: String,
        /// The SDK's error (it never holds the value).
        reason: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The secret holds binary data, or nothing.
    #[error("the secret {arn} has no SecretString: store the credential as plain text")]
    NoString { arn: String },
}

/// Reads credentials from Secrets Manager.
#[derive(Debug, Clone)]
pub struct SecretsManager {
    client: Client,
}

impl SecretsManager {
    /// Secrets Manager through this client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The value of one secret.
    pub async fn read(&self, arn: &str) -> Result<Secret, SecretsError> {
        let answer = self
            .client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| SecretsError::Unreadable {
                arn: arn.to_owned(),
                reason: DisplayErrorContext(&e).to_string(),
                source: Box::new(e),
            })?;
        answer
            .secret_string()
            .filter(|v| !v.trim().is_empty())
            .map(Secret::new)
            .ok_or_else(|| SecretsError::NoString {
                arn: arn.to_owned(),
            })
    }

    /// The credentials the source's system needs, each read from the secret
    /// `[source]` names for it (one `GetSecretValue` per distinct secret).
    pub async fn credentials(
        &self,
        settings: &SourceSettings,
    ) -> Result<Credentials, SecretsError> {
        let arns = needed(settings)?;
        let mut values = HashMap::new();
        for arn in arns {
            let value = self.read(&arn).await?;
            values.insert(arn, value);
        }
        Credentials::resolve(settings, |r| {
            r.secret_arn
                .as_ref()
                .and_then(|arn| values.get(arn).cloned())
                .map(Ok)
        })
        .map_err(|source| SecretsError::NotNamed { source })
    }
}

impl SecretsManager {
    /// The library system's client, its credentials read from Secrets Manager.
    pub async fn source(&self, settings: &SourceSettings, retry: Retry) -> anyhow::Result<Source> {
        let credentials = self
            .credentials(settings)
            .await
            .context("cannot read the library system's credentials")?;
        Source::new(settings, credentials, retry)
            .context("cannot set up the library system's client")
    }
}

/// The ARNs of the secrets the system needs, in the order asked, each once; an
/// error when one it needs has no ARN.
fn needed(settings: &SourceSettings) -> Result<Vec<String>, SecretsError> {
    let mut arns: Vec<String> = Vec::new();
    Credentials::resolve(settings, |r| {
        r.secret_arn.as_ref().map(|arn| {
            if !arns.contains(arn) {
                arns.push(arn.clone());
            }
            Ok(Secret::new(""))
        })
    })
    .map_err(|source| SecretsError::NotNamed { source })?;
    Ok(arns)
}

#[cfg(test)]
mod tests {
    use relance_core::config::source::{SecretRef, System};

    use super::*;

    fn settings(system: System) -> SourceSettings {
        SourceSettings {
            system,
            base_url: "http://127.0.0.1:1".to_owned(),
            api_key: SecretRef {
                env: Some("RELANCE_ALMA_API_KEY".to_owned()),
                secret_arn: Some("arn:aws:secretsmanager:eu-west-3:1:secret:alma".to_owned()),
            },
            client_id: Some("relance".to_owned()),
            client_id_ref: SecretRef::default(),
            client_secret: SecretRef {
                env: None,
                secret_arn: Some("arn:aws:secretsmanager:eu-west-3:1:secret:koha".to_owned()),
            },
            token: SecretRef::default(),
            tenant: Some("diku".to_owned()),
            loans_report: None,
            patrons_report: None,
            recheck: false,
            max_calls_per_run: 500,
        }
    }

    #[test]
    fn only_the_secrets_the_system_needs_are_read() {
        assert_eq!(
            needed(&settings(System::Koha)).unwrap(),
            ["arn:aws:secretsmanager:eu-west-3:1:secret:koha"]
        );
        assert_eq!(
            needed(&settings(System::Alma)).unwrap(),
            ["arn:aws:secretsmanager:eu-west-3:1:secret:alma"]
        );
    }

    #[test]
    fn a_credential_named_only_by_environment_variable_is_an_error_on_aws() {
        let err = needed(&settings(System::Folio)).unwrap_err();
        let SecretsError::NotNamed { source } = &err else {
            panic!("{err:?}")
        };
        assert!(source.to_string().contains("source.token_env"), "{source}");
    }
}
