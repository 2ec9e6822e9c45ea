//! The forward of a received mail to the staff inbox: from the verified sender
//! in the sender's name ("Camille Martin via Relance"), Reply-To the original
//! sender, the original subject with the notice's reference, a text block on
//! the patron, the notice and the patron's open loans, then the mail's text,
//! and the original attached as `message/rfc822`.
//!
//! Pure: the caller gives the link, the loans, the day and the time received.

mod block;
#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDate, Utc};
use mail_builder::MessageBuilder;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::{BodyPart, MimePart};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::email::{RenderError, mailbox};
use crate::model::{Language, Loan, Patron};
use crate::notice::Notice;

use super::{ATTACH_LIMIT, LinkedBy, ReceivedMail, Verdicts};
use crate::email::line::single_line;

/// Longest subject kept, in characters: past it the subject is cut with `…`.
const MAX_SUBJECT: usize = 200;

/// Longest line of a 7-bit MIME body (RFC 5322 §2.1.1), CR LF excluded.
const MAX_LINE: usize = 998;

/// Everything a forward is composed from.
pub struct Forward<'a> {
    /// Sender, staff inbox, libraries, language and timezone.
    pub config: &'a Config,
    /// What was read off the mail.
    pub mail: &'a ReceivedMail,
    /// The mail as received: attached when at most [`ATTACH_LIMIT`] bytes.
    pub raw: &'a [u8],
    /// Where the original is kept (an S3 key, a file path), named in the block.
    pub source: &'a str,
    /// The patron it was linked to.
    pub patron: Option<&'a Patron>,
    /// The notice it answers.
    pub notice: Option<&'a Notice>,
    /// How it was linked.
    pub linked_by: Option<LinkedBy>,
    /// The receiving service's verdicts, shown to staff.
    pub verdicts: Verdicts,
    /// The patron's open loans.
    pub open_loans: &'a [Loan],
    /// The local date it was received, for days overdue.
    pub today: NaiveDate,
    /// When it was received: the forward's `Date`.
    pub received_at: DateTime<Utc>,
}

/// A forward ready to send.
#[derive(Debug, Clone)]
pub struct ComposedForward {
    /// Its Message-ID, without brackets: `relance.fwd.{digest}@{sender domain}`,
    /// the same each time the same mail is forwarded.
    pub message_id: String,
    pub subject: String,
    /// The MIME message.
    pub raw: Vec<u8>,
}

/// Composes the forward of a received mail to the staff inbox, in the
/// institution's language.
pub fn compose(forward: &Forward<'_>) -> Result<ComposedForward, RenderError> {
    let config = forward.config;
    let language = config.institution.default_language;
    let sender = forward.mail.from.as_ref();
    let shown = match sender {
        Some(sender) => sender
            .name
            .clone()
            .unwrap_or_else(|| sender.address.to_string()),
        None => unknown_sender(language).to_owned(),
    };
    let from = mailbox(
        Some(&format!("{shown} via Relance")),
        &config.mail.from.address,
    )?;
    let to = mailbox(None, &config.mail.staff_inbox)?;
    let subject = subject(forward, language);
    let message_id = message_id(forward)?;
    let attach = forward.raw.len() <= ATTACH_LIMIT;
    let text = block::text(forward, attach);

    let mut builder = MessageBuilder::new()
        .header("From", Raw::new(from))
        .header("To", Raw::new(to));
    if let Some(sender) = sender {
        let reply_to = mailbox(sender.name.as_deref(), &sender.address)?;
        builder = builder.header("Reply-To", Raw::new(reply_to));
    }
    builder = builder
        .subject(Text::new(subject.clone()))
        .date(Date::new(forward.received_at.timestamp()))
        .message_id(MessageId::new(message_id.clone()));
    if let Some(original) = forward.mail.message_id.as_deref().filter(|id| is_id(id)) {
        builder = builder
            .in_reply_to(MessageId::new(original.to_owned()))
            .references(MessageId::new(original.to_owned()));
    }
    builder = builder
        // Any value but `no` tells responders, and our own inbound, that this is
        // automatic (RFC 3834): nothing answers it, nothing forwards it again.
        .header("Auto-Submitted", Raw::new("auto-forwarded"))
        // Exchange ignores Auto-Submitted: without this, a staff member's
        // out-of-office would answer the patron (the Reply-To).
        .header("X-Auto-Response-Suppress", Raw::new("OOF, AutoReply"))
        .header("Content-Language", Raw::new(language.code()));
    if let Some(notice) = forward.notice.filter(|n| is_id(n.reference.as_str())) {
        builder = builder.header(
            "X-Relance-Reference",
            Raw::new(notice.reference.as_str().to_owned()),
        );
    }
    let text_part = MimePart::new("text/plain", BodyPart::Text(text.into()));
    let body = if attach {
        MimePart::new(
            "multipart/mixed",
            vec![text_part, original_part(forward.raw)],
        )
    } else {
        text_part
    };
    let raw = builder
        .body(body)
        .write_to_vec()
        .map_err(|e| RenderError::Mime {
            message: e.to_string(),
            source: Some(e.into()),
        })?;
    Ok(ComposedForward {
        message_id,
        subject,
        raw,
    })
}

/// The original as `message/rfc822`: as it is when it is plain 7-bit mail
/// (the only form RFC 2046 §5.2.1 allows besides 8bit/binary, which not every
/// relay carries); base64 otherwise, which mail clients read too, so that the
/// bytes come back unchanged either way.
fn original_part(raw: &[u8]) -> MimePart<'_> {
    let part =
        MimePart::new("message/rfc822", BodyPart::Binary(raw.into())).attachment("original.eml");
    if is_seven_bit_mail(raw) {
        part.transfer_encoding("7bit")
    } else {
        part
    }
}

/// ASCII without NUL, lines ended by CR LF and at most [`MAX_LINE`] long.
fn is_seven_bit_mail(raw: &[u8]) -> bool {
    let mut line = 0;
    for (i, &b) in raw.iter().enumerate() {
        match b {
            0 | 128.. => return false,
            b'\r' if raw.get(i + 1) != Some(&b'\n') => return false,
            b'\n' if i == 0 || raw[i - 1] != b'\r' => return false,
            b'\n' => line = 0,
            b'\r' => {}
            _ => {
                line += 1;
                if line > MAX_LINE {
                    return false;
                }
            }
        }
    }
    true
}

/// The original subject on one line, cut to [`MAX_SUBJECT`] characters, with
/// the linked notice's reference when it is not already there.
fn subject(forward: &Forward<'_>, language: Language) -> String {
    let original = single_line(&forward.mail.subject);
    let mut subject = if original.is_empty() {
        no_subject(language).to_owned()
    } else if let Some((cut, _)) = original.char_indices().nth(MAX_SUBJECT) {
        format!("{}…", &original[..cut])
    } else {
        original
    };
    if let Some(notice) = forward.notice {
        let reference = single_line(notice.reference.as_str());
        if !subject.to_ascii_uppercase().contains(&reference) {
            subject.push_str(&format!(" [{reference}]"));
        }
    }
    subject
}

/// `relance.fwd.{20 hex digits of the original's SHA-256}@{sender's domain}`.
fn message_id(forward: &Forward<'_>) -> Result<String, RenderError> {
    let digest = Sha256::digest(forward.raw);
    let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    let domain = forward.config.mail.from.address.domain();
    let id = format!("relance.fwd.{hex}@{domain}");
    let dot_atom = !domain.is_empty()
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !dot_atom {
        return Err(RenderError::Mime {
            message: format!("{id} is not a valid Message-ID"),
            source: None,
        });
    }
    Ok(id)
}

/// Whether `value` can be written as a message id or a header token as it is.
fn is_id(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
}

fn unknown_sender(language: Language) -> &'static str {
    match language {
        Language::Fr => "Expéditeur inconnu",
        Language::En => "Unknown sender",
    }
}

fn no_subject(language: Language) -> &'static str {
    match language {
        Language::Fr => "(sans objet)",
        Language::En => "(no subject)",
    }
}
