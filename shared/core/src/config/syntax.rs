//! TOML errors said for the person who edits the file: the line, the full key,
//! the nearest valid key for a typo, and types in words.

use super::ConfigError;

/// A suggestion is offered when the typo is at most this far (Damerau-Levenshtein
/// distance, normalised to the longer name) from a valid key.
const SUGGESTION_SIMILARITY: f64 = 0.6;

/// Turns the TOML parser's error on `text` into a [`ConfigError`].
pub(super) fn explain(text: &str, error: &toml::de::Error) -> ConfigError {
    let start = error.span().map_or(0, |s| s.start.min(text.len()));
    let line = text[..start].matches('\n').count() + 1;
    let message = error.message();
    if let Some((unknown, expected)) = unknown_field(message) {
        let section = parent_of_header_at(text, start).unwrap_or_else(|| section_at(text, start));
        let key = match &section {
            Some(section) => format!("{section}.{unknown}"),
            None => unknown.clone(),
        };
        let suggestion = expected
            .iter()
            .map(|k| (strsim::normalized_damerau_levenshtein(&unknown, k), k))
            .filter(|(similarity, _)| *similarity >= SUGGESTION_SIMILARITY)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, k)| match &section {
                Some(section) => format!("{section}.{k}"),
                None => k.clone(),
            });
        return ConfigError::UnknownKey {
            key,
            line,
            suggestion,
            expected,
        };
    }
    let key = key_at(text, start, section_at(text, start));
    let message = in_words(message);
    ConfigError::Syntax(match key {
        Some(key) => format!("line {line}, {key}: {message}"),
        None => format!("line {line}: {message}"),
    })
}

/// Serde's "unknown field `x`, expected one of `a`, `b`" (or "expected `a`").
fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((unknown.to_owned(), expected))
}

/// The table header (`[mail]`, `[[libraries]]`) the byte `at` falls under.
fn section_at(text: &str, at: usize) -> Option<String> {
    text[..at].lines().rev().find_map(|line| {
        let line = line.trim();
        let inner = line
            .strip_prefix("[[")
            .and_then(|l| l.split_once("]]"))
            .or_else(|| line.strip_prefix('[').and_then(|l| l.split_once(']')))?;
        Some(inner.0.trim().to_owned())
    })
}

/// When byte `at` is on a table header (`[locale]`), the unknown key is that
/// table, under its parent (none for a top-level table).
fn parent_of_header_at(text: &str, at: usize) -> Option<Option<String>> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next()?.trim();
    let inner = line.trim_start_matches('[').split(']').next()?;
    if !line.starts_with('[') {
        return None;
    }
    Some(
        inner
            .rsplit_once('.')
            .map(|(parent, _)| parent.trim().to_owned()),
    )
}

/// The key written on the line of byte `at` (`catch_up_days = "5"`), with its section.
fn key_at(text: &str, at: usize, section: Option<String>) -> Option<String> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    Some(match section {
        Some(section) => format!("{section}.{key}"),
        None => key.to_owned(),
    })
}

/// Serde's type names as a person says them.
fn in_words(message: &str) -> String {
    [
        ("expected u32", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected i32", "expected a whole number (may be negative)"),
        ("expected a boolean", "expected true or false"),
        (
            "expected a sequence",
            "expected a list, such as [\"a\", \"b\"]",
        ),
        ("invalid type: string", "found the text"),
        ("invalid type: integer", "found the number"),
        ("invalid type: boolean", "found"),
        ("invalid type: sequence", "found a list"),
        ("invalid type: map", "found a table"),
    ]
    .iter()
    .fold(message.trim().to_owned(), |m, (from, to)| {
        m.replace(from, to)
    })
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};

    const VALID: &str = r#"
[institution]
name = "Université de Bordeaux"

[mail]
from = "Service <contentieux@bibliotheques.example.fr>"
staff_inbox = "equipe@bibliotheques.example.fr"

[[libraries]]
code = "STS"
name = "Sciences"
inbox = "bu-sciences@bibliotheques.example.fr"
"#;

    fn error_of(text: &str) -> ConfigError {
        Config::parse(text).expect_err("refused")
    }

    #[test]
    fn a_misspelt_key_is_named_with_its_section_line_and_nearest_valid_key() {
        let text = VALID.replace("[institution]\n", "[institution]\ncatchup_days = 5\n");
        match error_of(&text) {
            ConfigError::UnknownKey {
                key,
                line,
                suggestion,
                ..
            } => {
                assert_eq!(key, "institution.catchup_days");
                assert_eq!(line, 3);
                assert_eq!(suggestion.as_deref(), Some("institution.catch_up_days"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unknown_section_is_refused_with_the_nearest_section() {
        let text = format!("{VALID}\n[locale]\nstate_dir = \"x\"\n");
        let message = error_of(&text).to_string();
        assert!(message.contains(r#"unknown key "locale""#), "{message}");
        assert!(message.contains(r#"did you mean "local"?"#), "{message}");
    }

    #[test]
    fn a_key_far_from_any_valid_one_gets_the_list_but_no_guess() {
        let text = VALID.replace("[mail]\n", "[mail]\ncolour = \"blue\"\n");
        let message = error_of(&text).to_string();
        assert!(
            message.contains(r#"unknown key "mail.colour""#),
            "{message}"
        );
        assert!(!message.contains("did you mean"), "{message}");
        assert!(message.contains("staff_inbox"), "{message}");
    }

    #[test]
    fn a_key_of_a_library_entry_is_named_under_libraries() {
        let text = format!("{VALID}adress = [\"1 rue\"]\n");
        let message = error_of(&text).to_string();
        assert!(
            message.contains(r#"did you mean "libraries.address"?"#),
            "{message}"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_says_what_was_expected_in_words() {
        let text = VALID.replace("[institution]\n", "[institution]\ncatch_up_days = \"5\"\n");
        let message = error_of(&text).to_string();
        assert!(
            message.contains("line 3, institution.catch_up_days"),
            "{message}"
        );
        assert!(message.contains("expected a whole number"), "{message}");
    }
}
