//! `[source]`: the library system Relance pulls open loans and patrons from
//! (rules §15), and whether loans are checked against it just before sending.
//! Secrets are never in the file: it names the environment variable (locally)
//! or the AWS Secrets Manager secret (on AWS) that holds each one.

use serde::Deserialize;

use super::{ConfigError, invalid};

/// The library systems Relance can pull from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    /// Ex Libris Alma: an Analytics report, and the Users API.
    Alma,
    /// Koha's REST API (`/api/v1`), with OAuth2 client credentials.
    Koha,
    /// FOLIO's circulation and users modules, through Okapi.
    Folio,
}

impl System {
    /// The names `[source] system` accepts.
    pub const NAMES: [&'static str; 3] = ["alma", "koha", "folio"];

    /// Its name in the config.
    pub fn name(self) -> &'static str {
        match self {
            Self::Alma => "alma",
            Self::Koha => "koha",
            Self::Folio => "folio",
        }
    }
}

/// Where one secret is read: an environment variable (locally) or an AWS
/// Secrets Manager secret (on AWS). Both may be given; each home reads its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretRef {
    /// The environment variable that holds it.
    pub env: Option<String>,
    /// The ARN of the Secrets Manager secret that holds it.
    pub secret_arn: Option<String>,
}

impl SecretRef {
    fn new(env: Option<String>, secret_arn: Option<String>) -> Self {
        Self {
            env: env.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()),
            secret_arn: secret_arn
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
        }
    }

    fn is_given(&self) -> bool {
        self.env.is_some() || self.secret_arn.is_some()
    }
}

/// The validated `[source]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSettings {
    pub system: System,
    /// The API's root (`https://api-eu.hosted.exlibrisgroup.com`, Koha's
    /// `https://koha.example.fr`, the Okapi URL), without a trailing slash.
    pub base_url: String,
    /// Alma's API key (`api_key_env` / `api_key_secret`).
    pub api_key: SecretRef,
    /// Koha's OAuth2 client id: given as is (`client_id`), or by reference.
    pub client_id: Option<String>,
    /// Koha's OAuth2 client id by reference (`client_id_env`).
    pub client_id_ref: SecretRef,
    /// Koha's OAuth2 client secret (`client_secret_env` / `client_secret_secret`).
    pub client_secret: SecretRef,
    /// FOLIO's token (`token_env` / `token_secret`).
    pub token: SecretRef,
    /// FOLIO's tenant (`X-Okapi-Tenant`).
    pub tenant: Option<String>,
    /// Alma: the Analytics report of open loans (its path in the catalog).
    pub loans_report: Option<String>,
    /// Alma: the Analytics report of patrons; when absent, patrons are read from
    /// the loans report's columns.
    pub patrons_report: Option<String>,
    /// Check each reminder's and letter's loans against the system just before sending.
    pub recheck: bool,
    /// At most this many calls to the system for the send-time check of one run.
    pub max_calls_per_run: u32,
}

/// The default of [`SourceSettings::max_calls_per_run`].
pub const MAX_CALLS_PER_RUN: u32 = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    system: Option<String>,
    base_url: Option<String>,
    api_key_env: Option<String>,
    api_key_secret: Option<String>,
    client_id: Option<String>,
    client_id_env: Option<String>,
    client_secret_env: Option<String>,
    client_secret_secret: Option<String>,
    token_env: Option<String>,
    token_secret: Option<String>,
    tenant: Option<String>,
    loans_report: Option<String>,
    patrons_report: Option<String>,
    recheck: Option<bool>,
    max_calls_per_run: Option<u32>,
}

impl RawSource {
    pub(super) fn validate(self) -> Result<SourceSettings, ConfigError> {
        let system_text = self
            .system
            .ok_or_else(|| invalid("source.system", "is missing (alma, koha or folio)"))?;
        let system = match system_text.trim().to_ascii_lowercase().as_str() {
            "alma" => System::Alma,
            "koha" => System::Koha,
            "folio" => System::Folio,
            _ => {
                return Err(invalid(
                    "source.system",
                    format!(
                        "unknown system {system_text:?} ({})",
                        System::NAMES.join(", ")
                    ),
                ));
            }
        };
        let base_url = self
            .base_url
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| invalid("source.base_url", "is missing"))?;
        if !(base_url.starts_with("https://") || base_url.starts_with("http://"))
            || base_url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                "source.base_url",
                format!("{base_url:?} is not an http(s) URL"),
            ));
        }
        let settings = SourceSettings {
            system,
            base_url,
            api_key: SecretRef::new(self.api_key_env, self.api_key_secret),
            client_id: self
                .client_id
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
            client_id_ref: SecretRef::new(self.client_id_env, None),
            client_secret: SecretRef::new(self.client_secret_env, self.client_secret_secret),
            token: SecretRef::new(self.token_env, self.token_secret),
            tenant: self
                .tenant
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
            loans_report: self
                .loans_report
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
            patrons_report: self
                .patrons_report
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
            recheck: self.recheck.unwrap_or(false),
            max_calls_per_run: self.max_calls_per_run.unwrap_or(MAX_CALLS_PER_RUN),
        };
        settings.check_system_keys()?;
        Ok(settings)
    }
}

impl SourceSettings {
    /// Each system needs its own keys.
    fn check_system_keys(&self) -> Result<(), ConfigError> {
        match self.system {
            System::Alma => {
                if !self.api_key.is_given() {
                    return Err(invalid(
                        "source.api_key_env",
                        "Alma needs an API key: name its environment variable \
                         (api_key_env) or its AWS secret (api_key_secret)",
                    ));
                }
                if self.loans_report.is_none() {
                    return Err(invalid(
                        "source.loans_report",
                        "Alma needs the path of the Analytics report of open loans",
                    ));
                }
            }
            System::Koha => {
                if self.client_id.is_none() && !self.client_id_ref.is_given() {
                    return Err(invalid(
                        "source.client_id_env",
                        "Koha needs an OAuth2 client id (client_id or client_id_env)",
                    ));
                }
                if !self.client_secret.is_given() {
                    return Err(invalid(
                        "source.client_secret_env",
                        "Koha needs an OAuth2 client secret: name its environment \
                         variable (client_secret_env) or its AWS secret (client_secret_secret)",
                    ));
                }
            }
            System::Folio => {
                if self.tenant.is_none() {
                    return Err(invalid("source.tenant", "FOLIO needs the tenant id"));
                }
                if !self.token.is_given() {
                    return Err(invalid(
                        "source.token_env",
                        "FOLIO needs a token: name its environment variable (token_env) \
                         or its AWS secret (token_secret)",
                    ));
                }
            }
        }
        if self.max_calls_per_run == 0 && self.recheck {
            return Err(invalid(
                "source.max_calls_per_run",
                "0 calls leaves nothing to recheck with: set recheck = false instead",
            ));
        }
        Ok(())
    }

    /// The ARNs of the Secrets Manager secrets this source reads on AWS.
    pub fn secret_arns(&self) -> Vec<&str> {
        [&self.api_key, &self.client_secret, &self.token]
            .into_iter()
            .filter_map(|s| s.secret_arn.as_deref())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SourceSettings, ConfigError> {
        let raw: RawSource = toml::from_str(text).expect("TOML");
        raw.validate()
    }

    #[test]
    fn an_alma_source_names_its_key_and_reports() {
        let s = parse(
            r#"
            system = "alma"
            base_url = "https://api-eu.hosted.exlibrisgroup.com/"
            api_key_env = "RELANCE_ALMA_API_KEY"
            loans_report = "/shared/U/Relance/Loans"
            "#,
        )
        .unwrap();
        assert_eq!(s.system, System::Alma);
        assert_eq!(s.base_url, "https://api-eu.hosted.exlibrisgroup.com");
        assert_eq!(s.api_key.env.as_deref(), Some("RELANCE_ALMA_API_KEY"));
        assert!(!s.recheck);
        assert_eq!(s.max_calls_per_run, MAX_CALLS_PER_RUN);
    }

    #[test]
    fn each_system_says_which_key_it_lacks() {
        let e = parse("system = \"alma\"\nbase_url = \"https://a.example\"\nloans_report = \"/r\"")
            .unwrap_err();
        assert!(e.to_string().starts_with("source.api_key_env:"), "{e}");
        let e = parse("system = \"folio\"\nbase_url = \"https://a.example\"\ntoken_env = \"T\"")
            .unwrap_err();
        assert!(e.to_string().starts_with("source.tenant:"), "{e}");
        let e = parse("system = \"koha\"\nbase_url = \"https://a.example\"\nclient_id = \"c\"")
            .unwrap_err();
        assert!(
            e.to_string().starts_with("source.client_secret_env:"),
            "{e}"
        );
        let e = parse("system = \"sierra\"\nbase_url = \"https://a.example\"").unwrap_err();
        assert!(e.to_string().contains("alma, koha, folio"), "{e}");
    }

    #[test]
    fn the_base_url_must_be_http() {
        let e = parse("system = \"koha\"\nbase_url = \"koha.example\"\nclient_id = \"c\"\nclient_secret_env = \"S\"")
            .unwrap_err();
        assert!(e.to_string().starts_with("source.base_url:"), "{e}");
    }

    #[test]
    fn aws_secrets_are_listed_for_the_function() {
        let s = parse(
            "system = \"folio\"\nbase_url = \"https://okapi.example\"\ntenant = \"diku\"\n\
             token_secret = \"arn:aws:secretsmanager:eu-west-3:1:secret:folio\"",
        )
        .unwrap();
        assert_eq!(
            s.secret_arns(),
            ["arn:aws:secretsmanager:eu-west-3:1:secret:folio"]
        );
    }
}
