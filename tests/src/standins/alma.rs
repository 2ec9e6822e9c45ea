//! Alma, as the Ex Libris Developer Network documents it: the Analytics API
//! (`GET /almaws/v1/analytics/reports`, `path` and `limit` 25–1000 then the
//! first page's `ResumptionToken` as `token`, `IsFinished`; the rowset's
//! `xsd:schema` naming `Column0..N` by `saw-sql:columnHeading`, `Column0` a
//! placeholder, empty cells left out), the Users API (`GET /almaws/v1/users/{id}`)
//! and one loan (`GET /almaws/v1/users/{id}/loans/{loan_id}`, `item_loan`).
//! The key is read from `Authorization: apikey …` or `apikey=`; every answer
//! carries `X-Exl-Api-Remaining`.

use serde_json::json;

use super::{API_KEY, Fault, Inner, LOANS_REPORT, Reply, split_target};
use crate::relay::Request;

/// Rows per page, whatever the limit (Alma may send fewer than asked for).
const PAGE_ROWS: usize = 100;

/// The loans report's columns: loans and their patrons' names and addresses;
/// email and language are not in it (the Users API gives them).
const HEADINGS: [&str; 16] = [
    "Item Loan Id",
    "Primary Identifier",
    "Library Code",
    "Barcode",
    "Title",
    "Author",
    "Permanent Call Number",
    "Loan Date",
    "Due Date",
    "First Name",
    "Last Name",
    "Preferred Address Line 1",
    "Preferred Address Line 2",
    "Preferred Postal Code",
    "Preferred City",
    "Preferred Country",
];

pub(super) fn answer(request: &Request, inner: &mut Inner) -> Reply {
    let (path, params) = split_target(&request.target);
    let key = request
        .header("authorization")
        .and_then(|v| v.strip_prefix("apikey "))
        .map(str::to_owned)
        .or_else(|| params.get("apikey").cloned());
    if key.as_deref() != Some(API_KEY) {
        return Reply::xml(
            400,
            error(
                "UNAUTHORIZED",
                "API-key not defined or not configured to allow this API.",
            ),
        );
    }
    inner.quota = inner.quota.saturating_sub(1);
    let quota = inner.quota.to_string();
    let reply = if path == "/almaws/v1/analytics/reports" {
        report(&params, inner)
    } else if let Some(rest) = path.strip_prefix("/almaws/v1/users/") {
        match rest.split('/').collect::<Vec<_>>()[..] {
            [user] => user_of(user, inner),
            [user, "loans", loan] => loan_of(user, loan, inner),
            _ => Reply::status(404),
        }
    } else {
        Reply::status(404)
    };
    if reply.status == 429 {
        return reply.with_header("X-Exl-Api-Remaining", "0");
    }
    reply.with_header("X-Exl-Api-Remaining", quota)
}

fn report(params: &std::collections::HashMap<String, String>, inner: &mut Inner) -> Reply {
    let limit: usize = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(25);
    if !(25..=1000).contains(&limit) || !limit.is_multiple_of(25) {
        return Reply::xml(
            400,
            error(
                "INVALID_PARAMETER",
                "limit must be 25-1000, a multiple of 25",
            ),
        );
    }
    let (start, first) = match (params.get("token"), params.get("path")) {
        (Some(token), _) => match inner.tokens.get(token) {
            Some(&next) => (next, false),
            None => return Reply::xml(400, error("INVALID_TOKEN", "Invalid resumption token")),
        },
        (None, Some(path)) if path == LOANS_REPORT => (0, true),
        _ => return Reply::xml(400, error("INVALID_PATH", "Report not found")),
    };
    let page = (start / PAGE_ROWS) as u32 + 1;
    match inner.fault(page) {
        Some(Fault::TooManyRequests) => {
            return Reply::xml(
                429,
                error(
                    "PER_DAY_THRESHOLD",
                    "Daily API Request Threshold has been reached.",
                ),
            );
        }
        Some(Fault::ServerError | Fault::ServerErrorOnce) => {
            return Reply::xml(500, error("INTERNAL", "Internal error"));
        }
        Some(Fault::Malformed) | None => {}
    }
    let loans = inner.open_loans();
    let end = (start + PAGE_ROWS).min(loans.len());
    let finished = end >= loans.len();
    let token = "9672D715A8E2EAAA6F30DD22FC52BE4CCA2E2D1B0A4C4E1D".to_owned();
    inner.tokens.insert(token.clone(), end);
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<report><QueryResult>",
    );
    if first {
        xml.push_str(&format!("<ResumptionToken>{token}</ResumptionToken>"));
    }
    xml.push_str(&format!("<IsFinished>{finished}</IsFinished><ResultXml>"));
    xml.push_str("<rowset xmlns=\"urn:schemas-microsoft-com:xml-analysis:rowset\">");
    if first {
        xml.push_str("<xsd:schema xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:saw-sql=\"urn:saw-sql\" targetNamespace=\"urn:schemas-microsoft-com:xml-analysis:rowset\"><xsd:complexType name=\"Row\"><xsd:sequence>");
        xml.push_str("<xsd:element name=\"Column0\" type=\"xsd:string\" minOccurs=\"0\" maxOccurs=\"1\" saw-sql:type=\"integer\" saw-sql:displayFormula=\"0\" saw-sql:tableHeading=\"\" saw-sql:columnHeading=\"0\"/>");
        for (i, heading) in HEADINGS.iter().enumerate() {
            xml.push_str(&format!(
                "<xsd:element name=\"Column{}\" type=\"xsd:string\" minOccurs=\"0\" maxOccurs=\"1\" saw-sql:type=\"varchar\" saw-sql:columnHeading=\"{}\"/>",
                i + 1,
                escape(heading)
            ));
        }
        xml.push_str("</xsd:sequence></xsd:complexType></xsd:schema>");
    }
    for loan in &loans[start..end] {
        let patron = inner.fixture.patrons.iter().find(|p| p.id == loan.patron);
        let values: [&str; 16] = [
            &loan.id,
            &loan.patron,
            &loan.library,
            &loan.barcode,
            &loan.title,
            &loan.author,
            &loan.call_number,
            &loan.loaned_at,
            &loan.due_at,
            patron.map_or("", |p| &p.first_name),
            patron.map_or("", |p| &p.last_name),
            patron.map_or("", |p| &p.line1),
            patron.map_or("", |p| &p.line2),
            patron.map_or("", |p| &p.postcode),
            patron.map_or("", |p| &p.city),
            patron.map_or("", |p| &p.country),
        ];
        xml.push_str("<Row><Column0>0</Column0>");
        for (i, value) in values.iter().enumerate() {
            // Alma leaves an empty cell out of its row.
            if !value.is_empty() {
                xml.push_str(&format!(
                    "<Column{n}>{}</Column{n}>",
                    escape(value),
                    n = i + 1
                ));
            }
        }
        xml.push_str("</Row>");
    }
    xml.push_str("</rowset></ResultXml></QueryResult></report>");
    let reply = Reply::xml(200, xml);
    if inner.faults.get(&page) == Some(&Fault::Malformed) {
        return reply.cut();
    }
    reply
}

fn user_of(id: &str, inner: &Inner) -> Reply {
    let Some(p) = inner.fixture.patrons.iter().find(|p| p.id == id) else {
        return Reply::xml(
            400,
            error("401861", "User with identifier X was not found."),
        );
    };
    let emails = if p.email.is_empty() {
        json!([])
    } else {
        json!([
            { "email_address": "ancienne@example.fr", "preferred": false, "email_type": [{"value": "personal"}] },
            { "email_address": p.email, "preferred": true, "email_type": [{"value": "school"}] }
        ])
    };
    let language = if p.language.is_empty() {
        serde_json::Value::Null
    } else {
        json!({ "value": p.language, "desc": p.language })
    };
    Reply::json(
        200,
        &json!({
            "primary_id": p.id,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "preferred_language": language,
            "contact_info": { "email": emails, "address": [], "phone": [] }
        }),
    )
}

fn loan_of(user: &str, loan: &str, inner: &Inner) -> Reply {
    let Some(l) = inner
        .fixture
        .loans
        .iter()
        .find(|l| l.id == loan && l.patron == user)
    else {
        return Reply::json(
            400,
            &json!({ "errorsExist": true, "errorList": { "error": [{ "errorCode": "401823", "errorMessage": "Loan ID does not exist." }] } }),
        );
    };
    let returned = inner.returned.get(&l.id);
    Reply::json(
        200,
        &json!({
            "loan_id": l.id,
            "user_id": l.patron,
            "item_barcode": l.barcode,
            "due_date": l.due_at,
            "loan_date": l.loaned_at,
            "loan_status": if returned.is_some() { "Complete" } else { "Active" },
            "return_date": returned,
        }),
    )
}

fn error(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><web_service_result xmlns=\"http://com/exlibris/urm/general/xmlbeans\"><errorsExist>true</errorsExist><errorList><error><errorCode>{code}</errorCode><errorMessage>{}</errorMessage></error></errorList></web_service_result>",
        escape(message)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
