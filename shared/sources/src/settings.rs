//! How pulled tables are imported: as the system's own export, through its
//! profile (rules §15), with the config's `[import.columns.*]` on top.

use relance_core::config::source::System;
use relance_core::config::{Config, EncodingSetting};
use relance_core::import::{LOAN_COLUMNS, PATRON_COLUMNS, Profile};

/// The profile of a system's pulled tables.
pub fn profile_of(system: System) -> Profile {
    match system {
        System::Alma => Profile::AlmaAnalytics,
        System::Koha => Profile::Koha,
        System::Folio => Profile::Folio,
    }
}

/// The config to import a pull of `config`'s source with: `[import] profile`
/// when it names one, else the source system's profile, each field the config's
/// `[import.columns.*]` names read from its headings; UTF-8, which is what a
/// pull writes.
pub fn import_config(config: &Config) -> Config {
    let mut pulled = config.clone();
    if let Some(source) = &config.source
        && config.import.profile.is_none()
    {
        let profile = profile_of(source.system);
        let mut loans = profile.loan_columns();
        for field in LOAN_COLUMNS {
            if let Some(names) = config.import.loan_columns.of(field) {
                loans.set(field, names.to_vec());
            }
        }
        let mut patrons = profile.patron_columns();
        for field in PATRON_COLUMNS {
            if let Some(names) = config.import.patron_columns.of(field) {
                patrons.set(field, names.to_vec());
            }
        }
        pulled.import.profile = Some(profile);
        pulled.import.loan_columns = loans;
        pulled.import.patron_columns = patrons;
    }
    pulled.import.encoding = EncodingSetting::Utf8;
    pulled
}
