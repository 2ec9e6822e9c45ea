//! What every command needs: the validated config, its folder, the store.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use chrono::{NaiveDate, Utc};
use relance_core::config::Config;
use relance_core::email::Templates;
use relance_core::ids::LibraryCode;
use relance_core::schedule::FAR_DAYS;
use relance_local::Store;
use relance_local::lock::StateLock;

use crate::backend::{Backend, Deployment};

/// The loaded configuration and where its relative paths point.
pub struct Context {
    /// The validated config.
    pub config: Config,
    /// `[local] state_dir`, resolved against the config file's folder.
    pub state_dir: PathBuf,
    /// The folder of the config file.
    pub config_dir: PathBuf,
    /// The config file as given.
    pub config_path: PathBuf,
}

/// Where a command works: the embedded store, or the AWS deployment.
pub enum Home {
    /// The embedded store, and the runtime its ports' futures run on.
    Local(Store, tokio::runtime::Runtime),
    /// The deployment's table, config and templates.
    Aws(Box<Deployment>),
}

impl Home {
    /// The runtime the command's async calls run on.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        match self {
            Self::Local(_, runtime) => runtime,
            Self::Aws(deployment) => &deployment.runtime,
        }
    }
}

/// Runs `$body` with `$store` bound to the home's store (the SQLite store or
/// the DynamoDB table): the same code, monomorphised for each.
macro_rules! on_store {
    ($home:expr, |$store:ident| $body:expr) => {
        match $home {
            $crate::context::Home::Local($store, _) => $body,
            $crate::context::Home::Aws(deployment) => {
                let $store = &**deployment.dynamo();
                $body
            }
        }
    };
}
pub(crate) use on_store;

/// How long a command that writes waits for the state folder's lock.
#[derive(clap::Args, Debug, Clone)]
pub struct LockWait {
    /// Seconds to wait for another relance command using the same state folder.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10,
        env = "RELANCE_LOCK_WAIT"
    )]
    pub lock_wait: u64,
}

impl Context {
    /// Reads and validates the config file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        let mut config =
            Config::parse(&text).with_context(|| format!("invalid config {}", path.display()))?;
        let config_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        // The iCalendar files of closures sit beside the config (rules §14).
        config
            .read_calendars(|file| {
                std::fs::read_to_string(config_dir.join(file)).map_err(|e| e.to_string())
            })
            .with_context(|| format!("invalid config {}", path.display()))?;
        let state_dir = config_dir.join(&config.local.state_dir);
        Ok(Self {
            config,
            state_dir,
            config_dir,
            config_path: path.to_path_buf(),
        })
    }

    /// The config and home of a command that only reads (rules §13: no lock):
    /// the embedded store read-only, or the AWS deployment's table.
    pub fn open_read(config: &Path, backend: Backend) -> anyhow::Result<(Self, Home)> {
        match backend {
            Backend::Local => {
                let ctx = Self::load(config)?;
                let store = ctx.read_store()?;
                Ok((ctx, Home::Local(store, crate::commands::run::runtime()?)))
            }
            Backend::Aws => {
                let deployment = Deployment::connect(config)?;
                let config_dir = PathBuf::from(".");
                let ctx = Self {
                    state_dir: config_dir.join(&deployment.function.config.local.state_dir),
                    config: deployment.function.config.clone(),
                    config_dir,
                    config_path: config.to_path_buf(),
                };
                Ok((ctx, Home::Aws(Box::new(deployment))))
            }
        }
    }

    /// The embedded store's file.
    pub fn store_path(&self) -> PathBuf {
        self.state_dir.join("relance.db")
    }

    /// Opens the embedded store for a command that writes; hold [`Context::lock`]
    /// first.
    pub fn store(&self) -> anyhow::Result<Store> {
        let path = self.store_path();
        Store::open(&path).with_context(|| format!("cannot open the store {}", path.display()))
    }

    /// Opens the embedded store for a command that only reads: no lock, and a
    /// read-only file or folder will do.
    pub fn read_store(&self) -> anyhow::Result<Store> {
        let path = self.store_path();
        Store::open_read_only(&path)
            .with_context(|| format!("cannot open the store {}", path.display()))
    }

    /// Takes the state folder's lock for `command` (rules §13), waiting up to
    /// `wait` for another command to finish.
    pub fn lock(&self, command: &str, wait: &LockWait) -> anyhow::Result<StateLock> {
        Ok(StateLock::acquire(
            &self.state_dir,
            command,
            Duration::from_secs(wait.lock_wait),
            Utc::now(),
        )?)
    }

    /// Refuses a run or resume day more than [`FAR_DAYS`] from today unless
    /// forced: a typo in a year would otherwise move the watermark out of reach.
    pub fn check_day(&self, day: NaiveDate, force: bool) -> anyhow::Result<()> {
        let today = self.today();
        if force || relance_core::schedule::within_reach(day, today) {
            return Ok(());
        }
        anyhow::bail!(
            "{day} is more than {FAR_DAYS} days from today ({today}): probably a typo. \
             Give --force if you mean it"
        )
    }

    /// The library codes the store's open loans name and the config lacks: their
    /// notices fail until the library is added (rules §13).
    pub fn unknown_libraries(&self, store: &Store) -> anyhow::Result<Vec<String>> {
        Ok(store
            .open_loan_libraries()?
            .into_iter()
            .filter(|code| {
                LibraryCode::parse(code).map_or(true, |c| self.config.library(&c).is_none())
            })
            .collect())
    }

    /// A warning when the watermark is after today, with the command that recovers.
    pub fn watermark_warning(&self, watermark: Option<NaiveDate>) -> Option<String> {
        let today = self.today();
        let watermark = watermark.filter(|w| *w > today)?;
        Some(format!(
            "warning: the watermark ({watermark}) is after today ({today}): runs before \
             {} plan nothing. If a run was given a wrong date, recover with: \
             relance --config {} resume --date {today}",
            watermark.succ_opt().unwrap_or(watermark),
            self.config_path.display()
        ))
    }

    /// The shipped templates, with those of `[mail] templates` (relative to the
    /// config file) overriding them.
    pub fn templates(&self) -> anyhow::Result<Templates> {
        Ok(match &self.config.mail.templates {
            Some(folder) => Templates::from_folder(&self.config_dir.join(folder))?,
            None => Templates::shipped(),
        })
    }

    /// Today in the institution's timezone.
    pub fn today(&self) -> NaiveDate {
        relance_core::calendar::local_date(Utc::now(), self.config.institution.timezone)
    }
}
