//! What every command needs: the validated config, its folder, the store.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{NaiveDate, Utc};
use relance_core::config::Config;
use relance_local::Store;

/// The loaded configuration and where its relative paths point.
pub struct Context {
    /// The validated config.
    pub config: Config,
    /// `[local] state_dir`, resolved against the config file's folder.
    pub state_dir: PathBuf,
    /// The folder of the config file.
    pub config_dir: PathBuf,
}

impl Context {
    /// Reads and validates the config file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        let config =
            Config::parse(&text).with_context(|| format!("invalid config {}", path.display()))?;
        let config_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let state_dir = config_dir.join(&config.local.state_dir);
        Ok(Self {
            config,
            state_dir,
            config_dir,
        })
    }

    /// Opens the embedded store under the state folder.
    pub fn store(&self) -> anyhow::Result<Store> {
        let path = self.state_dir.join("relance.db");
        Store::open(&path).with_context(|| format!("cannot open the store {}", path.display()))
    }

    /// Today in the institution's timezone.
    pub fn today(&self) -> NaiveDate {
        relance_core::calendar::local_date(Utc::now(), self.config.institution.timezone)
    }
}
