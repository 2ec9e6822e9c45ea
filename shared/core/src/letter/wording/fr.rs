//! French.

use chrono::{Datelike, NaiveDate};

use super::Wording;

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

fn long_date(day: NaiveDate) -> String {
    let month = MONTHS[day.month0() as usize];
    match day.day() {
        1 => format!("1er {month} {}", day.year()),
        d => format!("{d} {month} {}", day.year()),
    }
}

fn short_date(day: NaiveDate) -> String {
    day.format("%d/%m/%Y").to_string()
}

pub(super) static WORDING: Wording = Wording {
    date_line: "{place}, le {date}",
    reference: "Réf. {reference}",
    patron_number: "N° de lecteur : {patron_id}",
    subject: "Objet : {subject}",
    final_subject: "Dernier rappel – documents à restituer",
    reminder_names: [
        "Premier rappel",
        "Deuxième rappel",
        "Troisième rappel",
        "Quatrième rappel",
        "Cinquième rappel",
    ],
    reminder_name_beyond: "{number}e rappel",
    reminder_subject: "{reminder} – documents à rendre",
    salutation: "Bonjour {name},",
    final_body: &[
        "Malgré nos rappels précédents, les documents ci-dessous, empruntés dans notre bibliothèque, ne nous ont pas été rendus.",
        "Nous vous demandons de bien vouloir les rapporter dans les meilleurs délais. Ce courrier est notre dernier rappel à leur sujet : si vous rencontrez une difficulté (document perdu ou abîmé, impossibilité de vous déplacer…), prenez contact avec nous afin que nous trouvions ensemble une solution.",
    ],
    first_reminder_body: &[
        "Sauf erreur de notre part, les documents ci-dessous, empruntés dans notre bibliothèque, auraient dû être rendus et ne nous sont pas encore revenus. Nous vous remercions de bien vouloir les rapporter dès que possible, afin que d’autres lecteurs puissent à leur tour les emprunter.",
    ],
    later_reminder_body: &[
        "Malgré notre précédent rappel, les documents ci-dessous, empruntés dans notre bibliothèque, ne nous sont pas encore revenus. Nous vous remercions de bien vouloir les rapporter dès que possible.",
    ],
    by_post: "Nous vous adressons ce rappel par courrier car nous ne parvenons pas à vous joindre par courriel. N’hésitez pas à nous communiquer une adresse électronique à jour.",
    columns: [
        "Titre",
        "Auteur",
        "Code-barres",
        "Cote",
        "Retour prévu",
        "Jours de retard",
    ],
    contact_heading: "Pour rendre ces documents ou nous contacter",
    phone: "Tél. {phone}",
    email: "Courriel : {email}",
    quote_reference: "Merci de rappeler la référence {reference} dans toute correspondance.",
    already_returned: "Si vous avez rendu ces documents entre-temps, merci de ne pas tenir compte de ce courrier.",
    closing: "Nous vous prions d’agréer l’expression de nos salutations distinguées.",
    page: "Page {page}/{pages}",
    continued: "{name} – Réf. {reference} (suite)",
    long_date,
    short_date,
};
