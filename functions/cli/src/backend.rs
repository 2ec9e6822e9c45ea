//! Where a command reads and acts (rules §13): the embedded store (the
//! default), or the AWS deployment with `--backend aws` — its table and
//! config as the functions see them (`RELANCE_TABLE`, and `--config` /
//! `RELANCE_CONFIG` as an `s3://bucket/key` URI or a path), reached with the
//! standard AWS credential chain.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use relance_aws::Function;
use relance_aws::dynamo::Dynamo;
use relance_aws::env::{self, ConfigSource};

/// The home a command works on.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// The embedded store under `[local] state_dir`.
    #[default]
    Local,
    /// The AWS deployment's DynamoDB table and config.
    Aws,
}

/// The AWS deployment, connected.
pub struct Deployment {
    /// The functions' clients, table, config and templates.
    pub function: Function,
    /// The runtime the SDK's calls run on, for the command's whole life.
    pub runtime: tokio::runtime::Runtime,
}

impl Deployment {
    /// Reads `RELANCE_TABLE`, loads the config `config` names (an S3 URI or a
    /// path) and its templates, as the functions do.
    pub fn connect(config: &Path) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let table = env::required("RELANCE_TABLE")
            .context("--backend aws reads the table's name as the functions do")?;
        let source = ConfigSource::parse(&config.to_string_lossy())?;
        let function = runtime
            .block_on(async {
                let clients = relance_aws::Clients::from_env().await;
                Function::load(clients, &table, &source).await
            })
            .with_context(|| format!("cannot load the deployment's config {}", config.display()))?;
        Ok(Self { function, runtime })
    }

    /// The table.
    pub fn dynamo(&self) -> &Arc<Dynamo> {
        &self.function.dynamo
    }
}
