//! The page's labels in the institution's language (`default_language`): the
//! template reads them as `t`, page.rs builds its strings from them.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::forecast::DeferredLetters;
use crate::model::Language;

/// The page's labels in one language.
#[derive(Serialize)]
pub(super) struct Labels {
    /// `<html lang>`.
    pub lang: &'static str,
    /// Dates shown to people (`data-` attributes keep ISO dates).
    pub date: &'static str,
    /// When the page was made.
    pub date_time: &'static str,
    /// Before a colon: nothing in English, a space in French.
    pub colon: &'static str,
    pub semicolon: &'static str,
    /// Short weekday names, Monday first.
    pub weekdays: [&'static str; 7],
    pub title: &'static str,
    pub goes_out_on: &'static str,
    pub preview_made: &'static str,
    pub nothing_sent: &'static str,
    pub run_of: &'static str,
    pub plans: &'static str,
    pub already_planned: &'static str,
    pub per_stage: &'static str,
    pub stage: &'static str,
    pub change: &'static str,
    pub total: &'static str,
    pub recorded: &'static str,
    pub dry_run: &'static str,
    pub counted_under: &'static str,
    pub would_deliver: &'static str,
    pub emails_to_send: &'static str,
    pub letters_to_print: &'static str,
    pub planned_to_print: &'static str,
    pub turned_into_letters: &'static str,
    pub cancelled: &'static str,
    pub held_back: &'static str,
    pub retried: &'static str,
    pub skipped: &'static str,
    pub open_days: &'static str,
    pub delivered_on: &'static str,
    pub deferred_from: &'static str,
    pub waits: &'static str,
    pub no_open_day: &'static str,
    pub per_library: &'static str,
    pub per_library_note: &'static str,
    pub library: &'static str,
    pub forecast_next: &'static str,
    pub forecast_days: &'static str,
    pub forecast_note: &'static str,
    pub most_letters: &'static str,
    pub on: &'static str,
    pub no_letter: &'static str,
    pub chart_caption: &'static str,
    pub day_by_day: &'static str,
    pub day: &'static str,
    pub held_closed: &'static str,
    /// Letters printed after waiting: one, several.
    pub letters_one_many: [&'static str; 2],
    pub of_library: &'static str,
    pub deferred_one_many: [&'static str; 2],
    pub notices: &'static str,
    pub nothing_goes_out: &'static str,
    pub print_batch: &'static str,
    pub library_email: &'static str,
    pub reference: &'static str,
    pub patron: &'static str,
    pub items: &'static str,
    pub outcome: &'static str,
    pub message: &'static str,
    pub due: &'static str,
    pub other_libraries: &'static str,
    pub pending_since: &'static str,
    pub show_email: &'static str,
    pub email: &'static str,
    pub letter_pdf: &'static str,
    pub unknown_stage: &'static str,
    pub emails: &'static str,
    pub print_fallback: &'static str,
    pub due_today: &'static str,
    pub due_in: &'static str,
    pub days: &'static str,
    pub days_overdue: &'static str,
    pub no_usable_email: &'static str,
    pub not_in_store: &'static str,
    pub would_be_sent: &'static str,
    pub would_be_printed: &'static str,
    pub cancelled_nothing_left: &'static str,
    pub goes_to_print: &'static str,
    pub held_back_because: &'static str,
    pub stays_pending: &'static str,
}

pub(super) const FR: Labels = Labels {
    lang: "fr",
    date: "%d/%m/%Y",
    date_time: "%d/%m/%Y %H:%M %Z",
    colon: " :",
    semicolon: " ;",
    weekdays: ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
    title: "Aperçu Relance",
    goes_out_on: "Ce qui part le",
    preview_made: "aperçu fait le",
    nothing_sent: "rien n'a été envoyé ni enregistré",
    run_of: "L'exécution du",
    plans: "planifie",
    already_planned: "est déjà planifié : l'exécution ne ferait que relancer ce qui reste en attente.",
    per_stage: "Nouveaux avis par étape",
    stage: "étape",
    change: "écart",
    total: "total",
    recorded: "tel que le registre l'a enregistré lors des exécutions de ce jour",
    dry_run: "aucune exécution de ce jour n'est enregistrée : ce que run --dry-run pour ce jour \
              planifierait maintenant",
    counted_under: "Une lettre compte à l'étape la plus haute de ses prêts (un repli sur \
                    l'impression, à sa relance).",
    would_deliver: "Ce que l'exécution enverrait",
    emails_to_send: "courriels à envoyer",
    letters_to_print: "lettres à imprimer",
    planned_to_print: "prêts en relance prévus à l'impression (sans courriel utilisable)",
    turned_into_letters: "courriels changés en lettres",
    cancelled: "annulés (tous les prêts rendus ou prolongés)",
    held_back: "lettres retenues (p. ex. sans adresse postale)",
    retried: "avis en attente des jours passés relancés",
    skipped: "prêts écartés",
    open_days: "Jours d'ouverture",
    delivered_on: "remis le",
    deferred_from: "reporté depuis le",
    waits: "en attente",
    no_open_day: "aucun jour d'ouverture en vue",
    per_library: "Nouveaux avis par bibliothèque",
    per_library_note: "Un courriel qui liste des prêts de plusieurs bibliothèques compte pour \
                       chacune d'elles.",
    library: "bibliothèque",
    forecast_next: "Prévision : les",
    forecast_days: "prochains jours",
    forecast_note: "Les nouveaux avis qu'une exécution quotidienne déciderait, d'après les dates \
                    de retour des prêts en cours, si aucun n'est rendu ni prolongé.",
    most_letters: "Le plus de lettres à imprimer :",
    on: "le",
    no_letter: "Aucune lettre à imprimer sur cette période.",
    chart_caption: "Empilés par jour : les courriels par étape, et les lettres à imprimer \
                    (étape lettre et replis sur l'impression).",
    day_by_day: "Les chiffres, jour par jour",
    day: "jour",
    held_closed: "retenues : bibliothèque fermée",
    letters_one_many: ["lettre", "lettres"],
    of_library: "de",
    deferred_one_many: ["reportée depuis le", "reportées depuis le"],
    notices: "Avis, par étape et par bibliothèque",
    nothing_goes_out: "Rien ne part le",
    print_batch: "lot à imprimer (PDF)",
    library_email: "le courriel à la bibliothèque (.eml)",
    reference: "référence",
    patron: "lecteur",
    items: "documents",
    outcome: "résultat",
    message: "message",
    due: "à rendre le",
    other_libraries: "Même avis, autres bibliothèques",
    pending_since: "en attente depuis le",
    show_email: "voir le courriel",
    email: "courriel",
    letter_pdf: "lettre (PDF)",
    unknown_stage: "étape inconnue",
    emails: "courriels",
    print_fallback: "lettres à imprimer (repli sur l'impression)",
    due_today: "à rendre aujourd'hui",
    due_in: "à rendre dans",
    days: "jours",
    days_overdue: "jours de retard",
    no_usable_email: "aucun courriel utilisable",
    not_in_store: "lecteur absent de la base",
    would_be_sent: "serait envoyé",
    would_be_printed: "serait imprimé",
    cancelled_nothing_left: "annulé : tous les prêts rendus ou prolongés depuis la planification",
    goes_to_print: "passe à l'impression : le lecteur n'a pas de courriel utilisable",
    held_back_because: "retenu",
    stays_pending: "reste en attente",
};

pub(super) const EN: Labels = Labels {
    lang: "en",
    date: "%Y-%m-%d",
    date_time: "%Y-%m-%d %H:%M %Z",
    colon: ":",
    semicolon: ";",
    weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    title: "Relance preview",
    goes_out_on: "What goes out on",
    preview_made: "preview made",
    nothing_sent: "nothing was sent or recorded",
    run_of: "The run of",
    plans: "plans",
    already_planned: "is already planned: the run would only retry what is still pending.",
    per_stage: "New notices per stage",
    stage: "stage",
    change: "change",
    total: "total",
    recorded: "as recorded in the ledger by the runs of that day",
    dry_run: "no run of that day is recorded: what run --dry-run for that day would plan now",
    counted_under: "A letter is counted under the highest stage of its loans (a print \
                    fallback under its reminder).",
    would_deliver: "What the run would deliver",
    emails_to_send: "emails to send",
    letters_to_print: "letters to print",
    planned_to_print: "reminder loans planned to print (no usable email)",
    turned_into_letters: "emails turned into letters",
    cancelled: "cancelled (every loan returned or renewed)",
    held_back: "letters held back (e.g. no postal address)",
    retried: "pending notices of earlier days retried",
    skipped: "loans skipped",
    open_days: "Open days",
    delivered_on: "delivered on",
    deferred_from: "deferred from",
    waits: "waits",
    no_open_day: "no open day in sight",
    per_library: "New notices per library",
    per_library_note: "An email listing loans of several libraries counts for each of them.",
    library: "library",
    forecast_next: "Forecast: the next",
    forecast_days: "days",
    forecast_note: "New notices a daily run would decide, from the due dates of the loans \
                    open now, assuming none is returned or renewed.",
    most_letters: "Most letters to print:",
    on: "on",
    no_letter: "No letter to print in this period.",
    chart_caption: "Stacked per day: emails by stage, and the letters to print (letter \
                    stage and print fallbacks).",
    day_by_day: "The numbers, day by day",
    day: "day",
    held_closed: "held: library closed",
    letters_one_many: ["letter", "letters"],
    of_library: "of",
    deferred_one_many: ["deferred from", "deferred from"],
    notices: "Notices, per stage and per library",
    nothing_goes_out: "Nothing goes out on",
    print_batch: "print batch (PDF)",
    library_email: "the email to the library (.eml)",
    reference: "reference",
    patron: "patron",
    items: "items",
    outcome: "outcome",
    message: "message",
    due: "due",
    other_libraries: "Same notice, other libraries",
    pending_since: "pending since",
    show_email: "show the email",
    email: "email",
    letter_pdf: "letter (PDF)",
    unknown_stage: "unknown stage",
    emails: "emails",
    print_fallback: "letters to print (print fallback)",
    due_today: "due today",
    due_in: "due in",
    days: "days",
    days_overdue: "days overdue",
    no_usable_email: "no usable email",
    not_in_store: "patron not in the store",
    would_be_sent: "would be sent",
    would_be_printed: "would be printed",
    cancelled_nothing_left: "cancelled: every loan returned or renewed since planning",
    goes_to_print: "goes to print: the patron has no usable email",
    held_back_because: "held back",
    stays_pending: "stays pending",
};

impl Labels {
    /// The labels of a language.
    pub(super) fn of(language: Language) -> &'static Self {
        match language {
            Language::Fr => &FR,
            Language::En => &EN,
        }
    }

    /// A date as shown to people.
    pub(super) fn day(&self, day: NaiveDate) -> String {
        day.format(self.date).to_string()
    }

    /// Letters printed on a day after waiting
    /// (`2 letters of STS deferred from 2026-12-06: … closed (Sunday)`).
    pub(super) fn deferred(&self, d: &DeferredLetters) -> String {
        let n = usize::from(d.letters != 1);
        format!(
            "{} {} {} {} {} {}{} {}",
            d.letters,
            self.letters_one_many[n],
            self.of_library,
            d.library,
            self.deferred_one_many[n],
            self.day(d.from),
            self.colon,
            d.reason
        )
    }

    /// A day's short weekday name.
    pub(super) fn weekday(&self, day: NaiveDate) -> &'static str {
        self.weekdays[day.weekday().num_days_from_monday() as usize]
    }
}

#[cfg(test)]
mod tests;
