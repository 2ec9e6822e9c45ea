//! What a pull produces: a table per export, headed with the system's own
//! field names or report headings, as the import reads a staff export.

use std::collections::HashMap;

/// Headings and rows of strings; an empty string is an empty value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub headings: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these headings.
    pub fn new<S: Into<String>>(headings: impl IntoIterator<Item = S>) -> Self {
        Self {
            headings: headings.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// The position of a heading.
    pub fn column(&self, heading: &str) -> Option<usize> {
        self.headings.iter().position(|h| h == heading)
    }

    /// Adds a row given as (heading, value) pairs; headings the table does not
    /// have are ignored, missing ones are empty.
    pub fn push_named(&mut self, values: &HashMap<&str, String>) {
        let row = self
            .headings
            .iter()
            .map(|h| values.get(h.as_str()).cloned().unwrap_or_default())
            .collect();
        self.rows.push(row);
    }

    /// Adds a column, every row's value given by `value(row)`.
    pub fn add_column(&mut self, heading: &str, mut value: impl FnMut(&[String]) -> String) {
        self.headings.push(heading.to_owned());
        for row in &mut self.rows {
            let v = value(row);
            row.push(v);
        }
    }

    /// A row's value under a heading ("" when the table lacks it).
    pub fn value<'a>(&self, row: &'a [String], heading: &str) -> &'a str {
        self.column(heading)
            .and_then(|i| row.get(i))
            .map_or("", String::as_str)
    }

    /// The table as a UTF-8, comma-separated CSV file with a header row (RFC 4180 quoting).
    pub fn to_csv(&self) -> Vec<u8> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        // Writing to memory cannot fail.
        writer
            .write_record(&self.headings)
            .expect("a CSV row in memory");
        for row in &self.rows {
            writer.write_record(row).expect("a CSV row in memory");
        }
        writer.into_inner().expect("a CSV file in memory")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_written_as_rfc_4180_csv() {
        let mut table = Table::new(["id", "title"]);
        table.push_named(&HashMap::from([
            ("id", "1".into()),
            ("title", "A, \"B\"".into()),
        ]));
        table.push_named(&HashMap::from([("id", "2".into())]));
        assert_eq!(
            String::from_utf8(table.to_csv()).unwrap(),
            "id,title\n1,\"A, \"\"B\"\"\"\n2,\n"
        );
    }
}
