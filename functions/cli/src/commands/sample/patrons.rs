//! `patrons.csv` of the sample.

use std::io::Write;

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::data;

/// What was written, and each patron's home library for the loans.
pub struct Written {
    /// Index of each patron's usual library, by patron number.
    pub home_libraries: Vec<u8>,
    /// Patrons with an empty email.
    pub without_email: usize,
    /// Patrons whose email is deliberately malformed (imported with a warning).
    pub malformed_email: usize,
    /// Patrons who opted out of courtesy emails.
    pub opted_out: usize,
}

/// The id of patron number `n` (from 0).
pub fn patron_id(n: usize) -> String {
    format!("P{:07}", n + 1)
}

/// Writes `count` patrons.
pub fn write<W: Write>(
    mut csv: csv::Writer<W>,
    count: usize,
    libraries: usize,
    rng: &mut StdRng,
) -> anyhow::Result<Written> {
    csv.write_record(relance_core::import::PATRON_COLUMNS)?;
    let mut written = Written {
        home_libraries: Vec::with_capacity(count),
        without_email: 0,
        malformed_email: 0,
        opted_out: 0,
    };
    for n in 0..count {
        let first = *data::FIRST_NAMES.choose(rng).unwrap_or(&"Camille");
        let last = *data::LAST_NAMES.choose(rng).unwrap_or(&"Martin");
        let full_name = format!("{first} {last}");
        let email = if n % 60 == 17 {
            written.malformed_email += 1;
            malformed_email(first, last, n)
        } else if rng.random_bool(0.08) {
            written.without_email += 1;
            String::new()
        } else {
            email(first, last, rng)
        };
        let (line1, line2, postcode, city, country) = address(rng);
        let language = *[
            "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "en",
            "en", "en", "", "", "", "fre", "eng", "fr-FR",
        ]
        .choose(rng)
        .unwrap_or(&"");
        let opted_out = rng.random_bool(0.10);
        written.opted_out += usize::from(opted_out);
        let flag = match (opted_out, rng.random_bool(0.3)) {
            (true, _) => "true",
            (false, true) => "",
            (false, false) => "false",
        };
        csv.write_record([
            patron_id(n).as_str(),
            &full_name,
            &email,
            &line1,
            &line2,
            postcode,
            city,
            country,
            language,
            flag,
        ])?;
        written
            .home_libraries
            .push(rng.random_range(0..libraries) as u8);
    }
    csv.flush()?;
    Ok(written)
}

fn email(first: &str, last: &str, rng: &mut StdRng) -> String {
    let domain = data::EMAIL_DOMAINS.choose(rng).unwrap_or(&"example.fr");
    let suffix = if rng.random_bool(0.4) {
        rng.random_range(1..100).to_string()
    } else {
        String::new()
    };
    format!("{}.{}{suffix}@{domain}", ascii(first), ascii(last))
}

/// The usual slips of a hand-typed address; each fails validation.
fn malformed_email(first: &str, last: &str, n: usize) -> String {
    let (first, last) = (ascii(first), ascii(last));
    match n / 60 % 4 {
        0 => format!("{first}.{last}@@etu.example.fr"),
        1 => format!("{first}.{last}.etu.example.fr"),
        2 => format!("{first}.{last}@localhost"),
        _ => format!("{first} {last}@example.fr"),
    }
}

/// Street, second line, postcode, city, country.
fn address(rng: &mut StdRng) -> (String, String, &'static str, &'static str, &'static str) {
    if rng.random_bool(0.03) {
        let (street, postcode, city, country) =
            *data::ABROAD.choose(rng).unwrap_or(&data::ABROAD[0]);
        return (street.to_owned(), String::new(), postcode, city, country);
    }
    let street = data::STREETS.choose(rng).unwrap_or(&"rue Sainte-Catherine");
    let line1 = format!("{} {street}", rng.random_range(1..180));
    let line2 = if rng.random_bool(0.25) {
        let template = data::SECOND_LINES.choose(rng).unwrap_or(&"{}");
        template.replace("{}", &rng.random_range(1..400).to_string())
    } else {
        String::new()
    };
    let (postcode, city) = *data::TOWNS.choose(rng).unwrap_or(&data::TOWNS[0]);
    (line1, line2, postcode, city, "")
}

/// A name as the local part of an address: lower-case ASCII, letters kept
/// without their accents, spaces and apostrophes dropped.
fn ascii(name: &str) -> String {
    const FOLDS: &[(char, &str)] = &[
        ('a', "àáâãäåāăąạầấẩ"),
        ('c', "çćč"),
        ('d', "đ"),
        ('e', "èéêëēęễếệ"),
        ('g', "ğ"),
        ('i', "ìíîïıịī"),
        ('l', "ł"),
        ('n', "ñń"),
        ('o', "òóôõöøơộ"),
        ('s', "śşš"),
        ('u', "ùúûüūưũ"),
        ('y', "ýÿ"),
        ('z', "żźž"),
    ];
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '-' {
            out.push(c);
        } else if c == 'œ' {
            out.push_str("oe");
        } else if c == 'æ' {
            out.push_str("ae");
        } else if c == 'ß' {
            out.push_str("ss");
        } else if let Some((base, _)) = FOLDS.iter().find(|(_, variants)| variants.contains(c)) {
            out.push(*base);
        }
    }
    if out.is_empty() {
        "lecteur".to_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use relance_core::address::EmailAddress;

    use super::*;

    #[test]
    fn every_name_folds_to_a_valid_address() {
        use rand::SeedableRng;
        let mut rng = StdRng::seed_from_u64(3);
        for first in data::FIRST_NAMES {
            for last in data::LAST_NAMES {
                let address = email(first, last, &mut rng);
                assert!(
                    EmailAddress::parse(&address).is_ok(),
                    "{first} {last}: {address}"
                );
            }
        }
        assert_eq!(ascii("Nguyễn Thị Lan"), "nguyenthilan");
        assert_eq!(ascii("Łukasz N'Diaye"), "lukaszndiaye");
    }

    #[test]
    fn the_malformed_addresses_are_refused() {
        for n in (17..300).step_by(60) {
            let address = malformed_email("Zoë", "Öztürk", n);
            assert!(EmailAddress::parse(&address).is_err(), "{address}");
        }
    }
}
