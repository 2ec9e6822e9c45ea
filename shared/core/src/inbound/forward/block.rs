//! The forward's text: a block for staff (what the mail is, whose it is, which
//! notice it answers, the patron's open loans, where the original is), then the
//! mail's sender, subject and text. Every value from data is put on one line,
//! so that no name or title can forge a line of the block.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::email::line::single_line;
use crate::inbound::MailClass;
use crate::ladder::Channel;
use crate::model::{Language, Loan};
use crate::notice::{CancelReason, NoticeStatus};
use crate::plan::listing_order;

use super::super::LinkedBy;
use super::Forward;

/// The block's labels in one language.
struct Wording {
    received: &'static str,
    at: &'static str,
    forwarded: &'static str,
    warning: &'static str,
    patron: &'static str,
    no_patron: &'static str,
    notice: &'static str,
    no_notice: &'static str,
    run_of: &'static str,
    linked_by: &'static str,
    checks: &'static str,
    untrusted: &'static str,
    loans: &'static str,
    no_loans: &'static str,
    barcode: &'static str,
    due: &'static str,
    no_title: &'static str,
    original: &'static str,
    attached: &'static str,
    too_large: &'static str,
    kept_at: &'static str,
    separator: &'static str,
    from: &'static str,
    subject: &'static str,
    unknown: &'static str,
    no_text: &'static str,
    date: &'static str,
    decimal: char,
    semicolon: &'static str,
}

const FR: Wording = Wording {
    received: "Message reçu le",
    at: "à",
    forwarded: "transmis par Relance",
    warning: "Attention",
    patron: "Lecteur",
    no_patron: "aucun lecteur ne correspond à ce message",
    notice: "Avis",
    no_notice: "aucun avis relié",
    run_of: "du",
    linked_by: "Relié par",
    checks: "Contrôles de l'expéditeur",
    untrusted: "DMARC en échec : l'adresse de l'expéditeur peut être usurpée, elle n'a pas servi à relier ce message",
    loans: "Prêts en cours",
    no_loans: "aucun",
    barcode: "code-barres",
    due: "à rendre le",
    no_title: "(sans titre)",
    original: "Original",
    attached: "joint (original.eml)",
    too_large: "trop volumineux pour être joint",
    kept_at: "conservé dans",
    separator: "-------- Message reçu --------",
    from: "De",
    subject: "Objet",
    unknown: "(inconnu)",
    no_text: "(message sans texte)",
    date: "%d/%m/%Y",
    decimal: ',',
    semicolon: " ;",
};

const EN: Wording = Wording {
    received: "Received on",
    at: "at",
    forwarded: "forwarded by Relance",
    warning: "Note",
    patron: "Patron",
    no_patron: "no patron matches this mail",
    notice: "Notice",
    no_notice: "no notice linked",
    run_of: "of",
    linked_by: "Linked by",
    checks: "Sender checks",
    untrusted: "DMARC failed: the sender's address may be forged and was not used to link this mail",
    loans: "Open loans",
    no_loans: "none",
    barcode: "barcode",
    due: "due",
    no_title: "(no title)",
    original: "Original",
    attached: "attached (original.eml)",
    too_large: "too large to attach",
    kept_at: "kept at",
    separator: "-------- Received message --------",
    from: "From",
    subject: "Subject",
    unknown: "(unknown)",
    no_text: "(no text)",
    date: "%-d %B %Y",
    decimal: '.',
    semicolon: ";",
};

/// French labels have a space before the colon.
fn colon(language: Language) -> &'static str {
    match language {
        Language::Fr => " :",
        Language::En => ":",
    }
}

/// The forward's text body; `attached` says whether the original is attached.
pub(super) fn text(forward: &Forward<'_>, attached: bool) -> String {
    let language = forward.config.institution.default_language;
    let words = match language {
        Language::Fr => &FR,
        Language::En => &EN,
    };
    let c = colon(language);
    let tz = forward.config.institution.timezone;
    let mut out = String::new();
    // Writing to a String cannot fail: the results are ignored below.
    let _ = writeln!(
        out,
        "{} {}, {}.",
        words.received,
        when(forward.received_at, tz, words),
        words.forwarded
    );
    if forward.mail.class != MailClass::Reply {
        let _ = writeln!(
            out,
            "{}{c} {}.",
            words.warning,
            class(forward.mail.class, language)
        );
    }
    match forward.patron {
        Some(patron) => {
            let _ = writeln!(
                out,
                "{}{c} {} – {}",
                words.patron,
                single_line(patron.id.as_str()),
                single_line(&patron.full_name)
            );
        }
        None => {
            let _ = writeln!(out, "{}{c} {}", words.patron, words.no_patron);
        }
    }
    match forward.notice {
        Some(notice) => {
            let _ = writeln!(
                out,
                "{}{c} {} – {} {} {}, {}, {}",
                words.notice,
                single_line(notice.reference.as_str()),
                notice.stage,
                words.run_of,
                notice.run_day.format(words.date),
                channel(notice.channel, language),
                status(&notice.status, tz, language, words)
            );
        }
        None => {
            let _ = writeln!(out, "{}{c} {}", words.notice, words.no_notice);
        }
    }
    if let Some(by) = forward.linked_by {
        let _ = writeln!(out, "{}{c} {}", words.linked_by, linked_by(by, language));
    }
    let v = forward.verdicts;
    let checks: Vec<String> = [("SPF", v.spf), ("DKIM", v.dkim), ("DMARC", v.dmarc)]
        .into_iter()
        .filter_map(|(name, check)| check.map(|check| format!("{name} {}", check.as_str())))
        .collect();
    if !checks.is_empty() {
        let _ = writeln!(out, "{}{c} {}", words.checks, checks.join(", "));
    }
    if !v.sender_trusted() {
        let _ = writeln!(out, "{}{c} {}", words.warning, words.untrusted);
    }
    if forward.patron.is_some() {
        loans(&mut out, forward, words, c);
    }
    let kept = format!("{} {}", words.kept_at, single_line(forward.source));
    let s = words.semicolon;
    if attached {
        let _ = writeln!(out, "{}{c} {}{s} {kept}", words.original, words.attached);
    } else {
        let _ = writeln!(
            out,
            "{}{c} {} ({}){s} {kept}",
            words.original,
            words.too_large,
            megabytes(forward.raw.len(), words.decimal)
        );
    }

    let mail = forward.mail;
    let _ = writeln!(out, "\n{}\n", words.separator);
    let sender = match &mail.from {
        Some(from) => match &from.name {
            Some(name) => format!("{} <{}>", single_line(name), from.address),
            None => from.address.to_string(),
        },
        None => words.unknown.to_owned(),
    };
    let _ = writeln!(out, "{}{c} {sender}", words.from);
    let _ = writeln!(out, "{}{c} {}\n", words.subject, single_line(&mail.subject));
    if mail.text.trim().is_empty() {
        let _ = writeln!(out, "{}", words.no_text);
    } else {
        out.push_str(mail.text.trim_end());
        out.push('\n');
    }
    out
}

/// The open loans, library by library (listing order), with days overdue.
fn loans(out: &mut String, forward: &Forward<'_>, words: &Wording, c: &str) {
    let language = forward.config.institution.default_language;
    let mut open: Vec<&Loan> = forward.open_loans.iter().collect();
    if open.is_empty() {
        let _ = writeln!(out, "{}{c} {}", words.loans, words.no_loans);
        return;
    }
    open.sort_by(|a, b| listing_order(a, b));
    let _ = writeln!(out, "{} ({}){c}", words.loans, open.len());
    let mut library = None;
    for loan in open {
        if library != Some(&loan.library) {
            library = Some(&loan.library);
            match forward.config.library(&loan.library) {
                Some(known) => {
                    let _ = writeln!(out, "  {} ({})", single_line(&known.name), loan.library);
                }
                None => {
                    let _ = writeln!(out, "  {}", loan.library);
                }
            }
        }
        let title = single_line(&loan.item.title);
        let title = if title.is_empty() {
            words.no_title
        } else {
            &title
        };
        let _ = writeln!(
            out,
            "    - {title} – {} {} – {} {} – {}",
            words.barcode,
            single_line(&loan.item.barcode),
            words.due,
            loan.due_date.format(words.date),
            lateness(loan.days_overdue(forward.today), language)
        );
    }
}

fn when(at: DateTime<Utc>, tz: Tz, words: &Wording) -> String {
    let local = at.with_timezone(&tz);
    format!(
        "{} {} {}",
        local.format(words.date),
        words.at,
        local.format("%H:%M")
    )
}

/// "7 jours de retard", "in 3 days"…
fn lateness(days: i64, language: Language) -> String {
    let plural = |n: i64| if n > 1 { "s" } else { "" };
    match language {
        Language::Fr => match days {
            1.. => format!("{days} jour{} de retard", plural(days)),
            0 => "aujourd'hui".to_owned(),
            -1 => "demain".to_owned(),
            _ => format!("dans {} jours", -days),
        },
        Language::En => match days {
            1.. => format!("{days} day{} overdue", plural(days)),
            0 => "today".to_owned(),
            -1 => "tomorrow".to_owned(),
            _ => format!("in {} days", -days),
        },
    }
}

/// "31,5 Mo" / "31.5 MB".
fn megabytes(bytes: usize, decimal: char) -> String {
    let tenths = (bytes as u64 + 50_000) / 100_000;
    let unit = if decimal == ',' { "Mo" } else { "MB" };
    format!("{}{decimal}{} {unit}", tenths / 10, tenths % 10)
}

fn class(class: MailClass, language: Language) -> &'static str {
    match (class, language) {
        (MailClass::Reply, Language::Fr) => "réponse",
        (MailClass::Reply, Language::En) => "reply",
        (MailClass::Unreadable, Language::Fr) => {
            "message illisible, transmis tel quel (voir l'original)"
        }
        (MailClass::Unreadable, Language::En) => {
            "unreadable mail, forwarded as received (see the original)"
        }
        (MailClass::AutoReply, Language::Fr) => "réponse automatique",
        (MailClass::AutoReply, Language::En) => "automatic reply",
        (MailClass::DeliveryReport, Language::Fr) => "rapport de remise (non-remise)",
        (MailClass::DeliveryReport, Language::En) => "delivery report",
        (MailClass::Spam, Language::Fr) => "signalé comme spam à la réception",
        (MailClass::Spam, Language::En) => "marked as spam on receipt",
        (MailClass::Virus, Language::Fr) => "signalé comme contenant un virus à la réception",
        (MailClass::Virus, Language::En) => "marked as carrying a virus on receipt",
    }
}

fn channel(channel: Channel, language: Language) -> &'static str {
    match (channel, language) {
        (Channel::Email, Language::Fr) => "courriel",
        (Channel::Email, Language::En) => "email",
        (Channel::Letter, Language::Fr) => "courrier",
        (Channel::Letter, Language::En) => "letter",
    }
}

fn status(status: &NoticeStatus, tz: Tz, language: Language, words: &Wording) -> String {
    match (status, language) {
        (NoticeStatus::Pending, Language::Fr) => "pas encore envoyé".to_owned(),
        (NoticeStatus::Pending, Language::En) => "not sent yet".to_owned(),
        (NoticeStatus::Sent { at, .. }, Language::Fr) => {
            format!("envoyé le {}", when(*at, tz, words))
        }
        (NoticeStatus::Sent { at, .. }, Language::En) => {
            format!("sent on {}", when(*at, tz, words))
        }
        (NoticeStatus::Cancelled { reason }, _) => cancelled(*reason, language).to_owned(),
    }
}

fn cancelled(reason: CancelReason, language: Language) -> &'static str {
    match (reason, language) {
        (CancelReason::NothingLeft, Language::Fr) => "annulé : plus rien à réclamer",
        (CancelReason::NothingLeft, Language::En) => "cancelled: nothing left to claim",
        (CancelReason::FellBackToPrint, Language::Fr) => "annulé : remplacé par un courrier",
        (CancelReason::FellBackToPrint, Language::En) => "cancelled: replaced by a letter",
    }
}

fn linked_by(by: LinkedBy, language: Language) -> &'static str {
    match (by, language) {
        (LinkedBy::MessageId, Language::Fr) => {
            "l'en-tête In-Reply-To/References (réponse à l'avis envoyé)"
        }
        (LinkedBy::MessageId, Language::En) => {
            "its In-Reply-To/References header (an answer to the notice sent)"
        }
        (LinkedBy::Reference, Language::Fr) => "la référence de l'avis dans l'objet ou le texte",
        (LinkedBy::Reference, Language::En) => "the notice's reference in the subject or text",
        (LinkedBy::Sender, Language::Fr) => "l'adresse de l'expéditeur",
        (LinkedBy::Sender, Language::En) => "the sender's address",
    }
}
