//! One letter: its parts, its wording, its items, its languages.

use super::*;
use crate::letter::{LetterError, check_letter, render_letter};

fn rendered_text(fixture: &Fixture) -> (String, usize) {
    let letter = render_letter(&fixture.view()).unwrap();
    assert_eq!(page_count(&letter.pdf), letter.pages);
    (text(&letter.pdf), letter.pages)
}

#[test]
fn a_final_letter_has_every_part() {
    let fixture = Fixture::camille();
    let (text, pages) = rendered_text(&fixture);
    assert_eq!(pages, 1, "{text}");
    let reference = fixture.notice.reference.as_str();
    for part in [
        // letterhead
        "Université de Bordeaux",
        "Bibliothèque Sciences et techniques",
        "Allée Baudour",
        "33400 Talence",
        "Tél. 05 40 00 00 00",
        "Courriel : bu-sciences@bibliotheques.example.fr",
        // address
        "Camille Martin",
        "12 rue Sainte-Catherine",
        "Appartement 3",
        "33000 Bordeaux",
        // place, date, reference, subject, salutation
        "Talence, le 29 novembre 2026",
        &format!("Réf. {reference}"),
        "N° de lecteur : P000123",
        "Objet : Dernier rappel – documents à restituer",
        "Bonjour Camille Martin,",
        // table
        "Titre | Auteur | Code-barres | Cote | Retour | Jours de",
        "Introduction à la physique | Dupont, Marie | 33000012340001 | 530.1 DUP 1 | 25/10/2026 | 35",
        "Thermodynamique : cours et | Dupont, Marie | 33000012340002",
        "exercices corrigés",
        // how to return, signature
        "Pour rendre ces documents ou nous contacter",
        "Allée Baudour, 33400 Talence",
        &format!("Merci de rappeler la référence {reference} dans toute correspondance."),
        "Service du contentieux des bibliothèques",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
    assert!(
        !text.contains("Page 1/1"),
        "a one-page letter has no page number"
    );
    assert!(
        !text.contains("rappel par courrier"),
        "the final letter is no fallback"
    );
}

#[test]
fn a_print_fallback_carries_the_reminder_wording() {
    let camille = patron("P000123", "Camille Martin", None);
    let loans = vec![loan(&camille, 1, "Chimie organique")];
    let (first, _) = rendered_text(&Fixture::new(
        "first_reminder",
        camille.clone(),
        loans.clone(),
    ));
    assert!(
        first.contains("Objet : Premier rappel – documents à rendre"),
        "{first}"
    );
    assert!(
        first.contains("Nous vous adressons ce rappel par courrier"),
        "{first}"
    );
    assert!(!first.contains("Dernier rappel"), "{first}");

    let (second, _) = rendered_text(&Fixture::new(
        "second_reminder",
        camille.clone(),
        loans.clone(),
    ));
    assert!(
        second.contains("Objet : Deuxième rappel – documents à rendre"),
        "{second}"
    );
    assert!(second.contains("Malgré notre précédent rappel"), "{second}");

    let english = patron("P000124", "Sam Taylor", Some(Language::En));
    let (en, _) = rendered_text(&Fixture::new("first_reminder", english, loans));
    assert!(
        en.contains("Subject: First reminder – items to return"),
        "{en}"
    );
    assert!(en.contains("because we cannot reach you by email"), "{en}");
}

#[test]
fn english_patrons_get_an_english_letter() {
    let sam = patron("P000124", "Sam Taylor", Some(Language::En));
    let loans = vec![loan(&sam, 1, "Organic Chemistry")];
    let (text, _) = rendered_text(&Fixture::new("letter", sam, loans));
    for part in [
        "Talence, 29 November 2026",
        "Ref. R",
        "Subject: Final reminder – items to be returned",
        "Dear Sam Taylor,",
        "Title | Author | Barcode | Call number | Due date | Days",
        "Organic Chemistry | Dupont, Marie | 33000012340001 | 530.1 DUP 1 | 25 Oct 2026 | 35",
        "Yours sincerely,",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
}

#[test]
fn sixty_items_continue_on_further_pages_with_every_title_and_page_numbers() {
    let fixture = Fixture::many(60);
    let (text, pages) = rendered_text(&fixture);
    assert!(pages >= 3, "{pages} pages");
    for n in 1..=60 {
        let cell = format!("Titre n° {n} | ");
        assert_eq!(text.matches(&cell).count(), 1, "title {n} once in\n{text}");
    }
    let by_page: Vec<&str> = text.split("--- page ").skip(1).collect();
    for (i, page) in by_page.iter().enumerate() {
        assert!(
            page.contains(&format!("Page {}/{pages}", i + 1)),
            "page {i}: {page}"
        );
        if i > 0 {
            assert!(
                page.contains("Camille Martin – Réf."),
                "running head on page {i}"
            );
        }
        if page.contains("Titre n° ") {
            assert!(
                page.contains("Titre | Auteur | Code-barres"),
                "heading repeated on page {i}"
            );
        }
    }
    assert!(
        by_page
            .last()
            .unwrap()
            .contains("Service du contentieux des bibliothèques")
    );
}

#[test]
fn rows_are_never_cut_across_pages() {
    let camille = patron("P000123", "Camille Martin", None);
    let long = "Une histoire très détaillée des bibliothèques universitaires françaises, de leurs collections et de leurs lecteurs";
    let loans = (1..=45)
        .map(|n| loan(&camille, n, &format!("{long} ({n})")))
        .collect();
    let fixture = Fixture::new("letter", camille, loans);
    let pdf = render_letter(&fixture.view()).unwrap().pdf;
    let chars = drawn(&pdf);
    // Every line of a row carries the row's number at the end of its title: the
    // characters of one barcode (one per row) and of its whole title share a page.
    for n in 1..=45 {
        let barcode = format!("3300001234{n:04}");
        let pages_of_barcode = pages_containing(&pdf, &barcode);
        let title_end = format!("({n})");
        let pages_of_title_end = pages_containing(&pdf, &title_end);
        assert_eq!(pages_of_barcode.len(), 1, "row {n}");
        assert_eq!(pages_of_barcode, pages_of_title_end, "row {n} is cut");
    }
    assert!(chars.iter().all(|c| c.baseline < 290.0 * 72.0 / 25.4));
}

fn pages_containing(pdf: &[u8], needle: &str) -> Vec<usize> {
    page_lines(pdf)
        .iter()
        .enumerate()
        .filter(|(_, lines)| lines.iter().any(|l| l.contains(needle)))
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn a_300_character_title_wraps_within_its_column_and_is_complete() {
    let camille = patron("P000123", "Camille Martin", None);
    let words = [
        "Mémoires",
        "d’outre-tombe",
        "édition",
        "critique",
        "annotée",
        "établie",
        "par",
        "l’équipe",
    ];
    let mut title = String::new();
    for word in words.iter().cycle() {
        if title.chars().count() + word.chars().count() + 1 > 300 {
            break;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    while title.chars().count() < 300 {
        title.push('x');
    }
    let fixture = Fixture::new("letter", camille.clone(), vec![loan(&camille, 1, &title)]);
    let pdf = render_letter(&fixture.view()).unwrap().pdf;
    let mm = 72.0 / 25.4;
    let column: Vec<Drawn> = drawn(&pdf)
        .into_iter()
        .filter(|c| c.size < 8.1 && c.x >= 20.0 * mm && c.x < 74.0 * mm && c.page == 0)
        .collect();
    assert!(
        column.iter().all(|c| c.end <= 74.0 * mm + 0.5),
        "title stays in its column"
    );
    let lines = page_lines(&pdf)[0].clone();
    let cells: Vec<String> = lines
        .iter()
        .filter_map(|l| l.split(" | ").next())
        .filter(|cell| title.contains(cell.trim()) && cell.trim().len() > 3)
        .map(|cell| cell.trim().to_owned())
        .collect();
    assert!(cells.len() > 5, "wrapped over many lines: {cells:?}");
    assert_eq!(cells.join(" "), title);
}

#[test]
fn accents_and_names_in_other_latin_scripts_come_out_intact() {
    let patron = patron("P000125", "Zoë Łukasz-Nguyễn", None);
    let titles = ["L’œuvre « complète » de Ça", "Été à l’hôtel : coût 12 €"];
    let loans = vec![loan(&patron, 1, titles[0]), loan(&patron, 2, titles[1])];
    let fixture = Fixture::new("letter", patron.clone(), loans);
    let (text, _) = rendered_text(&fixture);
    for part in [
        "Zoë Łukasz-Nguyễn",
        "Bonjour Zoë Łukasz-Nguyễn,",
        titles[0],
        titles[1],
        "d’agréer l’expression de nos salutations distinguées",
        "Allée Baudour",
        "Dernier rappel – documents à restituer",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
}

#[test]
fn notices_that_cannot_be_printed_are_refused() {
    let mut fixture = Fixture::camille();
    fixture.loans.clear();
    assert!(matches!(
        render_letter(&fixture.view()),
        Err(LetterError::NoLoans { .. })
    ));

    let mut fixture = Fixture::camille();
    assert!(check_letter(&fixture.view()).is_ok());
    fixture.patron.address = PostalAddress::default();
    assert!(matches!(
        render_letter(&fixture.view()),
        Err(LetterError::NoPostalAddress { .. })
    ));
    assert_eq!(
        check_letter(&fixture.view()).map_err(|e| e.to_string()),
        render_letter(&fixture.view())
            .map(|_| ())
            .map_err(|e| e.to_string())
    );

    let mut fixture = Fixture::camille();
    fixture.notice.channel = Channel::Email;
    assert!(matches!(
        render_letter(&fixture.view()),
        Err(LetterError::NotALetter { .. })
    ));

    let mut fixture = Fixture::camille();
    fixture.notice.library = Some(LibraryCode::parse("NOPE").unwrap());
    assert!(matches!(
        render_letter(&fixture.view()),
        Err(LetterError::UnknownLibrary { .. })
    ));

    let camille = patron("P000123", "Camille Martin", None);
    let loans = vec![loan(&camille, 1, "Chimie")];
    let courtesy = Fixture::new("courtesy", camille, loans);
    assert!(matches!(
        render_letter(&courtesy.view()),
        Err(LetterError::CourtesyStage { .. })
    ));
}

#[test]
fn the_french_letter_text_is_as_reviewed() {
    let (text, _) = rendered_text(&Fixture::camille());
    insta::assert_snapshot!("letter_fr", text);
}

#[test]
fn the_english_letter_text_is_as_reviewed() {
    let sam = patron("P000124", "Sam Taylor", Some(Language::En));
    let loans = vec![
        loan(&sam, 1, "Organic Chemistry"),
        loan(
            &sam,
            2,
            "A Very Long Title About the History of Science in Aquitaine, with Maps and Plates",
        ),
    ];
    let (text, _) = rendered_text(&Fixture::new("letter", sam, loans));
    insta::assert_snapshot!("letter_en", text);
}
