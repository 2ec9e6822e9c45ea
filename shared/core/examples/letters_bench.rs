//! Letter rendering throughput: N letters (default 10,000) in print batches of 250
//! per library, each letter also as its own PDF, as a run day's letters job does.
//!
//! `cargo run --release -p relance-core --example letters_bench -- [N] [--out DIR]`
//!
//! Prints letters per second, pages, the largest batch and the peak resident memory
//! after the first batch and at the end (which should be about the same: memory is
//! bounded by one batch, not by N). `--out DIR` also writes the first batch there.

use std::path::PathBuf;
use std::time::Instant;

use chrono::{Days, NaiveDate, TimeZone, Utc};
use relance_core::config::Config;
use relance_core::ids::{LibraryCode, LoanId, PatronId, StageName};
use relance_core::ladder::Channel;
use relance_core::letter::{LetterView, batch_order, render_batch};
use relance_core::model::{EmailStatus, Item, Language, Loan, Patron, PostalAddress};
use relance_core::notice::{Notice, NoticeLoan};

const BATCH: usize = 250;

const FIRST: [&str; 8] = [
    "Camille",
    "Zoë",
    "Łukasz",
    "Thi Thu",
    "Jean-Éric",
    "Chloé",
    "Mathéo",
    "Anaïs",
];
const LAST: [&str; 8] = [
    "Martin",
    "Nguyễn",
    "Kowalski",
    "Lefèvre",
    "Dubois",
    "Garçon",
    "O’Neill",
    "Rousseau",
];
const TITLES: [&str; 6] = [
    "Introduction à la physique quantique",
    "Thermodynamique : cours et exercices corrigés",
    "L’œuvre au noir",
    "Histoire des bibliothèques universitaires françaises, de la Révolution à nos jours, avec un cahier d’illustrations",
    "Analyse numérique matricielle appliquée à l’art de l’ingénieur",
    "Le droit administratif",
];

/// A small deterministic generator, so every run renders the same letters.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % below
    }
}

fn config(libraries: usize) -> Config {
    let mut toml = String::from(
        "[institution]\nname = \"Université de Bordeaux\"\n[mail]\n\
         from = \"Service du contentieux des bibliothèques <contentieux@bibliotheques.example.fr>\"\n\
         staff_inbox = \"equipe@bibliotheques.example.fr\"\n",
    );
    for i in 0..libraries {
        toml.push_str(&format!(
            "[[libraries]]\ncode = \"L{i:03}\"\nname = \"Bibliothèque n° {i}\"\n\
             inbox = \"bib{i}@bibliotheques.example.fr\"\naddress = [\"Allée Baudour\", \"33400 Talence\"]\n\
             phone = \"05 40 00 00 00\"\n"
        ));
    }
    Config::parse(&toml).expect("bench config")
}

/// One letter's data: its notice, patron and loans.
struct Letter {
    notice: Notice,
    stage: StageName,
    patron: Patron,
    loans: Vec<Loan>,
}

fn letter(rng: &mut Lcg, n: usize, library: &LibraryCode, day: NaiveDate) -> Letter {
    let id = PatronId::parse(&format!("P{n:07}")).expect("patron id");
    let patron = Patron {
        id: id.clone(),
        full_name: format!("{} {}", FIRST[rng.next(8)], LAST[rng.next(8)]),
        email: None,
        email_status: EmailStatus::Deliverable,
        address: PostalAddress {
            line1: format!("{} rue Sainte-Catherine", 1 + rng.next(200)),
            line2: if rng.next(3) == 0 {
                "Résidence Les Érables".into()
            } else {
                String::new()
            },
            postcode: "33000".into(),
            city: "Bordeaux".into(),
            country: String::new(),
        },
        language: if rng.next(5) == 0 {
            Some(Language::En)
        } else {
            None
        },
        courtesy_opt_out: false,
    };
    // Mostly final letters, some print fallbacks of reminders; one patron in 200 has 60 items.
    let (stage, offset) = match rng.next(10) {
        0 => ("first_reminder", 7),
        1 => ("second_reminder", 21),
        _ => ("letter", 35),
    };
    let stage = StageName::parse(stage).expect("stage");
    let count = if rng.next(200) == 0 {
        60
    } else {
        1 + rng.next(6)
    };
    let due_date = day - Days::new(offset);
    let loans: Vec<Loan> = (0..count)
        .map(|i| Loan {
            id: LoanId::parse(&format!("L{n:07}-{i}")).expect("loan id"),
            patron_id: id.clone(),
            library: library.clone(),
            item: Item {
                barcode: format!("33000{:09}", n * 100 + i),
                title: TITLES[rng.next(TITLES.len())].to_owned(),
                author: "Dupont, Marie".to_owned(),
                call_number: format!("530.{i} DUP"),
            },
            loaned_at: None,
            due_at: Utc.from_utc_datetime(&due_date.and_hms_opt(22, 0, 0).expect("time")),
            due_date,
            returned_at: None,
        })
        .collect();
    let notice = Notice::pending(
        Notice::letter_id(&id, library, day),
        day,
        id,
        Channel::Letter,
        stage.clone(),
        Some(library.clone()),
        loans
            .iter()
            .map(|l| NoticeLoan {
                loan_id: l.id.clone(),
                due_date: l.due_date,
                stage: stage.clone(),
            })
            .collect(),
    );
    Letter {
        notice,
        stage,
        patron,
        loans,
    }
}

/// Peak resident memory so far, in MB (Linux; 0 elsewhere).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut total: usize = 10_000;
    let mut out: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            n => total = n.parse().expect("usage: letters_bench [N] [--out DIR]"),
        }
    }
    let libraries = total.div_ceil(BATCH);
    let config = config(libraries);
    let day = NaiveDate::from_ymd_opt(2026, 11, 29).expect("date");
    let mut rng = Lcg(7);

    let start = Instant::now();
    let (mut pages, mut largest_letters, mut largest_bytes, mut rss_first) = (0, 0, 0, 0.0);
    for (b, library) in config.libraries.iter().enumerate() {
        let in_batch = BATCH.min(total - b * BATCH);
        let letters: Vec<Letter> = (0..in_batch)
            .map(|i| letter(&mut rng, b * BATCH + i, &library.code, day))
            .collect();
        let stages: Vec<_> = letters
            .iter()
            .map(|l| {
                config
                    .ladder
                    .get(&l.stage)
                    .expect("stage of the standard ladder")
            })
            .collect();
        let mut views: Vec<LetterView<'_>> = letters
            .iter()
            .zip(&stages)
            .map(|(l, stage)| LetterView {
                config: &config,
                notice: &l.notice,
                stage,
                patron: &l.patron,
                loans: &l.loans,
                send_day: day,
            })
            .collect();
        views.sort_by(batch_order);
        let batch = render_batch(&views).expect("batch renders");
        pages += batch.pages;
        let bytes = batch.pdf.len() + batch.letters.iter().map(|l| l.pdf.len()).sum::<usize>();
        if bytes > largest_bytes {
            (largest_letters, largest_bytes) = (views.len(), bytes);
        }
        if b == 0 {
            rss_first = peak_rss_mb();
            if let Some(dir) = &out {
                std::fs::create_dir_all(dir).expect("output folder");
                std::fs::write(dir.join("batch.pdf"), &batch.pdf).expect("write batch");
                std::fs::write(dir.join("manifest.csv"), &batch.manifest_csv)
                    .expect("write manifest");
                for (view, letter) in views.iter().zip(&batch.letters).take(5) {
                    let name = format!("{}.pdf", view.patron.id.file_stem());
                    std::fs::write(dir.join(name), &letter.pdf).expect("write letter");
                }
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "letters: {total} letters ({pages} pages) in {libraries} batches in {seconds:.2}s = {:.0} letters/s",
        total as f64 / seconds
    );
    println!(
        "letters: largest batch {largest_letters} letters, {:.1} MB (batch.pdf + letters); peak memory {rss_first:.0} MB after the first batch, {:.0} MB at the end",
        largest_bytes as f64 / 1e6,
        peak_rss_mb()
    );
}
