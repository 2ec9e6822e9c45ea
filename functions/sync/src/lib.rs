//! The sync function: every open loan and its patron pulled from the library
//! system `[source]` names (rules §15), before the planner's run, and imported
//! as a snapshot through the core's import pipeline, as `relance sync` does
//! locally: the 20 % guard applies and is never forced here. A pull that fails
//! on the way imports nothing and fails the invocation. The credentials come
//! from Secrets Manager (`[source] *_secret`). Logs and the output hold counts
//! and the system's name only.

use std::future::Future;
use std::io::Cursor;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use relance_aws::Function;
use relance_aws::dynamo::Dynamo;
use relance_aws::dynamo::import::DynamoSink;
use relance_aws::secrets::SecretsManager;
use relance_core::config::Config;
use relance_core::import::{
    CsvInput, ImportError, ImportOptions, ImportSummary, MemoryReport, import_csv,
};
use relance_core::ports::ImportSink;
use relance_sources::{Pulled, Retry, Source, SourceError, import_config};
use serde::{Deserialize, Serialize};

/// What the function is invoked with.
///
/// - EventBridge Scheduler: `{"scheduled_time": "<aws.scheduler.scheduled-time>"}`
///   (logged; a pull is of the system as it is now);
/// - `{}` from the console: the same, now;
/// - `{"dry_run": true}`: pull and say what was fetched, import nothing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncEvent {
    #[serde(default, alias = "time")]
    pub scheduled_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub dry_run: bool,
}

/// What an invocation did: counts only.
#[derive(Debug, Clone, Serialize)]
pub struct SyncOutput {
    /// The system pulled from.
    pub system: &'static str,
    /// Open loans fetched.
    pub loans: usize,
    /// Patrons fetched.
    pub patrons: usize,
    /// Pages of loans read.
    pub pages: u32,
    /// Calls made to the system, retries included.
    pub calls: u32,
    /// Alma: the daily quota left.
    pub quota_left: Option<u64>,
    /// The import's counts; `None` on a dry run.
    pub imported: Option<ImportSummary>,
}

/// Pulls every open loan and its patron: the library system's API.
pub trait Pull: Sync {
    /// The system's name.
    fn system(&self) -> &'static str;

    /// Calls made so far.
    fn calls(&self) -> u32;

    /// The whole pull, or an error: never part of it.
    fn pull(&self) -> impl Future<Output = Result<Pulled, SourceError>> + Send;
}

impl Pull for Source {
    fn system(&self) -> &'static str {
        Source::system(self).name()
    }

    fn calls(&self) -> u32 {
        Source::calls(self)
    }

    fn pull(&self) -> impl Future<Output = Result<Pulled, SourceError>> + Send {
        Source::pull(self)
    }
}

/// Where a snapshot is imported: one [`ImportSink`] per import.
pub trait Snapshots: Sync {
    /// The sink of one import.
    type Sink<'a>: ImportSink + Send
    where
        Self: 'a;

    /// A sink for an import run with `options`.
    fn sink<'a>(&'a self, options: &ImportOptions) -> Self::Sink<'a>;
}

impl Snapshots for Dynamo {
    type Sink<'a> = DynamoSink<'a>;

    fn sink<'a>(&'a self, options: &ImportOptions) -> DynamoSink<'a> {
        DynamoSink::new(self, options)
    }
}

/// The sync function with its config, source and table, built once per instance.
pub struct SourceSync<P = Source, S = Dynamo> {
    config: Config,
    source: P,
    store: std::sync::Arc<S>,
}

impl SourceSync {
    /// The deployed function: its table and config, the source's credentials
    /// from Secrets Manager. A config without `[source]` is an error here, at start.
    pub async fn from_env() -> anyhow::Result<Self> {
        Self::new(Function::from_env().await?).await
    }

    /// The sync function of a function.
    pub async fn new(function: Function) -> anyhow::Result<Self> {
        let settings = source_settings(&function.config)?;
        let credentials = SecretsManager::new(function.clients.secretsmanager.clone())
            .credentials(settings)
            .await
            .context("cannot read the library system's credentials")?;
        let source = Source::new(settings, credentials, Retry::PULL)
            .context("cannot set up the library system's client")?;
        Ok(Self::with_ports(function.config, source, function.dynamo))
    }
}

/// The config's `[source]`, or an error saying it is missing.
fn source_settings(
    config: &Config,
) -> anyhow::Result<&relance_core::config::source::SourceSettings> {
    config.source.as_ref().context(
        "the config has no [source]: the sync function pulls from the library system it \
         names (see the README's \"Sources\"); remove the function or add [source]",
    )
}

impl<P: Pull, S: Snapshots> SourceSync<P, S> {
    /// The sync function over these ports.
    pub fn with_ports(config: Config, source: P, store: std::sync::Arc<S>) -> Self {
        Self {
            config,
            source,
            store,
        }
    }

    /// Pulls, then imports the pull as a snapshot (unless a dry run). A failed
    /// pull or a refused import is an error, and the table is as it was.
    pub async fn handle(&self, event: SyncEvent, now: DateTime<Utc>) -> anyhow::Result<SyncOutput> {
        let system = self.source.system();
        let pulled = match self.source.pull().await {
            Ok(pulled) => pulled,
            Err(error) => {
                let calls = self.source.calls();
                tracing::warn!(system, calls, "pull failed; nothing imported");
                return Err(anyhow::Error::new(error).context(format!(
                    "the pull from {system} failed after {calls} call(s); nothing imported, \
                     the table is unchanged"
                )));
            }
        };
        tracing::info!(
            system,
            scheduled_time = ?event.scheduled_time,
            loans = pulled.loans.rows.len(),
            patrons = pulled.patrons.rows.len(),
            pages = pulled.pages,
            calls = pulled.calls,
            quota_left = ?pulled.quota_left,
            "pulled"
        );
        let mut output = SyncOutput {
            system,
            loans: pulled.loans.rows.len(),
            patrons: pulled.patrons.rows.len(),
            pages: pulled.pages,
            calls: pulled.calls,
            quota_left: pulled.quota_left,
            imported: None,
        };
        if event.dry_run {
            tracing::info!(system, "dry run: nothing imported");
            return Ok(output);
        }
        let summary = self.import(&pulled, now).await?;
        tracing::info!(
            system,
            patrons_new = summary.patrons_inserted,
            patrons_updated = summary.patrons_updated,
            loans_new = summary.loans_inserted,
            loans_updated = summary.loans_updated,
            loans_closed = summary.closed_by_snapshot,
            rejected = summary.rejected,
            warnings = summary.warnings,
            "imported"
        );
        output.imported = Some(summary);
        Ok(output)
    }

    async fn import(&self, pulled: &Pulled, now: DateTime<Utc>) -> anyhow::Result<ImportSummary> {
        let system = pulled.system.name();
        let (loans_name, patrons_name) = (format!("{system} loans"), format!("{system} patrons"));
        let (loans_csv, patrons_csv) = (pulled.loans.to_csv(), pulled.patrons.to_csv());
        let options = ImportOptions {
            snapshot: true,
            force: false,
            strict: false,
            now,
        };
        // Rejected rows are counted in the summary; their report (personal data)
        // is not kept: the pull is redone tomorrow.
        let mut report = MemoryReport::default();
        import_csv(
            self.store.sink(&options),
            &import_config(&self.config),
            Some(CsvInput {
                name: &patrons_name,
                reader: Cursor::new(patrons_csv),
            }),
            Some(CsvInput {
                name: &loans_name,
                reader: Cursor::new(loans_csv),
            }),
            &options,
            &mut report,
            &mut |_| {},
        )
        .await
        .map_err(|e| match e {
            ImportError::SnapshotRefused(refused) => {
                anyhow::anyhow!("{refused} (the sync function never forces a snapshot)")
            }
            other => other.into(),
        })
        .with_context(|| format!("import of the pull from {system} failed"))
    }
}

#[cfg(test)]
mod tests;
