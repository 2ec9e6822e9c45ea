//! What kind of mail it is: the receiving service's verdicts, then delivery
//! reports, then automatic answers; the rest was written by a person.
//!
//! Deliberately not enough on its own: `X-Auto-Response-Suppress` (Outlook puts
//! it on ordinary replies) and `List-Id`.

use mail_parser::{Addr, Message, MimeHeaders};

use super::super::{MailClass, Verdicts};

/// The class the receiving service's verdicts give, if any: a virus first.
pub(super) fn by_verdict(verdicts: Verdicts) -> Option<MailClass> {
    if verdicts.virus {
        Some(MailClass::Virus)
    } else if verdicts.spam {
        Some(MailClass::Spam)
    } else {
        None
    }
}

/// Classifies a parsed mail (one with headers); `subject` is its decoded
/// one-line subject.
pub(super) fn classify(
    message: &Message<'_>,
    verdicts: Verdicts,
    from: Option<&Addr<'_>>,
    subject: &str,
) -> MailClass {
    if let Some(class) = by_verdict(verdicts) {
        return class;
    }
    match report_type(message) {
        Some(kind) if kind.eq_ignore_ascii_case("delivery-status") => {
            return MailClass::DeliveryReport;
        }
        // Read receipts (disposition-notification), abuse reports: machines.
        Some(_) => return MailClass::AutoReply,
        None => {}
    }
    if from_a_mail_system(message, from, subject) {
        return MailClass::DeliveryReport;
    }
    if auto_submitted(message) || is_out_of_office(subject) {
        return MailClass::AutoReply;
    }
    MailClass::Reply
}

/// The `report-type` of a `multipart/report` mail (RFC 6522); empty when absent.
fn report_type<'a>(message: &'a Message<'_>) -> Option<&'a str> {
    let content_type = message.root_part().content_type()?;
    let report = content_type.ctype().eq_ignore_ascii_case("multipart")
        && content_type
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"));
    report.then(|| {
        content_type
            .attribute("report-type")
            .unwrap_or_default()
            .trim()
    })
}

/// A delivery report that is not `multipart/report`: from `MAILER-DAEMON`
/// whatever it says, or from a postmaster (or with the null return path of
/// RFC 5321 §4.5.5) under a subject that says a delivery failed or is late.
fn from_a_mail_system(message: &Message<'_>, from: Option<&Addr<'_>>, subject: &str) -> bool {
    // The address as written: `MAILER-DAEMON` often has no domain at all.
    let local = from
        .and_then(|addr| addr.address())
        .map(|address| address.split('@').next().unwrap_or_default().trim())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if matches!(
        local.as_str(),
        "mailer-daemon" | "mailer_daemon" | "mail-daemon"
    ) {
        return true;
    }
    let null_sender = header_values(message, "Return-Path").any(|value| value.trim() == "<>");
    (local == "postmaster" || null_sender) && says_undelivered(subject)
}

/// The subjects of delivery reports, in English and French (Exchange, Gmail,
/// Postfix, Exim, qmail, Sendmail).
fn says_undelivered(subject: &str) -> bool {
    const PHRASES: &[&str] = &[
        "undeliverable",
        "undelivered mail",
        "delivery status notification",
        "mail delivery failed",
        "mail delivery failure",
        "delivery failure",
        "delivery has failed",
        "delivery delayed",
        "delayed mail",
        "returned mail",
        "failure notice",
        "message not delivered",
        "could not send message",
        "non remis",
        "non distribuable",
        "échec de la remise",
        "echec de la remise",
        "remise différée",
        "notification d'état de remise",
        "notification d’état de remise",
    ];
    let subject = subject.to_lowercase();
    PHRASES.iter().any(|phrase| subject.contains(phrase))
}

/// RFC 3834's `Auto-Submitted` other than `no`, the de facto `X-Autoreply` and
/// `X-Autorespond`, or `Precedence: bulk | junk | auto_reply | list` — a
/// mailing list's copy is no patron's reply either.
fn auto_submitted(message: &Message<'_>) -> bool {
    let keyword = |value: &str| {
        let value = value.split(';').next().unwrap_or_default();
        value.trim().to_ascii_lowercase()
    };
    if header_values(message, "Auto-Submitted").any(|value| keyword(value) != "no") {
        return true;
    }
    if ["X-Autoreply", "X-Autorespond", "X-Autoresponder"]
        .iter()
        .any(|name| header_values(message, name).next().is_some())
    {
        return true;
    }
    header_values(message, "Precedence").any(|value| {
        matches!(
            keyword(value).as_str(),
            "bulk" | "junk" | "list" | "auto_reply" | "auto-reply"
        )
    })
}

/// Out-of-office subjects, in French and English, after any `RE:`/`TR:`
/// prefixes: "Réponse automatique : …", "Automatic reply: …", "Absence : …",
/// "Out of Office: …".
fn is_out_of_office(subject: &str) -> bool {
    // Unambiguous at the start of a subject.
    const OPENINGS: &[&str] = &[
        "réponse automatique",
        "reponse automatique",
        "message automatique",
        "automatic reply",
        "auto-reply",
        "autoreply",
        "auto reply",
        "auto:",
        "out of office",
        "out of the office",
        "absent du bureau",
        "message d'absence",
        "message d’absence",
    ];
    // Ordinary words that only mean an auto-reply when followed by a colon:
    // "Absence : Camille Martin", not "Absence de retour du livre".
    const LABELS: &[&str] = &["absence", "absent", "away"];
    let lower = subject.to_lowercase();
    let subject = strip_reply_prefixes(&lower);
    if OPENINGS.iter().any(|opening| subject.starts_with(opening)) {
        return true;
    }
    LABELS.iter().any(|label| {
        subject
            .strip_prefix(label)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    })
}

/// `subject` (lower case) without its leading `re:`, `tr:`, `fw:`, `fwd:`,
/// `aw:`, `wg:` and `sv:` prefixes, however many, with French spacing
/// (`re :`) and counters (`re[2]:`).
fn strip_reply_prefixes(subject: &str) -> &str {
    const PREFIXES: &[&str] = &["re", "tr", "fwd", "fw", "aw", "wg", "sv"];
    let mut rest = subject.trim_start();
    'strip: loop {
        for prefix in PREFIXES {
            let Some(after) = rest.strip_prefix(prefix) else {
                continue;
            };
            let mut after = after.trim_start();
            if let Some(counter) = after.strip_prefix('[') {
                let digits = counter.trim_start_matches(|c: char| c.is_ascii_digit());
                if let Some(closed) = digits.strip_prefix(']') {
                    after = closed.trim_start();
                }
            }
            if let Some(after) = after.strip_prefix(':') {
                rest = after.trim_start();
                continue 'strip;
            }
        }
        return rest;
    }
}

/// The raw values of every root header named `name` (any case), trimmed: raw,
/// because mail-parser reads `Return-Path: <>` as no value at all.
fn header_values<'a>(message: &'a Message<'_>, name: &'a str) -> impl Iterator<Item = &'a str> {
    let raw = message.raw_message();
    message
        .headers()
        .iter()
        .filter(move |header| header.name().eq_ignore_ascii_case(name))
        .map(move |header| {
            let value = raw.get(header.offset_start() as usize..header.offset_end() as usize);
            value
                .and_then(|bytes| std::str::from_utf8(bytes).ok())
                .unwrap_or_default()
                .trim()
        })
}
