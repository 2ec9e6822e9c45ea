//! What every function is built from, once per Lambda instance: the SDK
//! clients, the table, the institution's config and its templates. Each
//! function's `main` builds one with [`Function::from_env`] and adds the few
//! settings of its own (a queue, the bucket).

use std::sync::Arc;

use relance_core::config::Config;
use relance_core::email::Templates;

use crate::Clients;
use crate::dynamo::Dynamo;
use crate::env::{self, ConfigSource, SettingsError};

/// A function's clients, table, config and templates.
pub struct Function {
    pub clients: Clients,
    /// The table (`RELANCE_TABLE`), shared by the handler's ports.
    pub dynamo: Arc<Dynamo>,
    /// The institution's config (`RELANCE_CONFIG`).
    pub config: Config,
    /// The shipped templates, overridden by `[mail] templates` when set.
    pub templates: Templates,
}

impl Function {
    /// Reads `RELANCE_TABLE` and `RELANCE_CONFIG`, builds the clients from the
    /// SDK's default chain, loads the config and its templates.
    pub async fn from_env() -> Result<Self, SettingsError> {
        let table = env::required("RELANCE_TABLE")?;
        let source = ConfigSource::from_env()?;
        Self::load(Clients::from_env().await, &table, &source).await
    }

    /// The same from given clients (the tests' emulators).
    pub async fn load(
        clients: Clients,
        table: &str,
        source: &ConfigSource,
    ) -> Result<Self, SettingsError> {
        let config = source.load(&clients.s3).await?;
        let templates = source.templates(&config)?;
        Ok(Self {
            dynamo: Arc::new(
                Dynamo::new(clients.dynamodb.clone(), table)
                    .with_retention(config.retention, config.institution.timezone),
            ),
            clients,
            config,
            templates,
        })
    }
}
