//! FOLIO through Okapi, as mod-circulation's and mod-users' `ramls` document
//! it: `GET /circulation/loans?query=status.name=="Open"` (`limit` / `offset`,
//! `{"loans": […], "totalRecords": n}`, the loan's `item` with `title`,
//! `barcode`, `callNumber`, `location.name`, `contributors`),
//! `GET /users?query=id==(…)` (`{"users": […]}`, `personal` with names, email
//! and `addresses`), and `GET /circulation/loans/{id}` (`status.name` Open or
//! Closed, `returnDate`). Every request must carry `X-Okapi-Tenant` and
//! `X-Okapi-Token`.

use serde_json::{Value, json};

use super::{Fault, Inner, LoanFixture, Reply, TENANT, TOKEN, split_target};
use crate::relay::Request;

fn loan(l: &LoanFixture, returned: Option<&String>) -> Value {
    let mut loan = json!({
        "id": l.id,
        "userId": l.patron,
        "itemId": format!("item-{}", l.id),
        "loanDate": l.loaned_at,
        "dueDate": l.due_at,
        "action": if returned.is_some() { "checkedin" } else { "checkedout" },
        "status": { "name": if returned.is_some() { "Closed" } else { "Open" } },
        "item": {
            "id": format!("item-{}", l.id),
            "title": l.title,
            "barcode": l.barcode,
            "location": { "name": l.library },
            "contributors": if l.author.is_empty() { json!([]) } else { json!([{ "name": l.author }]) },
            "status": { "name": if returned.is_some() { "Available" } else { "Checked out" } },
        },
    });
    if !l.call_number.is_empty() {
        loan["item"]["callNumber"] = json!(l.call_number);
    }
    if let Some(at) = returned {
        loan["returnDate"] = json!(at);
    }
    loan
}

pub(super) fn answer(request: &Request, inner: &mut Inner) -> Reply {
    if request.header("x-okapi-tenant") != Some(TENANT)
        || request.header("x-okapi-token") != Some(TOKEN)
    {
        return Reply::status(401);
    }
    let (path, params) = split_target(&request.target);
    let limit: usize = params
        .get("limit")
        .and_then(|p| p.parse().ok())
        .unwrap_or(10);
    let offset: usize = params
        .get("offset")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let query = params.get("query").cloned().unwrap_or_default();
    match path.as_str() {
        "/circulation/loans" => {
            if !query.starts_with("status.name==\"Open\"") {
                return Reply::status(400);
            }
            let page = (offset / limit.max(1)) as u32 + 1;
            match inner.fault(page) {
                Some(Fault::TooManyRequests) => return Reply::status(429),
                Some(Fault::ServerError | Fault::ServerErrorOnce) => return Reply::status(500),
                _ => {}
            }
            let open = inner.open_loans();
            let loans: Vec<Value> = open
                .iter()
                .skip(offset)
                .take(limit)
                .map(|l| loan(l, None))
                .collect();
            let reply = Reply::json(200, &json!({ "loans": loans, "totalRecords": open.len() }));
            if inner.faults.get(&page) == Some(&Fault::Malformed) {
                return reply.cut();
            }
            reply
        }
        "/users" => {
            // id==("a" or "b" …)
            let ids: Vec<&str> = query.split('"').skip(1).step_by(2).collect();
            let users: Vec<Value> = inner
                .fixture
                .patrons
                .iter()
                .filter(|p| ids.contains(&p.id.as_str()))
                .take(limit)
                .map(|p| {
                    let mut personal = json!({
                        "lastName": p.last_name,
                        "firstName": p.first_name,
                        "addresses": [
                            { "addressLine1": "Ancienne adresse", "city": "Pau", "postalCode": "64000", "primaryAddress": false },
                            { "addressLine1": p.line1, "city": p.city, "postalCode": p.postcode, "primaryAddress": true }
                        ],
                    });
                    if !p.email.is_empty() {
                        personal["email"] = json!(p.email);
                    }
                    if !p.line2.is_empty() {
                        personal["addresses"][1]["addressLine2"] = json!(p.line2);
                    }
                    if !p.country.is_empty() {
                        personal["addresses"][1]["countryId"] = json!(p.country);
                    }
                    json!({ "id": p.id, "barcode": format!("U{}", p.id), "active": true, "personal": personal })
                })
                .collect();
            Reply::json(200, &json!({ "users": users, "totalRecords": users.len() }))
        }
        other => match other.strip_prefix("/circulation/loans/") {
            Some(loan_id) => match inner.fixture.loans.iter().find(|l| l.id == loan_id) {
                Some(l) => Reply::json(200, &loan(l, inner.returned.get(&l.id))),
                None => Reply::status(404),
            },
            None => Reply::status(404),
        },
    }
}
