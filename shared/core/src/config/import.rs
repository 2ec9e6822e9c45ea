//! `[import]`: how the exports staff and library systems produce are read —
//! their encoding, their date order, and which of their headings holds which
//! field (a built-in profile, or `[import.columns.loans]` / `[import.columns.patrons]`).

use serde::Deserialize;

use super::{ConfigError, invalid};
use crate::import::{Headings, Profile};

/// How exports are decoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncodingSetting {
    /// UTF-8 (a byte-order mark is skipped), or Windows-1252 when the file is
    /// not valid UTF-8 — what Excel writes in France.
    #[default]
    Auto,
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    #[serde(rename = "windows-1252", alias = "cp1252", alias = "windows1252")]
    Windows1252,
}

/// How a date written with slashes is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    /// `DD/MM/YYYY`, as in France.
    #[default]
    Dmy,
    /// `MM/DD/YYYY`, as in the United States.
    Mdy,
}

/// The validated `[import]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSettings {
    pub encoding: EncodingSetting,
    pub date_order: DateOrder,
    /// The built-in headings of a library system's export, if one is named.
    pub profile: Option<Profile>,
    /// The loans file's headings, field by field (the profile's, then the
    /// config's overrides; a field not named is read under its own name).
    pub loan_columns: Headings,
    /// The patrons file's headings, likewise.
    pub patron_columns: Headings,
}

/// One field's heading: a column, or several joined by a space (`["First Name", "Last Name"]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawHeading {
    One(String),
    Joined(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawImport {
    encoding: Option<EncodingSetting>,
    date_order: Option<DateOrder>,
    profile: Option<String>,
    columns: Option<RawColumns>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumns {
    loans: Option<RawLoanColumns>,
    patrons: Option<RawPatronColumns>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoanColumns {
    loan_id: Option<RawHeading>,
    patron_id: Option<RawHeading>,
    library_code: Option<RawHeading>,
    barcode: Option<RawHeading>,
    title: Option<RawHeading>,
    author: Option<RawHeading>,
    call_number: Option<RawHeading>,
    loaned_at: Option<RawHeading>,
    due_at: Option<RawHeading>,
    returned_at: Option<RawHeading>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPatronColumns {
    patron_id: Option<RawHeading>,
    full_name: Option<RawHeading>,
    email: Option<RawHeading>,
    address_line1: Option<RawHeading>,
    address_line2: Option<RawHeading>,
    postcode: Option<RawHeading>,
    city: Option<RawHeading>,
    country: Option<RawHeading>,
    language: Option<RawHeading>,
    courtesy_opt_out: Option<RawHeading>,
}

impl RawImport {
    pub(super) fn validate(self) -> Result<ImportSettings, ConfigError> {
        let profile = match self.profile.as_deref() {
            None => None,
            Some(name) => Some(Profile::parse(name).ok_or_else(|| {
                invalid(
                    "import.profile",
                    format!(
                        "unknown profile {name:?}; the profiles are {}",
                        Profile::NAMES.join(", ")
                    ),
                )
            })?),
        };
        let columns = self.columns.unwrap_or_default();
        let loans = columns.loans.unwrap_or_default();
        let patrons = columns.patrons.unwrap_or_default();
        let mut loan_columns = profile.map(Profile::loan_columns).unwrap_or_default();
        let mut patron_columns = profile.map(Profile::patron_columns).unwrap_or_default();
        let loan_overrides = [
            ("loan_id", loans.loan_id),
            ("patron_id", loans.patron_id),
            ("library_code", loans.library_code),
            ("barcode", loans.barcode),
            ("title", loans.title),
            ("author", loans.author),
            ("call_number", loans.call_number),
            ("loaned_at", loans.loaned_at),
            ("due_at", loans.due_at),
            ("returned_at", loans.returned_at),
        ];
        let patron_overrides = [
            ("patron_id", patrons.patron_id),
            ("full_name", patrons.full_name),
            ("email", patrons.email),
            ("address_line1", patrons.address_line1),
            ("address_line2", patrons.address_line2),
            ("postcode", patrons.postcode),
            ("city", patrons.city),
            ("country", patrons.country),
            ("language", patrons.language),
            ("courtesy_opt_out", patrons.courtesy_opt_out),
        ];
        override_columns(&mut loan_columns, "loans", loan_overrides)?;
        override_columns(&mut patron_columns, "patrons", patron_overrides)?;
        Ok(ImportSettings {
            encoding: self.encoding.unwrap_or_default(),
            date_order: self.date_order.unwrap_or_default(),
            profile,
            loan_columns,
            patron_columns,
        })
    }
}

fn override_columns(
    columns: &mut Headings,
    file: &str,
    overrides: [(&'static str, Option<RawHeading>); 10],
) -> Result<(), ConfigError> {
    for (field, heading) in overrides {
        let Some(heading) = heading else { continue };
        let names = match heading {
            RawHeading::One(name) => vec![name],
            RawHeading::Joined(names) => names,
        };
        let names: Vec<String> = names.into_iter().map(|n| n.trim().to_owned()).collect();
        if names.is_empty() || names.iter().any(String::is_empty) {
            return Err(invalid(
                format!("import.columns.{file}.{field}"),
                "a heading is empty: name the column as it appears in the file's header row",
            ));
        }
        columns.set(field, names);
    }
    Ok(())
}
