//! Pulling every open loan and its patron from the library system's API (rules
//! §15): an Alma Analytics report, Koha's REST API or FOLIO's circulation and
//! users modules. A pull gives two [`Table`]s headed with the system's own field
//! names or report headings, which the import reads through the system's
//! profile, as a snapshot. A pull that stops halfway is an error, never a
//! smaller table: a partial pull must not close the loans it missed.
//!
//! [`Source`] is also the [`LoanSystem`] the send-time check asks about one loan.
//! No AWS here: credentials come in as [`Credentials`], read from the
//! environment by [`Credentials::from_env`] or from Secrets Manager by the AWS crate.

mod alma;
mod folio;
mod http;
mod json;
mod koha;
mod secret;
mod settings;
mod table;

use relance_core::config::source::{SecretRef, SourceSettings, System};
use relance_core::model::Loan;
use relance_core::ports::{LoanState, LoanSystem, StoreError};

pub use http::{Retry, Since};
pub use secret::Secret;
pub use settings::{import_config, profile_of};
pub use table::Table;

/// Why a pull or a call failed. No variant holds a credential or personal data:
/// calls are named by their path and ids.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A credential the config names is not set.
    #[error("{what} is not set: {hint}")]
    MissingCredential {
        /// The environment variable or setting.
        what: String,
        /// What to do.
        hint: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Client {
        #[source]
        source: reqwest::Error,
    },
    /// The system did not answer, or kept failing (429, 5xx), after retries.
    #[error(
        "{what}: the library system is unavailable{} after {attempts} attempt(s); try again later",
        status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
    )]
    Unavailable {
        what: String,
        status: Option<u16>,
        attempts: u32,
        #[source]
        source: Option<reqwest::Error>,
    },
    /// Alma answered 429 with `X-Exl-Api-Remaining: 0`: the institution's daily
    /// quota is spent, and retrying today only wastes calls.
    #[error(
        "{what}: the Alma API's daily call quota is spent (HTTP 429, X-Exl-Api-Remaining: 0); try again tomorrow"
    )]
    QuotaSpent { what: String },
    /// The system refused the call (401, 403, …).
    #[error("{what}: the library system refused the call (HTTP {status}){}", auth_hint(*status))]
    Refused { what: String, status: u16 },
    /// The answer cannot be read as the documented shape.
    #[error("{what}: unexpected answer: {reason}")]
    Malformed { what: String, reason: String },
}

fn auth_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => "; check the credentials and their permissions",
        _ => "",
    }
}

impl SourceError {
    fn malformed(what: &str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            what: what.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The credentials of a source, resolved.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// Alma's API key.
    pub api_key: Option<Secret>,
    /// Koha's OAuth2 client id.
    pub client_id: Option<String>,
    /// Koha's OAuth2 client secret.
    pub client_secret: Option<Secret>,
    /// FOLIO's Okapi token.
    pub token: Option<Secret>,
}

impl Credentials {
    /// Reads the credentials the settings name from environment variables
    /// (the `relance` command); an unset variable is an error naming it.
    pub fn from_env(settings: &SourceSettings) -> Result<Self, SourceError> {
        Self::resolve(settings, |r| {
            r.env.as_ref().map(|name| {
                std::env::var(name)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
                    .map(Secret::new)
                    .ok_or_else(|| SourceError::MissingCredential {
                        what: format!("the environment variable {name}"),
                        hint: "[source] reads the credential from it",
                    })
            })
        })
    }

    /// Resolves each credential the system needs with `read` (which returns
    /// `None` when the reference names nothing this home can read).
    pub fn resolve(
        settings: &SourceSettings,
        mut read: impl FnMut(&SecretRef) -> Option<Result<Secret, SourceError>>,
    ) -> Result<Self, SourceError> {
        let mut need = |r: &SecretRef, key: &str| -> Result<Secret, SourceError> {
            read(r).unwrap_or_else(|| {
                Err(SourceError::MissingCredential {
                    what: format!("source.{key}"),
                    hint: "name the credential's environment variable (locally) or secret (on AWS)",
                })
            })
        };
        let mut credentials = Self::default();
        match settings.system {
            System::Alma => credentials.api_key = Some(need(&settings.api_key, "api_key_env")?),
            System::Koha => {
                credentials.client_id = Some(match &settings.client_id {
                    Some(id) => id.clone(),
                    None => need(&settings.client_id_ref, "client_id_env")?
                        .expose()
                        .to_owned(),
                });
                credentials.client_secret =
                    Some(need(&settings.client_secret, "client_secret_env")?);
            }
            System::Folio => credentials.token = Some(need(&settings.token, "token_env")?),
        }
        Ok(credentials)
    }
}

/// What a pull fetched.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub system: System,
    /// Every open loan, one row each.
    pub loans: Table,
    /// The patrons of those loans, one row each.
    pub patrons: Table,
    /// Pages of loans read.
    pub pages: u32,
    /// Calls made, retries included.
    pub calls: u32,
    /// Alma: the daily quota left after the pull.
    pub quota_left: Option<u64>,
}

/// A library system's API with its settings and credentials.
pub struct Source {
    settings: SourceSettings,
    credentials: Credentials,
    api: http::Api,
    /// Koha's OAuth2 access token, once obtained.
    koha_token: std::sync::Mutex<Option<Secret>>,
}

impl Source {
    /// A client of the source; `retry` says how patient it is ([`Retry::PULL`],
    /// [`Retry::RECHECK`]).
    pub fn new(
        settings: &SourceSettings,
        credentials: Credentials,
        retry: Retry,
    ) -> Result<Self, SourceError> {
        Ok(Self {
            api: http::Api::new(&settings.base_url, retry)?,
            settings: settings.clone(),
            credentials,
            koha_token: std::sync::Mutex::new(None),
        })
    }

    /// The system it talks to.
    pub fn system(&self) -> System {
        self.settings.system
    }

    /// Calls made so far.
    pub fn calls(&self) -> u32 {
        self.api.calls()
    }

    /// Pulls every open loan and its patron. Any failure on the way is an
    /// error: the tables are whole or not at all.
    pub async fn pull(&self) -> Result<Pulled, SourceError> {
        let (loans, patrons, pages) = match self.settings.system {
            System::Alma => alma::pull(self).await?,
            System::Koha => koha::pull(self).await?,
            System::Folio => folio::pull(self).await?,
        };
        Ok(Pulled {
            system: self.settings.system,
            loans,
            patrons,
            pages,
            calls: self.api.calls(),
            quota_left: self.api.quota_left(),
        })
    }
}

impl LoanSystem for Source {
    async fn loan_state(&self, loan: &Loan) -> Result<LoanState, StoreError> {
        let state = match self.settings.system {
            System::Alma => alma::loan_state(self, loan).await,
            System::Koha => koha::loan_state(self, loan).await,
            System::Folio => folio::loan_state(self, loan).await,
        };
        state.map_err(|e| StoreError::unavailable(e.to_string()).caused_by(e))
    }
}
