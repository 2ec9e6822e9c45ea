//! The preview's transport and archive: what a run would send and print, written
//! as files into the preview folder instead (`mail/{name}.eml` with its HTML part
//! beside it as `mail/{name}.html`, `letters/{library}/{name}`).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use mail_parser::MessageParser;
use relance_core::ids::LibraryCode;
use relance_core::ports::{LetterArchive, MailTransport, OutgoingMail, StoreError, TransportError};

use crate::outbox::write_file;
use crate::store::day_text;

/// Writes a previewed run's messages and letters under one folder; never sends.
pub struct PreviewFolder {
    dir: PathBuf,
    day: NaiveDate,
}

impl PreviewFolder {
    /// The folder of the preview of `day`.
    pub fn new(dir: impl Into<PathBuf>, day: NaiveDate) -> Self {
        Self {
            dir: dir.into(),
            day,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Removes what an earlier preview wrote here (`mail/`, `letters/`, `index.html`),
    /// and nothing else of the folder.
    pub fn clear(&self) -> std::io::Result<()> {
        for sub in ["mail", "letters"] {
            match std::fs::remove_dir_all(self.dir.join(sub)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        match std::fs::remove_file(self.dir.join("index.html")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// Refuses a name that could leave its folder.
fn safe_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\'])
}

impl MailTransport for PreviewFolder {
    /// Returns the message's path in the folder, `mail/{name}.eml`, as its message id.
    async fn send(&self, mail: &OutgoingMail) -> Result<String, TransportError> {
        if !safe_name(&mail.name) {
            return Err(TransportError::unexpected(format!(
                "unsafe preview name {:?}",
                mail.name
            )));
        }
        // A notice pending from an earlier day may share its name with one of today's.
        let name = if mail.run_day == self.day {
            mail.name.clone()
        } else {
            format!("{}-{}", day_text(mail.run_day), mail.name)
        };
        let path = self.dir.join("mail").join(format!("{name}.eml"));
        write_file(&path, &mail.raw).map_err(|e| {
            TransportError::unexpected(format!("{}: {e}", path.display())).caused_by(e)
        })?;
        let message = MessageParser::default().parse(&mail.raw);
        if let Some(html) = message
            .as_ref()
            .filter(|m| !m.html_body.is_empty() && m.html_body != m.text_body)
            .and_then(|m| m.body_html(0))
        {
            let path = self.dir.join("mail").join(format!("{name}.html"));
            write_file(&path, html.as_bytes()).map_err(|e| {
                TransportError::unexpected(format!("{}: {e}", path.display())).caused_by(e)
            })?;
        }
        Ok(format!("mail/{name}.eml"))
    }
}

impl LetterArchive for PreviewFolder {
    async fn put(
        &self,
        _run_day: NaiveDate,
        library: &LibraryCode,
        name: &str,
        bytes: &[u8],
    ) -> Result<String, StoreError> {
        if !safe_name(name) {
            return Err(StoreError::unexpected(format!(
                "unsafe letter file name {name:?}"
            )));
        }
        let path = self.dir.join("letters").join(library.as_str()).join(name);
        write_file(&path, bytes).map_err(|e| {
            StoreError::unavailable(format!("{}: {e}", path.display())).caused_by(e)
        })?;
        Ok(format!("letters/{library}/{name}"))
    }

    async fn batches_kept(
        &self,
        _run_day: NaiveDate,
        library: &LibraryCode,
    ) -> Result<u32, StoreError> {
        crate::outbox::batches_in(&self.dir.join("letters").join(library.as_str()))
    }
}
