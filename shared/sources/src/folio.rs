//! FOLIO through Okapi (mod-circulation's and mod-users' `ramls`), with the
//! `X-Okapi-Tenant` and `X-Okapi-Token` headers:
//!
//! - the open loans, `GET /circulation/loans?query=status.name=="Open" sortby id`,
//!   paged with `limit` / `offset` (`{"loans": […], "totalRecords": n}`; `id`,
//!   `userId`, `loanDate`, `dueDate`, `returnDate`, `status.name`, and the
//!   loan's `item`: `title`, `barcode`, `callNumber`, `location.name`,
//!   `contributors[].name`);
//! - their users, `GET /users?query=id==(… or …)` (`{"users": […]}`; `id`,
//!   `barcode`, `personal.firstName`, `personal.lastName`, `personal.email`,
//!   `personal.addresses[]`, the primary one first);
//! - one loan at send time, `GET /circulation/loans/{id}`.

use std::collections::{BTreeSet, HashMap};

use relance_core::model::Loan;
use relance_core::ports::LoanState;
use serde_json::Value;

use crate::http::encode;
use crate::json::cell;
use crate::{Source, SourceError, Table};

/// Rows per page.
const PER_PAGE: usize = 100;

/// Users asked for in one query.
const USERS_PER_QUERY: usize = 50;

/// The loans table's headings: the loan's fields, nested ones with dots.
pub const LOAN_HEADINGS: [&str; 11] = [
    "id",
    "userId",
    "status.name",
    "loanDate",
    "dueDate",
    "returnDate",
    "item.barcode",
    "item.title",
    "item.callNumber",
    "item.location.name",
    "item.contributors.name",
];

/// The patrons table's headings: the user's fields, nested ones with dots.
pub const PATRON_HEADINGS: [&str; 10] = [
    "id",
    "barcode",
    "personal.firstName",
    "personal.lastName",
    "personal.email",
    "personal.addresses.addressLine1",
    "personal.addresses.addressLine2",
    "personal.addresses.postalCode",
    "personal.addresses.city",
    "personal.addresses.countryId",
];

const OPEN_LOANS: &str = "status.name==\"Open\" sortby id";

pub(crate) async fn pull(source: &Source) -> Result<(Table, Table, u32), SourceError> {
    let mut loans = Table::new(LOAN_HEADINGS);
    let mut user_ids = BTreeSet::new();
    let mut pages = 0;
    let mut offset = 0;
    loop {
        let what = format!("GET /circulation/loans?offset={offset}");
        let path = format!(
            "/circulation/loans?query={}&limit={PER_PAGE}&offset={offset}",
            encode(OPEN_LOANS)
        );
        let page = get(source, &what, &path).await?.ok_or_else(|| {
            SourceError::malformed(
                &what,
                "not found: is the circulation module enabled for the tenant?",
            )
        })?;
        pages += 1;
        let batch = array(&page, "loans", &what)?;
        let total = page.get("totalRecords").and_then(Value::as_u64);
        for loan in batch {
            let mut row: HashMap<&str, String> = HashMap::new();
            for heading in &LOAN_HEADINGS[..10] {
                row.insert(heading, cell(loan, heading));
            }
            let contributors: Vec<String> = loan
                .pointer("/item/contributors")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .map(|c| cell(c, "name"))
                        .filter(|n| !n.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            row.insert("item.contributors.name", contributors.join("; "));
            user_ids.insert(row["userId"].clone());
            loans.push_named(&row);
        }
        offset += batch.len();
        let done = batch.len() < PER_PAGE || total.is_some_and(|t| offset as u64 >= t);
        if done {
            if let Some(total) = total
                && (offset as u64) < total
            {
                return Err(SourceError::malformed(
                    &what,
                    format!("{offset} loans read of the {total} announced"),
                ));
            }
            break;
        }
    }
    user_ids.remove("");
    let ids: Vec<&String> = user_ids.iter().collect();
    let mut patrons = Table::new(PATRON_HEADINGS);
    for chunk in ids.chunks(USERS_PER_QUERY) {
        let query = format!(
            "id==({})",
            chunk
                .iter()
                .map(|id| format!("\"{id}\""))
                .collect::<Vec<_>>()
                .join(" or ")
        );
        let what = "GET /users";
        let path = format!("/users?query={}&limit={}", encode(&query), chunk.len());
        let page = get(source, what, &path)
            .await?
            .ok_or_else(|| SourceError::malformed(what, "not found"))?;
        for user in array(&page, "users", what)? {
            patrons.push_named(&user_row(user));
        }
    }
    if patrons.rows.len() < ids.len() {
        return Err(SourceError::malformed(
            "GET /users",
            format!(
                "{} of the {} users of open loans were not returned",
                ids.len() - patrons.rows.len(),
                ids.len()
            ),
        ));
    }
    Ok((loans, patrons, pages))
}

/// A user's row: names, email, and the primary address (else the first).
fn user_row(user: &Value) -> HashMap<&'static str, String> {
    let mut row = HashMap::new();
    for heading in &PATRON_HEADINGS[..5] {
        row.insert(*heading, cell(user, heading));
    }
    let addresses = user
        .pointer("/personal/addresses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let address = addresses
        .iter()
        .find(|a| a.get("primaryAddress").and_then(Value::as_bool) == Some(true))
        .or_else(|| addresses.first());
    if let Some(address) = address {
        for heading in &PATRON_HEADINGS[5..] {
            let field = heading.rsplit('.').next().unwrap_or(heading);
            row.insert(*heading, cell(address, field));
        }
    }
    row
}

fn array<'a>(page: &'a Value, key: &str, what: &str) -> Result<&'a Vec<Value>, SourceError> {
    page.get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| SourceError::malformed(what, format!("no \"{key}\" array")))
}

/// The JSON object at `path`; `None` when not found.
async fn get(source: &Source, what: &str, path: &str) -> Result<Option<Value>, SourceError> {
    let Some(token) = source.credentials.token.as_ref() else {
        return Err(SourceError::MissingCredential {
            what: "FOLIO's token".into(),
            hint: "set token_env in [source]",
        });
    };
    let tenant = source.settings.tenant.as_deref().unwrap_or_default();
    let url = source.api.url(path);
    let answer = source
        .api
        .send(what, || {
            source
                .api
                .client()
                .get(&url)
                .header("X-Okapi-Tenant", tenant)
                .header("X-Okapi-Token", token.expose())
                .header("Accept", "application/json")
        })
        .await?;
    match answer.status {
        200 => Ok(Some(answer.json(what)?)),
        404 => Ok(None),
        status => Err(SourceError::Refused {
            what: what.to_owned(),
            status,
        }),
    }
}

pub(crate) async fn loan_state(source: &Source, loan: &Loan) -> Result<LoanState, SourceError> {
    let what = format!("GET /circulation/loans/{}", loan.id);
    let path = format!("/circulation/loans/{}", encode(loan.id.as_str()));
    let Some(found) = get(source, &what, &path).await? else {
        return Ok(LoanState::Unknown);
    };
    let status = cell(&found, "status.name");
    if status.eq_ignore_ascii_case("open") {
        return Ok(LoanState::Open);
    }
    if status.eq_ignore_ascii_case("closed") {
        let at = cell(&found, "returnDate");
        return Ok(LoanState::Returned {
            at: chrono::DateTime::parse_from_rfc3339(&at)
                .ok()
                .map(|t| t.to_utc()),
        });
    }
    Ok(LoanState::Unknown)
}
