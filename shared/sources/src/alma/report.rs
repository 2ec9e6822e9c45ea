//! One page of an Alma Analytics report, as `GET /almaws/v1/analytics/reports`
//! answers it (Ex Libris Developer Network, "Analytics API"):
//!
//! ```xml
//! <report><QueryResult>
//!   <ResumptionToken>…</ResumptionToken>   first page only
//!   <IsFinished>false</IsFinished>
//!   <ResultXml><rowset xmlns="urn:schemas-microsoft-com:xml-analysis:rowset">
//!     <xsd:schema>… <xsd:element name="Column1" saw-sql:columnHeading="Due Date"/> …</xsd:schema>
//!     <Row><Column0>0</Column0><Column1>2026-11-29</Column1></Row>
//!   </rowset></ResultXml>
//! </QueryResult></report>
//! ```
//!
//! The schema, on the first page only, names each column by its heading;
//! `Column0` is a placeholder; a cell with no value is left out of its row, so
//! columns are matched by name, never by position.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, Event};

/// What one page holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The schema's columns, `ColumnN` → heading (first page only).
    pub headings: Vec<(String, String)>,
    /// Each row's cells by column name (`Column3` → value).
    pub rows: Vec<HashMap<String, String>>,
    pub token: Option<String>,
    pub finished: bool,
}

/// Reads a page; an error says what is wrong with it.
pub fn parse(xml: &[u8]) -> Result<Page, String> {
    let mut reader = Reader::from_reader(xml);
    let mut page = Page::default();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut row: Option<HashMap<String, String>> = None;
    let mut saw_result = false;
    let mut finished: Option<bool> = None;
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "not well-formed XML at byte {}: {e}",
                reader.error_position()
            )
        })?;
        match event {
            Event::Start(e) => {
                let name = local(e.local_name().as_ref());
                if name == "Row" {
                    row = Some(HashMap::new());
                }
                if name == "QueryResult" {
                    saw_result = true;
                }
                if name == "element" {
                    column(&e, &mut page)?;
                }
                path.push(name);
                text.clear();
            }
            Event::Empty(e) if local(e.local_name().as_ref()) == "element" => {
                column(&e, &mut page)?;
            }
            Event::Text(t) => text.push_str(&t.xml_content().map_err(|e| e.to_string())?),
            Event::CData(t) => text.push_str(&t.decode().map_err(|e| e.to_string())?),
            Event::GeneralRef(r) => text.push(entity(&r)?),
            Event::End(e) => {
                let name = local(e.local_name().as_ref());
                match name.as_str() {
                    "Row" => page.rows.extend(row.take()),
                    "ResumptionToken" => page.token = Some(text.trim().to_owned()),
                    "IsFinished" => finished = Some(text.trim().eq_ignore_ascii_case("true")),
                    cell if cell.starts_with("Column")
                        && path.len() >= 2
                        && path[path.len() - 2] == "Row" =>
                    {
                        if let Some(row) = row.as_mut() {
                            row.insert(cell.to_owned(), text.clone());
                        }
                    }
                    _ => {}
                }
                path.pop();
                text.clear();
            }
            Event::Eof if path.is_empty() => break,
            Event::Eof => return Err(format!("cut short inside <{}>", path.join("><"))),
            _ => {}
        }
    }
    if !saw_result {
        return Err("no QueryResult".into());
    }
    page.finished = finished.ok_or("no IsFinished")?;
    Ok(page)
}

fn local(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

/// An `xsd:element` of the schema: its name and `saw-sql:columnHeading`.
fn column(e: &quick_xml::events::BytesStart<'_>, page: &mut Page) -> Result<(), String> {
    let mut name = None;
    let mut heading = None;
    for attribute in e.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let value = attribute.unescape_value().map_err(|e| e.to_string())?;
        match attribute.key.local_name().as_ref() {
            b"name" => name = Some(value.into_owned()),
            b"columnHeading" => heading = Some(value.into_owned()),
            _ => {}
        }
    }
    if let (Some(name), Some(heading)) = (name, heading)
        && name.starts_with("Column")
    {
        page.headings.push((name, heading));
    }
    Ok(())
}

fn entity(r: &BytesRef<'_>) -> Result<char, String> {
    if let Some(c) = r.resolve_char_ref().map_err(|e| e.to_string())? {
        return Ok(c);
    }
    let name = r.decode().map_err(|e| e.to_string())?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .and_then(|s| s.chars().next())
        .ok_or_else(|| format!("unknown entity &{name};"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<report><QueryResult><ResumptionToken>0B7F6A</ResumptionToken><IsFinished>false</IsFinished>
<ResultXml><rowset xmlns="urn:schemas-microsoft-com:xml-analysis:rowset">
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:saw-sql="urn:saw-sql" targetNamespace="urn:schemas-microsoft-com:xml-analysis:rowset">
<xsd:complexType name="Row"><xsd:sequence>
<xsd:element name="Column0" type="xsd:string" minOccurs="0" maxOccurs="1" saw-sql:type="integer" saw-sql:columnHeading="0"/>
<xsd:element name="Column1" type="xsd:string" minOccurs="0" maxOccurs="1" saw-sql:columnHeading="Author"/>
<xsd:element name="Column2" type="xsd:string" minOccurs="0" maxOccurs="1" saw-sql:columnHeading="Title"/>
</xsd:sequence></xsd:complexType></xsd:schema>
<Row><Column0>0</Column0><Column2>Les Mis&#233;rables &amp; co</Column2></Row>
<Row><Column0>0</Column0><Column1>Hugo</Column1><Column2>Notre-Dame</Column2></Row>
</rowset></ResultXml></QueryResult></report>"#;

    #[test]
    fn headings_come_from_the_schema_and_omitted_cells_stay_omitted() {
        let page = parse(FIRST.as_bytes()).unwrap();
        assert_eq!(page.token.as_deref(), Some("0B7F6A"));
        assert!(!page.finished);
        assert_eq!(page.headings[1], ("Column1".into(), "Author".into()));
        assert_eq!(page.rows.len(), 2);
        assert_eq!(page.rows[0].get("Column1"), None);
        assert_eq!(page.rows[0]["Column2"], "Les Misérables & co");
        assert_eq!(page.rows[1]["Column1"], "Hugo");
    }

    #[test]
    fn a_page_cut_short_is_an_error() {
        let cut = &FIRST[..FIRST.len() / 2];
        assert!(parse(cut.as_bytes()).is_err());
        assert!(
            parse(FIRST.replace("</report>", "").as_bytes())
                .unwrap_err()
                .starts_with("cut short")
        );
        assert!(parse(b"<html><body>Service unavailable</body></html>").is_err());
        assert!(parse(b"<report><QueryResult><IsFinished>tr").is_err());
    }
}
