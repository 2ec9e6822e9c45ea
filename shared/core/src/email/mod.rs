//! Consolidated notice emails: minijinja templates (French and English, text and
//! HTML, overridable) rendered into a MIME message built with mail-builder.

use chrono::{DateTime, NaiveDate, Utc};

use crate::address::EmailAddress;
use crate::config::Config;
use crate::ladder::Stage;
use crate::model::{Loan, Patron};
use crate::notice::Notice;

/// Why a template set could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template has a syntax error or failed while rendering.
    #[error("template {name}: {reason}")]
    Template { name: String, reason: String },
    /// Writing the MIME message failed.
    #[error("building the message: {0}")]
    Mime(String),
}

/// The templates in use: the shipped ones, some possibly overridden.
pub struct Templates {}

impl Templates {
    /// The French and English templates shipped in the binary.
    pub fn shipped() -> Self {
        Self {}
    }
}

/// Everything an email notice is rendered from.
pub struct EmailNotice<'a> {
    /// Institution, sender, libraries.
    pub config: &'a Config,
    /// The notice (id, reference, stage, run day).
    pub notice: &'a Notice,
    /// Its stage.
    pub stage: &'a Stage,
    /// The recipient.
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

/// Renders and builds the email of a notice.
pub fn compose(_templates: &Templates, _notice: &EmailNotice<'_>) -> Result<ComposedEmail, RenderError> {
    unimplemented!("being written")
}

#[cfg(test)]
mod scratch;
