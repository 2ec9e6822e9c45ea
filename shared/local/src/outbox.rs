//! The local mail transport: each message written as an `.eml` file in the outbox,
//! laid out like the S3 bucket (`{run_day}/mail/{name}.eml`).

use std::fs;
use std::path::{Path, PathBuf};

use relance_core::ids::LibraryCode;
use relance_core::ports::{
    LetterArchive, MailTransport, OutgoingMail, StoreError, TransportError, is_batch_pdf,
};

use crate::store::day_text;

/// Writes messages under `root` instead of sending them.
pub struct Outbox {
    root: PathBuf,
}

impl Outbox {
    /// An outbox rooted at `root` (`{state_dir}/outbox`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder of a run day's mail.
    pub fn mail_dir(&self, run_day: chrono::NaiveDate) -> PathBuf {
        self.root.join(day_text(run_day)).join("mail")
    }

    /// The folder of a library's letters for a run day.
    pub fn letters_dir(&self, run_day: chrono::NaiveDate, library: &LibraryCode) -> PathBuf {
        self.root
            .join(day_text(run_day))
            .join("letters")
            .join(library.as_str())
    }

    /// The outbox root.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Writes `bytes` to `path`, creating its folder. Written in place, not through a
/// temporary file and a rename: on this kind of filesystem the rename costs four
/// times the write, and a file cut short by a crash is harmless, because its
/// notice is only recorded as sent after the write and the retry rewrites it.
pub fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match fs::write(path, bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            fs::write(path, bytes)
        }
        other => other,
    }
}

/// The print batches kept in a library's letters folder (none when it does not exist).
pub fn batches_in(dir: &Path) -> Result<u32, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(StoreError::Unavailable(format!("{}: {e}", dir.display()))),
    };
    let mut kept = 0;
    for entry in entries {
        let entry =
            entry.map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
        if is_batch_pdf(&entry.file_name().to_string_lossy()) {
            kept += 1;
        }
    }
    Ok(kept)
}

/// Refuses a name that could leave its folder.
fn safe_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\'])
}

impl LetterArchive for Outbox {
    async fn put(
        &self,
        run_day: chrono::NaiveDate,
        library: &LibraryCode,
        name: &str,
        bytes: &[u8],
    ) -> Result<String, StoreError> {
        if !safe_name(name) {
            return Err(StoreError::Unexpected(format!(
                "unsafe letter file name {name:?}"
            )));
        }
        let path = self.letters_dir(run_day, library).join(name);
        write_file(&path, bytes)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        Ok(format!(
            "outbox:{}/letters/{library}/{name}",
            day_text(run_day)
        ))
    }

    async fn batches_kept(
        &self,
        run_day: chrono::NaiveDate,
        library: &LibraryCode,
    ) -> Result<u32, StoreError> {
        batches_in(&self.letters_dir(run_day, library))
    }
}

impl MailTransport for Outbox {
    /// Sending again rewrites the same file.
    fn resend_is_harmless(&self) -> bool {
        true
    }

    async fn send(&self, mail: &OutgoingMail) -> Result<String, TransportError> {
        // The name is built from ids already made path-safe (`file_stem`); refuse
        // anything else rather than write outside the outbox.
        if !safe_name(&mail.name) {
            return Err(TransportError::Unexpected(format!(
                "unsafe outbox name {:?}",
                mail.name
            )));
        }
        let name = format!("{}.eml", mail.name);
        let path = self.mail_dir(mail.run_day).join(&name);
        write_file(&path, &mail.raw)
            .map_err(|e| TransportError::Transient(format!("{}: {e}", path.display())))?;
        Ok(format!("outbox:{}/mail/{name}", day_text(mail.run_day)))
    }
}
