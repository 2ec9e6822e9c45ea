//! Validating one `patrons.csv` row.

use crate::address::{AddressError, EmailAddress};
use crate::ids::PatronId;
use crate::model::{EmailStatus, Language, Patron, PostalAddress};

use super::{Checked, PatronFields, Problems, RowRejected};

/// Validates a patrons row. A malformed or unusable email does not refuse the
/// patron: it is imported without email (its notices go to print, rules §5) and a warning says so.
/// The email status starts deliverable; stores keep the one they learnt.
pub fn check_patron(fields: &PatronFields<'_>) -> Result<Checked<Patron>, RowRejected> {
    let mut problems = Problems::default();
    let id = problems.parsed("patron_id", PatronId::parse(fields.patron_id));
    let full_name = problems.required("full_name", fields.full_name);
    let email = email(&mut problems, fields.email);
    let address = PostalAddress {
        line1: problems.text("address_line1", fields.address_line1),
        line2: problems.text("address_line2", fields.address_line2),
        postcode: problems.text("postcode", fields.postcode),
        city: problems.text("city", fields.city),
        country: problems.text("country", fields.country),
    };
    let language = language(&mut problems, fields.language);
    let courtesy_opt_out = flag(&mut problems, "courtesy_opt_out", fields.courtesy_opt_out);
    if email.is_none() && address.line1.is_empty() && address.city.is_empty() {
        problems.warn(
            "address_line1",
            "no email and no postal address: notices cannot reach this patron",
        );
    }
    let (Some(id), Some(language), Some(courtesy_opt_out)) = (id, language, courtesy_opt_out)
    else {
        return Err(problems.rejected());
    };
    problems.finish(Patron {
        id,
        full_name,
        email,
        email_status: EmailStatus::Deliverable,
        address,
        language,
        courtesy_opt_out,
    })
}

/// An address that cannot be used (malformed, or with a line break or anything
/// else a mail header cannot carry) is a warning, not a refusal: the patron is
/// still imported, and their loans with them.
fn email(problems: &mut Problems, value: &str) -> Option<EmailAddress> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match EmailAddress::parse(value) {
        Ok(address) => Some(address),
        // The address itself stays out of the report: it is personal data.
        Err(e) => {
            let what = match e {
                AddressError::NotHeaderSafe | AddressError::NotAscii => "unusable",
                _ => "malformed",
            };
            problems.warn(
                "email",
                format!("{what} ({e}); imported without email, notices to this patron go to print"),
            );
            None
        }
    }
}

/// `Some(None)`: the institution's default.
fn language(problems: &mut Problems, value: &str) -> Option<Option<Language>> {
    let value = problems.text("language", value);
    if value.is_empty() {
        return Some(None);
    }
    match Language::parse(&value) {
        Some(language) => Some(Some(language)),
        None => {
            problems.error(
                "language",
                format!(
                    "unknown language {value:?} (fr, en, or empty for the institution's default)"
                ),
            );
            None
        }
    }
}

/// Reads the yes/no spellings library exports use; empty is no.
pub(super) fn flag(problems: &mut Problems, field: &'static str, value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "no" | "0" => Some(false),
        "true" | "yes" | "1" => Some(true),
        _ => {
            problems.error(
                field,
                format!(
                    "{:?} is not a yes/no value (true/false, yes/no, 1/0, or empty)",
                    value.trim()
                ),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> PatronFields<'static> {
        PatronFields {
            patron_id: "P0000001",
            full_name: "Zoë Łukasik-Nguyễn",
            email: "zoe.lukasik@etu.example.fr",
            address_line1: "12 rue Sainte-Catherine",
            postcode: "33000",
            city: "Bordeaux",
            ..Default::default()
        }
    }

    fn errors(fields: PatronFields<'_>) -> Vec<(&'static str, String)> {
        let rejected = check_patron(&fields).unwrap_err();
        rejected
            .errors
            .into_iter()
            .map(|e| (e.field, e.reason))
            .collect()
    }

    #[test]
    fn a_complete_row_becomes_a_deliverable_patron_with_the_default_language() {
        let checked = check_patron(&row()).unwrap();
        let patron = checked.value;
        assert!(checked.warnings.is_empty());
        assert_eq!(patron.id.as_str(), "P0000001");
        assert_eq!(patron.full_name, "Zoë Łukasik-Nguyễn");
        assert_eq!(patron.email.unwrap().as_str(), "zoe.lukasik@etu.example.fr");
        assert_eq!(patron.email_status, EmailStatus::Deliverable);
        assert_eq!(patron.language, None);
        assert!(!patron.courtesy_opt_out);
    }

    #[test]
    fn patron_id_and_full_name_are_required() {
        let found = errors(PatronFields {
            patron_id: " ",
            full_name: "",
            ..row()
        });
        assert_eq!(
            found,
            [
                ("patron_id", "is empty".to_owned()),
                ("full_name", "is empty".to_owned())
            ]
        );
    }

    #[test]
    fn control_characters_in_any_text_field_refuse_the_row() {
        let found = errors(PatronFields {
            full_name: "Jean\u{7}Dupont",
            address_line2: "Bât. C\r\nX-Header: 1",
            ..row()
        });
        assert_eq!(found.len(), 2);
        assert!(
            found
                .iter()
                .all(|(_, reason)| reason == "contains a control character")
        );
        // Surrounding whitespace, including a stray tab, is only trimmed.
        let trimmed = check_patron(&PatronFields {
            city: "Bordeaux\t",
            ..row()
        })
        .unwrap();
        assert_eq!(trimmed.value.address.city, "Bordeaux");
    }

    #[test]
    fn a_malformed_email_is_a_warning_and_the_patron_goes_to_print() {
        let checked = check_patron(&PatronFields {
            email: "zoe.lukasik@@example",
            ..row()
        })
        .unwrap();
        assert_eq!(checked.value.email, None);
        assert_eq!(checked.warnings.len(), 1);
        assert_eq!(checked.warnings[0].field, "email");
        assert!(
            checked.warnings[0]
                .reason
                .ends_with("notices to this patron go to print")
        );
        assert!(
            !checked.warnings[0].reason.contains("lukasik"),
            "no personal data"
        );
        let empty = check_patron(&PatronFields { email: "", ..row() }).unwrap();
        assert_eq!(empty.value.email, None);
        assert!(empty.warnings.is_empty());
    }

    #[test]
    fn an_address_a_header_cannot_carry_or_with_a_line_break_is_a_warning_not_a_refusal() {
        for email in [
            "\"zoe lukasik\"@example.fr",
            "zoe.lukasik@example.fr\r\nBcc: x@example.fr",
            "zoe\nlukasik@example.fr",
        ] {
            let checked = check_patron(&PatronFields { email, ..row() })
                .unwrap_or_else(|e| panic!("{email:?} refused the patron: {e}"));
            assert_eq!(checked.value.email, None, "{email:?}");
            assert_eq!(checked.warnings.len(), 1, "{email:?}");
            let reason = &checked.warnings[0].reason;
            assert!(reason.starts_with("unusable ("), "{reason}");
            assert!(reason.ends_with("notices to this patron go to print"));
            assert!(!reason.contains("lukasik"), "no personal data");
        }
    }

    #[test]
    fn languages_accept_the_export_variants_and_refuse_the_rest() {
        let lang = |value| {
            check_patron(&PatronFields {
                language: value,
                ..row()
            })
        };
        assert_eq!(lang("fr").unwrap().value.language, Some(Language::Fr));
        assert_eq!(lang("en-GB").unwrap().value.language, Some(Language::En));
        assert_eq!(lang("").unwrap().value.language, None);
        let refused = lang("de").unwrap_err();
        assert_eq!(refused.errors[0].field, "language");
    }

    #[test]
    fn courtesy_opt_out_reads_yes_no_spellings_in_any_case() {
        let opt = |value| {
            check_patron(&PatronFields {
                courtesy_opt_out: value,
                ..row()
            })
        };
        for yes in ["true", "YES", "1", " Yes "] {
            assert!(opt(yes).unwrap().value.courtesy_opt_out, "{yes}");
        }
        for no in ["false", "No", "0", ""] {
            assert!(!opt(no).unwrap().value.courtesy_opt_out, "{no}");
        }
        assert_eq!(
            opt("peut-être").unwrap_err().errors[0].field,
            "courtesy_opt_out"
        );
    }

    #[test]
    fn a_patron_nobody_can_reach_is_imported_with_a_warning() {
        let checked = check_patron(&PatronFields {
            email: "",
            address_line1: "",
            postcode: "",
            city: "",
            ..row()
        })
        .unwrap();
        assert_eq!(checked.warnings[0].field, "address_line1");
    }
}
