//! The MIME message: header values made safe from data, then mail-builder.
//!
//! What mail-builder 0.4 does, checked rather than assumed (see the tests):
//! - an ASCII `Text` header (the subject) is written as is, so a CR LF in it
//!   starts a new header: every value from data goes through [`single_line`];
//! - a non-ASCII display name is written as an encoded-word *inside* a quoted
//!   string, which RFC 2047 §5 forbids, and its Q encoding leaves `"`, `<` and `,`
//!   bare, so a crafted name can close the quotes and add an address. Address
//!   headers are therefore written here, as raw headers, with the name either
//!   quoted (short ASCII) or as whole B encoded-words, which hold no specials.

use mail_builder::MessageBuilder;
use mail_builder::encoders::base64::base64_encode;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;

use crate::address::EmailAddress;
use crate::model::Language;
use crate::ports::Cause;

use super::line::single_line;
use super::templates::Rendered;
use super::{ComposedEmail, EmailNotice, RenderError};

/// Longest ASCII display name written as a quoted string: a longer one could be
/// folded inside the quotes, and unfolding would then change it.
const MAX_QUOTED_NAME: usize = 60;

/// Bytes of text per encoded-word: 45 bytes are 60 base64 characters, and with
/// `=?utf-8?B?` and `?=` the word stays within RFC 2047's 75.
const ENCODED_WORD_BYTES: usize = 45;

/// Builds the message of a rendered notice.
pub(super) fn build(
    notice: &EmailNotice<'_>,
    language: Language,
    rendered: Rendered,
) -> Result<ComposedEmail, RenderError> {
    let config = notice.config;
    let from = mailbox(config.mail.from.name.as_deref(), &config.mail.from.address)?;
    let reply_to = mailbox(None, &config.mail.reply_to)?;
    let to = mailbox(Some(&notice.patron.full_name), notice.to)?;
    let message_id = message_id(notice)?;
    let reference = token(notice.notice.reference.as_str(), "reference")?;
    let Rendered {
        subject,
        text,
        html,
    } = rendered;
    let raw = MessageBuilder::new()
        .header("From", Raw::new(from))
        .header("Reply-To", Raw::new(reply_to))
        .header("To", Raw::new(to))
        .subject(Text::new(subject.clone()))
        .date(Date::new(notice.sent_at.timestamp()))
        .message_id(MessageId::new(message_id.clone()))
        // RFC 3834: tells auto-responders not to answer, and lets our own inbound
        // function recognise a bounce of this message.
        .header("Auto-Submitted", Raw::new("auto-generated"))
        .header("Content-Language", Raw::new(language.code()))
        .header("X-Relance-Reference", Raw::new(reference))
        .text_body(text)
        .html_body(html)
        .write_to_vec()
        .map_err(|e| RenderError::Mime {
            message: e.to_string(),
            source: Some(e.into()),
        })?;
    Ok(ComposedEmail {
        message_id,
        subject,
        raw,
    })
}

/// `relance.{notice id}@{sender's domain}`: stable per notice, so a retried send
/// carries the same id.
fn message_id(notice: &EmailNotice<'_>) -> Result<String, RenderError> {
    let id = token(notice.notice.id.as_str(), "notice id")?;
    let domain = token(notice.config.mail.from.address.domain(), "sender domain")?;
    let dot_atom = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    };
    if !dot_atom(&id) || !dot_atom(&domain) {
        return Err(RenderError::Mime {
            message: format!("relance.{id}@{domain} is not a valid Message-ID"),
            source: None,
        });
    }
    Ok(format!("relance.{id}@{domain}"))
}

/// A header value that must be one printable ASCII word.
fn token(value: &str, what: &str) -> Result<String, RenderError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(RenderError::Mime {
            message: format!("{what} {value:?} cannot go in a header"),
            source: None,
        });
    }
    Ok(value.to_owned())
}

/// An address header value: `"Name" <addr>`, `=?utf-8?B?…?= <addr>` or `addr`.
pub(crate) fn mailbox(name: Option<&str>, address: &EmailAddress) -> Result<String, RenderError> {
    // Addresses are checked when read, by the same rule; this keeps one stored
    // otherwise from breaking the header.
    let address = address.as_str().to_owned();
    crate::address::header_safe(&address).map_err(|e| RenderError::Mime {
        message: format!("address {address:?} {e}"),
        source: Some(e.into()),
    })?;
    let name = name.map(single_line).filter(|n| !n.is_empty());
    Ok(match name {
        None => address,
        Some(name) => format!("{} <{address}>", phrase(&name)?),
    })
}

/// A display name as an RFC 5322 phrase.
fn phrase(name: &str) -> Result<String, RenderError> {
    // A name that looks like an encoded-word ("=?utf-8?B?…?=") is encoded itself:
    // many clients decode encoded-words even inside quotes, and would show
    // another name than the patron's.
    if name.is_ascii() && name.len() <= MAX_QUOTED_NAME && !name.contains("=?") {
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        return Ok(format!("\"{escaped}\""));
    }
    // Consecutive encoded-words are joined without the space between them
    // (RFC 2047 §6.2), so the name may be cut anywhere between characters.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in name.chars() {
        if chunk.len() + c.len_utf8() > ENCODED_WORD_BYTES {
            words.push(encoded_word(&chunk)?);
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(encoded_word(&chunk)?);
    }
    Ok(words.join(" "))
}

fn encoded_word(text: &str) -> Result<String, RenderError> {
    let mime = |e: Cause| RenderError::Mime {
        message: e.to_string(),
        source: Some(e),
    };
    let encoded = base64_encode(text.as_bytes()).map_err(|e| mime(e.into()))?;
    let encoded = String::from_utf8(encoded).map_err(|e| mime(e.into()))?;
    Ok(format!("=?utf-8?B?{encoded}?="))
}

#[cfg(test)]
mod tests {
    use mail_parser::MessageParser;

    use super::*;

    fn address(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    fn parsed_to(header: &str) -> Vec<(Option<String>, Option<String>)> {
        let raw = MessageBuilder::new()
            .header("To", Raw::new(header.to_owned()))
            .text_body("x")
            .write_to_vec()
            .unwrap();
        let message = MessageParser::new().parse(&raw).unwrap();
        let to = message.to().expect("a To header");
        to.iter()
            .map(|a| (a.name().map(str::to_owned), a.address().map(str::to_owned)))
            .collect()
    }

    #[test]
    fn mail_builder_writes_a_crlf_of_an_ascii_subject_verbatim_so_values_are_cleaned_first() {
        let raw = MessageBuilder::new()
            .subject("Hello\r\nBcc: evil@example.com")
            .text_body("x")
            .write_to_string()
            .unwrap();
        assert!(raw.contains("\r\nBcc: evil@example.com\r\n"), "{raw}");
        let clean = MessageBuilder::new()
            .subject(single_line("Hello\r\nBcc: evil@example.com"))
            .text_body("x")
            .write_to_string()
            .unwrap();
        assert!(!clean.contains("\r\nBcc:"), "{clean}");
    }

    #[test]
    fn a_quote_in_a_non_ascii_name_cannot_add_an_address() {
        let name = "Zoë\" <evil@example.com>, \"x";
        let header = mailbox(Some(name), &address("zoe@example.fr")).unwrap();
        assert!(header.is_ascii() && !header.contains("evil"), "{header}");
        assert_eq!(
            parsed_to(&header),
            [(Some(name.to_owned()), Some("zoe@example.fr".to_owned()))]
        );
    }

    #[test]
    fn ascii_names_are_quoted_with_escapes() {
        let header = mailbox(Some("Martin, \"Cam\" \\ x"), &address("c@example.fr")).unwrap();
        assert_eq!(header, r#""Martin, \"Cam\" \\ x" <c@example.fr>"#);
        assert_eq!(
            parsed_to(&header),
            [(
                Some("Martin, \"Cam\" \\ x".to_owned()),
                Some("c@example.fr".to_owned())
            )]
        );
    }

    #[test]
    fn long_names_are_split_into_encoded_words_that_decode_to_the_whole_name() {
        let name = "Maria Concepción de la Santísima Trinidad Ñúñez-Łukasiewicz y Nguyễn Thị Minh";
        let header = mailbox(Some(name), &address("m@example.fr")).unwrap();
        assert!(header.split(' ').all(|w| w.len() <= 75), "{header}");
        assert_eq!(parsed_to(&header)[0].0.as_deref(), Some(name));
        let long_ascii = "A".repeat(70);
        let header = mailbox(Some(&long_ascii), &address("m@example.fr")).unwrap();
        assert!(header.starts_with("=?utf-8?B?"), "{header}");
        assert_eq!(
            parsed_to(&header)[0].0.as_deref(),
            Some(long_ascii.as_str())
        );
    }

    #[test]
    fn a_name_shaped_like_an_encoded_word_is_encoded_so_it_reads_literally() {
        let name = "=?utf-8?B?SGVsbG8=?=";
        let header = mailbox(Some(name), &address("c@example.fr")).unwrap();
        assert!(!header.contains(name), "{header}");
        assert_eq!(parsed_to(&header)[0].0.as_deref(), Some(name));
    }

    #[test]
    fn an_empty_name_gives_a_bare_address() {
        assert_eq!(
            mailbox(Some(" \r\n "), &address("c@example.fr")).unwrap(),
            "c@example.fr"
        );
        assert_eq!(
            mailbox(None, &address("c@example.fr")).unwrap(),
            "c@example.fr"
        );
    }
}
