//! The local mail transport: each message written as an `.eml` file in the outbox,
//! laid out like the S3 bucket (`{run_day}/mail/{name}.eml`).

use std::fs;
use std::path::{Path, PathBuf};

use relance_core::ids::LibraryCode;
use relance_core::ports::{
    LetterArchive, MailTransport, OutgoingMail, StoreError, TransportError, is_batch_pdf,
};

use crate::store::day_text;

mod purge;

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

/// Writes `bytes` to `path`, creating its folder, so that the file appears whole
/// or not at all (rules §13): written aside as a hidden `.{name}.{pid}.tmp` in
/// the same folder, then renamed over `path`. A relay watching the outbox never
/// sees a partial message, whether the run is killed or the disk fills; it
/// should skip hidden files.
pub fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("{} has no file name", path.display())))?;
    let aside = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = match fs::write(&aside, bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            fs::write(&aside, bytes)
        }
        other => other,
    }
    .and_then(|()| fs::rename(&aside, path));
    if written.is_err() {
        let _ = fs::remove_file(&aside);
    }
    written
}

/// The print batches kept in a library's letters folder (none when it does not exist).
pub fn batches_in(dir: &Path) -> Result<u32, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => {
            return Err(StoreError::unavailable(format!("{}: {e}", dir.display())).caused_by(e));
        }
    };
    let mut kept = 0;
    for entry in entries {
        let entry = entry
            .map_err(|e| StoreError::unavailable(format!("{}: {e}", dir.display())).caused_by(e))?;
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
            return Err(StoreError::unexpected(format!(
                "unsafe letter file name {name:?}"
            )));
        }
        let path = self.letters_dir(run_day, library).join(name);
        write_file(&path, bytes).map_err(|e| {
            StoreError::unavailable(format!("{}: {e}", path.display())).caused_by(e)
        })?;
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
            return Err(TransportError::unexpected(format!(
                "unsafe outbox name {:?}",
                mail.name
            )));
        }
        let name = format!("{}.eml", mail.name);
        let path = self.mail_dir(mail.run_day).join(&name);
        write_file(&path, &mail.raw).map_err(|e| {
            TransportError::transient(format!("{}: {e}", path.display())).caused_by(e)
        })?;
        Ok(format!("outbox:{}/mail/{name}", day_text(mail.run_day)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_file_is_written_aside_then_renamed_leaving_nothing_else_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2027-01-10/mail/first_reminder-P1.eml");
        write_file(&path, b"first").unwrap();
        write_file(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(entries(path.parent().unwrap()), ["first_reminder-P1.eml"]);
    }

    #[test]
    fn a_write_that_fails_leaves_neither_a_partial_file_nor_its_draft() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should go: the rename fails.
        let path = dir.path().join("batch.pdf");
        fs::create_dir(&path).unwrap();
        assert!(write_file(&path, b"%PDF").is_err());
        assert_eq!(entries(dir.path()), ["batch.pdf"]);
        assert!(path.is_dir());
    }
}
