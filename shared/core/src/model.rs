//! Patrons and loans as the engine sees them.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::address::EmailAddress;
use crate::ids::{LibraryCode, LoanId, PatronId};

/// A language the notices are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Fr,
    En,
}

impl Language {
    /// Reads `fr`/`en` and the usual variants of a library export
    /// (`fr-FR`, `fre`, `fra`, `English`…), case-insensitively.
    pub fn parse(value: &str) -> Option<Self> {
        let lower = value.trim().to_ascii_lowercase();
        let primary = lower.split(['-', '_']).next().unwrap_or_default();
        match primary {
            "fr" | "fre" | "fra" | "french" | "francais" | "français" => Some(Self::Fr),
            "en" | "eng" | "english" | "anglais" => Some(Self::En),
            _ => None,
        }
    }

    /// The ISO 639-1 code, as in `Content-Language`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Whether mail to the patron's address gets through, as learnt from bounces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    /// Nothing against it.
    #[default]
    Deliverable,
    /// Hard bounce or permanent rejection by the sending service.
    Bouncing,
    /// The patron marked our mail as spam.
    Complaining,
}

impl EmailStatus {
    /// The name used in stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deliverable => "deliverable",
            Self::Bouncing => "bouncing",
            Self::Complaining => "complaining",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "deliverable" => Some(Self::Deliverable),
            "bouncing" => Some(Self::Bouncing),
            "complaining" => Some(Self::Complaining),
            _ => None,
        }
    }
}

/// A patron's postal address, lines as they go on an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PostalAddress {
    /// Street line.
    pub line1: String,
    /// Building, floor… (may be empty).
    pub line2: String,
    pub postcode: String,
    pub city: String,
    /// Country (empty for the institution's own).
    pub country: String,
}

impl PostalAddress {
    /// The non-empty lines, postcode and city on one line.
    pub fn lines(&self) -> Vec<String> {
        let town = format!("{} {}", self.postcode.trim(), self.city.trim());
        [
            self.line1.trim(),
            self.line2.trim(),
            town.trim(),
            self.country.trim(),
        ]
        .into_iter()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
    }
}

/// A borrower.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patron {
    /// Identifier in the library system.
    pub id: PatronId,
    /// Name as it should appear on mail.
    pub full_name: String,
    /// Valid address, if the export had one.
    pub email: Option<EmailAddress>,
    /// Learnt from bounces and complaints; imports do not reset it.
    pub email_status: EmailStatus,
    /// Where letters go.
    pub address: PostalAddress,
    /// `None`: the institution's default.
    pub language: Option<Language>,
    /// Asked not to receive courtesy emails.
    pub courtesy_opt_out: bool,
}

impl Patron {
    /// The address to email, if it is present, well formed and not bouncing.
    pub fn usable_email(&self) -> Option<&EmailAddress> {
        match self.email_status {
            EmailStatus::Deliverable => self.email.as_ref(),
            EmailStatus::Bouncing | EmailStatus::Complaining => None,
        }
    }
}

/// The borrowed item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Barcode on the item.
    pub barcode: String,
    pub title: String,
    /// Author (may be empty).
    pub author: String,
    /// Shelf mark (may be empty).
    pub call_number: String,
}

/// A loan, open while `returned_at` is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loan {
    /// Identifier in the library system.
    pub id: LoanId,
    pub patron_id: PatronId,
    /// The owning library.
    pub library: LibraryCode,
    /// What was borrowed.
    pub item: Item,
    /// When it was lent, if known.
    pub loaned_at: Option<DateTime<Utc>>,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// `due_at`'s calendar date in the institution's timezone: the ladder counts from it.
    pub due_date: NaiveDate,
    /// When it came back.
    pub returned_at: Option<DateTime<Utc>>,
}

impl Loan {
    /// Still out.
    pub fn is_open(&self) -> bool {
        self.returned_at.is_none()
    }

    /// Days past the due date on `day` (negative before it).
    pub fn days_overdue(&self, day: NaiveDate) -> i64 {
        (day - self.due_date).num_days()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_read_from_the_usual_export_spellings() {
        assert_eq!(Language::parse("fr-FR"), Some(Language::Fr));
        assert_eq!(Language::parse("ENG"), Some(Language::En));
        assert_eq!(Language::parse("de"), None);
    }

    #[test]
    fn a_bouncing_address_is_not_usable() {
        let mut patron = Patron {
            id: PatronId::parse("P1").unwrap(),
            full_name: "Camille Martin".into(),
            email: Some(EmailAddress::parse("camille@example.fr").unwrap()),
            email_status: EmailStatus::Deliverable,
            address: PostalAddress::default(),
            language: None,
            courtesy_opt_out: false,
        };
        assert!(patron.usable_email().is_some());
        patron.email_status = EmailStatus::Bouncing;
        assert!(patron.usable_email().is_none());
    }

    #[test]
    fn postal_lines_skip_empty_parts() {
        let a = PostalAddress {
            line1: "12 rue Sainte-Catherine".into(),
            postcode: "33000".into(),
            city: "Bordeaux".into(),
            ..Default::default()
        };
        assert_eq!(a.lines(), ["12 rue Sainte-Catherine", "33000 Bordeaux"]);
    }
}
