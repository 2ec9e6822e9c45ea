//! What every command needs: the validated config, its folder, the store.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{NaiveDate, Utc};
use relance_core::config::Config;
use relance_core::email::Templates;
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

    /// The shipped templates, with those of `[mail] templates` (relative to the
    /// config file) overriding them.
    pub fn templates(&self) -> anyhow::Result<Templates> {
        let Some(folder) = &self.config.mail.templates else {
            return Ok(Templates::shipped());
        };
        let folder = self.config_dir.join(folder);
        let mut files = Vec::new();
        collect_templates(&folder, &folder, &mut files)
            .with_context(|| format!("cannot read the templates folder {}", folder.display()))?;
        Templates::with_overrides(files)
            .with_context(|| format!("invalid template in {}", folder.display()))
    }

    /// Today in the institution's timezone.
    pub fn today(&self) -> NaiveDate {
        relance_core::calendar::local_date(Utc::now(), self.config.institution.timezone)
    }
}

/// Reads every template (`*.txt`, `*.html`, not hidden) under `dir` as
/// (path relative to `root` with `/`, text); other files (a README, editor
/// backups) are left alone.
fn collect_templates(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        let template = path.extension().is_some_and(|e| e == "txt" || e == "html");
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_templates(root, &path, out)?;
        } else if template {
            let relative = path.strip_prefix(root)?;
            let name = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            out.push((name, text));
        }
    }
    Ok(())
}
