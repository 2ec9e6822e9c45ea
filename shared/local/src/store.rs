//! The SQLite database: opening, schema, and the conversions shared by the adapters.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, NaiveDate, Utc};
use relance_core::ports::StoreError;
use rusqlite::{Connection, OpenFlags};

/// The schema, one step per version: a database at version `n` applies the steps
/// after its `n`th, in one transaction.
const MIGRATIONS: [&str; 2] = [
    include_str!("schema.sql"),
    include_str!("migrations/2-replies.sql"),
];
const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The settings of every connection, reading or writing: wait for a writer's
/// lock rather than fail, and a 32 MB page cache and a memory map, which keep a
/// run's lookups (hundreds of thousands of point reads on a large network) out
/// of read syscalls.
const READING: &str = "PRAGMA busy_timeout = 10000; PRAGMA cache_size = -32768; \
                       PRAGMA mmap_size = 268435456;";

/// The embedded store: one SQLite file holding patrons, loans and the ledger.
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens the database at `path` for reading and writing, creating it only
    /// when no file is there: an empty or foreign file is an error, never a new
    /// store (rules §13), since a new store would send again what was sent.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::unavailable(format!("{}: {e}", dir.display())).caused_by(e)
            })?;
        }
        let existed = check_existing(path)?;
        let conn = Connection::open(path).map_err(|e| unavailable(path, e))?;
        if existed {
            check_ours(&conn, path)?;
        } else {
            owner_only(path)?;
        }
        Self::init(conn)
    }

    /// Opens the database at `path` for reading only, as the commands that change
    /// nothing do (`status`, `preview`, `forecast`, `history`, `run --dry-run`):
    /// they take no lock and work on a read-only file or folder. With no database
    /// yet, an empty store in memory answers them.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        if !check_existing(path)? {
            return Self::in_memory();
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| unavailable(path, e))?;
        let version = check_ours(&conn, path)?;
        if version != SCHEMA_VERSION {
            return Err(StoreError::corrupt(format!(
                "{}: the database has schema version {version}, this relance reads version \
                 {SCHEMA_VERSION}; a command that writes (import, run) upgrades it",
                path.display()
            )));
        }
        conn.execute_batch(&format!("PRAGMA query_only = ON; {READING}"))
            .map_err(|e| unavailable(path, e))?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// An in-memory store, for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(sql)?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; {READING}"
        ))
        .map_err(sql)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::corrupt(format!(
                "the database has schema version {version}, newer than this relance ({SCHEMA_VERSION})"
            )));
        }
        if version < SCHEMA_VERSION {
            let steps: String = MIGRATIONS[usize::try_from(version).unwrap_or(0)..].concat();
            conn.execute_batch(&format!(
                "BEGIN; {steps} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))
            .map_err(sql)?;
        }
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// Runs one statement, prepared once per connection and cached.
    pub fn execute(
        &self,
        statement: &str,
        params: impl rusqlite::Params,
    ) -> Result<usize, StoreError> {
        self.conn()
            .prepare_cached(statement)
            .map_err(sql)?
            .execute(params)
            .map_err(sql)
    }

    /// The connection, for one operation at a time.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Runs the reads of `read` in one read transaction, unless one is open: a loop
/// of point reads then takes the database's shared lock and WAL snapshot once,
/// not once per statement (two `fcntl` calls and a WAL check each, a tenth of a
/// run's planning), and sees one state of the store.
pub fn reading<T>(
    conn: &Connection,
    read: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    if !conn.is_autocommit() {
        return read(conn);
    }
    conn.execute_batch("BEGIN").map_err(sql)?;
    let result = read(conn);
    // Nothing was written: ending the transaction either way loses nothing.
    let end = conn.execute_batch("COMMIT").map_err(sql);
    let value = result?;
    end.map(|()| value)
}

/// A new database holds personal data (rules §16): only its owner reads it.
/// SQLite gives its `-wal` and `-shm` files the same permissions.
#[cfg(unix)]
fn owner_only(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    // SQLite creates the file on first write: make it now, empty, to set its mode.
    if !path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| {
                StoreError::unavailable(format!("{}: {e}", path.display())).caused_by(e)
            })?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| StoreError::unavailable(format!("{}: {e}", path.display())).caused_by(e))
}

#[cfg(not(unix))]
fn owner_only(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// Whether a database file is already at `path`; an empty one is refused.
fn check_existing(path: &Path) -> Result<bool, StoreError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() == 0 => Err(StoreError::corrupt(format!(
            "{} is empty (0 bytes): it is not a Relance store, and Relance will not start \
             a new one over it, since a new store sends again what was already sent. Restore \
             it from a backup; or, to start over on purpose, move it aside, import again and \
             run `relance resume` so that nothing before today is sent",
            path.display()
        ))),
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::unavailable(format!("{}: {e}", path.display())).caused_by(e)),
    }
}

/// Reads the schema version of an existing file, refusing one that is not a
/// Relance store (not SQLite, or SQLite without Relance's schema).
fn check_ours(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    let foreign = |why: String| {
        StoreError::corrupt(format!(
            "{} is not a Relance store ({why}); Relance will not start a new one over it. \
             Restore it from a backup, or move it aside to start over on purpose",
            path.display()
        ))
    };
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
                foreign("not an SQLite database".to_owned())
            }
            other => unavailable(path, other),
        })?;
    if version == 0 {
        return Err(foreign("no Relance schema in it".to_owned()));
    }
    Ok(version)
}

fn unavailable(path: &Path, e: rusqlite::Error) -> StoreError {
    StoreError::unavailable(format!("{}: {e}", path.display())).caused_by(e)
}

/// Maps an SQLite error to the port's error.
pub fn sql(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            StoreError::unavailable(e.to_string()).caused_by(e)
        }
        rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
            StoreError::corrupt(e.to_string()).caused_by(e)
        }
        other => StoreError::unexpected(other.to_string()).caused_by(other),
    }
}

/// Writes a date as stored.
pub fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// Reads a stored date.
pub fn parse_day(text: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| StoreError::corrupt(format!("date {text:?}: {e}")).caused_by(e))
}

/// Writes an instant as stored.
pub fn instant_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Reads a stored instant.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::corrupt(format!("timestamp {text:?}: {e}")).caused_by(e))
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn an_sqlite_failure_keeps_the_sqlite_error_as_its_source() {
        let store = Store::in_memory().expect("store");
        let err = store
            .execute("DELETE FROM no_such_table", [])
            .expect_err("no such table");
        assert!(matches!(err, StoreError::Unexpected { .. }), "{err:?}");
        assert_eq!(err.to_string(), "store error: no such table: no_such_table");
        let sqlite = err
            .source()
            .and_then(|s| s.downcast_ref::<rusqlite::Error>())
            .expect("the SQLite error is kept");
        assert_eq!(sqlite.to_string(), err.message());
    }

    #[test]
    fn an_unreadable_date_keeps_the_parse_error() {
        let err = parse_day("30/11/2026").expect_err("not ISO");
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("stored data is unreadable: date \"30/11/2026\": ")
        );
        assert!(
            err.source()
                .is_some_and(|s| s.is::<chrono::format::ParseError>())
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_new_database_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("relance.db");
        Store::open(&path).expect("store");
        let mode = std::fs::metadata(&path).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        Store::open(&path).expect("the same store opens again");
    }

    #[test]
    fn a_folder_that_cannot_be_made_keeps_the_io_error() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("file");
        std::fs::write(&file, b"").expect("file");
        let err = Store::open(&file.join("store").join("relance.db"))
            .err()
            .expect("a file is in the way");
        assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
        assert!(err.source().is_some_and(|s| s.is::<std::io::Error>()));
    }
}
