//! Streaming an export row by row: one reused record, so memory does not grow
//! with the file (a row's raw text is kept too, while it is the current row).

use std::io::{self, BufRead, BufReader, Read};

use csv::ByteRecord;

use super::decode::{Decoded, Encoding};
use super::header::{Source, detect_delimiter};
use super::tap::{Tap, newlines};
use super::{
    Columns, FieldError, HeaderError, Headings, LOAN_COLUMNS, LoanFields, PATRON_COLUMNS,
    PatronFields, RowRejected,
};
use crate::config::{EncodingSetting, ImportSettings};

/// Why an export cannot be read at all (row problems are [`RowRejected`] instead).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The header row does not name the expected columns.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// The underlying reader failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// A CSV export read one row at a time: comma, semicolon or tab separated
/// (detected from the header), RFC 4180 quoting, UTF-8 or Windows-1252, its
/// headings mapped to the fields of rules §9 by `[import]`.
pub struct ExportReader<R> {
    csv: csv::Reader<Tap<BufReader<Decoded<BufReader<R>>>>>,
    columns: Columns,
    record: ByteRecord,
    /// The values of the fields joined from several columns, for the current row.
    joined: Vec<String>,
    /// Line feeds before the next row's first byte.
    newlines_before: u64,
}

impl<R: Read> ExportReader<R> {
    /// Reads the header row of a patrons export.
    pub fn patrons(reader: R, settings: &ImportSettings) -> Result<Self, ExportError> {
        Self::open(reader, &PATRON_COLUMNS, &settings.patron_columns, settings)
    }

    /// Reads the header row of a loans export.
    pub fn loans(reader: R, settings: &ImportSettings) -> Result<Self, ExportError> {
        Self::open(reader, &LOAN_COLUMNS, &settings.loan_columns, settings)
    }

    fn open(
        reader: R,
        expected: &[&'static str; 10],
        headings: &Headings,
        settings: &ImportSettings,
    ) -> Result<Self, ExportError> {
        let mut raw = BufReader::with_capacity(64 * 1024, reader);
        let mut encoding = settings.encoding;
        // Spreadsheet tools write a byte-order mark; csv would glue it to the
        // first column name (and un-quote it wrongly), so skip it first. It
        // also says the file is UTF-8.
        if raw.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
            raw.consume(3);
            encoding = EncodingSetting::Utf8;
        }
        // Before csv reads a PNG's bytes as a header with no loan_id column.
        HeaderError::check_text(raw.fill_buf()?, encoding == EncodingSetting::Utf8)?;
        let mut decoded = BufReader::with_capacity(64 * 1024, Decoded::new(raw, encoding));
        let delimiter = detect_delimiter(decoded.fill_buf()?);
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(Tap::new(decoded));
        let header = csv.byte_headers().map_err(io::Error::from)?;
        let names: Vec<String> = header
            .iter()
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect();
        let columns = Columns::locate(expected, names.iter().map(String::as_str), headings)?;
        let header_end = csv.position().byte();
        let newlines_before = newlines(csv.get_ref().slice(0, header_end));
        Ok(Self {
            csv,
            columns,
            record: ByteRecord::new(),
            joined: Vec::new(),
            newlines_before,
        })
    }

    /// What the file is written in, as far as it was read (UTF-8 until a byte
    /// beyond ASCII says otherwise).
    pub fn encoding(&self) -> Encoding {
        self.csv.get_ref().inner().get_ref().encoding()
    }

    /// The next row, or `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, ExportError> {
        let start = self.csv.position().byte();
        self.csv.get_mut().release(start);
        if !self
            .csv
            .read_byte_record(&mut self.record)
            .map_err(io::Error::from)?
        {
            return Ok(None);
        }
        self.joined.clear();
        for n in 0..10 {
            if let Source::Joined(positions) = self.columns.source(n) {
                let parts: Vec<String> = positions
                    .iter()
                    .map(|&i| String::from_utf8_lossy(self.record.get(i).unwrap_or_default()))
                    .map(|part| part.trim().to_owned())
                    .filter(|part| !part.is_empty())
                    .collect();
                self.joined.push(parts.join(" "));
            }
        }
        let end = self.csv.position().byte();
        let raw = self.csv.get_ref().slice(start, end);
        // csv skips blank lines before a row, and ends a row at its CR, leaving
        // the LF to the next one: both come first in the row's bytes.
        let blank = raw
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let ending = raw[blank..]
            .iter()
            .rev()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count()
            .min(2);
        let line = 1 + self.newlines_before + newlines(&raw[..blank]);
        self.newlines_before += newlines(raw);
        Ok(Some(Row {
            line,
            text: &raw[blank..raw.len() - ending],
            record: &self.record,
            joined: &self.joined,
            columns: &self.columns,
        }))
    }

    /// Bytes consumed so far, for progress reports.
    pub fn bytes_read(&self) -> u64 {
        self.csv.position().byte()
    }
}

/// One row of an export, borrowed from the reader until the next row is read.
pub struct Row<'a> {
    line: u64,
    /// The row as written, without its line ending.
    text: &'a [u8],
    record: &'a ByteRecord,
    /// The joined fields' values, in field order.
    joined: &'a [String],
    columns: &'a Columns,
}

impl<'a> Row<'a> {
    /// The physical line the row starts on (the header is line 1, blank lines
    /// count, CR LF and LF alike end a line).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The physical line the row ends on: after [`Row::line`] when a quoted
    /// field holds line breaks.
    pub fn last_line(&self) -> u64 {
        self.line + newlines(self.text)
    }

    /// The row's physical lines as written, without their line endings.
    pub(super) fn physical_lines(&self) -> impl Iterator<Item = &'a [u8]> {
        let text: &'a [u8] = self.text;
        text.split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
    }

    /// How many fields the header row has.
    pub(super) fn width(&self) -> usize {
        self.columns.width()
    }

    /// The row's identifier as written (first expected column, trimmed), for
    /// reports; may be empty or invalid.
    pub fn record_id(&self) -> String {
        match self.columns.source(0) {
            Source::At(i) => {
                let raw = self.record.get(*i).unwrap_or_default();
                String::from_utf8_lossy(raw).trim().to_owned()
            }
            Source::Joined(_) => self.joined.first().cloned().unwrap_or_default(),
            Source::Absent => String::new(),
        }
    }

    /// The row as patron fields (when read with [`ExportReader::patrons`]).
    pub fn patron_fields(&self) -> Result<PatronFields<'a>, RowRejected> {
        self.values(&PATRON_COLUMNS).map(PatronFields::from_values)
    }

    /// The row as loan fields (when read with [`ExportReader::loans`]).
    pub fn loan_fields(&self) -> Result<LoanFields<'a>, RowRejected> {
        self.values(&LOAN_COLUMNS).map(LoanFields::from_values)
    }

    fn values(&self, names: &[&'static str; 10]) -> Result<[&'a str; 10], RowRejected> {
        let mut errors = Vec::new();
        if self.record.len() != self.columns.width() {
            // Usually an unquoted comma, or a line cut short: the fields would shift.
            errors.push(FieldError::new(
                "row",
                format!(
                    "has {} fields where the header has {} (an unquoted comma or a cut line?)",
                    self.record.len(),
                    self.columns.width()
                ),
            ));
        }
        let record: &'a ByteRecord = self.record;
        let mut joined = self.joined.iter();
        let mut values = [""; 10];
        for (n, (value, name)) in values.iter_mut().zip(names).enumerate() {
            let raw = match self.columns.source(n) {
                Source::At(i) => record.get(*i).unwrap_or_default(),
                Source::Joined(_) => joined.next().map(String::as_bytes).unwrap_or_default(),
                Source::Absent => b"",
            };
            match std::str::from_utf8(raw) {
                Ok(text) => *value = text,
                Err(_) => errors.push(FieldError::new(name, "is not valid UTF-8 text")),
            }
        }
        if errors.is_empty() {
            Ok(values)
        } else {
            Err(RowRejected { errors })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto() -> ImportSettings {
        ImportSettings::default()
    }

    const LOANS: &str = "loan_id,patron_id,library_code,barcode,title,author,call_number,loaned_at,due_at,returned_at\n";

    #[test]
    fn rows_carry_their_physical_line_even_across_quoted_newlines() {
        let text = format!(
            "\u{feff}{LOANS}L1,P1,STS,1,\"Titre\nsur deux lignes\",,,,2026-11-29,\nL2,P1,STS,2,Titre,,,,2026-11-29,\n"
        );
        let mut reader = ExportReader::loans(text.as_bytes(), &auto()).unwrap();
        let first = reader.next_row().unwrap().unwrap();
        assert_eq!((first.line(), first.record_id()), (2, "L1".to_owned()));
        assert_eq!(first.loan_fields().unwrap().title, "Titre\nsur deux lignes");
        let second = reader.next_row().unwrap().unwrap();
        assert_eq!((second.line(), second.record_id()), (4, "L2".to_owned()));
        assert!(reader.next_row().unwrap().is_none());
        assert_eq!(reader.bytes_read(), text.len() as u64 - 3);
    }

    #[test]
    fn a_row_of_the_wrong_width_or_encoding_is_rejected_with_its_field() {
        let mut text = LOANS.as_bytes().to_vec();
        text.extend_from_slice(b"L1,P1,STS,1,Titre,Hugo, Victor,,,2026-11-29,\n");
        text.extend_from_slice(b"L2,P1,STS,2,Les Mis\xe9rables,,,,2026-11-29,\n");
        let utf8 = ImportSettings {
            encoding: EncodingSetting::Utf8,
            ..auto()
        };
        let mut reader = ExportReader::loans(text.as_slice(), &utf8).unwrap();
        let wide = reader
            .next_row()
            .unwrap()
            .unwrap()
            .loan_fields()
            .unwrap_err();
        assert_eq!(wide.errors[0].field, "row");
        let latin1 = reader
            .next_row()
            .unwrap()
            .unwrap()
            .loan_fields()
            .unwrap_err();
        assert_eq!(latin1.errors[0].field, "title");
        // Not said to be UTF-8: the same bytes are Windows-1252.
        let mut reader = ExportReader::loans(text.as_slice(), &auto()).unwrap();
        reader.next_row().unwrap().unwrap();
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.loan_fields().unwrap().title, "Les Misérables");
        assert_eq!(reader.encoding(), Encoding::Windows1252);
    }

    #[test]
    fn a_semicolon_export_with_its_own_headings_is_read_through_the_mapping() {
        let mut settings = auto();
        settings.loan_columns.set("loan_id", vec!["N° prêt".into()]);
        settings
            .loan_columns
            .set("due_at", vec!["Date de retour".into()]);
        let text = "N° prêt;patron_id;library_code;barcode;title;Date de retour\r\n\
                    L1;P1;STS;123;\"Titre; avec point-virgule\";29/11/2026\r\n";
        let mut reader = ExportReader::loans(text.as_bytes(), &settings).unwrap();
        let row = reader.next_row().unwrap().unwrap();
        let fields = row.loan_fields().unwrap();
        assert_eq!(
            (fields.loan_id, fields.title, fields.due_at, fields.author),
            ("L1", "Titre; avec point-virgule", "29/11/2026", "")
        );
    }

    #[test]
    fn a_patrons_file_given_as_loans_names_the_missing_column() {
        let patrons = format!("{}\n", PATRON_COLUMNS.join(","));
        match ExportReader::loans(patrons.as_bytes(), &auto()) {
            Err(ExportError::Header(HeaderError::MissingColumns { missing, .. })) => {
                assert_eq!(missing[0], "\"loan_id\"")
            }
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("accepted a patrons header as loans"),
        }
        assert!(matches!(
            ExportReader::patrons(&b""[..], &auto()),
            Err(ExportError::Header(HeaderError::Empty))
        ));
    }
}
