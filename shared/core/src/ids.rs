//! Identifiers that are validated once, at the edge, and trusted afterwards.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {0} characters")]
    TooLong(usize),
    #[error("contains a control character")]
    ControlCharacter,
    #[error("may only contain {0}")]
    Charset(&'static str),
}

fn check_text_id(value: &str, max: usize) -> Result<String, IdError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(IdError::Empty);
    }
    if value.chars().count() > max {
        return Err(IdError::TooLong(max));
    }
    if value.chars().any(char::is_control) {
        return Err(IdError::ControlCharacter);
    }
    Ok(value.to_owned())
}

/// Percent-encodes everything but `[A-Za-z0-9_-]` (and `.` past the first
/// character), so an identifier taken from data is always one safe path segment.
pub fn file_stem(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, byte) in value.bytes().enumerate() {
        let plain = byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-';
        if plain || (byte == b'.' && i > 0) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Trims the value and refuses empty values, control characters and overlong values.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                check_text_id(value, $max).map(Self)
            }

            /// The identifier as stored.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The identifier as one safe file-name segment.
            pub fn file_stem(&self) -> String {
                file_stem(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

text_id!(
    /// A patron's identifier in the library system (barcode, student number, login…).
    PatronId,
    128
);
text_id!(
    /// A loan's identifier in the library system.
    LoanId,
    128
);

/// A library's short code, as in the config: letters, digits, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LibraryCode(String);

impl LibraryCode {
    /// Accepts 1–32 characters of `[A-Za-z0-9_-]`.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        let value = check_text_id(value, 32)?;
        if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(IdError::Charset("letters, digits, '_' and '-'"));
        }
        Ok(Self(value))
    }

    /// The code as written in the config.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LibraryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for LibraryCode {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, IdError> {
        Self::parse(&value)
    }
}

impl From<LibraryCode> for String {
    fn from(value: LibraryCode) -> String {
        value.0
    }
}

/// A stage's name: lower-case letters, digits and `_` (it names files and templates).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StageName(String);

impl StageName {
    /// Accepts 1–32 characters of `[a-z0-9_]`.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        let value = check_text_id(value, 32)?;
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(IdError::Charset("lower-case letters, digits and '_'"));
        }
        Ok(Self(value))
    }

    /// The name as written in the config.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for StageName {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, IdError> {
        Self::parse(&value)
    }
}

impl From<StageName> for String {
    fn from(value: StageName) -> String {
        value.0
    }
}

/// A notice's identifier, derived from what makes the notice unique, so that two
/// planners deciding the same notice give it the same id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NoticeId(String);

impl NoticeId {
    /// Derives the id from the notice's natural key.
    pub fn derive(key: &str) -> Self {
        let digest = Sha256::digest(key.as_bytes());
        let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
        Self(hex)
    }

    /// Wraps an id read back from a store.
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    /// Parses an id received from outside (a queue message): 20 lowercase hex digits.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        if value.len() == 20
            && value
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            Ok(Self(value.to_owned()))
        } else {
            Err(IdError::Charset("20 lowercase hexadecimal digits"))
        }
    }

    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NoticeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The short reference printed in a notice's subject and body (`R7K2-9QF`), which
/// lets staff and the inbound function link a reply to its notice.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Reference(String);

/// Crockford's base 32: no I, L, O or U to misread.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl Reference {
    /// Derives a reference from a notice id; `salt` is raised by the ledger on the
    /// rare collision with an existing reference.
    pub fn derive(notice: &NoticeId, salt: u32) -> Self {
        let digest = Sha256::digest(format!("{}#{salt}", notice.as_str()).as_bytes());
        let mut bits = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        let mut symbols = [0u8; 7];
        for symbol in &mut symbols {
            *symbol = CROCKFORD[(bits & 31) as usize];
            bits >>= 5;
        }
        let text = std::str::from_utf8(&symbols).expect("ascii");
        Self(format!("R{}-{}", &text[..3], &text[3..]))
    }

    /// Finds a reference in free text (a reply's subject or body), tolerating case.
    pub fn find_in(text: &str) -> Option<Self> {
        let upper = text.to_ascii_uppercase();
        let bytes = upper.as_bytes();
        (0..bytes.len().saturating_sub(8)).find_map(|i| {
            let candidate = &bytes[i..i + 9];
            let shape = candidate[0] == b'R'
                && candidate[4] == b'-'
                && candidate[1..4]
                    .iter()
                    .chain(&candidate[5..])
                    .all(|c| CROCKFORD.contains(c));
            let bounded = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
            (shape && bounded).then(|| Self(String::from_utf8_lossy(candidate).into_owned()))
        })
    }

    /// Wraps a reference read back from a store.
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    /// The reference as printed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_id_from_outside_must_look_derived() {
        let id = NoticeId::derive("email|P1|first_reminder|2026-11-29");
        assert_eq!(NoticeId::parse(id.as_str()).unwrap(), id);
        for bad in [
            "",
            "ABCDEF0123456789abcd",
            "0123456789abcdef012",
            "../../0123456789abcd",
        ] {
            assert!(NoticeId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn file_stem_keeps_plain_ids_and_encodes_the_rest() {
        assert_eq!(file_stem("P000123"), "P000123");
        assert_eq!(file_stem("jean.dupont"), "jean.dupont");
        assert_eq!(file_stem("../etc/passwd"), "%2E.%2Fetc%2Fpasswd");
        assert_eq!(file_stem("a b/é"), "a%20b%2F%C3%A9");
    }

    #[test]
    fn ids_refuse_control_characters_and_empty_values() {
        assert_eq!(PatronId::parse("  "), Err(IdError::Empty));
        assert_eq!(PatronId::parse("a\nb"), Err(IdError::ControlCharacter));
        assert_eq!(PatronId::parse(" P1 ").unwrap().as_str(), "P1");
    }

    #[test]
    fn library_codes_and_stage_names_have_a_safe_charset() {
        assert!(LibraryCode::parse("STS").is_ok());
        assert!(LibraryCode::parse("ST S").is_err());
        assert!(StageName::parse("first_reminder").is_ok());
        assert!(StageName::parse("First").is_err());
        assert!(StageName::parse("../x").is_err());
    }

    #[test]
    fn references_are_stable_short_and_found_again_in_text() {
        let id = NoticeId::derive("email|P1|first_reminder|2026-11-29");
        let reference = Reference::derive(&id, 0);
        assert_eq!(reference, Reference::derive(&id, 0));
        assert_ne!(reference, Reference::derive(&id, 1));
        assert_eq!(reference.as_str().len(), 9);
        let subject = format!(
            "Re: Premier rappel – réf. {}",
            reference.as_str().to_lowercase()
        );
        assert_eq!(Reference::find_in(&subject), Some(reference));
        assert_eq!(Reference::find_in("no reference here"), None);
    }
}
