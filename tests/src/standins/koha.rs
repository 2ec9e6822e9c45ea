//! Koha, as its `api/v1/swagger` documents it: `POST /api/v1/oauth/token`
//! (client credentials), `GET /api/v1/checkouts` (current checkouts, `_page` /
//! `_per_page`, `X-Total-Count`), `GET /api/v1/items` and `GET /api/v1/patrons`
//! (`q` a JSON filter, `x-koha-embed: biblio` on items), and
//! `GET /api/v1/checkouts/{checkout_id}` (a checked-in one from the old
//! checkouts, with its `checkin_date`). Ids are integers, absent values null.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{CLIENT_ID, CLIENT_SECRET, Fault, Inner, LoanFixture, Reply, split_target};
use crate::relay::Request;

const ACCESS_TOKEN: &str = "koha-standin-access-token";

fn id(text: &str) -> Value {
    text.parse::<i64>()
        .map_or_else(|_| json!(text), Value::from)
}

fn nullable(text: &str) -> Value {
    if text.is_empty() {
        Value::Null
    } else {
        json!(text)
    }
}

fn item_id(loan: &LoanFixture) -> String {
    format!("9{}", loan.id)
}

fn checkout(loan: &LoanFixture, checkin: Option<&String>) -> Value {
    json!({
        "checkout_id": id(&loan.id),
        "patron_id": id(&loan.patron),
        "item_id": id(&item_id(loan)),
        "external_id": loan.barcode,
        "library_id": loan.library,
        "due_date": loan.due_at,
        "checkout_date": loan.loaned_at,
        "checkin_date": checkin,
        "renewals_count": 0,
        "auto_renew": false,
        "onsite_checkout": false,
    })
}

pub(super) fn answer(request: &Request, inner: &mut Inner) -> Reply {
    let (path, params) = split_target(&request.target);
    if path == "/api/v1/oauth/token" && request.method == "POST" {
        let (_, form) = split_target(&format!("?{}", String::from_utf8_lossy(&request.body)));
        let good = form.get("grant_type").map(String::as_str) == Some("client_credentials")
            && form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
            && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
        if !good {
            return Reply::json(401, &json!({ "error": "unauthorized_client" }));
        }
        return Reply::json(
            200,
            &json!({ "access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600 }),
        );
    }
    if request.header("authorization") != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        return Reply::json(401, &json!({ "error": "Authentication failure." }));
    }
    let page: usize = params
        .get("_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let per_page: usize = params
        .get("_per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(20);
    let filter: HashMap<String, Value> = params
        .get("q")
        .and_then(|q| serde_json::from_str(q).ok())
        .unwrap_or_default();
    let wanted = |key: &str, value: &str| -> bool {
        match filter.get(key) {
            None => true,
            Some(Value::Array(list)) => list.iter().any(|v| super_text(v) == value),
            Some(v) => super_text(v) == value,
        }
    };
    match path.as_str() {
        "/api/v1/checkouts" => {
            match inner.fault(page as u32) {
                Some(Fault::TooManyRequests) => return Reply::status(429),
                Some(Fault::ServerError | Fault::ServerErrorOnce) => return Reply::status(500),
                _ => {}
            }
            let open = inner.open_loans();
            let list: Vec<Value> = open
                .iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .map(|l| checkout(l, None))
                .collect();
            let reply = Reply::json(200, &Value::Array(list))
                .with_header("X-Total-Count", open.len().to_string());
            if inner.faults.get(&(page as u32)) == Some(&Fault::Malformed) {
                return reply.cut();
            }
            reply
        }
        "/api/v1/items" => {
            let embed_biblio = request
                .header("x-koha-embed")
                .is_some_and(|e| e.split(',').any(|v| v.trim() == "biblio"));
            let list: Vec<Value> = inner
                .fixture
                .loans
                .iter()
                .filter(|l| wanted("item_id", &item_id(l)))
                .skip((page - 1) * per_page)
                .take(per_page)
                .map(|l| {
                    let mut item = json!({
                        "item_id": id(&item_id(l)),
                        "biblio_id": id(&format!("7{}", l.id)),
                        "external_id": l.barcode,
                        "callnumber": nullable(&l.call_number),
                        "home_library_id": l.library,
                        "holding_library_id": l.library,
                    });
                    if embed_biblio {
                        item["biblio"] = json!({ "biblio_id": id(&format!("7{}", l.id)), "title": l.title, "author": nullable(&l.author) });
                    }
                    item
                })
                .collect();
            Reply::json(200, &Value::Array(list))
        }
        "/api/v1/patrons" => {
            let list: Vec<Value> = inner
                .fixture
                .patrons
                .iter()
                .filter(|p| wanted("patron_id", &p.id))
                .skip((page - 1) * per_page)
                .take(per_page)
                .map(|p| {
                    json!({
                        "patron_id": id(&p.id),
                        "cardnumber": format!("C{}", p.id),
                        "firstname": p.first_name,
                        "surname": p.last_name,
                        "email": nullable(&p.email),
                        "address": p.line1,
                        "address2": nullable(&p.line2),
                        "postal_code": p.postcode,
                        "city": p.city,
                        "country": nullable(&p.country),
                        "lang": if p.language.is_empty() { "default" } else { &p.language },
                        "library_id": "STS",
                        "category_id": "ETU",
                    })
                })
                .collect();
            Reply::json(200, &Value::Array(list))
        }
        other => match other.strip_prefix("/api/v1/checkouts/") {
            Some(checkout_id) => match inner.fixture.loans.iter().find(|l| l.id == checkout_id) {
                Some(l) => Reply::json(200, &checkout(l, inner.returned.get(&l.id))),
                None => Reply::json(404, &json!({ "error": "Checkout doesn't exist" })),
            },
            None => Reply::status(404),
        },
    }
}

fn super_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
