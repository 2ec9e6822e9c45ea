//! Which heading of an export holds which field: [`Headings`], and the
//! built-in [`Profile`]s of the library systems' own exports (their column
//! headings as the systems publish them; see the README's "Sources").

use std::collections::BTreeMap;

/// For each field of rules §9 that a file names otherwise, the headings whose
/// values make it (several are joined by a space: first and last name). A
/// field not listed is read under its own name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headings {
    fields: BTreeMap<&'static str, Vec<String>>,
}

impl Headings {
    /// Reads `field` from `names`.
    pub fn set(&mut self, field: &'static str, names: Vec<String>) {
        self.fields.insert(field, names);
    }

    /// The headings of `field`, when it is not read under its own name.
    pub fn of(&self, field: &str) -> Option<&[String]> {
        self.fields.get(field).map(Vec::as_slice)
    }

    fn from_table(table: &[(&'static str, &[&str])]) -> Self {
        let mut headings = Self::default();
        for (field, names) in table {
            headings.set(field, names.iter().map(|n| (*n).to_owned()).collect());
        }
        headings
    }
}

/// A library system's export, by the headings it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// An Alma Analytics report (Fulfillment and Users subject areas), as
    /// exported to CSV or pulled through the Analytics API.
    AlmaAnalytics,
    /// Koha's REST API objects (`/api/v1/checkouts`, `/api/v1/patrons`), or a
    /// report whose columns are named as those fields.
    Koha,
    /// FOLIO's loans and users (`/circulation/loans`, `/users`), nested fields
    /// written with dots.
    Folio,
}

impl Profile {
    /// The names `[import] profile` accepts.
    pub const NAMES: [&'static str; 3] = ["alma-analytics", "koha", "folio"];

    /// The profile of a name of [`Profile::NAMES`].
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "alma-analytics" | "alma" => Some(Self::AlmaAnalytics),
            "koha" => Some(Self::Koha),
            "folio" => Some(Self::Folio),
            _ => None,
        }
    }

    /// Its name in the config.
    pub fn name(self) -> &'static str {
        match self {
            Self::AlmaAnalytics => "alma-analytics",
            Self::Koha => "koha",
            Self::Folio => "folio",
        }
    }

    /// The headings of its loans.
    pub fn loan_columns(self) -> Headings {
        Headings::from_table(match self {
            Self::AlmaAnalytics => &[
                ("loan_id", &["Item Loan Id"]),
                ("patron_id", &["Primary Identifier"]),
                ("library_code", &["Library Code"]),
                ("barcode", &["Barcode"]),
                ("title", &["Title"]),
                ("author", &["Author"]),
                ("call_number", &["Permanent Call Number"]),
                ("loaned_at", &["Loan Date"]),
                ("due_at", &["Due Date"]),
                ("returned_at", &["Return Date"]),
            ],
            Self::Koha => &[
                ("loan_id", &["checkout_id"]),
                ("patron_id", &["patron_id"]),
                ("library_code", &["library_id"]),
                ("barcode", &["external_id"]),
                ("title", &["title"]),
                ("author", &["author"]),
                ("call_number", &["callnumber"]),
                ("loaned_at", &["checkout_date"]),
                ("due_at", &["due_date"]),
                ("returned_at", &["checkin_date"]),
            ],
            Self::Folio => &[
                ("loan_id", &["id"]),
                ("patron_id", &["userId"]),
                ("library_code", &["item.location.name"]),
                ("barcode", &["item.barcode"]),
                ("title", &["item.title"]),
                ("author", &["item.contributors.name"]),
                ("call_number", &["item.callNumber"]),
                ("loaned_at", &["loanDate"]),
                ("due_at", &["dueDate"]),
                ("returned_at", &["returnDate"]),
            ],
        })
    }

    /// The headings of its patrons.
    pub fn patron_columns(self) -> Headings {
        Headings::from_table(match self {
            Self::AlmaAnalytics => &[
                ("patron_id", &["Primary Identifier"]),
                ("full_name", &["First Name", "Last Name"]),
                ("email", &["Preferred Email"]),
                ("address_line1", &["Preferred Address Line 1"]),
                ("address_line2", &["Preferred Address Line 2"]),
                ("postcode", &["Preferred Postal Code"]),
                ("city", &["Preferred City"]),
                ("country", &["Preferred Country"]),
                ("language", &["Preferred Language"]),
            ],
            Self::Koha => &[
                ("patron_id", &["patron_id"]),
                ("full_name", &["firstname", "surname"]),
                ("email", &["email"]),
                ("address_line1", &["address"]),
                ("address_line2", &["address2"]),
                ("postcode", &["postal_code"]),
                ("city", &["city"]),
                ("country", &["country"]),
                ("language", &["lang"]),
            ],
            Self::Folio => &[
                ("patron_id", &["id"]),
                ("full_name", &["personal.firstName", "personal.lastName"]),
                ("email", &["personal.email"]),
                ("address_line1", &["personal.addresses.addressLine1"]),
                ("address_line2", &["personal.addresses.addressLine2"]),
                ("postcode", &["personal.addresses.postalCode"]),
                ("city", &["personal.addresses.city"]),
                ("country", &["personal.addresses.countryId"]),
            ],
        })
    }
}
