//! From a letter notice to the text of each part of the letter, in the patron's
//! language: everything a page needs except positions.

use crate::config::Library;
use crate::ladder::{Channel, StageKind};

use super::wording::{Wording, fill};
use super::{LetterError, LetterView};

/// One row of the items table, in column order.
pub(super) type ItemRow = [String; 6];

/// The text of a letter, part by part.
pub(super) struct LetterText {
    /// Institution, then library name (bold), address lines, phone, email.
    pub letterhead_institution: String,
    pub letterhead_library: String,
    pub letterhead_lines: Vec<String>,
    /// Patron's name then postal lines, as in the envelope window.
    pub address: Vec<String>,
    pub date_line: String,
    pub reference: String,
    pub patron_number: String,
    pub subject: String,
    pub salutation: String,
    pub body: Vec<&'static str>,
    pub columns: [&'static str; 6],
    pub rows: Vec<ItemRow>,
    pub already_returned: &'static str,
    pub contact_heading: &'static str,
    pub contact_lines: Vec<String>,
    pub quote_reference: String,
    pub closing: &'static str,
    /// The generic service, then the institution when it is a different name.
    pub signature: Vec<String>,
    /// Top line of continuation pages.
    pub continued: String,
    /// `{page}`/`{pages}` template of the page numbers.
    pub page_template: &'static str,
    /// The PDF's title: subject and reference.
    pub title: String,
    /// Language code, for the PDF's metadata.
    pub language: &'static str,
}

/// The library that prints the letter, if the view is a printable letter.
pub(super) fn check<'a>(view: &LetterView<'a>) -> Result<&'a Library, LetterError> {
    let notice = view.notice;
    let not_a_letter = || LetterError::NotALetter {
        reference: notice.reference.to_string(),
    };
    if notice.channel != Channel::Letter {
        return Err(not_a_letter());
    }
    if view.stage.kind == StageKind::Courtesy {
        return Err(LetterError::CourtesyStage {
            stage: view.stage.name.to_string(),
        });
    }
    let code = notice.library.as_ref().ok_or_else(not_a_letter)?;
    let library = view
        .config
        .library(code)
        .ok_or_else(|| LetterError::UnknownLibrary {
            code: code.to_string(),
        })?;
    if view.loans.is_empty() {
        return Err(LetterError::NoLoans {
            reference: notice.reference.to_string(),
        });
    }
    if view.patron.address.lines().is_empty() {
        return Err(LetterError::NoPostalAddress {
            patron: view.patron.id.to_string(),
        });
    }
    Ok(library)
}

/// Checks that the view is a printable letter and words it.
pub(super) fn compose(view: &LetterView<'_>) -> Result<LetterText, LetterError> {
    let library = check(view)?;
    let notice = view.notice;
    let postal = view.patron.address.lines();
    let language = view
        .patron
        .language
        .unwrap_or(view.config.institution.default_language);
    let words = Wording::of(language);
    let reference = notice.reference.as_str();
    let name = view.patron.full_name.trim();

    let phone = library
        .phone
        .as_deref()
        .map(|phone| fill(words.phone, &[("phone", phone)]));
    let email = fill(words.email, &[("email", library.public_email().as_str())]);
    let mut letterhead_lines = library.address.clone();
    letterhead_lines.extend(phone.clone());
    letterhead_lines.push(email.clone());

    let mut address = vec![name.to_owned()];
    address.extend(postal);

    let mut contact_lines = vec![library.name.clone()];
    if !library.address.is_empty() {
        contact_lines.push(library.address.join(", "));
    }
    contact_lines.push(match phone {
        Some(phone) => format!("{phone} · {email}"),
        None => email,
    });

    let institution = view.config.institution.name.clone();
    let mut signature = Vec::with_capacity(2);
    match view.config.mail.from.name.as_deref().map(str::trim) {
        Some(service) if !service.is_empty() && service != institution => {
            signature.push(service.to_owned());
            signature.push(institution.clone());
        }
        _ => signature.push(institution.clone()),
    }

    let rows = view
        .loans
        .iter()
        .map(|loan| {
            let overdue = loan.days_overdue(view.send_day);
            [
                loan.item.title.trim().to_owned(),
                loan.item.author.trim().to_owned(),
                loan.item.barcode.trim().to_owned(),
                loan.item.call_number.trim().to_owned(),
                (words.short_date)(loan.due_date),
                if overdue > 0 {
                    overdue.to_string()
                } else {
                    "–".to_owned()
                },
            ]
        })
        .collect();

    let date = (words.long_date)(view.send_day);
    let subject = words.subject_for(view.stage.kind);
    let reference_line = fill(words.reference, &[("reference", reference)]);
    Ok(LetterText {
        letterhead_institution: institution,
        letterhead_library: library.name.clone(),
        letterhead_lines,
        address,
        date_line: fill(
            words.date_line,
            &[("place", &view.config.place()), ("date", &date)],
        ),
        title: format!("{subject} – {reference_line}"),
        reference: reference_line,
        patron_number: fill(
            words.patron_number,
            &[("patron_id", view.patron.id.as_str())],
        ),
        subject: fill(words.subject, &[("subject", &subject)]),
        salutation: fill(words.salutation, &[("name", name)]),
        body: words.body_for(view.stage.kind),
        columns: words.columns,
        rows,
        already_returned: words.already_returned,
        contact_heading: words.contact_heading,
        contact_lines,
        quote_reference: fill(words.quote_reference, &[("reference", reference)]),
        closing: words.closing,
        signature,
        continued: fill(words.continued, &[("name", name), ("reference", reference)]),
        page_template: words.page,
        language: language.code(),
    })
}
