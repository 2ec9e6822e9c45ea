//! What the templates see: the notice as plain values, ready for one language.
//!
//! The field names below are the template variables; overriding templates rely
//! on them, so renaming one is a breaking change.

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::Config;
use crate::ids::LibraryCode;
use crate::ladder::StageKind;
use crate::model::{Language, Loan};

use super::line::single_line;
use super::{EmailNotice, RenderError};

/// The template context.
#[derive(Debug, Clone, Serialize)]
pub(super) struct View {
    /// `fr` or `en`: the language the templates are picked for.
    pub lang: &'static str,
    /// The notice's reference, e.g. `R7K2-9QF`.
    pub reference: String,
    /// Which rung of the ladder.
    pub stage: StageView,
    pub patron: PatronView,
    /// The listed loans, one section per library, in listing order.
    pub sections: Vec<Section>,
    /// The recap of the patron's other overdue loans; always empty for a courtesy email.
    pub others: Vec<Section>,
    /// How many loans the sections list.
    pub loan_count: usize,
    /// The address replies go to.
    pub reply_to: String,
    /// Who signs: the sender's display name, else the institution's name.
    pub signature: String,
    /// The institution's name.
    pub institution: String,
    /// The day the email is sent, formatted for the language.
    pub send_day: String,
}

/// The stage, as templates test it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct StageView {
    /// The configured name, e.g. `first_reminder`.
    pub name: String,
    /// `courtesy` or `reminder`.
    pub kind: &'static str,
    /// The reminder's number from 1; none for a courtesy email.
    pub number: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct PatronView {
    /// Full name, on one line.
    pub name: String,
}

/// A library and the loans listed under it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Section {
    /// The owning library.
    pub library: LibraryView,
    /// Its loans, in listing order.
    pub loans: Vec<LoanView>,
}

/// A library's heading and contact.
#[derive(Debug, Clone, Serialize)]
pub(super) struct LibraryView {
    /// Code from the config.
    pub code: String,
    /// Full name (the code when the library is not in the config).
    pub name: String,
    /// Postal address lines (may be empty).
    pub address: Vec<String>,
    /// Phone number as printed, if any.
    pub phone: Option<String>,
    /// The address patrons may write to, if the library is known.
    pub email: Option<String>,
}

/// One loan line.
#[derive(Debug, Clone, Serialize)]
pub(super) struct LoanView {
    pub title: String,
    /// Author (may be empty).
    pub author: String,
    pub barcode: String,
    /// Call number (may be empty).
    pub call_number: String,
    /// Local due date, formatted for the language (`22/11/2026`, `22 November 2026`).
    pub due_date: String,
    /// Local due date as `2026-11-22`.
    pub due_date_iso: String,
    /// Days past the due date on the send day (negative before it).
    pub days_overdue: i64,
    /// Days left until the due date on the send day (negative once past it).
    pub days_until_due: i64,
}

impl View {
    /// The context of an email notice, in `language`.
    pub(super) fn of(notice: &EmailNotice<'_>, language: Language) -> Result<Self, RenderError> {
        let (kind, number) = match notice.stage.kind {
            StageKind::Courtesy => ("courtesy", None),
            StageKind::Reminder { number } => ("reminder", Some(number)),
            StageKind::Letter => {
                return Err(RenderError::LetterStage(notice.stage.name.to_string()));
            }
        };
        let config = notice.config;
        let listed = sections(config, notice.loans, language, notice.send_day);
        // The recap belongs to reminders only (rules §6), whatever the templates do.
        let others = match number {
            Some(_) => sections(config, notice.other_overdue, language, notice.send_day),
            None => Vec::new(),
        };
        Ok(Self {
            lang: language.code(),
            reference: single_line(notice.notice.reference.as_str()),
            stage: StageView {
                name: notice.stage.name.to_string(),
                kind,
                number,
            },
            patron: PatronView {
                name: single_line(&notice.patron.full_name),
            },
            loan_count: notice.loans.len(),
            sections: listed,
            others,
            reply_to: config.mail.reply_to.to_string(),
            signature: signature(config),
            institution: single_line(&config.institution.name),
            send_day: format_date(notice.send_day, language),
        })
    }

    /// Made-up contexts that every template set must render: a courtesy email
    /// and two reminders, with one loan and with several, in both languages. An
    /// overriding template that names a missing variable fails when it is
    /// loaded, not on the day it sends.
    pub(super) fn samples() -> Vec<Self> {
        let mut samples = Vec::new();
        for language in [Language::Fr, Language::En] {
            for number in [None, Some(1), Some(3)] {
                for loan_count in [1, 2] {
                    samples.push(Self::sample(language, number, loan_count));
                }
            }
        }
        samples
    }

    /// A courtesy email when `number` is none, else that reminder.
    fn sample(language: Language, number: Option<u32>, loan_count: usize) -> Self {
        let day = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default();
        let loan = |days_overdue: i64| LoanView {
            title: "Title".to_owned(),
            author: "Author".to_owned(),
            barcode: "0000000".to_owned(),
            call_number: "000 AAA".to_owned(),
            due_date: format_date(day, language),
            due_date_iso: day.format("%Y-%m-%d").to_string(),
            days_overdue,
            days_until_due: -days_overdue,
        };
        let library = |code: &str| LibraryView {
            code: code.to_owned(),
            name: format!("Library {code}"),
            address: vec!["1 Example Street".to_owned(), "33000 Bordeaux".to_owned()],
            phone: Some("05 00 00 00 00".to_owned()),
            email: Some("library@example.org".to_owned()),
        };
        // A library missing from the config: no contact at all.
        let unknown = LibraryView {
            code: "X".to_owned(),
            name: "X".to_owned(),
            address: Vec::new(),
            phone: None,
            email: None,
        };
        let (kind, listed_days) = match number {
            None => ("courtesy", -3),
            Some(_) => ("reminder", 7),
        };
        let sections = (0..loan_count)
            .map(|i| Section {
                library: library(&format!("L{i}")),
                loans: vec![loan(listed_days)],
            })
            .collect();
        let others = match number {
            None => Vec::new(),
            Some(_) => vec![Section {
                library: unknown,
                loans: vec![loan(1), loan(21)],
            }],
        };
        Self {
            lang: language.code(),
            reference: "R000-0000".to_owned(),
            stage: StageView {
                name: "sample".to_owned(),
                kind,
                number,
            },
            patron: PatronView {
                name: "Patron".to_owned(),
            },
            sections,
            others,
            loan_count,
            reply_to: "reply@example.org".to_owned(),
            signature: "Sender".to_owned(),
            institution: "Institution".to_owned(),
            send_day: format_date(day, language),
        }
    }
}

/// The sender's display name, else the institution's name.
fn signature(config: &Config) -> String {
    let name = config.mail.from.name.as_deref().map(single_line);
    name.filter(|n| !n.is_empty())
        .unwrap_or_else(|| single_line(&config.institution.name))
}

/// Groups loans by library, libraries in order of first appearance, so that each
/// library gets exactly one section even if the loans come interleaved.
fn sections(config: &Config, loans: &[Loan], language: Language, day: NaiveDate) -> Vec<Section> {
    let mut sections: Vec<(LibraryCode, Section)> = Vec::new();
    for loan in loans {
        let line = loan_view(loan, language, day);
        match sections.iter_mut().find(|(code, _)| code == &loan.library) {
            Some((_, section)) => section.loans.push(line),
            None => sections.push((
                loan.library.clone(),
                Section {
                    library: library_view(config, &loan.library),
                    loans: vec![line],
                },
            )),
        }
    }
    sections.into_iter().map(|(_, s)| s).collect()
}

fn library_view(config: &Config, code: &LibraryCode) -> LibraryView {
    match config.library(code) {
        Some(library) => LibraryView {
            code: code.to_string(),
            name: single_line(&library.name),
            address: library.address.iter().map(|l| single_line(l)).collect(),
            phone: library.phone.as_deref().map(single_line),
            email: Some(library.public_email().to_string()),
        },
        // A loan export may name a library the config has lost; the notice still
        // goes out, headed by the code, rather than the whole run stopping.
        None => LibraryView {
            code: code.to_string(),
            name: code.to_string(),
            address: Vec::new(),
            phone: None,
            email: None,
        },
    }
}

fn loan_view(loan: &Loan, language: Language, day: NaiveDate) -> LoanView {
    let days_overdue = loan.days_overdue(day);
    LoanView {
        title: single_line(&loan.item.title),
        author: single_line(&loan.item.author),
        barcode: single_line(&loan.item.barcode),
        call_number: single_line(&loan.item.call_number),
        due_date: format_date(loan.due_date, language),
        due_date_iso: loan.due_date.format("%Y-%m-%d").to_string(),
        days_overdue,
        days_until_due: -days_overdue,
    }
}

/// French readers expect `22/11/2026`; English readers get the month spelt out,
/// which no reader on either side of the Atlantic misreads.
pub(super) fn format_date(date: NaiveDate, language: Language) -> String {
    match language {
        Language::Fr => date.format("%d/%m/%Y").to_string(),
        Language::En => date.format("%-d %B %Y").to_string(),
    }
}
