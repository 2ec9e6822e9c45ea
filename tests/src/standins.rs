//! Stand-ins for the library systems Relance pulls from (Alma, Koha, FOLIO),
//! on loopback: each answers the documented requests with the documented
//! shapes (see the README's "Sources" for the document behind each), pages as
//! the system does, checks the credentials it was given, records every request,
//! and fails on demand: a 429 (Alma: `X-Exl-Api-Remaining: 0`), a 500 on one
//! page or once, a malformed page.
//!
//! All three serve the same [`Fixture`] (patrons and open loans, as canonical
//! CSV rows too), so a test can compare a pull with the equivalent CSV import.

mod alma;
mod folio;
mod koha;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::relay::{IO_TIMEOUT, Listener, Request, read_request};

/// The credentials every stand-in expects.
pub const API_KEY: &str = "l7xx-standin-alma-key";
pub const CLIENT_ID: &str = "relance-standin";
pub const CLIENT_SECRET: &str = "standin-client-secret";
pub const TOKEN: &str = "standin-okapi-token";
pub const TENANT: &str = "diku";
/// Alma's report paths.
pub const LOANS_REPORT: &str = "/shared/Université de Test/Relance/Prêts en cours";

/// A patron as the stand-ins serve them.
#[derive(Debug, Clone)]
pub struct PatronFixture {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub line1: String,
    pub line2: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
    /// `fr`, `en` or empty.
    pub language: String,
}

/// An open loan as the stand-ins serve them.
#[derive(Debug, Clone)]
pub struct LoanFixture {
    pub id: String,
    pub patron: String,
    pub library: String,
    pub barcode: String,
    pub title: String,
    pub author: String,
    pub call_number: String,
    /// RFC 3339.
    pub loaned_at: String,
    /// RFC 3339.
    pub due_at: String,
}

/// The library system's data.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub patrons: Vec<PatronFixture>,
    pub loans: Vec<LoanFixture>,
}

impl Fixture {
    /// `loans` open loans of `patrons` patrons (numeric ids, as Koha has them),
    /// in the three libraries of the test institution, due around `due_base`
    /// (`YYYY-MM-DD`, one a day); some authors, second address lines,
    /// countries and languages empty, as real data has them.
    pub fn sample(patrons: usize, loans: usize, due_base: &str) -> Self {
        let base = chrono::NaiveDate::parse_from_str(due_base, "%Y-%m-%d").expect("date");
        let patrons: Vec<PatronFixture> = (0..patrons)
            .map(|i| PatronFixture {
                id: format!("{}", 1001 + i),
                first_name: ["Camille", "Léa", "Hugo", "Zoé"][i % 4].into(),
                last_name: format!("Martin-{i}"),
                email: if i % 7 == 3 {
                    String::new()
                } else {
                    format!("lecteur{i}@etu.example.fr")
                },
                line1: format!("{} rue Sainte-Catherine", i + 1),
                line2: if i % 3 == 0 {
                    "Bât. B".into()
                } else {
                    String::new()
                },
                postcode: "33000".into(),
                city: "Bordeaux".into(),
                country: if i % 5 == 0 {
                    "France".into()
                } else {
                    String::new()
                },
                language: ["fr", "en", ""][i % 3].into(),
            })
            .collect();
        let loans = (0..loans)
            .map(|i| {
                let due = base + chrono::Duration::days((i % 40) as i64 - 20);
                LoanFixture {
                    id: format!("{}", 50001 + i),
                    patron: patrons[i % patrons.len()].id.clone(),
                    library: ["STS", "DRT", "LSH"][i % 3].into(),
                    barcode: format!("3{:011}", i),
                    title: format!("Titre, « {i} »"),
                    author: if i % 4 == 1 {
                        String::new()
                    } else {
                        format!("Auteur {i}")
                    },
                    call_number: if i % 6 == 2 {
                        String::new()
                    } else {
                        format!("{}.{i}", 500 + i % 90)
                    },
                    loaned_at: format!("{}T10:15:00+01:00", due - chrono::Duration::days(28)),
                    due_at: format!("{due}T23:59:00+01:00"),
                }
            })
            .collect();
        Self { patrons, loans }
    }

    /// patrons.csv as rules §9 has it; `languages` false for a system that has none (FOLIO).
    pub fn patrons_csv(&self, languages: bool) -> String {
        let mut csv = csv::Writer::from_writer(Vec::new());
        csv.write_record(crate::PATRONS_HEADER.split(',')).unwrap();
        for p in &self.patrons {
            let name = format!("{} {}", p.first_name, p.last_name);
            let language = if languages { p.language.as_str() } else { "" };
            csv.write_record([
                &p.id,
                &name,
                &p.email,
                &p.line1,
                &p.line2,
                &p.postcode,
                &p.city,
                &p.country,
                language,
                "",
            ])
            .unwrap();
        }
        String::from_utf8(csv.into_inner().unwrap()).unwrap()
    }

    /// loans.csv as rules §9 has it.
    pub fn loans_csv(&self) -> String {
        let mut csv = csv::Writer::from_writer(Vec::new());
        csv.write_record(crate::LOANS_HEADER.split(',')).unwrap();
        for l in &self.loans {
            csv.write_record([
                &l.id,
                &l.patron,
                &l.library,
                &l.barcode,
                &l.title,
                &l.author,
                &l.call_number,
                &l.loaned_at,
                &l.due_at,
                "",
            ])
            .unwrap();
        }
        String::from_utf8(csv.into_inner().unwrap()).unwrap()
    }
}

/// The library system a stand-in plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Alma,
    Koha,
    Folio,
}

/// A failure to answer with, on one page of the loans pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429; Alma adds `X-Exl-Api-Remaining: 0` (the daily quota spent).
    TooManyRequests,
    /// 500, every time that page is asked for.
    ServerError,
    /// 500 the first time only.
    ServerErrorOnce,
    /// A page cut in the middle.
    Malformed,
}

/// What a stand-in knows and does.
pub(crate) struct State {
    kind: Kind,
    inner: Mutex<Inner>,
}

pub(crate) struct Inner {
    pub fixture: Fixture,
    /// Loans returned since, with when: gone from the pull, returned when asked one by one.
    pub returned: BTreeMap<String, String>,
    pub faults: HashMap<u32, Fault>,
    /// Faults already served once.
    pub served: Vec<u32>,
    pub requests: Vec<Request>,
    /// Alma's resumption tokens: token → next row.
    pub tokens: HashMap<String, usize>,
    /// Alma's daily calls left.
    pub quota: u64,
}

impl State {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    /// The open loans: the fixture's, less the returned ones.
    pub fn open_loans(&self) -> Vec<LoanFixture> {
        self.fixture
            .loans
            .iter()
            .filter(|l| !self.returned.contains_key(&l.id))
            .cloned()
            .collect()
    }

    /// The fault to answer page `page` of the loans pull with, if any.
    pub fn fault(&mut self, page: u32) -> Option<Fault> {
        let fault = *self.faults.get(&page)?;
        if fault == Fault::ServerErrorOnce {
            if self.served.contains(&page) {
                return None;
            }
            self.served.push(page);
        }
        Some(fault)
    }
}

/// A stand-in listening on 127.0.0.1 until dropped.
pub struct StandIn {
    state: Arc<State>,
    listener: Listener,
}

impl StandIn {
    /// Starts a stand-in of `kind` serving `fixture`.
    pub fn start(kind: Kind, fixture: Fixture) -> Self {
        let state = Arc::new(State {
            kind,
            inner: Mutex::new(Inner {
                fixture,
                returned: BTreeMap::new(),
                faults: HashMap::new(),
                served: Vec::new(),
                requests: Vec::new(),
                tokens: HashMap::new(),
                quota: 100_000,
            }),
        });
        let listener = Listener::start("stand-in", Arc::clone(&state), serve);
        Self { state, listener }
    }

    /// Its base URL (`http://127.0.0.1:{port}`).
    pub fn url(&self) -> String {
        self.listener.url()
    }

    /// Answers page `page` (1 = the first) of the loans pull with `fault`.
    pub fn fail_page(&self, page: u32, fault: Fault) {
        self.state.lock().faults.insert(page, fault);
    }

    /// The system records the loan returned at `at` (RFC 3339).
    pub fn return_loan(&self, id: &str, at: &str) {
        self.state
            .lock()
            .returned
            .insert(id.to_owned(), at.to_owned());
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().requests.clone()
    }

    /// The `[source]` section of a config pointing at this stand-in, its
    /// credentials in the environment variables the test sets ([`StandIn::env`]).
    pub fn source_toml(&self, recheck: bool) -> String {
        let url = self.url();
        let system = match self.state.kind {
            Kind::Alma => format!(
                "system = \"alma\"\napi_key_env = \"RELANCE_TEST_ALMA_KEY\"\nloans_report = \"{LOANS_REPORT}\"\n"
            ),
            Kind::Koha => format!(
                "system = \"koha\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret_env = \"RELANCE_TEST_KOHA_SECRET\"\n"
            ),
            Kind::Folio => format!(
                "system = \"folio\"\ntenant = \"{TENANT}\"\ntoken_env = \"RELANCE_TEST_FOLIO_TOKEN\"\n"
            ),
        };
        format!(
            "\n[source]\n{system}base_url = \"{url}\"\nrecheck = {recheck}\nmax_calls_per_run = 50\n"
        )
    }

    /// The environment variables holding this stand-in's credentials.
    pub fn env(&self) -> Vec<(&'static str, &'static str)> {
        match self.state.kind {
            Kind::Alma => vec![("RELANCE_TEST_ALMA_KEY", API_KEY)],
            Kind::Koha => vec![("RELANCE_TEST_KOHA_SECRET", CLIENT_SECRET)],
            Kind::Folio => vec![("RELANCE_TEST_FOLIO_TOKEN", TOKEN)],
        }
    }
}

/// An answer: status, extra headers, body.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            content_type: "application/json",
            body: value.to_string().into_bytes(),
        }
    }

    pub fn xml(status: u16, body: String) -> Self {
        Self {
            status,
            headers: Vec::new(),
            content_type: "application/xml;charset=UTF-8",
            body: body.into_bytes(),
        }
    }

    pub fn status(status: u16) -> Self {
        Self::json(
            status,
            &serde_json::json!({ "error": format!("HTTP {status}") }),
        )
    }

    /// The body cut in the middle (a malformed page).
    pub fn cut(mut self) -> Self {
        self.body.truncate(self.body.len() / 2);
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

fn serve(stream: TcpStream, state: &State) -> std::io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let Some(request) = read_request(&mut reader, &mut writer)? else {
        return Ok(());
    };
    let reply = {
        let mut inner = state.lock();
        inner.requests.push(request.clone());
        match state.kind {
            Kind::Alma => alma::answer(&request, &mut inner),
            Kind::Koha => koha::answer(&request, &mut inner),
            Kind::Folio => folio::answer(&request, &mut inner),
        }
    };
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    writer.write_all(head.as_bytes())?;
    writer.write_all(&reply.body)?;
    writer.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Internal Server Error",
    }
}

/// A request's path and its query parameters, percent-decoded (`+` is a space).
pub(crate) fn split_target(target: &str) -> (String, HashMap<String, String>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    let params = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    (decode(path), params)
}
