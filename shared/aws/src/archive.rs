//! S3 letter archive: letters and print batches under
//! `letters/{run_day}/{library}/{name}`, encrypted at rest (SSE-S3), and read
//! back; rejects files of imports beside them.

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use chrono::{DateTime, NaiveDate, Utc};
use relance_core::ids::LibraryCode;
use relance_core::ports::{LetterArchive, StoreError, is_batch_pdf};

use crate::sdk::store_error;

/// Where imports' rejects reports go (never imported).
pub const REJECTS_PREFIX: &str = "imports/rejects/";

/// The engine's [`LetterArchive`] on an S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Archive {
    client: Client,
    bucket: String,
}

impl S3Archive {
    /// The archive in `bucket`.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key of a letter file: `letters/{run_day}/{library}/{name}`, or `None`
    /// when `name` is not a plain file name.
    pub fn letter_key(run_day: NaiveDate, library: &LibraryCode, name: &str) -> Option<String> {
        let plain = !name.is_empty() && !name.starts_with('.') && safe_segment(name);
        plain.then(|| {
            format!(
                "letters/{}/{}/{name}",
                run_day.format("%Y-%m-%d"),
                library.as_str()
            )
        })
    }

    /// Stores `bytes` at `key` with SSE-S3 (AES256) and that content type;
    /// returns `s3://{bucket}/{key}`. Used for rejects files (`imports/rejects/…`).
    pub async fn put_object(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<String, StoreError> {
        check_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes.to_vec()))
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
            .map_err(s3_error)?;
        Ok(format!("s3://{}/{key}", self.bucket))
    }

    /// Keeps an import's rejects report (CSV) as
    /// `imports/rejects/{stem}-{time}.csv`; returns its key. The time is to the
    /// nanosecond: two imports of one export in the same second keep a report each.
    pub async fn keep_rejects(
        &self,
        stem: &str,
        report: &[u8],
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let key = format!(
            "{REJECTS_PREFIX}{stem}-{}.csv",
            now.format("%Y%m%dT%H%M%S%.9fZ")
        );
        self.put_object(&key, report, "text/csv; charset=utf-8")
            .await?;
        Ok(key)
    }

    /// The bytes stored at `key`; a missing key is `StoreError::Unexpected`.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        check_key(key)?;
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(s3_error)?;
        let body = object.body.collect().await.map_err(|e| {
            StoreError::unavailable(format!("reading s3://{}/{key}: {e}", self.bucket)).caused_by(e)
        })?;
        Ok(body.into_bytes().to_vec())
    }
}

impl LetterArchive for S3Archive {
    async fn put(
        &self,
        run_day: NaiveDate,
        library: &LibraryCode,
        name: &str,
        bytes: &[u8],
    ) -> Result<String, StoreError> {
        let key = Self::letter_key(run_day, library, name)
            .ok_or_else(|| StoreError::unexpected(format!("unsafe letter file name {name:?}")))?;
        self.put_object(&key, bytes, content_type(name)).await
    }

    async fn batches_kept(
        &self,
        run_day: NaiveDate,
        library: &LibraryCode,
    ) -> Result<u32, StoreError> {
        let prefix = Self::letter_key(run_day, library, "batch")
            .ok_or_else(|| StoreError::unexpected(format!("unsafe library code {library}")))?;
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        let mut kept = 0;
        while let Some(page) = pages.next().await {
            let page = page.map_err(s3_error)?;
            kept += page
                .contents()
                .iter()
                .filter_map(|o| o.key()?.rsplit('/').next())
                .filter(|name| is_batch_pdf(name))
                .count() as u32;
        }
        Ok(kept)
    }
}

/// The content type of a letter file, by extension.
pub fn content_type(name: &str) -> &'static str {
    match name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .as_deref()
    {
        Some("pdf") => "application/pdf",
        Some("csv") => "text/csv; charset=utf-8",
        Some("eml") => "message/rfc822",
        _ => "application/octet-stream",
    }
}

/// A letter file name: letters, digits and `-_.%` only (ids percent-encoded by
/// `file_stem`), and not `.` or `..`.
fn safe_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.%".contains(&b))
}

/// Longest S3 key, in bytes.
const MAX_KEY_BYTES: usize = 1024;

/// Refuses a key that is empty, too long, has control characters, or has an
/// empty, `.` or `..` segment. Other characters are allowed: keys of uploaded
/// exports come from people (`imports/prêts du jour.csv`).
fn check_key(key: &str) -> Result<(), StoreError> {
    let sound = key.len() <= MAX_KEY_BYTES
        && !key.chars().any(char::is_control)
        && key
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
    if sound {
        Ok(())
    } else {
        Err(StoreError::unexpected(format!("unsafe object key {key:?}")))
    }
}

/// Maps an S3 failure: S3's own slow-down and server errors are `Unavailable`,
/// the rest as for DynamoDB.
fn s3_error<E>(err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let SdkError::ServiceError(service) = &err {
        let slow_down = matches!(service.err().code(), Some("SlowDown" | "RequestTimeout"));
        if slow_down || service.raw().status().is_server_error() {
            return StoreError::unavailable(DisplayErrorContext(&err).to_string()).caused_by(err);
        }
    }
    store_error(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_keys_follow_the_layout_and_refuse_unsafe_names() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 29).expect("date");
        let sts = LibraryCode::parse("STS").expect("code");
        assert_eq!(
            S3Archive::letter_key(day, &sts, "batch.pdf").as_deref(),
            Some("letters/2026-11-29/STS/batch.pdf")
        );
        assert_eq!(
            S3Archive::letter_key(day, &sts, "P%2F1.pdf").as_deref(),
            Some("letters/2026-11-29/STS/P%2F1.pdf")
        );
        for name in ["", ".hidden", "../x.pdf", "a/b.pdf", "a b.pdf", "é.pdf"] {
            assert_eq!(S3Archive::letter_key(day, &sts, name), None, "{name:?}");
        }
    }

    #[test]
    fn object_keys_cannot_climb_or_be_empty() {
        assert!(check_key("imports/rejects/2026-11-29/loans.csv").is_ok());
        assert!(check_key("imports/prêts du jour.csv").is_ok());
        for key in ["", "/abs", "a//b", "a/../b", "a/./b", "trailing/", "a\nb"] {
            assert!(check_key(key).is_err(), "{key:?}");
        }
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("batch.pdf"), "application/pdf");
        assert_eq!(content_type("manifest.CSV"), "text/csv; charset=utf-8");
        assert_eq!(content_type("x"), "application/octet-stream");
    }
}
