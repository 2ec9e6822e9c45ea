//! The institution's configuration (`relance.toml`), validated into typed values.
//! Every error names the key it is about.

use std::path::PathBuf;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::address::{EmailAddress, Mailbox};
use crate::ids::{LibraryCode, StageName};
use crate::ladder::{Channel, Ladder, LadderError};
use crate::model::Language;
use crate::open_days::{EmailOnClosedDays, OpenDays};

pub use import::{DateOrder, EncodingSetting, ImportSettings};
pub use retention::Retention;

/// A configuration that cannot be used, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML, or a value of the wrong type (the message has line and column).
    #[error("{0}")]
    Syntax(String),
    /// A key or section this version does not know: a typo, most often.
    #[error(
        "line {line}: unknown key {key:?}{}; the keys here are {}",
        suggestion.as_ref().map(|s| format!(" (did you mean {s:?}?)")).unwrap_or_default(),
        expected.join(", ")
    )]
    UnknownKey {
        /// The key as written, with its section (`institution.catchup_days`).
        key: String,
        /// Its line in the file.
        line: usize,
        /// The nearest valid key, when one is near.
        suggestion: Option<String>,
        /// The valid keys of that section.
        expected: Vec<String>,
    },
    /// A key whose value is refused.
    #[error("{key}: {reason}")]
    Invalid { key: String, reason: String },
}

fn invalid(key: impl Into<String>, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.to_string(),
    }
}

/// The tenant: one timezone, one sender, many libraries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Institution {
    /// Shown in mail and letters.
    pub name: String,
    /// All calendar days are counted here.
    pub timezone: Tz,
    /// For patrons without a language.
    pub default_language: Language,
    /// How many missed run days a run makes up (rules §4).
    pub catch_up_days: u32,
    /// The place written before the date on letters; the first library's city when absent.
    pub city: Option<String>,
    /// The libraries' calendar unless they set their own keys (rules §14).
    pub open_days: OpenDays,
    /// Whether emails wait for an open day too.
    pub email_on_closed_days: EmailOnClosedDays,
}

/// Who mail comes from and where replies go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// The generic sender (display name and address).
    pub from: Mailbox,
    /// Where patrons' replies go; the sender's address when absent.
    pub reply_to: EmailAddress,
    /// The team that reads forwarded replies and run reports.
    pub staff_inbox: EmailAddress,
    /// A folder whose templates override the shipped ones (relative to the config file).
    pub templates: Option<PathBuf>,
    /// Largest print batch PDF attached to one email to a library, in bytes; a
    /// larger batch goes as several emails, each with a part under it.
    pub batch_attachment_bytes: usize,
}

/// The default of [`MailSettings::batch_attachment_bytes`]: 7 MiB, about 9.4 MB
/// once base64-encoded. Many institutional mail servers refuse messages over
/// 10 MB (on-premises Exchange's default), well below SES's own 40 MB.
pub const BATCH_ATTACHMENT_KIB: usize = 7 * 1024;

/// The largest `mail.batch_attachment_kib`: 28 MiB, which base64 keeps under
/// SES's 40 MB per message.
const MAX_BATCH_ATTACHMENT_KIB: usize = 28 * 1024;

/// A lending library of the institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    /// Short code used in loan exports.
    pub code: LibraryCode,
    /// Full name.
    pub name: String,
    /// Where the library receives its print batches (may be a print-by-email address).
    pub inbox: EmailAddress,
    /// The address patrons may write to; the inbox when absent.
    pub contact_email: Option<EmailAddress>,
    /// Postal address lines.
    pub address: Vec<String>,
    /// Phone number as it should be printed.
    pub phone: Option<String>,
    /// The days it is open, when its letters are printed (rules §14).
    pub open_days: OpenDays,
}

impl Library {
    /// The email address shown to patrons.
    pub fn public_email(&self) -> &EmailAddress {
        self.contact_email.as_ref().unwrap_or(&self.inbox)
    }
}

/// Settings of the local `relance` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSettings {
    /// Store, outbox and reports (relative to the config file).
    pub state_dir: PathBuf,
}

/// The whole validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub institution: Institution,
    /// Sender and reply addresses.
    pub mail: MailSettings,
    pub ladder: Ladder,
    /// Libraries, in config order.
    pub libraries: Vec<Library>,
    /// Local command settings.
    pub local: LocalSettings,
    /// How exports are read.
    pub import: ImportSettings,
    /// The library system loans are pulled from (`[source]`), if any.
    pub source: Option<source::SourceSettings>,
    /// How long personal data is kept (`[retention]`).
    pub retention: Retention,
}

impl Config {
    /// Parses and validates the TOML text of a config file.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| syntax::explain(text, &e))?;
        raw.validate()
    }

    /// The library with that code.
    pub fn library(&self, code: &LibraryCode) -> Option<&Library> {
        self.libraries.iter().find(|l| &l.code == code)
    }

    /// The place printed on letters.
    pub fn place(&self) -> String {
        if let Some(city) = &self.institution.city {
            return city.clone();
        }
        // "33400 Talence" → "Talence"
        self.libraries
            .first()
            .and_then(|l| l.address.last())
            .map(|line| {
                line.trim_start_matches(|c: char| c.is_ascii_digit() || c.is_whitespace())
                    .to_owned()
            })
            .unwrap_or_default()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    institution: Option<RawInstitution>,
    mail: Option<RawMail>,
    stages: Option<Vec<RawStage>>,
    libraries: Option<Vec<RawLibrary>>,
    local: Option<RawLocal>,
    import: Option<import::RawImport>,
    source: Option<source::RawSource>,
    retention: Option<retention::RawRetention>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstitution {
    name: Option<String>,
    timezone: Option<String>,
    default_language: Option<String>,
    catch_up_days: Option<u32>,
    city: Option<String>,
    closed_weekdays: Option<Vec<String>>,
    closures: Option<Vec<String>>,
    holidays: Option<String>,
    calendar: Option<PathBuf>,
    email_on_closed_days: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMail {
    from: Option<String>,
    reply_to: Option<String>,
    staff_inbox: Option<String>,
    #[serde(alias = "templates_dir")]
    templates: Option<PathBuf>,
    batch_attachment_kib: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    name: Option<String>,
    offset_days: Option<i32>,
    channel: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLibrary {
    code: Option<String>,
    name: Option<String>,
    inbox: Option<String>,
    email: Option<String>,
    #[serde(default)]
    address: Vec<String>,
    phone: Option<String>,
    closed_weekdays: Option<Vec<String>>,
    closures: Option<Vec<String>>,
    holidays: Option<String>,
    calendar: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocal {
    state_dir: Option<PathBuf>,
}

fn required<T>(value: Option<T>, key: &str) -> Result<T, ConfigError> {
    value.ok_or_else(|| invalid(key, "is missing"))
}

fn text(value: Option<String>, key: &str) -> Result<String, ConfigError> {
    let value = required(value, key)?;
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(key, "is empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(key, "contains a control character"));
    }
    Ok(value.to_owned())
}

fn address(value: &str, key: &str) -> Result<EmailAddress, ConfigError> {
    EmailAddress::parse(value).map_err(|e| invalid(key, format!("{value:?} {e}")))
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let institution = required(self.institution, "institution")?.validate()?;
        let mail = required(self.mail, "mail")?.validate()?;
        let ladder = validate_stages(self.stages)?;
        let libraries = required(self.libraries, "libraries")?;
        if libraries.is_empty() {
            return Err(invalid("libraries", "at least one library is needed"));
        }
        let mut validated: Vec<Library> = Vec::with_capacity(libraries.len());
        for (i, raw) in libraries.into_iter().enumerate() {
            let library = raw.validate(i, &institution.open_days)?;
            if validated.iter().any(|l| l.code == library.code) {
                return Err(invalid(
                    format!("libraries[{i}].code"),
                    format!("{:?} is used twice", library.code.as_str()),
                ));
            }
            validated.push(library);
        }
        let state_dir = self
            .local
            .and_then(|l| l.state_dir)
            .unwrap_or_else(|| PathBuf::from("var"));
        Ok(Config {
            institution,
            mail,
            ladder,
            libraries: validated,
            local: LocalSettings { state_dir },
            import: self.import.unwrap_or_default().validate()?,
            source: self.source.map(source::RawSource::validate).transpose()?,
            retention: self.retention.unwrap_or_default().validate()?,
        })
    }
}

impl RawInstitution {
    fn validate(self) -> Result<Institution, ConfigError> {
        let name = text(self.name, "institution.name")?;
        let timezone = match self.timezone {
            None => chrono_tz::Europe::Paris,
            Some(tz) => tz.trim().parse::<Tz>().map_err(|_| {
                invalid(
                    "institution.timezone",
                    format!("unknown timezone {tz:?} (an IANA name such as Europe/Paris)"),
                )
            })?,
        };
        let default_language = match self.default_language {
            None => Language::Fr,
            Some(lang) => Language::parse(&lang).ok_or_else(|| {
                invalid(
                    "institution.default_language",
                    format!("unknown language {lang:?} (fr or en)"),
                )
            })?,
        };
        let catch_up_days = self.catch_up_days.unwrap_or(2);
        if catch_up_days > 31 {
            return Err(invalid(
                "institution.catch_up_days",
                format!("{catch_up_days} is more than 31 days of making up"),
            ));
        }
        let city = self
            .city
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        let email_on_closed_days = open_days::email_on_closed_days(self.email_on_closed_days)?;
        let open_days = open_days::open_days(
            open_days::CalendarKeys {
                closed_weekdays: self.closed_weekdays,
                closures: self.closures,
                holidays: self.holidays,
                calendar: self.calendar,
            },
            "institution",
            &OpenDays::default(),
        )?;
        Ok(Institution {
            name,
            timezone,
            default_language,
            catch_up_days,
            city,
            open_days,
            email_on_closed_days,
        })
    }
}

impl RawMail {
    fn validate(self) -> Result<MailSettings, ConfigError> {
        let from_text = required(self.from, "mail.from")?;
        let from = Mailbox::parse(&from_text)
            .map_err(|e| invalid("mail.from", format!("{from_text:?} {e}")))?;
        let reply_to = match self.reply_to {
            Some(value) => address(&value, "mail.reply_to")?,
            None => from.address.clone(),
        };
        let staff_inbox = address(
            &required(self.staff_inbox, "mail.staff_inbox")?,
            "mail.staff_inbox",
        )?;
        let kib = self.batch_attachment_kib.unwrap_or(BATCH_ATTACHMENT_KIB);
        if !(1..=MAX_BATCH_ATTACHMENT_KIB).contains(&kib) {
            return Err(invalid(
                "mail.batch_attachment_kib",
                format!("{kib} is not between 1 and {MAX_BATCH_ATTACHMENT_KIB} (KiB)"),
            ));
        }
        Ok(MailSettings {
            from,
            reply_to,
            staff_inbox,
            templates: self.templates,
            batch_attachment_bytes: kib * 1024,
        })
    }
}

fn validate_stages(stages: Option<Vec<RawStage>>) -> Result<Ladder, ConfigError> {
    let Some(stages) = stages else {
        return Ok(Ladder::standard());
    };
    let mut parsed = Vec::with_capacity(stages.len());
    for (i, raw) in stages.into_iter().enumerate() {
        let key = |field: &str| format!("stages[{i}].{field}");
        let name_text = required(raw.name, &key("name"))?;
        let name = StageName::parse(&name_text)
            .map_err(|e| invalid(key("name"), format!("{name_text:?} {e}")))?;
        let offset = required(raw.offset_days, &key("offset_days"))?;
        let channel_text = required(raw.channel, &key("channel"))?;
        let channel = Channel::parse(channel_text.trim()).ok_or_else(|| {
            invalid(
                key("channel"),
                format!("unknown channel {channel_text:?} (email or letter)"),
            )
        })?;
        parsed.push((name, offset, channel));
    }
    Ladder::new(parsed).map_err(|e| {
        let (i, field) = match e {
            LadderError::Empty => return invalid("stages", e),
            LadderError::DuplicateName { stage, .. } => (stage, "name"),
            LadderError::NotIncreasing { stage, .. } => (stage, "offset_days"),
        };
        invalid(format!("stages[{i}].{field}"), e)
    })
}

impl RawLibrary {
    fn validate(self, i: usize, defaults: &OpenDays) -> Result<Library, ConfigError> {
        let key = |field: &str| format!("libraries[{i}].{field}");
        let code_text = required(self.code, &key("code"))?;
        let code = LibraryCode::parse(&code_text)
            .map_err(|e| invalid(key("code"), format!("{code_text:?} {e}")))?;
        let name = text(self.name, &key("name"))?;
        let inbox_text = self.inbox.ok_or_else(|| {
            invalid(
                key("inbox"),
                "is missing: every library needs an inbox for its letters",
            )
        })?;
        let inbox = address(&inbox_text, &key("inbox"))?;
        let contact_email = self.email.map(|e| address(&e, &key("email"))).transpose()?;
        for (j, line) in self.address.iter().enumerate() {
            if line.chars().any(char::is_control) {
                return Err(invalid(
                    format!("libraries[{i}].address[{j}]"),
                    "contains a control character",
                ));
            }
        }
        let phone = self
            .phone
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty());
        let open_days = open_days::open_days(
            open_days::CalendarKeys {
                closed_weekdays: self.closed_weekdays,
                closures: self.closures,
                holidays: self.holidays,
                calendar: self.calendar,
            },
            &format!("libraries[{i}]"),
            defaults,
        )?;
        Ok(Library {
            code,
            name,
            inbox,
            contact_email,
            address: self
                .address
                .into_iter()
                .map(|l| l.trim().to_owned())
                .collect(),
            phone,
            open_days,
        })
    }
}

mod import;
mod open_days;
mod retention;
pub mod source;
mod syntax;
#[cfg(test)]
mod tests;
