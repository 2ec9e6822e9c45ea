//! The importer function: an export put in the bucket under `imports/` is
//! imported as `relance import` would, by its name:
//!
//! | key | import |
//! | --- | --- |
//! | `imports/…patrons….csv` | patrons (upsert) |
//! | `imports/…loans….csv` | loans (upsert) |
//! | `imports/snapshot/…loans….csv` | loans as a snapshot: open loans it does not list are closed (refused past 20 %) |
//!
//! The rejects report goes to `imports/rejects/{name}-{time}.csv`; the summary
//! (counts only) to the log. The whole object is read into memory (1,000,000
//! loans are about 150 MB): size the function's memory for the largest export.

use std::io::Cursor;

use anyhow::Context as _;
use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use chrono::{DateTime, Utc};
use relance_aws::Function;
use relance_aws::archive::S3Archive;
use relance_aws::dynamo::import::DynamoSink;
use relance_aws::env::SettingsError;
use relance_core::import::{CsvInput, ImportOptions, ImportSummary, MemoryReport, import_csv};

/// Where exports are dropped.
pub const PREFIX: &str = "imports/";
pub use relance_aws::archive::REJECTS_PREFIX;
/// Loans exports under it are snapshots.
pub const SNAPSHOT_PREFIX: &str = "imports/snapshot/";

/// What an object's key says to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// A patrons export.
    Patrons,
    /// A loans export; a snapshot when true.
    Loans {
        /// Lists every open loan.
        snapshot: bool,
    },
}

impl Export {
    /// The export a key names, or `None` for keys the importer leaves alone
    /// (rejects reports, other files).
    pub fn of_key(key: &str) -> Option<Self> {
        if !key.starts_with(PREFIX) || key.starts_with(REJECTS_PREFIX) {
            return None;
        }
        let name = key.rsplit('/').next()?.to_ascii_lowercase();
        if !name.ends_with(".csv") {
            return None;
        }
        if name.contains("patrons") {
            Some(Self::Patrons)
        } else if name.contains("loans") {
            Some(Self::Loans {
                snapshot: key.starts_with(SNAPSHOT_PREFIX),
            })
        } else {
            None
        }
    }
}

/// One imported object.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportedObject {
    /// Its key.
    pub key: String,
    /// The counts.
    pub summary: ImportSummary,
    /// Where the rejects report went, if there was one.
    pub rejects_key: Option<String>,
}

/// The importer with its table and config, built once per Lambda instance.
pub struct Importer {
    function: Function,
}

impl Importer {
    /// The deployed importer.
    pub async fn from_env() -> Result<Self, SettingsError> {
        Ok(Self::new(Function::from_env().await?))
    }

    /// The importer of a function.
    pub fn new(function: Function) -> Self {
        Self { function }
    }

    /// Imports every export the event names. An error fails the invocation,
    /// which Lambda retries (an import is an upsert: running it again is harmless).
    pub async fn handle(
        &self,
        event: S3Event,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<ImportedObject>> {
        let mut done = Vec::new();
        for record in &event.records {
            if let Some(imported) = self.import_record(record, now).await? {
                done.push(imported);
            }
        }
        Ok(done)
    }

    async fn import_record(
        &self,
        record: &S3EventRecord,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<ImportedObject>> {
        let bucket = record
            .s3
            .bucket
            .name
            .as_deref()
            .context("event without bucket")?;
        let key = decode_key(
            record
                .s3
                .object
                .key
                .as_deref()
                .context("event without key")?,
        )?;
        let Some(export) = Export::of_key(&key) else {
            tracing::info!(key = %key, "not an export; left alone");
            return Ok(None);
        };
        let archive = S3Archive::new(self.function.clients.s3.clone(), bucket);
        let bytes = archive.get(&key).await?;
        let input = Some(CsvInput {
            name: &key,
            reader: Cursor::new(bytes),
        });
        let (patrons, loans, snapshot) = match export {
            Export::Patrons => (input, None, false),
            Export::Loans { snapshot } => (None, input, snapshot),
        };
        let options = ImportOptions {
            snapshot,
            force: false,
            strict: false,
            now,
        };
        let mut report = MemoryReport::default();
        let imported = import_csv(
            DynamoSink::new(&self.function.dynamo, &options),
            &self.function.config,
            patrons,
            loans,
            &options,
            &mut report,
            &mut |_| {},
        )
        .await;
        let summary = imported.with_context(|| format!("import of s3://{bucket}/{key}"))?;
        let rejects_key = match report.into_bytes() {
            Some(report) => {
                let stem = key
                    .rsplit('/')
                    .next()
                    .unwrap_or("export")
                    .trim_end_matches(".csv");
                Some(archive.keep_rejects(stem, &report, now).await?)
            }
            None => None,
        };
        tracing::info!(
            key = %key,
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
        Ok(Some(ImportedObject {
            key,
            summary,
            rejects_key,
        }))
    }
}

/// An S3 event's key is URL-encoded, with `+` for a space.
fn decode_key(raw: &str) -> anyhow::Result<String> {
    let spaced = raw.replace('+', " ");
    Ok(percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .context("object key is not UTF-8")?
        .into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_export() {
        assert_eq!(
            Export::of_key("imports/patrons-2026-11-29.csv"),
            Some(Export::Patrons)
        );
        assert_eq!(
            Export::of_key("imports/alma/Loans.CSV"),
            Some(Export::Loans { snapshot: false })
        );
        assert_eq!(
            Export::of_key("imports/snapshot/loans.csv"),
            Some(Export::Loans { snapshot: true })
        );
        assert_eq!(
            Export::of_key("imports/rejects/loans-20261129T010000Z.csv"),
            None
        );
        assert_eq!(Export::of_key("imports/readme.txt"), None);
        assert_eq!(Export::of_key("letters/2026-11-29/STS/batch.pdf"), None);
    }

    #[test]
    fn event_keys_are_url_decoded() {
        assert_eq!(
            decode_key("imports/pr%C3%AAts+du+jour.csv").unwrap(),
            "imports/prêts du jour.csv"
        );
        assert_eq!(decode_key("imports/a%2Bb.csv").unwrap(), "imports/a+b.csv");
    }
}
