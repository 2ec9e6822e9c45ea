//! Rows whose text runs over several physical lines, and the quote never closed.
//!
//! A quoted field may hold a line break (RFC 4180), but no field Relance
//! imports may: the checks refuse control characters. So a row over several
//! lines is either a line break in a field (refused anyway) or a quote opened
//! and never closed, after which csv reads the following rows into that one
//! field until the next quote, however many there are. Those rows would be
//! neither imported nor rejected, and a snapshot would close their loans.
//!
//! The rule: a row whose text runs over several lines is taken for a broken
//! quote when its checks reject it, or when one of its lines after the first
//! holds as many commas as a whole row (so a line break in an ignored column
//! still imports, unless the lines look like rows). Then the row is rejected
//! and so is every line it spans, each on its own line number, with the first
//! field of that line as its record id: a user counting finds every data line
//! of the file either imported or in the rejects file, and a snapshot can tell
//! which loans the file listed.

use super::{Checked, FieldError, Row, RowRejected};

/// One row, checked, with what reports need about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRow<T> {
    /// The physical line it starts on.
    pub line: u64,
    /// Its identifier as written, for reports (may be empty or invalid).
    pub record_id: String,
    /// The domain value or why not.
    pub checked: Result<Checked<T>, RowRejected>,
    /// The lines after the first of a row taken for a broken quote (rejected
    /// with it); empty otherwise.
    pub swallowed: Vec<SwallowedLine>,
}

/// A physical line read into a quoted field that began on an earlier line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwallowedLine {
    /// Its line number in the file.
    pub line: u64,
    /// The first field of the line as written (trimmed, quotes removed): the
    /// id of the row it was meant to be, or nothing useful.
    pub record_id: String,
    /// The line where the quoted field began.
    pub opened_on: u64,
}

impl SwallowedLine {
    /// Why the line is rejected.
    pub fn problem(&self) -> FieldError {
        FieldError::new(
            "row",
            format!(
                "read into a quoted field opened on line {} (a quote never closed?); \
                 this line is not imported",
                self.opened_on
            ),
        )
    }
}

impl<'a> Row<'a> {
    /// Checks the row with `check`, and rejects it with every line it spans
    /// when it looks like a broken quote (see the module documentation).
    pub fn check<T>(
        &self,
        check: impl FnOnce(&Row<'a>) -> Result<Checked<T>, RowRejected>,
    ) -> CheckedRow<T> {
        let (line, last) = (self.line(), self.last_line());
        let mut checked = check(self);
        let mut swallowed = Vec::new();
        if last > line && (checked.is_err() || self.holds_rows()) {
            let mut errors = vec![FieldError::new(
                "row",
                format!(
                    "opens a quoted field that runs to line {last} (a quote never closed?); \
                     lines {line} to {last} are rejected"
                ),
            )];
            if let Err(rejected) = checked {
                errors.extend(rejected.errors);
            }
            checked = Err(RowRejected { errors });
            swallowed = (line + 1..)
                .zip(self.physical_lines().skip(1))
                .map(|(n, text)| SwallowedLine {
                    line: n,
                    record_id: first_field(text),
                    opened_on: line,
                })
                .collect();
        }
        CheckedRow {
            line,
            record_id: self.record_id(),
            checked,
            swallowed,
        }
    }

    /// Whether a line after the first has a whole row's worth of commas.
    fn holds_rows(&self) -> bool {
        let separators = self.width().saturating_sub(1).max(1);
        self.physical_lines()
            .skip(1)
            .any(|text| text.iter().filter(|&&b| b == b',').count() >= separators)
    }
}

fn first_field(line: &[u8]) -> String {
    let field = line.split(|&b| b == b',').next().unwrap_or_default();
    String::from_utf8_lossy(field)
        .trim()
        .trim_matches('"')
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use crate::import::{ExportReader, LOAN_COLUMNS, PATRON_COLUMNS};

    use super::*;

    fn loans(rows: &[&str], ending: &str) -> String {
        let mut text = LOAN_COLUMNS.join(",");
        for row in rows {
            text.push_str(ending);
            text.push_str(row);
        }
        text.push_str(ending);
        text
    }

    /// Every row of `text`, checked as loans fields only.
    fn read(text: &str) -> Vec<CheckedRow<String>> {
        let mut reader = ExportReader::loans(text.as_bytes(), &Default::default()).unwrap();
        let mut rows = Vec::new();
        while let Some(row) = reader.next_row().unwrap() {
            rows.push(row.check(|row| {
                let fields = row.loan_fields()?;
                if fields.title.chars().any(char::is_control) {
                    return Err(RowRejected {
                        errors: vec![FieldError::new("title", "contains a control character")],
                    });
                }
                Ok(Checked {
                    value: fields.loan_id.to_owned(),
                    warnings: Vec::new(),
                })
            }));
        }
        rows
    }

    fn row(id: &str) -> String {
        format!("{id},P1,STS,1,Titre,,,,2026-11-29,")
    }

    #[test]
    fn a_quote_never_closed_rejects_every_line_it_swallowed_on_its_own_line() {
        let rows: Vec<String> = ["L1", "L2", "L3", "L4", "L5"].map(row).into();
        let broken = "L2,P1,STS,1,\"Titre jamais fermé,,,,2026-11-29,";
        let quoted = "L5,P1,STS,1,\"Titre, cité\",,,,2026-11-29,";
        let text = loans(
            &[&rows[0], broken, &rows[2], &rows[3], quoted, "L6,P1"],
            "\n",
        );
        let read = read(&text);
        assert_eq!(read.len(), 3, "csv read L2 to L5 as one row");
        assert!(read[0].checked.is_ok() && read[0].swallowed.is_empty());
        let swallowing = &read[1];
        assert_eq!((swallowing.line, swallowing.record_id.as_str()), (3, "L2"));
        let errors = &swallowing.checked.as_ref().unwrap_err().errors;
        assert_eq!(errors[0].field, "row");
        assert!(
            errors[0].reason.contains("runs to line 6"),
            "{}",
            errors[0].reason
        );
        let lines: Vec<(u64, &str)> = swallowing
            .swallowed
            .iter()
            .map(|s| (s.line, s.record_id.as_str()))
            .collect();
        assert_eq!(lines, [(4, "L3"), (5, "L4"), (6, "L5")]);
        assert!(
            swallowing.swallowed[0]
                .problem()
                .reason
                .contains("opened on line 3")
        );
        assert_eq!(read[2].line, 7, "the row after the span keeps its line");
    }

    #[test]
    fn a_quote_never_closed_at_all_swallows_to_the_end_of_the_file() {
        let broken = "L1,P1,STS,1,\"Titre,,,,2026-11-29,";
        let rows: Vec<String> = ["L2", "L3"].map(row).into();
        let read = read(&loans(&[broken, &rows[0], &rows[1]], "\r\n"));
        assert_eq!(read.len(), 1);
        let ids: Vec<(u64, &str)> = read[0]
            .swallowed
            .iter()
            .map(|s| (s.line, s.record_id.as_str()))
            .collect();
        assert_eq!(ids, [(3, "L2"), (4, "L3")]);
    }

    #[test]
    fn lines_are_counted_the_same_with_crlf_endings_and_blank_lines() {
        let rows: Vec<String> = ["L1", "L2"].map(row).into();
        for ending in ["\n", "\r\n"] {
            let text = loans(&["", &rows[0], "", "", &rows[1]], ending);
            let lines: Vec<u64> = read(&text).iter().map(|r| r.line).collect();
            assert_eq!(lines, [3, 6], "{ending:?}");
        }
    }

    #[test]
    fn a_line_break_in_an_ignored_column_imports_unless_its_lines_look_like_rows() {
        let header = format!("{},notes\n", LOAN_COLUMNS.join(","));
        let note = format!("{header}L1,P1,STS,1,Titre,,,,2026-11-29,,\"rappeler\nle lecteur\"\n");
        let read_note = read(&note);
        assert!(read_note[0].checked.is_ok() && read_note[0].swallowed.is_empty());
        // The same width, every check passed: only the row-like line tells.
        let rows = format!(
            "{header}L1,P1,STS,1,Titre,,,,2026-11-29,,\"oubli\n{},\nfin\"\n",
            row("L2")
        );
        let read_rows = read(&rows);
        assert!(read_rows[0].checked.is_err());
        assert_eq!(read_rows[0].swallowed.len(), 2);
    }

    #[test]
    fn a_patron_row_over_two_lines_is_rejected_with_both_lines() {
        let text = format!(
            "{}\nP1,Zoë,,\"12 rue X\nBât. C\",,33000,Bordeaux,,,\n",
            PATRON_COLUMNS.join(",")
        );
        let mut reader = ExportReader::patrons(text.as_bytes(), &Default::default()).unwrap();
        let row = reader.next_row().unwrap().unwrap();
        let checked = row.check(|row| crate::import::check_patron(&row.patron_fields()?));
        assert!(checked.checked.is_err());
        assert_eq!(checked.swallowed.len(), 1);
        assert_eq!(checked.swallowed[0].line, 3);
    }
}
