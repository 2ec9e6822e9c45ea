//! What every function reads from its environment: named variables, the
//! institution's config (an S3 URI or a path in `RELANCE_CONFIG`), JSON logs.

use std::path::{Path, PathBuf};

use relance_core::config::{Config, ConfigError};
use relance_core::email::{TemplateFolderError, Templates};

/// A setting missing or malformed in the function's environment.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A required variable is unset or empty.
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    /// A variable is set to something unusable.
    #[error("environment variable {name}: {reason}")]
    Invalid {
        name: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// The config could not be fetched.
    #[error("RELANCE_CONFIG: could not read {source_name}: {reason}")]
    Unreadable {
        /// Where it was looked for.
        source_name: String,
        /// What failed.
        reason: String,
    },
    /// The config was read but is not valid.
    #[error("RELANCE_CONFIG: {0}")]
    Config(#[from] ConfigError),
    /// The templates the config names cannot be used.
    #[error("RELANCE_CONFIG: {0}")]
    Templates(#[from] TemplateFolderError),
}

/// A required variable.
pub fn required(name: &'static str) -> Result<String, SettingsError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(SettingsError::Missing(name)),
    }
}

/// An optional variable (unset or empty: `None`).
pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Where the institution's `relance.toml` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// An object in S3 (`s3://bucket/key`).
    S3 { bucket: String, key: String },
    /// A file (packaged with the function, or a mounted path).
    Path(PathBuf),
}

impl ConfigSource {
    /// `RELANCE_CONFIG`: `s3://bucket/key` or a path.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::parse(&required("RELANCE_CONFIG")?)
    }

    /// Parses an S3 URI or a path.
    pub fn parse(value: &str) -> Result<Self, SettingsError> {
        match value.strip_prefix("s3://") {
            Some(rest) => match rest.split_once('/') {
                Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Ok(Self::S3 {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                }),
                _ => Err(SettingsError::Invalid {
                    name: "RELANCE_CONFIG",
                    reason: format!("{value:?} is not s3://bucket/key"),
                }),
            },
            None => Ok(Self::Path(PathBuf::from(value))),
        }
    }

    /// Reads and validates the config, with the iCalendar files it names
    /// (rules §14), read beside it: in the config's S3 folder, or its directory.
    pub async fn load(&self, s3: &aws_sdk_s3::Client) -> Result<Config, SettingsError> {
        let text = self.read_text(s3, None).await?;
        let mut config = Config::parse(&text)?;
        let mut calendars = std::collections::HashMap::new();
        for file in config.calendar_files() {
            let text = self.read_text(s3, Some(&file)).await;
            calendars.insert(file, text);
        }
        config.read_calendars(|file| match calendars.remove(file) {
            Some(Ok(text)) => Ok(text),
            Some(Err(SettingsError::Unreadable { reason, .. })) => Err(reason),
            Some(Err(other)) => Err(other.to_string()),
            None => Err("not fetched".into()),
        })?;
        Ok(config)
    }

    /// The text of the config, or of a file beside it (`beside`, relative to
    /// the config's folder).
    async fn read_text(
        &self,
        s3: &aws_sdk_s3::Client,
        beside: Option<&Path>,
    ) -> Result<String, SettingsError> {
        match self {
            Self::S3 { bucket, key } => {
                let key = match beside {
                    None => key.clone(),
                    Some(file) => match key.rsplit_once('/') {
                        Some((folder, _)) => format!("{folder}/{}", file.display()),
                        None => file.display().to_string(),
                    },
                };
                let unreadable = |reason: String| SettingsError::Unreadable {
                    source_name: format!("s3://{bucket}/{key}"),
                    reason,
                };
                let object = s3
                    .get_object()
                    .bucket(bucket)
                    .key(&key)
                    .send()
                    .await
                    .map_err(|e| {
                        unreadable(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
                    })?;
                let bytes = object
                    .body
                    .collect()
                    .await
                    .map_err(|e| unreadable(e.to_string()))?
                    .into_bytes();
                String::from_utf8(bytes.to_vec()).map_err(|_| unreadable("not UTF-8".into()))
            }
            Self::Path(path) => {
                let path = match beside {
                    None => path.clone(),
                    Some(file) => path.parent().unwrap_or(Path::new(".")).join(file),
                };
                std::fs::read_to_string(&path).map_err(|e| SettingsError::Unreadable {
                    source_name: path.display().to_string(),
                    reason: e.to_string(),
                })
            }
        }
    }
}

impl ConfigSource {
    /// The templates the config names: `[mail] templates`, a folder beside a
    /// config file, overrides the shipped ones. A config read from S3 cannot
    /// name one yet (the functions read no folder from the bucket): that is an
    /// error at start, never overrides silently ignored.
    pub fn templates(&self, config: &Config) -> Result<Templates, SettingsError> {
        let Some(folder) = &config.mail.templates else {
            return Ok(Templates::shipped());
        };
        match self {
            Self::Path(path) => {
                let folder = path.parent().unwrap_or(Path::new(".")).join(folder);
                Ok(Templates::from_folder(&folder)?)
            }
            Self::S3 { .. } => Err(SettingsError::Invalid {
                name: "RELANCE_CONFIG",
                reason: "[mail] templates is only read beside a config file; with a config \
                         in S3, package the config and its templates with the functions \
                         (RELANCE_CONFIG=/var/task/relance.toml) or remove the key"
                    .into(),
            }),
        }
    }
}

/// JSON logs on stdout for CloudWatch, level from `RUST_LOG` (default `info`).
/// Events carry ids and counts only, never names or addresses.
pub fn init_json_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_source_is_an_s3_uri_or_a_path() {
        assert_eq!(
            ConfigSource::parse("s3://relance-prod/config/relance.toml").unwrap(),
            ConfigSource::S3 {
                bucket: "relance-prod".into(),
                key: "config/relance.toml".into()
            }
        );
        assert_eq!(
            ConfigSource::parse("/var/task/relance.toml").unwrap(),
            ConfigSource::Path("/var/task/relance.toml".into())
        );
        assert!(ConfigSource::parse("s3://bucket-only").is_err());
        assert!(ConfigSource::parse("s3:///key").is_err());
    }
}
