//! Consolidated notice emails: minijinja templates (French and English, text and
//! HTML, overridable) rendered into a MIME message built with mail-builder.
//!
//! Pure: the send time, the notice and its data come in as arguments; only
//! [`Templates::from_folder`] reads the disk, for override files.
//!
//! Template variables (see `view.rs`): `lang`, `reference`, `stage.{name, kind,
//! number}`, `patron.name`, `sections` and `others` (lists of `{library: {code,
//! name, address, phone, email}, loans: [{title, author, barcode, call_number,
//! due_date, due_date_iso, days_overdue, days_until_due}]}`), `loan_count`,
//! `reply_to`, `signature`, `institution`, `send_day`.

mod folder;
pub(crate) mod line;
mod mime;
mod print_batch;
mod templates;
mod view;

pub use folder::TemplateFolderError;
pub(crate) use mime::mailbox;
pub use print_batch::{BatchEntry, PrintBatchMail, compose_print_batch};

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDate, Utc};

use crate::address::EmailAddress;
use crate::config::Config;
use crate::ladder::Stage;
use crate::model::{Loan, Patron};
use crate::notice::Notice;
use crate::ports::Cause;

/// Why a template set could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template has a syntax error or failed while rendering.
    #[error("template {name}: {reason}")]
    Template { name: String, reason: String },
    /// Writing the MIME message failed, or a value cannot go in a header.
    #[error("building the message: {message}")]
    Mime {
        /// What could not be written.
        message: String,
        /// The error it comes from, when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// The stage is delivered by letter, not by email.
    #[error("stage {0} is a letter stage, not an email")]
    LetterStage(String),
}

/// The templates in use: the shipped ones, some possibly overridden.
#[derive(Debug, Clone)]
pub struct Templates {
    env: minijinja::Environment<'static>,
}

impl Templates {
    /// The French and English templates shipped in the binary.
    pub fn shipped() -> Self {
        Self {
            env: templates::shipped(),
        }
    }

    /// The shipped templates with some replaced: `(name, source)` pairs, named
    /// as in [`Templates::shipped_files`] (e.g. `fr/subject.txt`), as read from
    /// the config's templates folder. Each must compile, and the set must render
    /// sample courtesy and reminder emails in both languages; the error names the
    /// template at fault.
    pub fn with_overrides(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Templates, RenderError> {
        let mut env = templates::shipped();
        for (name, source) in files {
            templates::add_override(&mut env, name, source)?;
        }
        templates::check(&env)?;
        Ok(Self { env })
    }

    /// The shipped templates' names and sources: a starting point for overrides.
    pub fn shipped_files() -> &'static [(&'static str, &'static str)] {
        templates::SHIPPED
    }
}

/// Everything an email notice is rendered from.
pub struct EmailNotice<'a> {
    /// Institution, sender, libraries.
    pub config: &'a Config,
    /// The notice (id, reference, stage, run day).
    pub notice: &'a Notice,
    pub stage: &'a Stage,
    pub patron: &'a Patron,
    /// The recipient's usable address.
    pub to: &'a EmailAddress,
    /// The loans listed, still open, in listing order.
    pub loans: &'a [Loan],
    /// The patron's other overdue loans, for the recap.
    pub other_overdue: &'a [Loan],
    /// The day it is sent (days overdue are counted to it).
    pub send_day: NaiveDate,
    /// When it is sent (the Date header).
    pub sent_at: DateTime<Utc>,
}

/// A rendered message.
#[derive(Debug, Clone)]
pub struct ComposedEmail {
    /// The Message-ID, without angle brackets.
    pub message_id: String,
    /// The decoded subject.
    pub subject: String,
    /// The whole message.
    pub raw: Vec<u8>,
}

/// Renders and builds the email of a notice, in the patron's language or else
/// the institution's.
pub fn compose(
    templates: &Templates,
    notice: &EmailNotice<'_>,
) -> Result<ComposedEmail, RenderError> {
    let language = notice
        .patron
        .language
        .unwrap_or(notice.config.institution.default_language);
    let view = view::View::of(notice, language)?;
    let rendered = templates::render(&templates.env, &view)?;
    mime::build(notice, language, rendered)
}
