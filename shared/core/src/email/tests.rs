//! Emails composed end to end and read back with mail-parser.

use mail_parser::MimeHeaders;

use super::fixtures::{Case, header_block, loan, parse};
use super::view::View;
use super::{RenderError, Templates, compose, templates};
use crate::model::Language;

/// The rendered parts of a case, for snapshots and wording checks.
fn rendered(case: &Case) -> templates::Rendered {
    let notice = case.email_notice();
    let language = case
        .patron
        .language
        .unwrap_or(case.config.institution.default_language);
    let view = View::of(&notice, language).unwrap();
    templates::render(&Templates::shipped().env, &view).unwrap()
}

fn header_count(message: &mail_parser::Message<'_>, name: &str) -> usize {
    message
        .headers()
        .iter()
        .filter(|h| h.name().eq_ignore_ascii_case(name))
        .count()
}

fn raw_header(message: &mail_parser::Message<'_>, name: &str) -> String {
    message
        .header_raw(name)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[test]
fn a_reminder_carries_sender_reply_address_patron_ids_and_reference_in_its_headers() {
    let case = Case::first_reminder();
    let email = case.compose();
    let message = parse(&email);
    let reference = case.notice.reference.as_str();

    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some("contentieux@bibliotheques.example.fr"));
    assert_eq!(
        from.name(),
        Some("Service du contentieux des bibliothèques")
    );
    let reply_to = message.reply_to().unwrap().first().unwrap();
    assert_eq!(
        reply_to.address(),
        Some("reponses@bibliotheques.example.fr")
    );
    let to = message.to().unwrap().first().unwrap();
    assert_eq!(to.address(), Some("camille.martin@etu.example.fr"));
    assert_eq!(to.name(), Some("Camille Martin"));

    assert_eq!(message.subject(), Some(email.subject.as_str()));
    assert_eq!(
        email.subject,
        format!("Premier rappel : documents en retard – Réf. {reference}")
    );
    let expected_id = format!("relance.{}@bibliotheques.example.fr", case.notice.id);
    assert_eq!(email.message_id, expected_id);
    assert_eq!(message.message_id(), Some(expected_id.as_str()));
    assert_eq!(
        message.date().unwrap().to_timestamp(),
        case.sent_at.timestamp()
    );
    assert_eq!(raw_header(&message, "Auto-Submitted"), "auto-generated");
    assert_eq!(raw_header(&message, "Content-Language"), "fr");
    assert_eq!(raw_header(&message, "X-Relance-Reference"), reference);

    assert_eq!(
        message.root_part().content_type().unwrap().subtype(),
        Some("alternative")
    );
    assert_eq!(message.text_body_count(), 1);
    assert_eq!(message.html_body_count(), 1);
    let text_part = message.text_part(0).unwrap();
    assert_eq!(
        text_part.content_type().unwrap().attribute("charset"),
        Some("utf-8")
    );
    let text = message.body_text(0).unwrap();
    assert!(text.contains(&format!("Réf. {reference}")), "{text}");
    assert!(
        message
            .body_html(0)
            .unwrap()
            .contains(&format!("Réf. {reference}"))
    );
}

#[test]
fn loans_are_listed_in_one_section_per_library_in_listing_order_then_the_recap() {
    let email = Case::first_reminder().compose();
    let text = parse(&email).body_text(0).unwrap().replace("\r\n", "\n");
    let recap = text
        .find("Pour mémoire, vos autres documents en retard au 29/11/2026 :")
        .expect("a recap");
    let (listed, recap_part) = text.split_at(recap);
    let at = |needle: &str| {
        assert_eq!(
            listed.matches(needle).count(),
            1,
            "{needle:?} once in:\n{listed}"
        );
        listed.find(needle).unwrap()
    };
    let droit = at("== Bibliothèque Droit et économie ==");
    let lettres = at("== Bibliothèque Lettres et sciences humaines ==\nDomaine universitaire");
    let sciences = at("== Bibliothèque Sciences et techniques ==\nAllée Baudour");
    assert!(droit < lettres && lettres < sciences, "{text}");
    // Both Lettres loans sit under the one Lettres heading.
    assert!(lettres < at("Les Misérables") && at("Du côté de chez Swann") < sciences);
    assert!(at("Analyse numérique") > sciences);
    // The library's contact: address, phone and its public (not print) address.
    assert!(text.contains("Domaine universitaire, Esplanade des Antilles, 33600 Pessac\nTél. : 05 40 00 00 01\nCourriel : bu-lettres@bibliotheques.example.fr"));
    assert!(!text.contains("impression-lsh"));
    // The recap is grouped by library too, in listing order, with days overdue.
    let recap_lettres = recap_part.find("== Bibliothèque Lettres").unwrap();
    let recap_sciences = recap_part.find("== Bibliothèque Sciences").unwrap();
    assert!(recap_lettres < recap_sciences);
    assert!(recap_part.contains("Le Rouge et le Noir – Stendhal"));
    assert!(recap_part.contains("À rendre le 10/11/2026 : 19 jours de retard"));
}

#[test]
fn loans_given_out_of_order_still_get_one_section_per_library() {
    let mut case = Case::first_reminder();
    case.loans.swap(0, 3);
    let text = rendered(&case).text;
    assert_eq!(
        text.matches("== Bibliothèque Lettres").count(),
        2,
        "main and recap:\n{text}"
    );
}

#[test]
fn french_day_counts_take_the_plural_from_two() {
    let text = rendered(&Case::first_reminder()).text;
    assert!(
        text.contains("À rendre le 22/11/2026 : 7 jours de retard"),
        "{text}"
    );
    assert!(
        text.contains("À rendre le 28/11/2026 : 1 jour de retard"),
        "{text}"
    );
    let mut courtesy = Case::courtesy();
    courtesy.patron.language = None;
    courtesy.loans[1].due_date = super::fixtures::day("2026-11-30");
    let text = rendered(&courtesy).text;
    assert!(
        text.contains("À rendre le 02/12/2026 (dans 3 jours)"),
        "{text}"
    );
    assert!(text.contains("À rendre le 30/11/2026 (demain)"), "{text}");
}

#[test]
fn subject_and_body_agree_on_the_reminder_number() {
    for (number, french, english) in [
        (1, "Premier rappel", "First reminder"),
        (2, "Deuxième rappel", "Second reminder"),
        (3, "3e rappel", "Reminder 3"),
    ] {
        let mut case = Case::first_reminder().with_reminder(number);
        let fr = rendered(&case);
        assert!(
            fr.subject
                .starts_with(&format!("{french} : documents en retard – Réf. "))
        );
        assert!(
            fr.text
                .contains(&format!("\n{french} : documents en retard\n"))
        );
        assert!(
            fr.html
                .contains(&format!(">{french} : documents en retard</h1>"))
        );
        case.patron.language = Some(Language::En);
        let en = rendered(&case);
        assert!(
            en.subject
                .starts_with(&format!("{english}: overdue items – Ref. "))
        );
        assert!(en.text.contains(&format!("\n{english}: overdue items\n")));
        assert!(en.html.contains(&format!(">{english}: overdue items</h1>")));
    }
}

#[test]
fn a_line_break_in_the_patron_name_adds_no_header() {
    let mut case = Case::first_reminder();
    case.patron.full_name = "Camille\r\nBcc: evil@example.com".into();
    let email = case.compose();
    let message = parse(&email);
    assert!(message.bcc().is_none());
    assert_eq!(header_count(&message, "Bcc"), 0);
    assert_eq!(header_count(&message, "To"), 1);
    let to: Vec<_> = message.to().unwrap().iter().collect();
    assert_eq!(to.len(), 1);
    assert_eq!(to[0].address(), Some("camille.martin@etu.example.fr"));
    assert_eq!(to[0].name(), Some("Camille Bcc: evil@example.com"));
    let headers = String::from_utf8(header_block(&email).to_vec()).unwrap();
    assert!(
        !headers.to_ascii_lowercase().contains("\nbcc:"),
        "{headers}"
    );
    // The body's greeting stays on its line too.
    assert!(
        rendered(&case)
            .text
            .starts_with("Bonjour Camille Bcc: evil@example.com,\n")
    );
}

#[test]
fn non_ascii_names_come_back_intact_and_header_lines_stay_ascii() {
    for name in ["Zoë Ñúñez-Łukasiewicz", "Nguyễn Thị Minh"] {
        let mut case = Case::first_reminder();
        case.patron.full_name = name.into();
        let email = case.compose();
        let message = parse(&email);
        assert_eq!(message.to().unwrap().first().unwrap().name(), Some(name));
        let headers = header_block(&email);
        assert!(headers.is_ascii());
        // RFC 5322's hard limit; the 78 it recommends is exceeded by the From line
        // when a long encoded name leaves no room to fold before the address.
        assert!(headers.split(|&b| b == b'\n').all(|l| l.len() <= 998));
        assert_eq!(message.subject(), Some(email.subject.as_str()));
    }
}

#[test]
fn the_language_is_the_patrons_else_the_institutions_default() {
    let language_of = |patron: Option<Language>, default: &str| {
        let mut case = Case::first_reminder();
        case.patron.language = patron;
        case.config.institution.default_language = Language::parse(default).unwrap();
        let email = case.compose();
        let message = parse(&email);
        (raw_header(&message, "Content-Language"), email.subject)
    };
    let (lang, subject) = language_of(Some(Language::En), "fr");
    assert_eq!(lang, "en");
    assert!(
        subject.starts_with("First reminder: overdue items – Ref. R"),
        "{subject}"
    );
    let (lang, subject) = language_of(None, "fr");
    assert_eq!(lang, "fr");
    assert!(subject.starts_with("Premier rappel"), "{subject}");
    assert_eq!(language_of(None, "en").0, "en");
    assert_eq!(language_of(Some(Language::Fr), "en").0, "fr");
}

#[test]
fn a_courtesy_email_counts_days_until_due_and_has_no_recap() {
    let case = Case::courtesy();
    let email = case.compose();
    assert!(
        email
            .subject
            .starts_with("Courtesy notice: your items are due soon – Ref. R")
    );
    let parts = rendered(&case);
    assert!(
        parts.text.contains("Due 2 December 2026 (in 3 days)"),
        "{}",
        parts.text
    );
    assert!(parts.html.contains(">in 3 days</td>"), "{}", parts.html);
    for part in [&parts.text, &parts.html] {
        assert!(
            !part.contains("Middlemarch") && !part.contains("other overdue"),
            "{part}"
        );
    }
    let mut french = Case::courtesy();
    french.patron.language = None;
    assert!(
        french
            .compose()
            .subject
            .starts_with("Courtoisie : vos documents sont à rendre bientôt – Réf. R")
    );
}

#[test]
fn the_html_part_fetches_nothing_links_only_the_reply_address_and_escapes_data() {
    let mut case = Case::first_reminder();
    case.loans[0].item.title = "<script>alert(1)</script> & <img src=x>".into();
    case.patron.full_name = "Camille \"<b>\" Martin".into();
    let email = case.compose();
    let message = parse(&email);
    let html = message.body_html(0).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<b>"));
    assert!(!html.contains("<link") && !html.contains("url("));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; &lt;img src=x&gt;"));
    assert!(
        html.contains("Bonjour Camille &quot;&lt;b&gt;&quot; Martin,"),
        "{html}"
    );
    let hrefs: Vec<_> = html
        .match_indices("href=")
        .map(|(i, _)| &html[i..])
        .collect();
    assert_eq!(hrefs.len(), 1);
    assert!(hrefs[0].starts_with("href=\"mailto:reponses@bibliotheques.example.fr\""));
    // The text part is not HTML: nothing is escaped there.
    let text = message.body_text(0).unwrap();
    assert!(
        text.contains("* <script>alert(1)</script> & <img src=x>"),
        "{text}"
    );
}

#[test]
fn a_library_missing_from_the_config_is_headed_by_its_code() {
    let case = Case::new(
        "first_reminder",
        vec![loan("L3001 | MUS | Le Sacre du printemps | | | 2026-11-22")],
        Vec::new(),
    );
    let text = rendered(&case).text;
    assert!(
        text.contains("== MUS ==\n\n  * Le Sacre du printemps"),
        "{text}"
    );
}

#[test]
fn a_letter_stage_cannot_be_emailed() {
    let mut case = Case::first_reminder();
    case.stage.kind = crate::ladder::StageKind::Letter;
    let err = compose(&Templates::shipped(), &case.email_notice()).unwrap_err();
    assert!(
        matches!(err, RenderError::LetterStage(ref s) if s == "first_reminder"),
        "{err}"
    );
}

#[test]
fn french_first_reminder_text() {
    let parts = rendered(&Case::first_reminder());
    insta::assert_snapshot!(format!("Subject: {}\n\n{}", parts.subject, parts.text));
}

#[test]
fn english_courtesy_text() {
    let parts = rendered(&Case::courtesy());
    insta::assert_snapshot!(format!("Subject: {}\n\n{}", parts.subject, parts.text));
}

#[test]
fn a_single_loan_is_spoken_of_in_the_singular() {
    let mut case = Case::first_reminder();
    case.loans.truncate(1);
    let text = rendered(&case).text;
    assert!(
        text.contains("le document ci-dessous n'a pas été rendu"),
        "{text}"
    );
    case.patron.language = Some(Language::En);
    let text = rendered(&case).text;
    assert!(text.contains("the item below was not returned"), "{text}");
}

#[test]
fn without_a_sender_name_the_institution_signs_and_from_is_the_bare_address() {
    let mut case = Case::first_reminder();
    case.config.mail.from.name = None;
    let email = case.compose();
    let message = parse(&email);
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.name(), None);
    assert_eq!(from.address(), Some("contentieux@bibliotheques.example.fr"));
    let text = rendered(&case).text;
    assert!(
        text.contains("Cordialement,\n\nUniversité de Bordeaux\n\nRéf. R"),
        "{text}"
    );
}
