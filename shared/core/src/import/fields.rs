//! The raw text of one row, field by field, before validation.

/// A `patrons.csv` row as read, before validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PatronFields<'a> {
    /// `patron_id`
    pub patron_id: &'a str,
    /// `full_name`
    pub full_name: &'a str,
    /// `email` (empty: none)
    pub email: &'a str,
    /// `address_line1`
    pub address_line1: &'a str,
    /// `address_line2`
    pub address_line2: &'a str,
    /// `postcode`
    pub postcode: &'a str,
    /// `city`
    pub city: &'a str,
    /// `country`
    pub country: &'a str,
    /// `language` (empty: the institution's default)
    pub language: &'a str,
    /// `courtesy_opt_out`
    pub courtesy_opt_out: &'a str,
}

impl<'a> PatronFields<'a> {
    /// The fields in the order of [`super::PATRON_COLUMNS`].
    pub fn from_values(v: [&'a str; 10]) -> Self {
        Self {
            patron_id: v[0],
            full_name: v[1],
            email: v[2],
            address_line1: v[3],
            address_line2: v[4],
            postcode: v[5],
            city: v[6],
            country: v[7],
            language: v[8],
            courtesy_opt_out: v[9],
        }
    }
}

/// A `loans.csv` row as read, before validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoanFields<'a> {
    /// `loan_id`
    pub loan_id: &'a str,
    /// `patron_id`
    pub patron_id: &'a str,
    /// `library_code`
    pub library_code: &'a str,
    /// `barcode`
    pub barcode: &'a str,
    /// `title`
    pub title: &'a str,
    /// `author`
    pub author: &'a str,
    /// `call_number`
    pub call_number: &'a str,
    /// `loaned_at`
    pub loaned_at: &'a str,
    /// `due_at`
    pub due_at: &'a str,
    /// `returned_at` (empty while open)
    pub returned_at: &'a str,
}

impl<'a> LoanFields<'a> {
    /// The fields in the order of [`super::LOAN_COLUMNS`].
    pub fn from_values(v: [&'a str; 10]) -> Self {
        Self {
            loan_id: v[0],
            patron_id: v[1],
            library_code: v[2],
            barcode: v[3],
            title: v[4],
            author: v[5],
            call_number: v[6],
            loaned_at: v[7],
            due_at: v[8],
            returned_at: v[9],
        }
    }
}
