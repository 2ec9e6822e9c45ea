//! One writer at a time on a state folder (rules §13): `run`, `resume`, `import`
//! and `purge` hold an exclusive lock on `{state_dir}/relance.lock` for their
//! whole life, so two of them never plan, send or batch the same notices.
//!
//! The lock is the operating system's advisory file lock (`flock`), so it is
//! released when its holder exits, however it exits: a process killed with
//! `kill -9` leaves no stale lock behind. The file's text names the holder for
//! the one who waits (pid, command, since when); it is information only.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};

/// The lock file's name in the state folder.
pub const LOCK_FILE: &str = "relance.lock";

/// How often a waiting command tries the lock again.
const RETRY_EVERY: Duration = Duration::from_millis(100);

/// Why the state folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another command held the lock for the whole wait.
    #[error(
        "another relance command is using {}: {holder}; waited {waited_s} s. \
         Try again when it has finished (or wait longer with --lock-wait SECONDS)",
        folder.display()
    )]
    Busy {
        /// The state folder.
        folder: PathBuf,
        /// Who holds it, as its lock file says.
        holder: String,
        /// How long this command waited.
        waited_s: u64,
    },
    /// The lock file could not be created or locked.
    #[error("cannot lock {}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The system error.
        #[source]
        source: std::io::Error,
    },
}

/// An exclusive hold on a state folder, released when dropped (or when the
/// process ends).
#[derive(Debug)]
pub struct StateLock {
    file: File,
    path: PathBuf,
}

impl StateLock {
    /// Takes the lock of `state_dir` (created if needed) for `command`, waiting up
    /// to `wait` for another holder to finish.
    pub fn acquire(
        state_dir: &Path,
        command: &str,
        wait: Duration,
        now: DateTime<Utc>,
    ) -> Result<Self, LockError> {
        let path = state_dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(state_dir).map_err(io)?;
        // Never truncate on open: the holder's description is in the file.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if started.elapsed() < wait => {
                    std::thread::sleep(RETRY_EVERY);
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(LockError::Busy {
                        folder: state_dir.to_path_buf(),
                        holder: holder(&mut file),
                        waited_s: started.elapsed().as_secs(),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        let text = format!(
            "pid {} ({command}) since {}\n",
            std::process::id(),
            now.to_rfc3339_opts(SecondsFormat::Secs, true)
        );
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(text.as_bytes()))
            .map_err(io)?;
        Ok(Self { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        // The next holder rewrites the text; emptying it first keeps a stale
        // description from being read while no one holds the lock.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// The holder's description as its lock file says, or why it cannot be told.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let read = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_string(&mut text));
    match read {
        Ok(_) if !text.trim().is_empty() => text.trim().to_owned(),
        _ => "a process that has not said who it is yet".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2027-01-10T06:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_second_holder_is_refused_after_its_wait_and_told_who_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(dir.path(), "run", Duration::ZERO, now()).unwrap();
        let error = StateLock::acquire(dir.path(), "import", Duration::from_millis(250), now())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!(
                "pid {} (run) since 2027-01-10T06:00:00Z",
                std::process::id()
            )),
            "{error}"
        );
        drop(first);
        StateLock::acquire(dir.path(), "import", Duration::ZERO, now()).unwrap();
    }

    #[test]
    fn a_waiting_holder_gets_the_lock_once_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(dir.path(), "run", Duration::ZERO, now()).unwrap();
        let folder = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            StateLock::acquire(&folder, "resume", Duration::from_secs(10), now()).map(|_| ())
        });
        std::thread::sleep(Duration::from_millis(300));
        drop(first);
        waiter.join().unwrap().unwrap();
    }
}
