//! A generated library network for the AWS planner's read test and bench:
//! patrons and open loans with realistic names, titles and authors, the same
//! every run.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use relance_aws::dynamo::Dynamo;
use relance_core::address::EmailAddress;
use relance_core::ids::{LibraryCode, LoanId, PatronId};
use relance_core::model::{EmailStatus, Item, Language, Loan, Patron, PostalAddress};

/// A deterministic 64-bit mix (splitmix64), so the data are the same every run.
pub fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<'a>(list: &[&'a str], n: u64) -> &'a str {
    list[(n % list.len() as u64) as usize]
}

const GIVEN: [&str; 10] = [
    "Marie-Hélène",
    "Jean-Baptiste",
    "Camille",
    "Ngozi",
    "François",
    "Léa",
    "Mohamed",
    "Anne-Sophie",
    "Thibault",
    "Inès",
];
const FAMILY: [&str; 10] = [
    "Martin",
    "Lefebvre-Moreau",
    "Dubois",
    "Okafor",
    "Nguyen",
    "Garcia",
    "Rousseau",
    "Bertrand",
    "Fontaine",
    "Chevalier",
];
const OPENINGS: [&str; 8] = [
    "Introduction à",
    "Histoire de",
    "Traité de",
    "Manuel de",
    "Éléments de",
    "Précis de",
    "Leçons sur",
    "Nouvelles perspectives en",
];
const SUBJECTS: [&str; 8] = [
    "la théorie des graphes",
    "droit administratif général",
    "la mécanique des fluides",
    "la littérature comparée",
    "l'économie politique européenne",
    "la chimie organique",
    "la sociologie urbaine contemporaine",
    "l'analyse numérique matricielle",
];
const ENDINGS: [&str; 6] = [
    " : structures, algorithmes et applications",
    " : une approche historique et critique",
    ". Tome II, Les fondements",
    " : cours et exercices corrigés",
    " (3e édition revue et augmentée)",
    "",
];

/// Patron `n`, with an email and a postal address like an export's.
pub fn patron(n: u64) -> Patron {
    let h = mix(n);
    let (given, family) = (pick(&GIVEN, h), pick(&FAMILY, h >> 8));
    let email = format!(
        "{}.{}{n}@etu.u-bordeaux.example.fr",
        given
            .to_lowercase()
            .replace(['é', 'è'], "e")
            .replace('ç', "c"),
        family.to_lowercase()
    );
    Patron {
        id: PatronId::parse(&format!("P{n:06}")).unwrap(),
        full_name: format!("{given} {family}"),
        email: Some(EmailAddress::parse(&email).unwrap()),
        email_status: EmailStatus::Deliverable,
        address: PostalAddress {
            line1: format!("{} cours de la Libération", 1 + h % 300),
            line2: if h.is_multiple_of(3) {
                "Résidence Le Vélodrome, bât. C".into()
            } else {
                String::new()
            },
            postcode: "33400".into(),
            city: "Talence".into(),
            country: String::new(),
        },
        language: Some(Language::Fr),
        courtesy_opt_out: false,
    }
}

/// Open loan `n`, of one of `patrons` patrons, due on `due_date`.
pub fn loan(n: u64, patrons: u64, due_date: NaiveDate) -> Loan {
    let h = mix(n ^ 0x5EED);
    let title = format!(
        "{} {}{}",
        pick(&OPENINGS, h >> 7),
        pick(&SUBJECTS, h >> 13),
        pick(&ENDINGS, h >> 19)
    );
    let author = match (h >> 25) % 3 {
        0 => format!("{}, {}", pick(&FAMILY, h >> 29), pick(&GIVEN, h >> 33)),
        1 => format!(
            "{}, {} ; {}, {} (dir.)",
            pick(&FAMILY, h >> 29),
            pick(&GIVEN, h >> 33),
            pick(&FAMILY, h >> 37),
            pick(&GIVEN, h >> 41)
        ),
        _ => String::new(),
    };
    let due_at = chrono_tz::Europe::Paris
        .from_local_datetime(&due_date.and_hms_opt(23, 59, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    Loan {
        id: LoanId::parse(&format!("L{n:07}")).unwrap(),
        patron_id: PatronId::parse(&format!("P{:06}", mix(n ^ 0xB0B) % patrons)).unwrap(),
        library: LibraryCode::parse(pick(&["STS", "DRT", "LSH"], h >> 45)).unwrap(),
        item: Item {
            barcode: format!("3000001{:07}", n),
            title,
            author,
            call_number: format!(
                "{}.{} {}",
                300 + (h >> 48) % 600,
                (h >> 52) % 100,
                &pick(&FAMILY, h >> 29)[..3].to_uppercase()
            ),
        },
        loaned_at: Some(due_at - Duration::days(28)),
        due_at,
        due_date,
        returned_at: None,
    }
}

/// The read units of a paginated Scan of the whole table, and the items it saw.
pub async fn scan(dynamo: &Dynamo) -> (f64, usize) {
    let (mut units, mut items, mut start) = (0.0, 0, None);
    loop {
        let page = dynamo
            .client()
            .scan()
            .table_name(dynamo.table())
            .return_consumed_capacity("TOTAL".into())
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        units += page
            .consumed_capacity()
            .and_then(|c| c.capacity_units())
            .expect("scan capacity reported");
        items += page.items().len();
        start = page.last_evaluated_key().cloned();
        if start.as_ref().is_none_or(|k| k.is_empty()) {
            return (units, items);
        }
    }
}
