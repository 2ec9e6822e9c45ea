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

/// Fields whose value may be empty (rules §9): a file may also lack their column.
const OPTIONAL_COLUMNS: [&str; 8] = [
    "address_line2",
    "country",
    "language",
    "courtesy_opt_out",
    "author",
    "call_number",
    "loaned_at",
    "returned_at",
];

/// A header row that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// No header row at all.
    #[error("the file is empty: a header row naming the columns is expected")]
    Empty,
    /// Required columns are absent: the file is refused whole.
    #[error(
        "missing column{} {} in the header row; the header row has {}{}",
        if .missing.len() > 1 { "s" } else { "" },
        .missing.join(", "),
        quoted(.seen),
        if *.mapped { "" } else { " (map the file's own headings with [import.columns.loans] or [import.columns.patrons], or name its system with [import] profile)" }
    )]
    MissingColumns {
        /// Each absent column, as looked for: `"due_at"`, or `"Due Date" (due_at)`.
        missing: Vec<String>,
        /// The headings the file has.
        seen: Vec<String>,
        /// Whether the config or a profile mapped the headings already.
        mapped: bool,
    },
    /// A column is named twice, so which one holds the field is unclear.
    #[error("column {0:?} appears twice in the header row")]
    DuplicateColumn(String),
    /// The file is binary, or its first line is not UTF-8 text.
    #[error("the file is not a text CSV: {what}; give the CSV export")]
    NotText {
        /// What it looks like instead.
        what: &'static str,
    },
}

fn quoted(names: &[String]) -> String {
    if names.is_empty() {
        return "no column".into();
    }
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl HeaderError {
    /// Refuses a file whose first bytes are not text: an image, a spreadsheet
    /// or a PDF given instead of its CSV export. `start` is the beginning of
    /// the file (after any byte-order mark), as much of it as is at hand;
    /// `utf8_only` when the config says the file is UTF-8 (otherwise a first
    /// line that is not UTF-8 is read as Windows-1252).
    pub fn check_text(start: &[u8], utf8_only: bool) -> Result<(), Self> {
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
            Err(e) if utf8_only && e.error_len().is_some() => Err(Self::NotText {
                what: "its first line is not UTF-8 text ([import] encoding says the files are UTF-8)",
            }),
            _ => Ok(()),
        }
    }
}

/// The separator of a header line: the most frequent of comma, semicolon and
/// tab outside quotes (a comma when none is there, or on a tie).
pub fn detect_delimiter(first_line: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in first_line {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(count) = counts.iter_mut().find(|(d, _)| *d == b) {
                    count.1 += 1;
                }
            }
            _ => {}
        }
    }
    counts
        .iter()
        .fold(
            (b',', 0),
            |best, &(d, n)| if n > best.1 { (d, n) } else { best },
        )
        .0
}

/// Where a field's value is in a row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Source {
    /// The file has no such column (an optional field): empty.
    #[default]
    Absent,
    /// One column.
    At(usize),
    /// Several columns, joined by a space (first and last name).
    Joined(Vec<usize>),
}

/// Where each expected column sits in the file; extra columns are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    sources: [Source; 10],
    width: usize,
}

impl Columns {
    /// Matches the header names against `expected` (trimmed, any case, a
    /// leading byte-order mark tolerated): each field under the headings
    /// `headings` gives it, else under its own name. Every required column
    /// missing is named, with the headings the file has.
    pub fn locate<'a>(
        expected: &[&'static str; 10],
        header: impl IntoIterator<Item = &'a str>,
        headings: &super::Headings,
    ) -> Result<Self, HeaderError> {
        let seen: Vec<String> = header
            .into_iter()
            .map(|name| name.trim_start_matches('\u{feff}').trim().to_owned())
            .collect();
        if seen.iter().all(String::is_empty) {
            return Err(HeaderError::Empty);
        }
        let lower: Vec<String> = seen.iter().map(|n| n.to_lowercase()).collect();
        let find = |name: &str| -> Result<Option<usize>, HeaderError> {
            let name = name.to_lowercase();
            let mut found = lower.iter().enumerate().filter(|(_, n)| **n == name);
            match (found.next(), found.next()) {
                (Some((i, _)), None) => Ok(Some(i)),
                (Some(_), Some(_)) => Err(HeaderError::DuplicateColumn(name)),
                (None, _) => Ok(None),
            }
        };
        let mut sources: [Source; 10] = Default::default();
        let mut missing = Vec::new();
        for (slot, field) in sources.iter_mut().zip(expected) {
            let optional = OPTIONAL_COLUMNS.contains(field);
            let names = headings.of(field);
            let positions = match names {
                Some(names) => names
                    .iter()
                    .map(|name| find(name))
                    .collect::<Result<Vec<_>, _>>()?,
                None => vec![find(field)?],
            };
            let found: Vec<usize> = positions.iter().flatten().copied().collect();
            *slot = match found.as_slice() {
                [] if optional => Source::Absent,
                [at] if positions.len() == 1 => Source::At(*at),
                _ if found.len() == positions.len() => Source::Joined(found),
                _ if optional => Source::Absent,
                _ => {
                    missing.push(match names {
                        Some(names) => format!("{} ({field})", quoted(names)),
                        None => format!("{field:?}"),
                    });
                    continue;
                }
            };
        }
        if !missing.is_empty() {
            return Err(HeaderError::MissingColumns {
                missing,
                seen,
                mapped: expected.iter().any(|field| headings.of(field).is_some()),
            });
        }
        Ok(Self {
            sources,
            width: seen.len(),
        })
    }

    /// Where the `n`th expected field is.
    pub fn source(&self, n: usize) -> &Source {
        &self.sources[n]
    }

    /// How many fields the header row has (every row should have as many).
    pub fn width(&self) -> usize {
        self.width
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Headings, Profile};
    use super::*;

    fn locate(expected: &[&'static str; 10], header: &str) -> Result<Columns, HeaderError> {
        Columns::locate(expected, header.split(','), &Headings::default())
    }

    #[test]
    fn columns_are_matched_by_name_in_any_order_with_extras_ignored() {
        let header = "loan_id,extra,due_at,patron_id,library_code,barcode,title,author,call_number,loaned_at,returned_at";
        let columns = locate(&LOAN_COLUMNS, header).unwrap();
        assert_eq!(columns.source(0), &Source::At(0));
        assert_eq!(columns.source(8), &Source::At(2));
        assert_eq!(columns.source(1), &Source::At(3));
        assert_eq!(columns.width(), 11);
    }

    #[test]
    fn every_missing_required_column_is_named_with_the_headings_seen() {
        let err = locate(&LOAN_COLUMNS, "loan_id,patron_id,barcode,title").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(r#"missing columns "library_code", "due_at" in the header row"#),
            "{text}"
        );
        assert!(
            text.contains(r#"has "loan_id", "patron_id", "barcode", "title""#),
            "{text}"
        );
        assert!(text.contains("[import.columns.loans]"), "{text}");
    }

    #[test]
    fn optional_columns_may_be_absent_and_read_empty() {
        let columns = locate(
            &LOAN_COLUMNS,
            "loan_id,patron_id,library_code,barcode,title,due_at",
        )
        .unwrap();
        for (n, field) in LOAN_COLUMNS.iter().enumerate() {
            let absent = matches!(columns.source(n), Source::Absent);
            assert_eq!(absent, OPTIONAL_COLUMNS.contains(field), "{field}");
        }
    }

    #[test]
    fn mapped_headings_are_found_in_any_case_and_joined_when_several() {
        let mut headings = Headings::default();
        headings.set("due_at", vec!["Date de retour prévue".into()]);
        headings.set("full_name", vec!["Prénom".into(), "Nom".into()]);
        let columns = Columns::locate(
            &PATRON_COLUMNS,
            [
                "patron_id",
                "NOM",
                "prénom",
                "email",
                "address_line1",
                "postcode",
                "city",
            ],
            &headings,
        )
        .unwrap();
        assert_eq!(columns.source(1), &Source::Joined(vec![2, 1]));
        let err = Columns::locate(&PATRON_COLUMNS, ["patron_id", "Nom"], &headings).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(r#""Prénom", "Nom" (full_name)"#), "{text}");
        assert!(!text.contains("[import.columns"), "already mapped: {text}");
    }

    #[test]
    fn a_profile_reads_its_system_headings() {
        let header = "checkout_id,patron_id,library_id,external_id,title,due_date,checkin_date";
        let columns = Columns::locate(
            &LOAN_COLUMNS,
            header.split(','),
            &Profile::Koha.loan_columns(),
        )
        .unwrap();
        assert_eq!(columns.source(3), &Source::At(3));
        assert_eq!(columns.source(8), &Source::At(5));
        assert_eq!(columns.source(5), &Source::Absent);
    }

    #[test]
    fn a_byte_order_mark_and_header_case_are_tolerated() {
        let mut header: Vec<String> = PATRON_COLUMNS.iter().map(|c| c.to_uppercase()).collect();
        header[0] = format!("\u{feff}{}", header[0]);
        let headings = Headings::default();
        assert!(
            Columns::locate(
                &PATRON_COLUMNS,
                header.iter().map(String::as_str),
                &headings
            )
            .is_ok()
        );
    }

    #[test]
    fn the_separator_is_the_most_frequent_outside_quotes() {
        assert_eq!(detect_delimiter(b"a,b,c\n"), b',');
        assert_eq!(detect_delimiter(b"a;b;\"c,d\";e\r\n1,2,3,4,5"), b';');
        assert_eq!(detect_delimiter(b"a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter(b"loan_id"), b',');
    }

    #[test]
    fn a_file_that_is_not_text_is_named_as_such() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let err = HeaderError::check_text(png, false).unwrap_err();
        assert!(err.to_string().contains("PNG image"), "{err}");
        assert!(HeaderError::check_text(b"loan_id,\0\0\n", false).is_err());
        // Not UTF-8: Windows-1252, unless the config says UTF-8.
        assert!(HeaderError::check_text(b"loan_id,pr\xeat\n", false).is_ok());
        assert!(HeaderError::check_text(b"loan_id,pr\xeat\n", true).is_err());
        assert!(HeaderError::check_text(&"loan_id,é".as_bytes()[..9], true).is_ok());
    }

    #[test]
    fn a_duplicate_or_empty_header_is_refused() {
        let twice = format!("{},email", PATRON_COLUMNS.join(","));
        assert_eq!(
            locate(&PATRON_COLUMNS, &twice),
            Err(HeaderError::DuplicateColumn("email".into()))
        );
        assert_eq!(locate(&PATRON_COLUMNS, ""), Err(HeaderError::Empty));
    }
}
