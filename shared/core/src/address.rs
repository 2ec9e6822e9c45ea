//! Email addresses and mailboxes, checked once when read.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an email address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("is not a valid email address")]
    Syntax,
    #[error("must be plain ASCII (the sending service does not take internationalised addresses)")]
    NotAscii,
    #[error("has no dot in its domain")]
    BareDomain,
    #[error("is missing the address between < and >")]
    MissingAngle,
    #[error("display name contains a control character")]
    ControlCharacter,
    /// Valid RFC 5322 perhaps (`"a b"@example.fr`), but a mail header or the
    /// sending service cannot carry it.
    #[error(
        "cannot go in a mail header: only letters, digits and .!#$%&'*+-/=?^_`{{|}}~ \
         before the @, letters, digits, dots and hyphens after"
    )]
    NotHeaderSafe,
}

/// The one rule for what an address may hold to be written in a header: a
/// dot-atom local part (RFC 5322 `atext` and dots; no spaces, quotes, control
/// characters, `<` or `>`) and a domain of letters, digits, hyphens and dots.
/// [`EmailAddress::parse`] applies it, and the MIME builder checks it again.
pub fn header_safe(address: &str) -> Result<(), AddressError> {
    let (local, domain) = address.rsplit_once('@').ok_or(AddressError::Syntax)?;
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
    let dot_atom = |part: &str, allowed: &dyn Fn(u8) -> bool| {
        !part.is_empty()
            && part
                .split('.')
                .all(|w| !w.is_empty() && w.bytes().all(allowed))
    };
    let hostname = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
    if dot_atom(local, &atext) && dot_atom(domain, &hostname) {
        Ok(())
    } else {
        Err(AddressError::NotHeaderSafe)
    }
}

/// A deliverable email address (`local@domain.tld`), lower-cased in its domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Accepts a bare address: RFC 5322 syntax, ASCII, a dotted domain, and
    /// nothing a header cannot carry ([`header_safe`]).
    pub fn parse(value: &str) -> Result<Self, AddressError> {
        let value = value.trim();
        if !value.is_ascii() {
            return Err(AddressError::NotAscii);
        }
        if value.chars().any(char::is_control) {
            return Err(AddressError::NotHeaderSafe);
        }
        let options = email_address::Options::default().without_display_text();
        let parsed = email_address::EmailAddress::parse_with_options(value, options)
            .map_err(|_| AddressError::Syntax)?;
        let domain = parsed.domain().to_ascii_lowercase();
        if !domain.contains('.') || domain.starts_with('[') {
            return Err(AddressError::BareDomain);
        }
        let address = format!("{}@{}", parsed.local_part(), domain);
        header_safe(&address)?;
        Ok(Self(address))
    }

    /// The address as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = AddressError;
    fn try_from(value: String) -> Result<Self, AddressError> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> String {
        value.0
    }
}

/// An address with an optional display name: `Service des prêts <prets@example.fr>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    /// Shown by mail clients; never written raw into a header.
    pub name: Option<String>,
    /// Where the mail goes.
    pub address: EmailAddress,
}

impl Mailbox {
    /// Accepts `Name <addr>`, `"Name" <addr>` or a bare address.
    pub fn parse(value: &str) -> Result<Self, AddressError> {
        let value = value.trim();
        if value.chars().any(char::is_control) {
            return Err(AddressError::ControlCharacter);
        }
        match value.rfind('<') {
            None if value.contains('>') => Err(AddressError::MissingAngle),
            None => Ok(Self {
                name: None,
                address: EmailAddress::parse(value)?,
            }),
            Some(open) => {
                let rest = &value[open + 1..];
                let address = rest.strip_suffix('>').ok_or(AddressError::MissingAngle)?;
                let name = value[..open].trim().trim_matches('"').trim();
                Ok(Self {
                    name: (!name.is_empty()).then(|| name.to_owned()),
                    address: EmailAddress::parse(address)?,
                })
            }
        }
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} <{}>", self.address),
            None => write!(f, "{}", self.address),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_addresses_are_accepted_and_domains_lowercased() {
        let a = EmailAddress::parse(" Camille.Martin@Example.FR ").unwrap();
        assert_eq!(a.as_str(), "Camille.Martin@example.fr");
        assert_eq!(a.domain(), "example.fr");
    }

    #[test]
    fn malformed_addresses_are_refused_with_a_reason() {
        assert_eq!(EmailAddress::parse("no-at-sign"), Err(AddressError::Syntax));
        assert_eq!(
            EmailAddress::parse("a@localhost"),
            Err(AddressError::BareDomain)
        );
        assert_eq!(
            EmailAddress::parse("é@example.fr"),
            Err(AddressError::NotAscii)
        );
        assert!(EmailAddress::parse("a b@example.fr").is_err());
    }

    #[test]
    fn addresses_a_header_cannot_carry_are_refused_though_rfc_5322_allows_them() {
        for refused in [
            "\"a b\"@example.fr",
            "\"a\"@example.fr",
            "\"<a>\"@example.fr",
            "a@example.fr\r\nBcc: b@example.fr",
            "a\n@example.fr",
            "a@exa_mple.fr",
        ] {
            assert!(EmailAddress::parse(refused).is_err(), "{refused:?}");
        }
        assert_eq!(
            EmailAddress::parse("\"a b\"@example.fr"),
            Err(AddressError::NotHeaderSafe)
        );
        for kept in ["o'brien+prets@example.fr", "a.b-c@sous-domaine.example.fr"] {
            assert_eq!(EmailAddress::parse(kept).unwrap().as_str(), kept);
        }
        assert_eq!(
            header_safe("a.@example.fr"),
            Err(AddressError::NotHeaderSafe)
        );
        assert_eq!(header_safe("a@example.fr"), Ok(()));
    }

    #[test]
    fn mailboxes_read_display_names() {
        let m = Mailbox::parse("Service du contentieux <contentieux@bib.example.fr>").unwrap();
        assert_eq!(m.name.as_deref(), Some("Service du contentieux"));
        assert_eq!(m.address.as_str(), "contentieux@bib.example.fr");
        let bare = Mailbox::parse("contentieux@bib.example.fr").unwrap();
        assert_eq!(bare.name, None);
        assert_eq!(
            Mailbox::parse("Service <contentieux@bib.example.fr"),
            Err(AddressError::MissingAngle)
        );
    }
}
