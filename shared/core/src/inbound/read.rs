//! Reading a received mail: its class, its sender, what it answers and its text.
//!
//! Whatever the bytes, reading gives a [`ReceivedMail`]: mail that does not
//! parse is [`MailClass::Unreadable`] (and forwarded), never an error, so that
//! the class is recorded even when nothing else can be.

mod classify;
#[cfg(test)]
mod tests;

use mail_parser::{Addr, HeaderName, HeaderValue, Message, MessageParser};

use crate::address::{EmailAddress, Mailbox};
use crate::email::line::single_line;
use crate::ids::Reference;

use super::{MailClass, ReceivedMail, TEXT_LIMIT, Verdicts};

/// Longest message id kept: real ones are well under 100 characters, and a
/// longer one is junk that would only bloat the reply record and the lookups.
const MAX_ID_LEN: usize = 250;

/// Most ids kept from `In-Reply-To` and `References`, newest first: the
/// notice being answered is one of the last messages of the thread.
const MAX_REPLIED_TO: usize = 32;

/// Reads and classifies a raw mail as received. Never fails and never panics:
/// what cannot be parsed is [`MailClass::Unreadable`], with what little could
/// be read.
pub fn read(raw: &[u8], verdicts: Verdicts) -> ReceivedMail {
    // mail-parser returns `None` when it finds no header at all, and reads the
    // first line of any text (`hello world`) as a header with no value: without
    // one header that mail has, it is not mail.
    let message = MessageParser::new().parse(raw).filter(|message| {
        let headers = message.headers();
        headers
            .iter()
            .any(|h| !matches!(h.name, HeaderName::Other(_)))
    });
    let Some(message) = message else {
        return unreadable(raw, verdicts);
    };
    let subject = message.subject().map(single_line).unwrap_or_default();
    let from_addr = message.from().and_then(|from| from.first());
    let text = body_text(&message);
    let class = classify::classify(&message, verdicts, from_addr, &subject);
    ReceivedMail {
        class,
        from: from_addr.and_then(mailbox),
        reference: Reference::find_in(&subject).or_else(|| Reference::find_in(&text)),
        message_id: message.message_id().and_then(message_id),
        replied_to: replied_to(&message),
        subject,
        text,
    }
}

/// Bytes that are not a mail: no sender, no subject, and the bytes as text in
/// case a person's words are in there (the original is attached anyway); the
/// verdicts still come first.
fn unreadable(raw: &[u8], verdicts: Verdicts) -> ReceivedMail {
    // Four bytes per character at most: enough for TEXT_LIMIT characters.
    let head = &raw[..raw.len().min(TEXT_LIMIT * 4)];
    let text = clean_text(&String::from_utf8_lossy(head));
    ReceivedMail {
        class: classify::by_verdict(verdicts).unwrap_or(MailClass::Unreadable),
        from: None,
        subject: String::new(),
        message_id: None,
        replied_to: Vec::new(),
        reference: Reference::find_in(&text),
        text,
    }
}

/// The sender as a mailbox, when its address is one we could write to.
fn mailbox(addr: &Addr<'_>) -> Option<Mailbox> {
    let address = EmailAddress::parse(addr.address()?).ok()?;
    let name = addr.name().map(single_line).filter(|name| !name.is_empty());
    Some(Mailbox { name, address })
}

/// The ids the mail answers: `In-Reply-To`, then `References` from the newest.
fn replied_to(message: &Message<'_>) -> Vec<String> {
    let in_reply_to = ids(message.in_reply_to());
    let references = ids(message.references());
    let mut out: Vec<String> = Vec::new();
    for id in in_reply_to.into_iter().chain(references.into_iter().rev()) {
        if out.len() == MAX_REPLIED_TO {
            break;
        }
        if let Some(id) = message_id(id)
            && !out.contains(&id)
        {
            out.push(id);
        }
    }
    out
}

fn ids<'a>(value: &'a HeaderValue<'_>) -> Vec<&'a str> {
    match value {
        HeaderValue::Text(id) => vec![id.as_ref()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.as_ref()).collect(),
        _ => Vec::new(),
    }
}

/// A message id as found in a header, without its angle brackets; `None` when
/// it could not be written back into a header as it is (spaces, controls,
/// brackets, non-ASCII) or is absurdly long.
fn message_id(value: &str) -> Option<String> {
    let id = value.trim().trim_start_matches('<').trim_end_matches('>');
    let plain = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    plain.then(|| id.to_owned())
}

/// Every text part (HTML ones converted to text), joined, cleaned and cut to
/// [`TEXT_LIMIT`] characters.
fn body_text(message: &Message<'_>) -> String {
    let mut text = String::new();
    for part in (0..message.text_body_count()).filter_map(|i| message.body_text(i)) {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&part);
        // Parts are cleaned and cut below; stop gathering well past the limit.
        if text.len() > TEXT_LIMIT * 4 {
            break;
        }
    }
    clean_text(&text)
}

/// Text with LF line ends, without control characters but tabs and line ends,
/// trimmed, and cut to [`TEXT_LIMIT`] characters.
fn clean_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out = String::with_capacity(text.len().min(TEXT_LIMIT * 4));
    for c in text.trim().chars() {
        let c = if c == '\r' { '\n' } else { c };
        if c.is_control() && c != '\n' && c != '\t' {
            continue;
        }
        if out.len() >= TEXT_LIMIT * 4 {
            break;
        }
        out.push(c);
    }
    if let Some((cut, _)) = out.char_indices().nth(TEXT_LIMIT) {
        out.truncate(cut);
    }
    out
}
