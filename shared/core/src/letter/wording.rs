//! The words of a letter, one file per language so that a translation is one file.

mod en;
mod fr;

use chrono::NaiveDate;

use crate::ladder::StageKind;
use crate::model::Language;

/// Every sentence and label of a letter. `{name}`-style placeholders are filled by
/// [`fill`]; the values come from data and are never read as templates.
pub(super) struct Wording {
    /// `{place}, le {date}`.
    pub date_line: &'static str,
    /// `Réf. {reference}`.
    pub reference: &'static str,
    /// `{patron_id}`: the patron's number, for the desk.
    pub patron_number: &'static str,
    /// `{subject}` after the subject label.
    pub subject: &'static str,
    /// The final letter's subject.
    pub final_subject: &'static str,
    /// Names of the first reminders, in order.
    pub reminder_names: [&'static str; 5],
    /// `{number}`: a reminder past the named ones.
    pub reminder_name_beyond: &'static str,
    /// `{reminder}`: a print fallback's subject.
    pub reminder_subject: &'static str,
    /// `{name}`.
    pub salutation: &'static str,
    /// Body paragraphs of the final letter.
    pub final_body: &'static [&'static str],
    /// Body paragraphs of a first reminder sent by post.
    pub first_reminder_body: &'static [&'static str],
    /// Body paragraphs of a later reminder sent by post.
    pub later_reminder_body: &'static [&'static str],
    /// Why a reminder comes on paper.
    pub by_post: &'static str,
    /// Table headings: title, author, barcode, call number, due date, days overdue.
    pub columns: [&'static str; 6],
    /// Heading of the return and contact block.
    pub contact_heading: &'static str,
    /// `{phone}`.
    pub phone: &'static str,
    /// `{email}`.
    pub email: &'static str,
    /// `{reference}`.
    pub quote_reference: &'static str,
    /// The usual "if you have returned them" line.
    pub already_returned: &'static str,
    /// Closing formula before the signature.
    pub closing: &'static str,
    /// `{page}` and `{pages}`.
    pub page: &'static str,
    /// `{name}` and `{reference}`: top line of continuation pages.
    pub continued: &'static str,
    /// The date as written in the date line.
    pub long_date: fn(NaiveDate) -> String,
    /// The date as written in the table.
    pub short_date: fn(NaiveDate) -> String,
}

impl Wording {
    /// The wording of a language.
    pub fn of(language: Language) -> &'static Self {
        match language {
            Language::Fr => &fr::WORDING,
            Language::En => &en::WORDING,
        }
    }

    /// The subject of a letter at a stage of that kind.
    pub fn subject_for(&self, kind: StageKind) -> String {
        match kind {
            StageKind::Reminder { number } => fill(
                self.reminder_subject,
                &[("reminder", &self.reminder_name(number))],
            ),
            StageKind::Letter | StageKind::Courtesy => self.final_subject.to_owned(),
        }
    }

    /// The body paragraphs of a letter at a stage of that kind.
    pub fn body_for(&self, kind: StageKind) -> Vec<&'static str> {
        match kind {
            StageKind::Reminder { number: 0 | 1 } => {
                let mut body = self.first_reminder_body.to_vec();
                body.push(self.by_post);
                body
            }
            StageKind::Reminder { .. } => {
                let mut body = self.later_reminder_body.to_vec();
                body.push(self.by_post);
                body
            }
            StageKind::Letter | StageKind::Courtesy => self.final_body.to_vec(),
        }
    }

    fn reminder_name(&self, number: u32) -> String {
        let named = usize::try_from(number.max(1) - 1)
            .ok()
            .and_then(|i| self.reminder_names.get(i));
        match named {
            Some(name) => (*name).to_owned(),
            None => fill(
                self.reminder_name_beyond,
                &[("number", &number.to_string())],
            ),
        }
    }
}

/// Replaces each `{key}` of `template` by its value; unknown keys stay as written.
pub(super) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            values
                .iter()
                .find(|(k, _)| *k == &after[..close])
                .map(|(_, v)| (close, v))
        });
        match value {
            Some((close, v)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_known_keys_and_never_reads_values_as_templates() {
        assert_eq!(
            fill("Réf. {reference}", &[("reference", "R7K2-9QF")]),
            "Réf. R7K2-9QF"
        );
        assert_eq!(fill("{a}{b}", &[("a", "{b}"), ("b", "x")]), "{b}x");
        assert_eq!(fill("{unknown} {", &[]), "{unknown} {");
    }

    #[test]
    fn reminders_are_named_by_their_number_in_both_languages() {
        let fr = Wording::of(Language::Fr);
        assert_eq!(
            fr.subject_for(StageKind::Reminder { number: 1 }),
            "Premier rappel – documents à rendre"
        );
        assert_eq!(
            fr.subject_for(StageKind::Reminder { number: 2 }),
            "Deuxième rappel – documents à rendre"
        );
        assert_eq!(
            fr.subject_for(StageKind::Reminder { number: 7 }),
            "7e rappel – documents à rendre"
        );
        let en = Wording::of(Language::En);
        assert_eq!(
            en.subject_for(StageKind::Reminder { number: 1 }),
            "First reminder – items to return"
        );
        assert!(
            en.subject_for(StageKind::Letter)
                .starts_with("Final reminder")
        );
    }

    #[test]
    fn dates_follow_each_language() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let fr = Wording::of(Language::Fr);
        assert_eq!((fr.long_date)(day), "29 novembre 2026");
        assert_eq!((fr.long_date)(first), "1er décembre 2026");
        assert_eq!((fr.short_date)(first), "01/12/2026");
        let en = Wording::of(Language::En);
        assert_eq!((en.long_date)(day), "29 November 2026");
        assert_eq!((en.short_date)(first), "1 Dec 2026");
    }
}
