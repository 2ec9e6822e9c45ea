//! Exports as staff make them (rules §15): a French Excel export — semicolons,
//! Windows-1252, `DD/MM/YYYY` dates, its own headings mapped in the config —
//! imports exactly as the same data in the native format.

use std::path::Path;

use chrono::DateTime;

use crate::import::{path, relance, sample, stdout};

/// Every patron and loan as stored, in id order.
fn stored(dir: &Path) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let db = rusqlite::Connection::open(dir.join("var/relance.db")).expect("the store");
    let rows = |sql: &str| -> Vec<Vec<String>> {
        let mut stmt = db.prepare(sql).unwrap();
        let width = stmt.column_count();
        stmt.query_map([], |row| {
            (0..width)
                .map(|i| {
                    row.get::<_, rusqlite::types::Value>(i)
                        .map(|value| format!("{value:?}"))
                })
                .collect()
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    (
        rows(
            "SELECT patron_id, full_name, email, address_line1, address_line2, postcode, city, \
             country, language, courtesy_opt_out FROM patrons ORDER BY patron_id",
        ),
        rows(
            "SELECT loan_id, patron_id, library_code, barcode, title, author, call_number, \
             loaned_at, due_at, due_date, returned_at FROM loans ORDER BY loan_id",
        ),
    )
}

/// The rows of a CSV file.
fn read(file: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(file).unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Writes rows with semicolons, in Windows-1252, CR LF line ends.
fn write_excel(file: &Path, header: &[&str], rows: &[Vec<String>]) {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(header).unwrap();
    for row in rows {
        writer.write_record(row).unwrap();
    }
    let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable, "the test data is Windows-1252 text");
    std::fs::write(file, bytes).unwrap();
}

/// Writes rows as the native UTF-8, comma-separated CSV.
fn write_native(file: &Path, header: &str, rows: &[Vec<String>]) {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header.split(',')).unwrap();
    for row in rows {
        writer.write_record(row).unwrap();
    }
    std::fs::write(file, writer.into_inner().unwrap()).unwrap();
}

/// What Windows-1252 cannot write, as a question mark (in both versions).
fn cp1252(text: &str) -> String {
    text.chars()
        .map(|c| {
            let mut buf = [0; 4];
            let (_, _, unmappable) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buf));
            if unmappable { '?' } else { c }
        })
        .collect()
}

/// An RFC 3339 time as its Paris `DD/MM/YYYY HH:MM:SS`, a plain date as `DD/MM/YYYY`.
fn french_date(value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    match DateTime::parse_from_rfc3339(value) {
        Ok(at) => at
            .with_timezone(&chrono_tz::Europe::Paris)
            .format("%d/%m/%Y %H:%M:%S")
            .to_string(),
        Err(_) => {
            let (y, rest) = value.split_once('-').unwrap();
            let (m, d) = rest.split_once('-').unwrap();
            format!("{d}/{m}/{y}")
        }
    }
}

const MAPPING: &str = r#"
[import]
date_order = "dmy"

[import.columns.patrons]
patron_id = "N° lecteur"
full_name = ["Prénom", "Nom"]
email = "Courriel"
address_line1 = "Adresse"
address_line2 = "Complément d'adresse"
postcode = "Code postal"
city = "Ville"
country = "Pays"
language = "Langue"
courtesy_opt_out = "Refus rappel de courtoisie"

[import.columns.loans]
loan_id = "N° prêt"
patron_id = "N° lecteur"
library_code = "Bibliothèque"
barcode = "Code-barres"
title = "Titre"
author = "Auteur"
call_number = "Cote"
loaned_at = "Date de prêt"
due_at = "Date de retour prévue"
returned_at = "Date de retour"
"#;

#[test]
fn a_french_excel_export_imports_exactly_as_the_native_csv() {
    let native = tempfile::tempdir().unwrap();
    sample(native.path());
    let patrons = read(&native.path().join("patrons.csv"));
    let loans = read(&native.path().join("loans.csv"));
    let patrons: Vec<Vec<String>> = patrons
        .iter()
        .map(|row| row.iter().map(|v| cp1252(v)).collect())
        .collect();
    let loans: Vec<Vec<String>> = loans
        .iter()
        .map(|row| row.iter().map(|v| cp1252(v)).collect())
        .collect();
    // Native: the same data, in the format of rules §9.
    write_native(
        &native.path().join("patrons.csv"),
        "patron_id,full_name,email,address_line1,address_line2,postcode,city,country,language,courtesy_opt_out",
        &patrons,
    );
    write_native(
        &native.path().join("loans.csv"),
        "loan_id,patron_id,library_code,barcode,title,author,call_number,loaned_at,due_at,returned_at",
        &loans,
    );
    let out = crate::import::import(native.path(), &native.path().join("loans.csv"), &[]);
    assert!(out.status.success(), "{}", stdout(&out));

    // Excel: other headings in another order, the name in two columns, local
    // dates with slashes.
    let excel = tempfile::tempdir().unwrap();
    sample(excel.path());
    let config = excel.path().join("relance.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n{MAPPING}")).unwrap();
    let patron_rows: Vec<Vec<String>> = patrons
        .iter()
        .map(|p| {
            let (first, last) = p[1].split_once(' ').unwrap_or((&p[1], ""));
            vec![
                last.to_owned(),
                first.to_owned(),
                p[0].clone(),
                p[2].clone(),
                p[3].clone(),
                p[4].clone(),
                p[5].clone(),
                p[6].clone(),
                p[7].clone(),
                p[8].clone(),
                p[9].clone(),
            ]
        })
        .collect();
    write_excel(
        &excel.path().join("patrons.csv"),
        &[
            "Nom",
            "Prénom",
            "N° lecteur",
            "Courriel",
            "Adresse",
            "Complément d'adresse",
            "Code postal",
            "Ville",
            "Pays",
            "Langue",
            "Refus rappel de courtoisie",
        ],
        &patron_rows,
    );
    let loan_rows: Vec<Vec<String>> = loans
        .iter()
        .map(|l| {
            vec![
                l[2].clone(),
                l[0].clone(),
                l[1].clone(),
                l[3].clone(),
                l[4].clone(),
                l[5].clone(),
                l[6].clone(),
                french_date(&l[7]),
                french_date(&l[8]),
                french_date(&l[9]),
            ]
        })
        .collect();
    let excel_loans = excel.path().join("prets.csv");
    write_excel(
        &excel_loans,
        &[
            "Bibliothèque",
            "N° prêt",
            "N° lecteur",
            "Code-barres",
            "Titre",
            "Auteur",
            "Cote",
            "Date de prêt",
            "Date de retour prévue",
            "Date de retour",
        ],
        &loan_rows,
    );
    let out = crate::import::import(excel.path(), &excel_loans, &[]);
    let said = stdout(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("prets.csv: not UTF-8, read as Windows-1252"),
        "{said}"
    );
    assert!(said.contains("Rejected: 0 row(s)"), "{said}");

    let (native_patrons, native_loans) = stored(native.path());
    let (excel_patrons, excel_loans) = stored(excel.path());
    assert_eq!(native_patrons.len(), patrons.len());
    assert_eq!(native_loans.len(), loans.len());
    for (excel, native) in excel_patrons.iter().zip(&native_patrons) {
        assert_eq!(excel, native);
    }
    for (excel, native) in excel_loans.iter().zip(&native_loans) {
        assert_eq!(excel, native);
    }
}

#[test]
fn an_export_whose_headings_cannot_be_mapped_is_refused_whole_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = sample(dir.path());
    let loans = dir.path().join("prets.csv");
    std::fs::write(&loans, "N° prêt;Lecteur;Titre\r\nL1;P0000001;Titre\r\n").unwrap();
    let out = crate::import::import(dir.path(), &loans, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains("prets.csv: missing columns \"loan_id\", \"patron_id\""),
        "{err}"
    );
    assert!(
        err.contains(r#"the header row has "N° prêt", "Lecteur", "Titre""#),
        "{err}"
    );
    assert!(err.contains("[import.columns.loans]"), "{err}");
    // Nothing was imported, patrons included.
    if dir.path().join("var/relance.db").exists() {
        assert_eq!(stored(dir.path()), (Vec::new(), Vec::new()));
    }
    let status = relance(&["--config", path(&config), "status"]);
    assert!(status.status.success());
}
