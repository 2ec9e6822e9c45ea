//! The sync function: every open loan and its patron pulled from the library
//! system `[source]` names (rules §15), before the planner's run, and imported
//! as a snapshot through the core's import pipeline, as `relance sync` does
//! locally: the 20 % guard applies and is never forced here. A pull that fails
//! on the way imports nothing and fails the invocation. The credentials come
//! from Secrets Manager (`[source] *_secret`). Rows the import rejects are
//! reported as the importer's are, under `imports/rejects/` in the bucket. Logs
//! and the output hold counts, keys and the system's name only.

use std::future::Future;
use std::io::Cursor;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use relance_aws::Function;
use relance_aws::archive::S3Archive;
use relance_aws::dynamo::Dynamo;
use relance_aws::dynamo::import::DynamoSink;
use relance_aws::env;
use relance_aws::secrets::SecretsManager;
use relance_core::config::Config;
use relance_core::import::{
    CsvInput, ImportError, ImportOptions, ImportSummary, MemoryReport, import_csv,
};
use relance_core::ports::{ImportSink, StoreError};
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
    /// The key of the rejects report in the bucket, when rows were rejected.
    pub rejects_key: Option<String>,
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

/// Where a pull's rejects report is kept.
pub trait Rejects: Sync {
    /// Keeps the report (CSV) named after `stem`; its key.
    fn keep(
        &self,
        stem: &str,
        report: &[u8],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
}

impl Rejects for S3Archive {
    fn keep(
        &self,
        stem: &str,
        report: &[u8],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<String, StoreError>> + Send {
        self.keep_rejects(stem, report, now)
    }
}

/// The sync function with its config, source, table and bucket, built once per instance.
pub struct SourceSync<P = Source, S = Dynamo, R = S3Archive> {
    config: Config,
    source: P,
    store: std::sync::Arc<S>,
    rejects: R,
}

impl SourceSync {
    /// The deployed function: its table and config, the source's credentials
    /// from Secrets Manager, rejects reports in `RELANCE_BUCKET`. A config
    /// without `[source]` is an error here, at start.
    pub async fn from_env() -> anyhow::Result<Self> {
        let bucket = env::required("RELANCE_BUCKET")?;
        Self::new(Function::from_env().await?, &bucket).await
    }

    /// The sync function of a function, keeping rejects reports in `bucket`.
    pub async fn new(function: Function, bucket: &str) -> anyhow::Result<Self> {
        let settings = source_settings(&function.config)?;
        let source = SecretsManager::new(function.clients.secretsmanager.clone())
            .source(settings, Retry::PULL)
            .await?;
        let rejects = S3Archive::new(function.clients.s3.clone(), bucket);
        Ok(Self::with_ports(
            function.config,
            source,
            function.dynamo,
            rejects,
        ))
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

impl<P: Pull, S: Snapshots, R: Rejects> SourceSync<P, S, R> {
    /// The sync function over these ports.
    pub fn with_ports(config: Config, source: P, store: std::sync::Arc<S>, rejects: R) -> Self {
        Self {
            config,
            source,
            store,
            rejects,
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
            rejects_key: None,
        };
        if event.dry_run {
            tracing::info!(system, "dry run: nothing imported");
            return Ok(output);
        }
        let (summary, rejects_key) = self.import(&pulled, now).await?;
        tracing::info!(
            system,
            patrons_new = summary.patrons_inserted,
            patrons_updated = summary.patrons_updated,
            loans_new = summary.loans_inserted,
            loans_updated = summary.loans_updated,
            loans_closed = summary.closed_by_snapshot,
            rejected = summary.rejected,
            warnings = summary.warnings,
            rejects = ?rejects_key,
            "imported"
        );
        output.imported = Some(summary);
        output.rejects_key = rejects_key;
        Ok(output)
    }

    /// The import's counts, and the key of its rejects report when rows were rejected.
    async fn import(
        &self,
        pulled: &Pulled,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(ImportSummary, Option<String>)> {
        let system = pulled.system.name();
        let (loans_name, patrons_name) = (format!("{system} loans"), format!("{system} patrons"));
        let (loans_csv, patrons_csv) = (pulled.loans.to_csv(), pulled.patrons.to_csv());
        let options = ImportOptions {
            snapshot: true,
            force: false,
            strict: false,
            now,
        };
        let mut report = MemoryReport::default();
        let summary = import_csv(
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
        .with_context(|| format!("import of the pull from {system} failed"))?;
        // The import stands: a report that cannot be kept is an error saying so.
        let rejects_key = match report.into_bytes() {
            Some(report) => Some(
                self.rejects
                    .keep(&format!("{system}-sync"), &report, now)
                    .await
                    .with_context(|| {
                        format!(
                            "the pull from {system} was imported, but its rejects report \
                             ({} rows) could not be kept",
                            summary.rejected
                        )
                    })?,
            ),
            None => None,
        };
        Ok((summary, rejects_key))
    }
}

#[cfg(test)]
mod tests;
