//! A library's print batch: pages, order, manifest.

use super::*;
use crate::letter::{
    LetterError, LetterView, batch_order, render_batch, render_batch_in_parts, render_letter,
};

/// Three letters of library STS: a final letter, a 60-item letter, a print fallback.
fn fixtures() -> Vec<Fixture> {
    let zoe = patron("P000300", "Zoë Łukasz", None);
    let fallback = Fixture::new(
        "first_reminder",
        zoe.clone(),
        vec![loan(&zoe, 1, "Chimie organique")],
    );
    let bastien = patron("P000200", "Bastien Roux", None);
    let loans = (1..=60)
        .map(|n| loan(&bastien, n, &format!("Titre n° {n}")))
        .collect();
    let many = Fixture::new("letter", bastien, loans);
    vec![Fixture::camille(), many, fallback]
}

fn sorted<'a>(fixtures: &'a [Fixture]) -> Vec<LetterView<'a>> {
    let mut views: Vec<LetterView<'a>> = fixtures.iter().map(Fixture::view).collect();
    views.sort_by(batch_order);
    views
}

#[test]
fn the_batch_has_the_sum_of_its_letters_pages_and_each_letter_starts_a_page() {
    let fixtures = fixtures();
    let views = sorted(&fixtures);
    let batch = render_batch(&views).unwrap();

    assert_eq!(batch.letters.len(), 3);
    let sum: usize = batch.letters.iter().map(|l| l.pages).sum();
    assert_eq!(batch.pages, sum);
    assert_eq!(page_count(&batch.pdf), sum);
    assert!(sum >= 5);

    let pages = page_lines(&batch.pdf);
    let mut manifest = csv::Reader::from_reader(batch.manifest_csv.as_slice());
    let headers = manifest.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "patron_id",
            "reference",
            "stage",
            "item_count",
            "pages",
            "first_page"
        ]
    );
    let rows: Vec<csv::StringRecord> = manifest.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let mut expected_first = 1;
    for ((row, view), letter) in rows.iter().zip(&views).zip(&batch.letters) {
        assert_eq!(&row[0], view.patron.id.as_str());
        assert_eq!(&row[1], view.notice.reference.as_str());
        assert_eq!(&row[2], view.stage.name.as_str());
        assert_eq!(row[3].parse::<usize>().unwrap(), view.loans.len());
        assert_eq!(row[4].parse::<usize>().unwrap(), letter.pages);
        let first: usize = row[5].parse().unwrap();
        assert_eq!(first, expected_first);
        expected_first += letter.pages;

        // The letter's first page starts with its own letterhead and reference, and
        // its own PDF has the same text as its pages of the batch.
        let page = &pages[first - 1];
        assert_eq!(page[0], "Université de Bordeaux");
        let reference = format!("Réf. {}", view.notice.reference);
        assert!(page.iter().any(|l| l == &reference), "{page:?}");
        assert_eq!(
            &page_lines(&letter.pdf)[..],
            &pages[first - 1..first - 1 + letter.pages]
        );
    }
}

#[test]
fn letters_of_a_batch_are_the_same_as_rendered_alone() {
    let fixtures = fixtures();
    let views = sorted(&fixtures);
    let batch = render_batch(&views).unwrap();
    for (view, letter) in views.iter().zip(&batch.letters) {
        assert_eq!(&render_letter(view).unwrap(), letter);
    }
}

#[test]
fn the_batch_carries_the_print_fallback_with_its_stage() {
    let fixtures = fixtures();
    let batch = render_batch(&sorted(&fixtures)).unwrap();
    let manifest = String::from_utf8(batch.manifest_csv).unwrap();
    assert!(manifest.contains(",first_reminder,1,1,"), "{manifest}");
    assert!(manifest.contains(",letter,60,"), "{manifest}");
    let text = text(&batch.pdf);
    assert!(text.contains("Objet : Premier rappel – documents à rendre"));
    assert!(text.contains("Objet : Dernier rappel – documents à restituer"));
}

#[test]
fn batch_order_is_by_name_ignoring_accents_then_by_patron_id() {
    let names = [
        ("P4", "Zoé Arnaud"),
        ("P3", "Émile Blanc"),
        ("P2", "emma Colin"),
        ("P1", "Emile Blanc"),
        ("P0", "Emile Blanc"),
    ];
    let fixtures: Vec<Fixture> = names
        .iter()
        .map(|(id, name)| {
            let p = patron(id, name, None);
            Fixture::new("letter", p.clone(), vec![loan(&p, 1, "Chimie")])
        })
        .collect();
    let views = sorted(&fixtures);
    let order: Vec<&str> = views.iter().map(|v| v.patron.id.as_str()).collect();
    assert_eq!(order, ["P0", "P1", "P3", "P2", "P4"]);
}

#[test]
fn a_batch_needs_letters_of_exactly_one_library() {
    assert!(matches!(render_batch(&[]), Err(LetterError::Batch(_))));
    let mut fixtures = fixtures();
    fixtures[1].notice.library = Some(LibraryCode::parse("DRT").unwrap());
    let views: Vec<LetterView<'_>> = fixtures.iter().map(Fixture::view).collect();
    assert!(matches!(render_batch(&views), Err(LetterError::Batch(_))));
}

#[test]
fn a_batch_over_the_size_limit_comes_in_consecutive_parts_under_it() {
    let fixtures: Vec<Fixture> = (1..=8)
        .map(|n| {
            let p = patron(&format!("P{n:03}"), &format!("Lecteur n° {n}"), None);
            let loans = (1..=n * 4)
                .map(|i| loan(&p, i, &format!("Titre {i}")))
                .collect();
            Fixture::new("letter", p, loans)
        })
        .collect();
    let views = sorted(&fixtures);
    let whole = render_batch(&views).unwrap();
    assert!(whole.parts.is_empty());
    assert!(
        render_batch_in_parts(&views, whole.pdf.len())
            .unwrap()
            .parts
            .is_empty()
    );

    let max = whole.pdf.len() / 3;
    let batch = render_batch_in_parts(&views, max).unwrap();
    assert_eq!(batch.pdf, whole.pdf, "the batch itself stays whole");
    assert!(batch.parts.len() >= 3, "{} parts", batch.parts.len());
    let batch_pages = page_lines(&batch.pdf);
    let mut next = 0;
    for part in &batch.parts {
        assert_eq!(part.letters.start, next, "parts follow each other");
        assert!(!part.letters.is_empty());
        next = part.letters.end;
        assert!(part.pdf.len() <= max || part.letters.len() == 1);
        let letters = &batch.letters[part.letters.clone()];
        let pages: usize = letters.iter().map(|l| l.pages).sum();
        let first = batch.letters[..part.letters.start]
            .iter()
            .map(|l| l.pages)
            .sum::<usize>();
        assert_eq!(page_lines(&part.pdf), batch_pages[first..first + pages]);

        let mut manifest = csv::Reader::from_reader(part.manifest_csv.as_slice());
        let rows: Vec<csv::StringRecord> = manifest.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), letters.len());
        let mut expected_first = 1;
        for ((row, view), letter) in rows.iter().zip(&views[part.letters.clone()]).zip(letters) {
            assert_eq!(&row[1], view.notice.reference.as_str());
            assert_eq!(row[5].parse::<usize>().unwrap(), expected_first);
            expected_first += letter.pages;
        }
    }
    assert_eq!(next, views.len(), "every letter is in a part");
}
