//! `[retention]`: how many days each kind of personal data is kept (rules §16).
//! Ages are counted to the run day, in the institution's timezone.

use serde::Deserialize;

use super::{ConfigError, invalid};

/// The longest period accepted, in days (ten years): a longer one is a typo.
pub const MAX_RETENTION_DAYS: u32 = 3660;

/// How long personal data lives, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// A returned loan, counted from its return.
    pub returned_loans: u32,
    /// A notice with its links (reference, loans listed), counted from its run day.
    pub notices: u32,
    /// Received mail, its record, and bounce and complaint records, counted
    /// from their arrival.
    pub mail: u32,
    /// Letter PDFs, print batches and manifests, counted from their run day.
    pub letters: u32,
    /// A patron without open loans and without notices kept, counted from the
    /// return of their last loan.
    pub patrons: u32,
}

impl Default for Retention {
    /// The periods of rules §16.
    fn default() -> Self {
        Self {
            returned_loans: 30,
            notices: 365,
            mail: 90,
            letters: 90,
            patrons: 30,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetention {
    returned_loans: Option<u32>,
    notices: Option<u32>,
    mail: Option<u32>,
    letters: Option<u32>,
    patrons: Option<u32>,
}

impl RawRetention {
    pub(super) fn validate(self) -> Result<Retention, ConfigError> {
        let default = Retention::default();
        let days = |value: Option<u32>, key: &str, default: u32| {
            let value = value.unwrap_or(default);
            if value > MAX_RETENTION_DAYS {
                return Err(invalid(
                    format!("retention.{key}"),
                    format!("{value} days is more than {MAX_RETENTION_DAYS} (ten years)"),
                ));
            }
            Ok(value)
        };
        Ok(Retention {
            returned_loans: days(
                self.returned_loans,
                "returned_loans",
                default.returned_loans,
            )?,
            notices: days(self.notices, "notices", default.notices)?,
            mail: days(self.mail, "mail", default.mail)?,
            letters: days(self.letters, "letters", default.letters)?,
            patrons: days(self.patrons, "patrons", default.patrons)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};

    const BASE: &str = r#"
[institution]
name = "Bibliothèques"
[mail]
from = "Relance <relance@example.fr>"
staff_inbox = "equipe@example.fr"
[[libraries]]
code = "SCI"
name = "Sciences"
inbox = "sci@example.fr"
"#;

    #[test]
    fn without_a_retention_section_the_periods_of_the_rules_apply() {
        let config = Config::parse(BASE).expect("valid");
        let r = config.retention;
        assert_eq!(
            (r.returned_loans, r.notices, r.mail, r.letters, r.patrons),
            (30, 365, 90, 90, 30)
        );
    }

    #[test]
    fn a_period_given_replaces_its_default_only() {
        let config =
            Config::parse(&format!("{BASE}[retention]\nnotices = 180\nmail = 0\n")).expect("valid");
        assert_eq!(config.retention.notices, 180);
        assert_eq!(config.retention.mail, 0);
        assert_eq!(config.retention.returned_loans, 30);
    }

    #[test]
    fn a_period_past_ten_years_is_refused_naming_its_key() {
        let err = Config::parse(&format!("{BASE}[retention]\nletters = 99999\n")).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { key, .. } if key == "retention.letters"),
            "{err}"
        );
    }

    #[test]
    fn a_misspelt_retention_key_is_named_with_the_nearest_one() {
        let err = Config::parse(&format!("{BASE}[retention]\nreturned_loan = 10\n")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("retention.returned_loan"), "{text}");
        assert!(text.contains("returned_loans"), "{text}");
    }
}
