//! The email that takes a library its day's print batch: the batch PDF and its
//! manifest attached, the count and the references in the text.

use chrono::{DateTime, NaiveDate, Utc};
use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;

use crate::config::{Config, Library};
use crate::ids::{PatronId, Reference};
use crate::model::Language;

use super::line::single_line;
use super::mime::mailbox;
use super::{ComposedEmail, RenderError};

/// One letter of the batch, as listed in the email.
#[derive(Debug, Clone)]
pub struct BatchEntry {
    /// The letter's reference.
    pub reference: Reference,
    pub patron_id: PatronId,
    /// Items listed.
    pub items: usize,
    pub pages: usize,
}

/// Everything the print batch email is built from.
pub struct PrintBatchMail<'a> {
    /// Sender and institution.
    pub config: &'a Config,
    /// The library that prints.
    pub library: &'a Library,
    /// The run day of the letters.
    pub run_day: NaiveDate,
    /// The letters, in batch order.
    pub entries: &'a [BatchEntry],
    /// The PDF attached: `batch.pdf`, or the part of it this mail carries.
    pub batch_pdf: &'a [u8],
    /// `(k, n)` when the batch is too large for one mail and goes as n mails,
    /// this one carrying its k-th part (from 1); `None` for the whole batch.
    pub part: Option<(usize, usize)>,
    /// The manifest of the letters attached.
    pub manifest_csv: &'a [u8],
    /// Which batch of the library's run day this is: 1, or 2, 3… for letters
    /// retried on a day whose batch already went. Each has its own Message-ID,
    /// which mail servers that drop duplicates would otherwise hold against it.
    pub attempt: u32,
    /// The Date header.
    pub sent_at: DateTime<Utc>,
}

struct Wording {
    subject: &'static str,
    intro: &'static str,
    manifest: &'static str,
    part: &'static str,
    parts: &'static str,
    references: &'static str,
    items: &'static str,
    pages: &'static str,
    date: &'static str,
}

const FR: Wording = Wording {
    subject: "Courriers de relance à imprimer",
    intro: "Vous trouverez ci-joint les courriers de relance à imprimer et à poster, \
            dans un seul fichier PDF (A4, chaque courrier commence sur une nouvelle page, \
            adresse placée pour une enveloppe DL à fenêtre à droite).",
    manifest: "Le fichier manifest.csv joint en donne la liste.",
    part: "envoi",
    parts: "Le lot du jour, trop volumineux pour un seul message, est réparti en {n} envois \
            qui se suivent ; voici l'envoi {k} sur {n}. Chaque envoi a son propre PDF et \
            son propre manifeste.",
    references: "Courriers",
    items: "document(s)",
    pages: "page(s)",
    date: "%d/%m/%Y",
};

const EN: Wording = Wording {
    subject: "Overdue letters to print",
    intro: "Attached are the overdue letters to print and post, in one PDF file \
            (A4, each letter starts on a new page, address placed for a right-window \
            DL envelope).",
    manifest: "The attached manifest.csv lists them.",
    part: "part",
    parts: "The day's batch, too large for one message, comes as {n} consecutive \
            messages; this is part {k} of {n}. Each part has its own PDF and manifest.",
    references: "Letters",
    items: "item(s)",
    pages: "page(s)",
    date: "%d %B %Y",
};

/// Builds the library's print batch email, in the institution's language.
pub fn compose_print_batch(mail: &PrintBatchMail<'_>) -> Result<ComposedEmail, RenderError> {
    let config = mail.config;
    let words = match config.institution.default_language {
        Language::Fr => &FR,
        Language::En => &EN,
    };
    let day = mail.run_day.format(words.date).to_string();
    let count = mail.entries.len();
    let part = mail
        .part
        .map(|(k, n)| format!(" – {} {k}/{n}", words.part))
        .unwrap_or_default();
    let subject = single_line(&format!(
        "{} – {} – {day} ({count}){part}",
        words.subject, mail.library.name
    ));
    let mut text = format!("{}\n\n{}\n\n", mail.library.name, words.intro);
    if let Some((k, n)) = mail.part {
        let parts = words
            .parts
            .replace("{k}", &k.to_string())
            .replace("{n}", &n.to_string());
        text.push_str(&format!("{parts}\n\n"));
    }
    text.push_str(&format!("{} ({count}) :\n", words.references));
    for e in mail.entries {
        text.push_str(&format!(
            "  {}  {}  {} {}  {} {}\n",
            e.reference, e.patron_id, e.items, words.items, e.pages, words.pages
        ));
    }
    let signature = config
        .mail
        .from
        .name
        .as_deref()
        .unwrap_or(&config.institution.name);
    text.push_str(&format!("\n{}\n\n{signature}\n", words.manifest));

    let domain = config.mail.from.address.domain();
    let code = &mail.library.code;
    let run_day = match mail.attempt {
        0 | 1 => mail.run_day.to_string(),
        n => format!("{}.{n}", mail.run_day),
    };
    let file_day = run_day.replace('.', "-");
    let (message_id, file) = match mail.part {
        None => (
            format!("relance.batch.{code}.{run_day}@{domain}"),
            format!("relance-{code}-{file_day}.pdf"),
        ),
        Some((k, n)) => (
            format!("relance.batch.{code}.{run_day}.{k}@{domain}"),
            format!("relance-{code}-{file_day}-{k}-{n}.pdf"),
        ),
    };
    let raw = MessageBuilder::new()
        .attachment("application/pdf", file, mail.batch_pdf.to_vec())
        .header(
            "From",
            Raw::new(mailbox(
                config.mail.from.name.as_deref(),
                &config.mail.from.address,
            )?),
        )
        .header("To", Raw::new(mailbox(None, &mail.library.inbox)?))
        .subject(Text::new(subject.clone()))
        .date(Date::new(mail.sent_at.timestamp()))
        .message_id(MessageId::new(message_id.clone()))
        .header("Auto-Submitted", Raw::new("auto-generated"))
        .text_body(text)
        .attachment(
            ContentType::new("text/csv").attribute("charset", "utf-8"),
            "manifest.csv",
            mail.manifest_csv.to_vec(),
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::{MessageParser, MimeHeaders};

    #[test]
    fn the_print_batch_email_carries_the_batch_and_lists_the_references() {
        let config = Config::parse(super::super::fixtures::CONFIG).unwrap();
        let library = &config.libraries[0];
        let entries = [BatchEntry {
            reference: Reference::from_stored("RAB1-2CD".into()),
            patron_id: PatronId::parse("P0001").unwrap(),
            items: 3,
            pages: 1,
        }];
        let composed = compose_print_batch(&PrintBatchMail {
            config: &config,
            library,
            run_day: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            entries: &entries,
            batch_pdf: b"%PDF-1.7 test",
            part: None,
            manifest_csv: b"patron_id,reference\n",
            attempt: 1,
            sent_at: DateTime::from_timestamp(1_796_000_000, 0).unwrap(),
        })
        .unwrap();
        let message = MessageParser::default().parse(&composed.raw).unwrap();
        let to = message.to().and_then(|a| a.first()).unwrap();
        assert_eq!(to.address(), Some(library.inbox.as_str()));
        assert!(message.subject().unwrap().contains(&library.name));
        assert!(message.body_text(0).unwrap().contains("RAB1-2CD"));
        let pdf = message.attachment(0).unwrap();
        assert_eq!(pdf.content_type().unwrap().subtype(), Some("pdf"));
        assert_eq!(pdf.attachment_name(), Some("relance-STS-2026-11-29.pdf"));
        assert_eq!(pdf.contents(), b"%PDF-1.7 test");
        assert_eq!(
            message.attachment(1).unwrap().attachment_name(),
            Some("manifest.csv")
        );
    }

    #[test]
    fn a_part_of_a_large_batch_says_which_part_it_is_and_attaches_its_pdf() {
        let config = Config::parse(super::super::fixtures::CONFIG).unwrap();
        let composed = compose_print_batch(&PrintBatchMail {
            config: &config,
            library: &config.libraries[0],
            run_day: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            entries: &[],
            batch_pdf: b"%PDF-1.7 part two",
            part: Some((2, 3)),
            manifest_csv: b"patron_id,reference\n",
            attempt: 1,
            sent_at: DateTime::from_timestamp(1_796_000_000, 0).unwrap(),
        })
        .unwrap();
        assert_eq!(
            composed.message_id,
            "relance.batch.STS.2026-11-29.2@bibliotheques.example.fr"
        );
        let message = MessageParser::default().parse(&composed.raw).unwrap();
        assert!(
            message.subject().unwrap().ends_with("– envoi 2/3"),
            "{:?}",
            message.subject()
        );
        let text = message.body_text(0).unwrap();
        assert!(text.contains("l'envoi 2 sur 3"), "{text}");
        let pdf = message.attachment(0).unwrap();
        assert_eq!(
            pdf.attachment_name(),
            Some("relance-STS-2026-11-29-2-3.pdf")
        );
        assert_eq!(pdf.contents(), b"%PDF-1.7 part two");
        assert_eq!(
            message.attachment(1).unwrap().attachment_name(),
            Some("manifest.csv")
        );
    }
}
