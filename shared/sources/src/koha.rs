//! Koha's REST API (`/api/v1`, documented in Koha's `api/v1/swagger`):
//!
//! - an OAuth2 access token by client credentials (`POST /api/v1/oauth/token`);
//! - the open checkouts, `GET /api/v1/checkouts` (current ones by default),
//!   paged with `_page` / `_per_page` (`checkout_id`, `patron_id`, `item_id`,
//!   `external_id`, `library_id`, `checkout_date`, `due_date`, `checkin_date`);
//! - their items with the embedded biblio, `GET /api/v1/items` with
//!   `q={"item_id":[…]}` and `x-koha-embed: biblio` (barcode `external_id`,
//!   `callnumber`, the biblio's `title` and `author`);
//! - their patrons, `GET /api/v1/patrons` with `q={"patron_id":[…]}`;
//! - one checkout at send time, `GET /api/v1/checkouts/{checkout_id}`.

use std::collections::{BTreeSet, HashMap};

use relance_core::model::Loan;
use relance_core::ports::LoanState;
use serde_json::Value;

use crate::http::encode;
use crate::json::{cell, text};
use crate::{Secret, Source, SourceError, Table};

/// Rows per page.
const PER_PAGE: usize = 100;

/// The loans table's headings: the checkout's fields, then the item's and biblio's.
pub const LOAN_HEADINGS: [&str; 11] = [
    "checkout_id",
    "patron_id",
    "item_id",
    "external_id",
    "library_id",
    "checkout_date",
    "due_date",
    "checkin_date",
    "callnumber",
    "title",
    "author",
];

/// The patrons table's headings: the patron's fields.
pub const PATRON_HEADINGS: [&str; 11] = [
    "patron_id",
    "cardnumber",
    "firstname",
    "surname",
    "email",
    "address",
    "address2",
    "postal_code",
    "city",
    "country",
    "lang",
];

pub(crate) async fn pull(source: &Source) -> Result<(Table, Table, u32), SourceError> {
    let token = token(source).await?;
    let mut checkouts = Vec::new();
    let mut pages = 0;
    for page in 1.. {
        let what = format!("GET /api/v1/checkouts?_page={page}");
        let path = format!("/api/v1/checkouts?_page={page}&_per_page={PER_PAGE}");
        let batch = list_of(source, &what, &path, &token, None).await?;
        pages += 1;
        let n = batch.len();
        checkouts.extend(batch);
        if n < PER_PAGE {
            break;
        }
    }
    let item_ids: BTreeSet<String> = checkouts
        .iter()
        .map(|c| cell(c, "item_id"))
        .filter(|i| !i.is_empty())
        .collect();
    let mut items: HashMap<String, Value> = HashMap::new();
    for item in by_ids(
        source,
        "items",
        "item_id",
        &item_ids,
        &token,
        Some("biblio"),
    )
    .await?
    {
        items.insert(cell(&item, "item_id"), item);
    }
    let mut loans = Table::new(LOAN_HEADINGS);
    for checkout in &checkouts {
        let item = items
            .get(&cell(checkout, "item_id"))
            .unwrap_or(&Value::Null);
        let mut row: HashMap<&str, String> = HashMap::new();
        for heading in &LOAN_HEADINGS[..8] {
            row.insert(heading, cell(checkout, heading));
        }
        if row["external_id"].is_empty() {
            row.insert("external_id", cell(item, "external_id"));
        }
        row.insert("callnumber", cell(item, "callnumber"));
        row.insert("title", cell(item, "biblio.title"));
        row.insert("author", cell(item, "biblio.author"));
        loans.push_named(&row);
    }
    let patron_ids: BTreeSet<String> = checkouts.iter().map(|c| cell(c, "patron_id")).collect();
    let mut patrons = Table::new(PATRON_HEADINGS);
    for patron in by_ids(source, "patrons", "patron_id", &patron_ids, &token, None).await? {
        let mut row: HashMap<&str, String> = HashMap::new();
        for heading in PATRON_HEADINGS {
            row.insert(heading, cell(&patron, heading));
        }
        // Koha's "default" means the OPAC's default language: the institution's.
        if row["lang"] == "default" {
            row.insert("lang", String::new());
        }
        patrons.push_named(&row);
    }
    if patrons.rows.len() < patron_ids.len() {
        return Err(SourceError::malformed(
            "GET /api/v1/patrons",
            format!(
                "{} of the {} patrons of open checkouts were not returned",
                patron_ids.len() - patrons.rows.len(),
                patron_ids.len()
            ),
        ));
    }
    Ok((loans, patrons, pages))
}

/// Objects of `/api/v1/{what}` whose `key` is one of `ids`, a page of ids at a time.
async fn by_ids(
    source: &Source,
    what: &str,
    key: &str,
    ids: &BTreeSet<String>,
    token: &Secret,
    embed: Option<&str>,
) -> Result<Vec<Value>, SourceError> {
    let ids: Vec<&String> = ids.iter().collect();
    let mut found = Vec::new();
    for chunk in ids.chunks(PER_PAGE) {
        let list: Vec<Value> = chunk
            .iter()
            .map(|id| {
                id.parse::<i64>()
                    .map_or_else(|_| Value::String((*id).clone()), Value::from)
            })
            .collect();
        let query = serde_json::json!({ key: list }).to_string();
        let path = format!(
            "/api/v1/{what}?q={}&_page=1&_per_page={PER_PAGE}",
            encode(&query)
        );
        found.extend(list_of(source, &format!("GET /api/v1/{what}"), &path, token, embed).await?);
    }
    Ok(found)
}

/// A JSON array answered by a list endpoint.
async fn list_of(
    source: &Source,
    what: &str,
    path: &str,
    token: &Secret,
    embed: Option<&str>,
) -> Result<Vec<Value>, SourceError> {
    let url = source.api.url(path);
    let answer = source
        .api
        .send(what, || {
            let request = source
                .api
                .client()
                .get(&url)
                .bearer_auth(token.expose())
                .header("Accept", "application/json");
            match embed {
                Some(embed) => request.header("x-koha-embed", embed),
                None => request,
            }
        })
        .await?;
    if answer.status != 200 {
        return Err(SourceError::Refused {
            what: what.to_owned(),
            status: answer.status,
        });
    }
    match answer.json(what)? {
        Value::Array(list) => Ok(list),
        _ => Err(SourceError::malformed(what, "not a JSON array")),
    }
}

/// The access token, asked for once per source.
async fn token(source: &Source) -> Result<Secret, SourceError> {
    if let Some(token) = source
        .koha_token
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
    {
        return Ok(token);
    }
    let what = "POST /api/v1/oauth/token";
    let (Some(id), Some(secret)) = (
        source.credentials.client_id.as_deref(),
        source.credentials.client_secret.as_ref(),
    ) else {
        return Err(SourceError::MissingCredential {
            what: "Koha's OAuth2 client credentials".into(),
            hint: "set client_id (or client_id_env) and client_secret_env in [source]",
        });
    };
    let url = source.api.url("/api/v1/oauth/token");
    let answer = source
        .api
        .send(what, || {
            source.api.client().post(&url).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret.expose()),
            ])
        })
        .await?;
    if answer.status != 200 {
        return Err(SourceError::Refused {
            what: what.to_owned(),
            status: answer.status,
        });
    }
    let token = answer
        .json(what)?
        .get("access_token")
        .and_then(Value::as_str)
        .map(Secret::new)
        .ok_or_else(|| SourceError::malformed(what, "no access_token"))?;
    *source
        .koha_token
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(token.clone());
    Ok(token)
}

pub(crate) async fn loan_state(source: &Source, loan: &Loan) -> Result<LoanState, SourceError> {
    let token = token(source).await?;
    let what = format!("GET /api/v1/checkouts/{}", loan.id);
    let url = source
        .api
        .url(&format!("/api/v1/checkouts/{}", encode(loan.id.as_str())));
    let answer = source
        .api
        .send(&what, || {
            source
                .api
                .client()
                .get(&url)
                .bearer_auth(token.expose())
                .header("Accept", "application/json")
        })
        .await?;
    if answer.status != 200 {
        return Ok(LoanState::Unknown);
    }
    let checkout = answer.json(&what)?;
    let checkin = text(checkout.get("checkin_date").unwrap_or(&Value::Null));
    if checkin.is_empty() {
        return Ok(LoanState::Open);
    }
    Ok(LoanState::Returned {
        at: chrono::DateTime::parse_from_rfc3339(&checkin)
            .ok()
            .map(|t| t.to_utc()),
    })
}
