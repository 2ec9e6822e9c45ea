//! The header row: which column holds which field.

/// The columns of `patrons.csv` (rules §9), in the order [`Columns`] reports them.
pub const PATRON_COLUMNS: [&str; 10] = [
    "patron_id",
    "full_name",
    "email",
    "address_line1",
    "address_line2",
    "postcode",
    "city",
    "country",
    "language",
    "courtesy_opt_out",
];

/// The columns of `loans.csv` (rules §9), in the order [`Columns`] reports them.
pub const LOAN_COLUMNS: [&str; 10] = [
    "loan_id",
    "patron_id",
    "library_code",
    "barcode",
    "title",
    "author",
    "call_number",
    "loaned_at",
    "due_at",
    "returned_at",
];

/// A header row that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// No header row at all.
    #[error("the file is empty: a header row naming the columns is expected")]
    Empty,
    /// A required column is absent.
    #[error("missing column {column:?} in the header row (expected columns: {expected})")]
    MissingColumn {
        /// The absent column.
        column: &'static str,
        /// Every expected column, comma-separated.
        expected: String,
    },
    /// A column is named twice, so which one holds the field is unclear.
    #[error("column {0:?} appears twice in the header row")]
    DuplicateColumn(&'static str),
    /// The header is one column holding another separator.
    #[error(
        "the header row has no comma but {separator}s: the file looks {separator}-separated, \
         and Relance reads comma-separated CSV (export or save it as CSV with commas)"
    )]
    NotCommaSeparated {
        /// `semicolon` or `tab`.
        separator: &'static str,
    },
    /// The file is binary, or its first line is not UTF-8 text.
    #[error("the file is not a text CSV: {what}; give the CSV export (UTF-8, comma-separated)")]
    NotText {
        /// What it looks like instead.
        what: &'static str,
    },
}

impl HeaderError {
    /// Refuses a file whose first bytes are not text: an image, a spreadsheet
    /// or a PDF given instead of its CSV export. `start` is the beginning of
    /// the file (after any byte-order mark), as much of it as is at hand.
    pub fn check_text(start: &[u8]) -> Result<(), Self> {
        let signatures: [(&[u8], &str); 4] = [
            (b"\x89PNG", "it is a PNG image"),
            (
                b"PK\x03\x04",
                "it is a zip file, such as an Excel workbook (.xlsx)",
            ),
            (b"%PDF", "it is a PDF document"),
            (b"\xD0\xCF\x11\xE0", "it is an old Excel workbook (.xls)"),
        ];
        if let Some((_, what)) = signatures
            .iter()
            .find(|(magic, _)| start.starts_with(magic))
        {
            return Err(Self::NotText { what });
        }
        let first_line = start.split(|&b| b == b'\n').next().unwrap_or_default();
        if first_line.contains(&0) {
            return Err(Self::NotText {
                what: "its first line holds NUL bytes",
            });
        }
        match std::str::from_utf8(first_line) {
            // A character cut by the end of what is at hand is not an error.
            Err(e) if e.error_len().is_some() => Err(Self::NotText {
                what: "its first line is not UTF-8 text",
            }),
            _ => Ok(()),
        }
    }
}

/// Where each expected column sits in the file; extra columns are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    positions: [usize; 10],
    width: usize,
}

impl Columns {
    /// Matches the header names against `expected` by name (trimmed, any case,
    /// a leading byte-order mark tolerated).
    pub fn locate<'a>(
        expected: &[&'static str; 10],
        header: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, HeaderError> {
        let names: Vec<String> = header
            .into_iter()
            .map(|name| {
                name.trim_start_matches('\u{feff}')
                    .trim()
                    .to_ascii_lowercase()
            })
            .collect();
        if names.iter().all(String::is_empty) {
            return Err(HeaderError::Empty);
        }
        if let [only] = names.as_slice() {
            let separator = if only.contains(';') {
                Some("semicolon")
            } else {
                only.contains('\t').then_some("tab")
            };
            if let Some(separator) = separator {
                return Err(HeaderError::NotCommaSeparated { separator });
            }
        }
        let mut positions = [0; 10];
        for (slot, column) in positions.iter_mut().zip(expected) {
            let mut found = names.iter().enumerate().filter(|(_, n)| n == column);
            *slot = match (found.next(), found.next()) {
                (Some((i, _)), None) => i,
                (Some(_), Some(_)) => return Err(HeaderError::DuplicateColumn(column)),
                (None, _) => {
                    return Err(HeaderError::MissingColumn {
                        column,
                        expected: expected.join(","),
                    });
                }
            };
        }
        Ok(Self {
            positions,
            width: names.len(),
        })
    }

    /// The position in the file of the `n`th expected column.
    pub fn position(&self, n: usize) -> usize {
        self.positions[n]
    }

    /// How many fields the header row has (every row should have as many).
    pub fn width(&self) -> usize {
        self.width
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_matched_by_name_in_any_order_with_extras_ignored() {
        let header = "loan_id,extra,due_at,patron_id,library_code,barcode,title,author,call_number,loaned_at,returned_at";
        let columns = Columns::locate(&LOAN_COLUMNS, header.split(',')).unwrap();
        assert_eq!(columns.position(0), 0);
        assert_eq!(columns.position(8), 2);
        assert_eq!(columns.position(1), 3);
        assert_eq!(columns.width(), 11);
    }

    #[test]
    fn a_missing_column_is_named() {
        let header = PATRON_COLUMNS.iter().filter(|c| **c != "language").copied();
        let err = Columns::locate(&PATRON_COLUMNS, header).unwrap_err();
        assert!(matches!(
            err,
            HeaderError::MissingColumn {
                column: "language",
                ..
            }
        ));
        assert!(
            err.to_string().starts_with("missing column \"language\""),
            "{err}"
        );
    }

    #[test]
    fn a_byte_order_mark_and_header_case_are_tolerated() {
        let mut header: Vec<String> = PATRON_COLUMNS.iter().map(|c| c.to_uppercase()).collect();
        header[0] = format!("\u{feff}{}", header[0]);
        assert!(Columns::locate(&PATRON_COLUMNS, header.iter().map(String::as_str)).is_ok());
    }

    #[test]
    fn a_semicolon_or_tab_separated_header_is_named_as_such() {
        for (separator, name) in [(";", "semicolon"), ("\t", "tab")] {
            let header = PATRON_COLUMNS.join(separator);
            let err = Columns::locate(&PATRON_COLUMNS, [header.as_str()]).unwrap_err();
            assert_eq!(err, HeaderError::NotCommaSeparated { separator: name });
            assert!(
                err.to_string()
                    .contains("Relance reads comma-separated CSV"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_file_that_is_not_text_is_named_as_such() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let err = HeaderError::check_text(png).unwrap_err();
        assert!(err.to_string().contains("PNG image"), "{err}");
        assert!(HeaderError::check_text(b"loan_id,\0\0\n").is_err());
        assert!(HeaderError::check_text(b"loan_id,pr\xeat\n").is_err());
        assert!(HeaderError::check_text(b"loan_id,patron_id\nL1,\xe9").is_ok());
        assert!(HeaderError::check_text("loan_id,é".as_bytes()).is_ok());
        assert!(HeaderError::check_text(&"loan_id,é".as_bytes()[..9]).is_ok());
    }

    #[test]
    fn a_duplicate_or_empty_header_is_refused() {
        let twice = PATRON_COLUMNS.iter().chain(&["email"]).copied();
        assert_eq!(
            Columns::locate(&PATRON_COLUMNS, twice),
            Err(HeaderError::DuplicateColumn("email"))
        );
        assert_eq!(
            Columns::locate(&PATRON_COLUMNS, [""]),
            Err(HeaderError::Empty)
        );
    }
}
