//! Alma (Ex Libris Developer Network): open loans from an Analytics report,
//! `GET /almaws/v1/analytics/reports?path=…&limit=1000`, then `token=…` (the
//! first page's `ResumptionToken`) until `IsFinished` is `true`; patrons from a
//! second report or from the loans report's own columns, completed by the
//! Users API (`GET /almaws/v1/users/{user_id}`: the preferred
//! `contact_info.email[]`, `preferred_language`) when the report lacks the
//! email or the language; one loan at send time with
//! `GET /almaws/v1/users/{user_id}/loans/{loan_id}` (`loan_status` Active or
//! Complete, `return_date`). The key goes in the `Authorization: apikey …` header.

mod report;

use std::collections::{BTreeMap, HashMap, HashSet};

use relance_core::model::Loan;
use relance_core::ports::LoanState;
use serde_json::Value;

use crate::http::encode;
use crate::json::cell;
use crate::{Source, SourceError, Table};

/// Rows per page: Alma's largest (25 to 1000, a multiple of 25).
const LIMIT: u32 = 1000;

/// More pages than this is a report that never finishes.
const MAX_PAGES: u32 = 10_000;

/// The headings of the patron's columns (Analytics "Users" subject area,
/// "Preferred Contact Information"), as the alma-analytics profile reads them.
pub const PATRON_ID: &str = "Primary Identifier";
pub const EMAIL: &str = "Preferred Email";
pub const LANGUAGE: &str = "Preferred Language";
pub const PATRON_HEADINGS: [&str; 10] = [
    PATRON_ID,
    "First Name",
    "Last Name",
    EMAIL,
    "Preferred Address Line 1",
    "Preferred Address Line 2",
    "Preferred Postal Code",
    "Preferred City",
    "Preferred Country",
    LANGUAGE,
];

pub(crate) async fn pull(source: &Source) -> Result<(Table, Table, u32), SourceError> {
    let loans_path =
        source
            .settings
            .loans_report
            .as_deref()
            .ok_or_else(|| SourceError::MissingCredential {
                what: "source.loans_report".into(),
                hint: "name the Analytics report of open loans",
            })?;
    let (loans, pages) = report(source, loans_path).await?;
    let mut patrons = match source.settings.patrons_report.as_deref() {
        Some(path) => report(source, path).await?.0,
        None => patrons_of(&loans),
    };
    complete_from_users(source, &mut patrons).await?;
    Ok((loans, patrons, pages))
}

/// Every row of a report, headed by the schema's column headings.
async fn report(source: &Source, path: &str) -> Result<(Table, u32), SourceError> {
    let mut columns: Vec<(String, String)> = Vec::new();
    let mut table = Table::default();
    let mut token: Option<String> = None;
    for page_number in 1..=MAX_PAGES {
        let (what, query) = match &token {
            None => (
                "GET /almaws/v1/analytics/reports?path=…".to_owned(),
                format!("path={}&limit={LIMIT}&col_names=true", encode(path)),
            ),
            Some(token) => (
                format!("GET /almaws/v1/analytics/reports?token=… (page {page_number})"),
                format!("token={}&limit={LIMIT}", encode(token)),
            ),
        };
        let answer = get(
            source,
            &what,
            &format!("/almaws/v1/analytics/reports?{query}"),
            "application/xml",
        )
        .await?;
        if answer.status != 200 {
            return Err(SourceError::Refused {
                what,
                status: answer.status,
            });
        }
        let page =
            report::parse(&answer.body).map_err(|reason| SourceError::malformed(&what, reason))?;
        if columns.is_empty() && !page.headings.is_empty() {
            // Column0 is the report's placeholder, not a column of it.
            columns = page
                .headings
                .into_iter()
                .filter(|(name, _)| name != "Column0")
                .collect();
            table = Table::new(columns.iter().map(|(_, h)| h.clone()));
        }
        if !page.rows.is_empty() && columns.is_empty() {
            return Err(SourceError::malformed(
                &what,
                "rows without the schema that names their columns",
            ));
        }
        for row in &page.rows {
            let named: HashMap<&str, String> = columns
                .iter()
                .filter_map(|(name, heading)| row.get(name).map(|v| (heading.as_str(), v.clone())))
                .collect();
            table.push_named(&named);
        }
        if page.finished {
            return Ok((table, page_number));
        }
        match page.token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ if token.is_some() => {}
            _ => {
                return Err(SourceError::malformed(
                    &what,
                    "not finished, and no ResumptionToken to go on with",
                ));
            }
        }
    }
    Err(SourceError::malformed(
        "GET /almaws/v1/analytics/reports",
        format!("not finished after {MAX_PAGES} pages"),
    ))
}

/// The patrons of a loans report that carries their columns: one row per
/// Primary Identifier, from its first loan.
fn patrons_of(loans: &Table) -> Table {
    let headings: Vec<&str> = PATRON_HEADINGS
        .into_iter()
        .filter(|h| loans.column(h).is_some())
        .collect();
    let mut patrons = Table::new(headings.iter().copied());
    let mut seen = HashSet::new();
    for row in &loans.rows {
        let id = loans.value(row, PATRON_ID);
        if id.is_empty() || !seen.insert(id.to_owned()) {
            continue;
        }
        patrons.push_named(
            &headings
                .iter()
                .map(|h| (*h, loans.value(row, h).to_owned()))
                .collect(),
        );
    }
    patrons
}

/// Fills the email and language from the Users API when the report has no
/// such column: one call per patron.
async fn complete_from_users(source: &Source, patrons: &mut Table) -> Result<(), SourceError> {
    let lacks_email = patrons.column(EMAIL).is_none();
    let lacks_language = patrons.column(LANGUAGE).is_none();
    if !(lacks_email || lacks_language) || patrons.rows.is_empty() {
        return Ok(());
    }
    let mut found: BTreeMap<String, (String, String)> = BTreeMap::new();
    let ids: Vec<String> = patrons
        .rows
        .iter()
        .map(|row| patrons.value(row, PATRON_ID).to_owned())
        .collect();
    for id in ids {
        let what = format!("GET /almaws/v1/users/{id}");
        let answer = get(
            source,
            &what,
            &format!("/almaws/v1/users/{}?view=full", encode(&id)),
            "application/json",
        )
        .await?;
        if answer.status != 200 {
            return Err(SourceError::Refused {
                what,
                status: answer.status,
            });
        }
        let user = answer.json(&what)?;
        let emails = user
            .pointer("/contact_info/email")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let email = emails
            .iter()
            .find(|e| e.get("preferred").and_then(Value::as_bool) == Some(true))
            .or_else(|| emails.first())
            .map(|e| cell(e, "email_address"))
            .unwrap_or_default();
        found.insert(id, (email, cell(&user, "preferred_language.value")));
    }
    let id_column = patrons.column(PATRON_ID);
    let id_of = |row: &[String]| {
        id_column
            .and_then(|i| row.get(i))
            .cloned()
            .unwrap_or_default()
    };
    if lacks_email {
        patrons.add_column(EMAIL, |row| {
            found
                .get(&id_of(row))
                .map(|f| f.0.clone())
                .unwrap_or_default()
        });
    }
    if lacks_language {
        patrons.add_column(LANGUAGE, |row| {
            found
                .get(&id_of(row))
                .map(|f| f.1.clone())
                .unwrap_or_default()
        });
    }
    Ok(())
}

async fn get(
    source: &Source,
    what: &str,
    path: &str,
    accept: &'static str,
) -> Result<crate::http::Answer, SourceError> {
    let Some(key) = source.credentials.api_key.as_ref() else {
        return Err(SourceError::MissingCredential {
            what: "the Alma API key".into(),
            hint: "set api_key_env in [source]",
        });
    };
    let url = source.api.url(path);
    source
        .api
        .send(what, || {
            source
                .api
                .client()
                .get(&url)
                .header("Authorization", format!("apikey {}", key.expose()))
                .header("Accept", accept)
        })
        .await
}

pub(crate) async fn loan_state(source: &Source, loan: &Loan) -> Result<LoanState, SourceError> {
    let what = format!("GET /almaws/v1/users/{}/loans/{}", loan.patron_id, loan.id);
    let path = format!(
        "/almaws/v1/users/{}/loans/{}",
        encode(loan.patron_id.as_str()),
        encode(loan.id.as_str())
    );
    let answer = get(source, &what, &path, "application/json").await?;
    if answer.status != 200 {
        return Ok(LoanState::Unknown);
    }
    let found = answer.json(&what)?;
    let status = cell(&found, "loan_status");
    if status.eq_ignore_ascii_case("active") {
        return Ok(LoanState::Open);
    }
    if status.eq_ignore_ascii_case("complete") {
        let at = cell(&found, "return_date");
        return Ok(LoanState::Returned {
            at: chrono::DateTime::parse_from_rfc3339(&at)
                .ok()
                .map(|t| t.to_utc()),
        });
    }
    Ok(LoanState::Unknown)
}
