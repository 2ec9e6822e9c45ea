//! The template sets: French and English templates shipped in the binary, each
//! overridable by name from the config's templates folder.

use minijinja::{Environment, UndefinedBehavior};

use super::RenderError;
use super::line::single_line;
use super::view::View;

/// The shipped templates, under the names an override uses. `common.txt` holds
/// the macros (title, plurals) shared by the subject and both bodies, so the
/// reminder's number and wording agree between them.
pub(super) const SHIPPED: &[(&str, &str)] = &[
    ("fr/common.txt", include_str!("templates/fr/common.txt")),
    ("fr/subject.txt", include_str!("templates/fr/subject.txt")),
    ("fr/body.txt", include_str!("templates/fr/body.txt")),
    ("fr/body.html", include_str!("templates/fr/body.html")),
    ("en/common.txt", include_str!("templates/en/common.txt")),
    ("en/subject.txt", include_str!("templates/en/subject.txt")),
    ("en/body.txt", include_str!("templates/en/body.txt")),
    ("en/body.html", include_str!("templates/en/body.html")),
];

/// What a notice renders to.
#[derive(Debug, Clone)]
pub(super) struct Rendered {
    /// On one line, never empty.
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
}

/// An environment holding the shipped templates.
pub(super) fn shipped() -> Environment<'static> {
    let mut env = Environment::new();
    // Block tags on their own line leave no blank line behind, so the templates
    // can be laid out for reading.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    // A misspelt variable is an error, found when overrides are loaded, rather
    // than a blank in a patron's email.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // The default auto-escape callback escapes names ending in `.html` and
    // leaves `.txt` alone, which is what both parts need.
    for (name, source) in SHIPPED {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("shipped template {name} does not compile: {e:#}"));
    }
    env
}

/// Replaces or adds one template; names the email does not use are kept, as
/// the others may import them.
pub(super) fn add_override(
    env: &mut Environment<'static>,
    name: String,
    source: String,
) -> Result<(), RenderError> {
    env.add_template_owned(name.clone(), source)
        .map_err(|e| template_error(&name, &e))
}

/// Renders every sample context, so that a broken override is refused at load.
pub(super) fn check(env: &Environment<'static>) -> Result<(), RenderError> {
    View::samples()
        .iter()
        .try_for_each(|view| render(env, view).map(drop))
}

/// Renders the subject and both bodies of a context, in its language.
pub(super) fn render(env: &Environment<'static>, view: &View) -> Result<Rendered, RenderError> {
    let name = |part: &str| format!("{}/{part}", view.lang);
    // Converted once for the three templates rather than serialized by each.
    let view = minijinja::Value::from_serialize(view);
    let view = &view;
    let subject_name = name("subject.txt");
    let subject = single_line(&render_one(env, &subject_name, view)?);
    if subject.is_empty() {
        return Err(RenderError::Template {
            name: subject_name,
            reason: "renders an empty subject".to_owned(),
        });
    }
    let text = tidy(&render_one(env, &name("body.txt"), view)?);
    let html = tidy(&render_one(env, &name("body.html"), view)?);
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

fn render_one(
    env: &Environment<'static>,
    name: &str,
    view: &minijinja::Value,
) -> Result<String, RenderError> {
    env.get_template(name)
        .and_then(|t| t.render(view))
        .map_err(|e| template_error(name, &e))
}

/// No trailing spaces (quoted-printable has to encode them), no blank lines
/// around the body, and one blank line at most where optional parts were left out.
fn tidy(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut blank = false;
    for line in body.lines().map(str::trim_end) {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Names the template where the error is (an imported one, if it is there).
fn template_error(name: &str, error: &minijinja::Error) -> RenderError {
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    RenderError::Template {
        name: error.name().unwrap_or(name).to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::fixtures::{Case, parse};
    use crate::email::{Templates, compose};
    use crate::model::Language;

    fn file(name: &str, source: &str) -> (String, String) {
        (name.to_owned(), source.to_owned())
    }

    #[test]
    fn the_shipped_templates_render_every_sample() {
        assert!(Templates::with_overrides(Vec::new()).is_ok());
        assert_eq!(Templates::shipped_files().len(), 8);
    }

    #[test]
    fn templates_can_be_loaded_once_and_shared_between_tasks() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Templates>();
    }

    #[test]
    fn an_override_of_the_english_subject_changes_only_that_subject() {
        let source = "{% import \"en/common.txt\" as common %}\n\
                      [Library] {{ common.title(stage) }}\n({{ reference }})\n";
        let templates = Templates::with_overrides([file("en/subject.txt", source)]).unwrap();
        let case = Case::courtesy();
        let email = compose(&templates, &case.email_notice()).unwrap();
        let reference = case.notice.reference.as_str();
        assert_eq!(
            email.subject,
            format!("[Library] Courtesy notice: your items are due soon ({reference})")
        );
        assert_eq!(parse(&email).subject(), Some(email.subject.as_str()));
        let mut french = Case::courtesy();
        french.patron.language = Some(Language::Fr);
        let email = compose(&templates, &french.email_notice()).unwrap();
        assert!(email.subject.starts_with("Courtoisie"), "{}", email.subject);
    }

    #[test]
    fn an_override_of_the_shared_macros_changes_subject_and_bodies_alike() {
        let shipped = Templates::shipped_files()
            .iter()
            .find(|(name, _)| *name == "fr/common.txt")
            .unwrap()
            .1;
        let common = shipped.replace("Premier rappel :", "Rappel n° 1 :");
        let templates = Templates::with_overrides([
            file("fr/common.txt", &common),
            // Not an email template: kept, so that others could import it.
            file("fr/letter.txt", "Lettre {{ reference }}"),
        ])
        .unwrap();
        let case = Case::first_reminder();
        let notice = case.email_notice();
        let view = View::of(&notice, Language::Fr).unwrap();
        let parts = render(&templates.env, &view).unwrap();
        assert!(
            parts
                .subject
                .starts_with("Rappel n° 1 : documents en retard – Réf. R")
        );
        assert!(parts.text.contains("\nRappel n° 1 : documents en retard\n"));
        assert!(
            parts
                .html
                .contains(">Rappel n° 1 : documents en retard</h1>")
        );
        assert!(templates.env.get_template("fr/letter.txt").is_ok());
    }

    #[test]
    fn a_broken_override_is_refused_with_its_name() {
        let refused =
            |name: &str, source: &str| match Templates::with_overrides([file(name, source)]) {
                Err(RenderError::Template { name, reason }) => (name, reason),
                Err(other) => panic!("unexpected error {other}"),
                Ok(_) => panic!("{name} was accepted"),
            };
        let (name, reason) = refused("fr/body.txt", "Bonjour {% if %}");
        assert_eq!(name, "fr/body.txt");
        assert!(reason.contains("syntax error"), "{reason}");
        // Compiles, but names a variable that does not exist: refused at load too.
        let (name, reason) = refused("en/body.html", "<p>{{ patron.nickname }}</p>");
        assert_eq!(name, "en/body.html");
        assert!(reason.contains("undefined"), "{reason}");
        let (name, _) = refused("fr/subject.txt", "{% if false %}x{% endif %}");
        assert_eq!(name, "fr/subject.txt");
    }
}
