//! The DynamoDB loan store and import against DynamoDB Local: what is put reads
//! back equal, the sparse indexes hold exactly the open loans, and the import
//! behaves as the embedded store's (rejects, strict, snapshot guard). Each test
//! makes its own table.

use std::io::Cursor;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use relance_aws::dynamo::import::DynamoSink;
use relance_aws::dynamo::store::loan_item;
use relance_aws::dynamo::table::{
    BY_DUE, DUE_DAY, OPEN_PATRON, create_table, loan_key, patron_key,
};
use relance_aws::dynamo::{Dynamo, Item, key_item};
use relance_core::address::EmailAddress;
use relance_core::calendar::local_date;
use relance_core::config::Config;
use relance_core::ids::{LibraryCode, LoanId, PatronId};
use relance_core::import::{
    CsvInput, ImportError, ImportOptions, ImportSummary, MemoryReport, import_csv,
};
use relance_core::model::{self, EmailStatus, Language, Loan, Patron, PostalAddress};
use relance_core::ports::LoanStore;
use relance_tests::emulators::{clients, unique};
use relance_tests::{CONFIG, day};

async fn store() -> Dynamo {
    let clients = clients();
    let table = unique("store");
    create_table(&clients.dynamodb, &table)
        .await
        .expect("table");
    Dynamo::new(clients.dynamodb, table)
}

fn patron(id: &str, name: &str) -> Patron {
    Patron {
        id: PatronId::parse(id).unwrap(),
        full_name: name.into(),
        email: Some(EmailAddress::parse(&format!("{}@etu.example.fr", id.to_lowercase())).unwrap()),
        email_status: EmailStatus::Deliverable,
        address: PostalAddress {
            line1: "12 rue Sainte-Catherine".into(),
            line2: "Bâtiment Ç, 3ᵉ étage".into(),
            postcode: "33000".into(),
            city: "Bordeaux".into(),
            country: String::new(),
        },
        language: Some(Language::Fr),
        courtesy_opt_out: false,
    }
}

fn loan(id: &str, patron: &str, due_at: DateTime<Utc>) -> Loan {
    Loan {
        id: LoanId::parse(id).unwrap(),
        patron_id: PatronId::parse(patron).unwrap(),
        library: LibraryCode::parse("STS").unwrap(),
        item: model::Item {
            barcode: format!("3300{id}"),
            title: "Les Misérables — tome Ⅰ".into(),
            author: "Victor Hugo".into(),
            call_number: "843.7 HUG".into(),
        },
        loaned_at: Some(Utc.with_ymd_and_hms(2026, 10, 1, 8, 15, 0).unwrap()),
        due_at,
        due_date: local_date(due_at, Paris),
        returned_at: None,
    }
}

/// `hh:mm` Paris time on `date`.
fn paris(date: &str, hour: u32, minute: u32) -> DateTime<Utc> {
    let naive = day(date).and_hms_opt(hour, minute, 0).unwrap();
    Paris
        .from_local_datetime(&naive)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn ids<T>(values: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    let mut ids: Vec<String> = values.iter().map(|v| id(v).to_owned()).collect();
    ids.sort();
    ids
}

fn loan_ids(loans: &[Loan]) -> Vec<String> {
    ids(loans, |l| l.id.as_str())
}

/// The item as stored, read raw.
async fn raw(store: &Dynamo, key: (String, String)) -> Item {
    let out = store
        .client()
        .get_item()
        .table_name(store.table())
        .set_key(Some(key_item(key)))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    out.item.expect("item exists")
}

#[tokio::test]
async fn patrons_and_loans_read_back_as_they_were_put_in_batches_of_more_than_a_hundred() {
    let store = store().await;
    let names = [
        "Zoë Łukasik-Nguyễn",
        "Jean-Ḿarc Ødegård",
        "李小龍",
        "Ægir Þórsson",
    ];
    let patrons: Vec<Patron> = (0..250)
        .map(|i| {
            let mut p = patron(&format!("P{i:04}"), names[i % names.len()]);
            if i % 3 == 0 {
                p.email = None;
                p.language = None;
                p.courtesy_opt_out = true;
                p.address.line2 = String::new();
            }
            p
        })
        .collect();
    let loans: Vec<Loan> = (0..250)
        .map(|i| {
            let mut l = loan(
                &format!("L{i:04}"),
                &format!("P{i:04}"),
                paris("2026-11-29", 23, 59),
            );
            if i % 4 == 0 {
                l.loaned_at = None;
                l.returned_at = Some(Utc.with_ymd_and_hms(2026, 11, 2, 16, 40, 5).unwrap());
            }
            l
        })
        .collect();
    store.put_patrons(&patrons).await.unwrap();
    store.put_loans(&loans).await.unwrap();

    // A repeated id and an unknown one are asked for as well.
    let mut asked: Vec<PatronId> = patrons.iter().map(|p| p.id.clone()).collect();
    asked.push(patrons[0].id.clone());
    asked.push(PatronId::parse("P9999").unwrap());
    let mut read = store.patrons(&asked).await.unwrap();
    read.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(read, patrons);
    let asked: Vec<LoanId> = loans.iter().map(|l| l.id.clone()).collect();
    let mut read = store.loans(&asked).await.unwrap();
    read.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(read, loans);

    // Typed attributes, not a blob: what the console shows.
    let item = raw(&store, patron_key(&patrons[0].id)).await;
    assert_eq!(item["full_name"].as_s().unwrap(), "Zoë Łukasik-Nguyễn");
    assert_eq!(item["courtesy_opt_out"].as_bool().unwrap(), &true);
    assert!(
        !item.contains_key("email"),
        "no email attribute when there is none"
    );
    let item = raw(&store, loan_key(&loans[1].id)).await;
    assert_eq!(item["due_at"].as_s().unwrap(), "2026-11-29T22:59:00Z");
    assert_eq!(item["due_date"].as_s().unwrap(), "2026-11-29");
}

#[tokio::test]
async fn open_loans_due_on_returns_the_open_loans_of_that_local_day_only() {
    let store = store().await;
    let mut returned = loan("L3", "P1", paris("2026-11-29", 18, 0));
    returned.returned_at = Some(paris("2026-11-28", 10, 0));
    store
        .put_loans(&[
            loan("L1", "P1", paris("2026-11-29", 23, 59)),
            // 00:30 in Paris on 30 November is still 29 November in UTC.
            loan("L2", "P1", paris("2026-11-30", 0, 30)),
            returned,
            loan("L4", "P2", paris("2026-11-28", 12, 0)),
        ])
        .await
        .unwrap();
    assert_eq!(paris("2026-11-30", 0, 30).date_naive(), day("2026-11-29"));
    let on = |d: &'static str| {
        let store = &store;
        async move { loan_ids(&store.open_loans_due_on(day(d)).await.unwrap()) }
    };
    assert_eq!(on("2026-11-29").await, ["L1"]);
    assert_eq!(on("2026-11-30").await, ["L2"]);
    assert_eq!(on("2026-11-28").await, ["L4"]);
    assert!(on("2026-11-27").await.is_empty());
}

#[tokio::test]
async fn a_returned_loan_leaves_both_indexes_and_stays_readable_by_id() {
    let store = store().await;
    let due = paris("2026-11-29", 23, 59);
    store
        .put_loans(&[
            loan("L1", "P1", due),
            loan("L2", "P1", due),
            loan("L3", "P1", due),
        ])
        .await
        .unwrap();
    let mut l1 = loan("L1", "P1", due);
    l1.returned_at = Some(paris("2026-11-20", 17, 0));
    store.put_loans(&[l1.clone()]).await.unwrap();
    let closed_at = paris("2026-11-21", 9, 0);
    let l2 = LoanId::parse("L2").unwrap();
    // L1 is already returned, L9 does not exist: only L2 is closed.
    let closed = store
        .close_loans(
            &[l1.id.clone(), l2.clone(), LoanId::parse("L9").unwrap()],
            closed_at,
        )
        .await
        .unwrap();
    assert_eq!(closed, 1);

    assert_eq!(
        loan_ids(&store.open_loans_due_on(day("2026-11-29")).await.unwrap()),
        ["L3"]
    );
    let p1 = PatronId::parse("P1").unwrap();
    assert_eq!(loan_ids(&store.open_loans_of(&p1).await.unwrap()), ["L3"]);
    for id in [&l1.id, &l2] {
        let item = raw(&store, loan_key(id)).await;
        assert!(
            !item.contains_key(DUE_DAY) && !item.contains_key(OPEN_PATRON),
            "{id}"
        );
    }
    let mut read = store.loans(&[l1.id.clone(), l2]).await.unwrap();
    read.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(read[0], l1);
    assert_eq!(read[1].returned_at, Some(closed_at));
}

#[tokio::test]
async fn open_loans_of_lists_one_patrons_open_loans() {
    let store = store().await;
    let due = paris("2026-12-05", 12, 0);
    let mut returned = loan("L4", "P1", due);
    returned.returned_at = Some(paris("2026-12-01", 12, 0));
    store
        .put_loans(&[
            loan("L1", "P1", due),
            loan("L2", "P1", paris("2026-11-29", 12, 0)),
            loan("L3", "P2", due),
            returned,
        ])
        .await
        .unwrap();
    let of = |id: &str| {
        let (store, id) = (&store, PatronId::parse(id).unwrap());
        async move { loan_ids(&store.open_loans_of(&id).await.unwrap()) }
    };
    assert_eq!(of("P1").await, ["L1", "L2"]);
    assert_eq!(of("P2").await, ["L3"]);
    assert!(of("P3").await.is_empty());
}

#[tokio::test]
async fn set_email_status_marks_the_patron_and_never_creates_one() {
    let store = store().await;
    store
        .put_patrons(&[patron("P1", "Zoë Martin"), patron("P2", "Łukasz Nowak")])
        .await
        .unwrap();
    let p1 = PatronId::parse("P1").unwrap();
    store
        .set_email_status(&p1, EmailStatus::Bouncing)
        .await
        .unwrap();
    let unknown = PatronId::parse("P9").unwrap();
    store
        .set_email_status(&unknown, EmailStatus::Complaining)
        .await
        .unwrap();

    let mut read = store
        .patrons(&[p1, PatronId::parse("P2").unwrap(), unknown])
        .await
        .unwrap();
    read.sort_by(|a, b| a.id.cmp(&b.id));
    let statuses: Vec<_> = read
        .iter()
        .map(|p| (p.id.as_str(), p.email_status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("P1", EmailStatus::Bouncing),
            ("P2", EmailStatus::Deliverable)
        ]
    );
    assert!(read[0].usable_email().is_none());
}

#[tokio::test]
async fn a_day_of_more_than_a_megabyte_is_read_page_after_page_and_its_reads_counted() {
    let store = store().await;
    let long_title = "Œuvres complètes, édition critique. ".repeat(80); // ~3 KB
    let loans: Vec<Loan> = (0..420)
        .map(|i| {
            let mut l = loan(
                &format!("L{i:04}"),
                &format!("P{:03}", i % 7),
                paris("2026-11-29", 23, 59),
            );
            l.item.title = long_title.clone();
            l
        })
        .collect();
    store.put_loans(&loans).await.unwrap();
    assert_eq!(store.read_units(), 0.0, "writes are not reads");

    // One page of the raw Query stops at 1 MB: the day does not fit in it.
    let mut due_day = loan_item(&loans[0]);
    let page = store
        .client()
        .query()
        .table_name(store.table())
        .index_name(BY_DUE)
        .key_condition_expression("#d = :d")
        .expression_attribute_names("#d", DUE_DAY)
        .expression_attribute_values(":d", due_day.remove(DUE_DAY).unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        page.last_evaluated_key().is_some(),
        "the day spans more than one page"
    );
    assert!(page.items().len() < loans.len());

    let read = store.open_loans_due_on(day("2026-11-29")).await.unwrap();
    assert_eq!(loan_ids(&read), loan_ids(&loans));
    let after_query = store.read_units();
    // 420 loans of ~3 KB are more than 1.2 MB: well over 100 units even at half price.
    assert!(after_query > 100.0, "{after_query}");
    let some: Vec<LoanId> = loans[..150].iter().map(|l| l.id.clone()).collect();
    assert_eq!(store.loans(&some).await.unwrap().len(), 150);
    assert!(
        store.read_units() > after_query + 100.0,
        "{}",
        store.read_units()
    );
}

// ------------------------------------------------------------------ import

const PATRONS_HEADER: &str = "patron_id,full_name,email,address_line1,address_line2,postcode,city,country,language,courtesy_opt_out\n";
const LOANS_HEADER: &str = "loan_id,patron_id,library_code,barcode,title,author,call_number,loaned_at,due_at,returned_at\n";
const PATRONS: &str = "P1,Zoë Martin,zoe@example.fr,12 rue Sainte-Catherine,,33000,Bordeaux,,fr,no\n\
                       P2,Łukasz Nowak,lukasz@example.fr,3 cours Pasteur,,33000,Bordeaux,,en,yes\n";

fn loans_csv<S: AsRef<str>>(rows: &[S]) -> String {
    let mut text = LOANS_HEADER.to_owned();
    for row in rows {
        text.push_str(row.as_ref());
        text.push('\n');
    }
    text
}

fn csv_loan(id: &str, patron: &str, due: &str) -> String {
    format!("{id},{patron},STS,33001{id},Les Misérables,Victor Hugo,843.7 HUG,,{due},")
}

fn options() -> ImportOptions {
    ImportOptions {
        snapshot: false,
        force: false,
        strict: false,
        now: Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
    }
}

fn snapshot() -> ImportOptions {
    ImportOptions {
        snapshot: true,
        ..options()
    }
}

/// What an import did, and its report.
#[derive(Debug)]
struct Imported {
    summary: ImportSummary,
    rejects: Option<Vec<u8>>,
}

struct Env {
    store: Dynamo,
    config: Config,
}

impl Env {
    async fn new() -> Self {
        Self {
            store: store().await,
            config: Config::parse(CONFIG).unwrap(),
        }
    }

    async fn import(
        &self,
        patrons: Option<&str>,
        loans: Option<&str>,
        options: &ImportOptions,
    ) -> Result<Imported, ImportError> {
        let patrons = patrons.map(|body| CsvInput {
            name: "patrons.csv",
            reader: Cursor::new(format!("{PATRONS_HEADER}{body}").into_bytes()),
        });
        let loans = loans.map(|text| CsvInput {
            name: "loans.csv",
            reader: Cursor::new(text.as_bytes().to_vec()),
        });
        let mut report = MemoryReport::default();
        let summary = import_csv(
            DynamoSink::new(&self.store, options),
            &self.config,
            patrons,
            loans,
            options,
            &mut report,
            &mut |_| {},
        )
        .await?;
        Ok(Imported {
            summary,
            rejects: report.into_bytes(),
        })
    }

    /// Imports the two patrons and `n` open loans L1…Ln of P1.
    async fn seed(&self, n: usize) {
        let rows: Vec<String> = (1..=n)
            .map(|i| csv_loan(&format!("L{i}"), "P1", "2026-11-29"))
            .collect();
        let done = self
            .import(Some(PATRONS), Some(&loans_csv(&rows)), &options())
            .await
            .unwrap();
        assert_eq!(
            (done.summary.loans_inserted, done.summary.rejected),
            (n as u64, 0)
        );
    }

    async fn loan(&self, id: &str) -> Option<Loan> {
        self.store
            .loans(&[LoanId::parse(id).unwrap()])
            .await
            .unwrap()
            .pop()
    }

    async fn patron(&self, id: &str) -> Patron {
        self.store
            .patrons(&[PatronId::parse(id).unwrap()])
            .await
            .unwrap()
            .pop()
            .expect("patron")
    }

    async fn open_on(&self, date: &str) -> Vec<String> {
        loan_ids(&self.store.open_loans_due_on(day(date)).await.unwrap())
    }
}

fn report(done: &Imported) -> String {
    String::from_utf8(done.rejects.clone().expect("a report")).unwrap()
}

#[tokio::test]
async fn an_import_inserts_then_updates_and_reads_the_local_due_date() {
    let env = Env::new().await;
    let loans = loans_csv(&[
        csv_loan("L1", "P1", "2026-11-29"),
        "L2,P2,LSH,33002,Pedro Páramo,Juan Rulfo,,2026-10-01T10:00:00+02:00,2026-11-30T23:30:00Z,"
            .into(),
    ]);
    let done = env
        .import(Some(PATRONS), Some(&loans), &options())
        .await
        .unwrap();
    let s = &done.summary;
    assert_eq!(
        (s.patrons_inserted, s.loans_inserted, s.rejected, s.warnings),
        (2, 2, 0, 0)
    );
    assert!(s.committed);
    assert!(
        done.rejects.is_none(),
        "no report when there is nothing to report"
    );
    // 23:30 UTC on 30 November is 1 December in Paris.
    assert_eq!(env.open_on("2026-12-01").await, ["L2"]);
    let p2 = env.patron("P2").await;
    assert_eq!(
        (p2.full_name.as_str(), p2.language, p2.courtesy_opt_out),
        ("Łukasz Nowak", Some(Language::En), true)
    );

    // Renew L1, move L2 to P1, rename P1; P2 is unchanged but still counted.
    let patrons = "P1,Zoë Martin-Dupont,zoe@example.fr,4 place de la Victoire,,33000,Bordeaux,,fr,yes\n\
                   P2,Łukasz Nowak,lukasz@example.fr,3 cours Pasteur,,33000,Bordeaux,,en,yes\n";
    let loans = loans_csv(&[
        csv_loan("L1", "P1", "2026-12-20"),
        csv_loan("L2", "P1", "2026-11-30"),
    ]);
    let done = env
        .import(Some(patrons), Some(&loans), &options())
        .await
        .unwrap();
    let s = &done.summary;
    assert_eq!(
        (
            s.patrons_inserted,
            s.patrons_updated,
            s.loans_inserted,
            s.loans_updated
        ),
        (0, 2, 0, 2)
    );
    assert_eq!(env.patron("P1").await.full_name, "Zoë Martin-Dupont");
    assert!(env.open_on("2026-11-29").await.is_empty());
    assert_eq!(env.open_on("2026-12-20").await, ["L1"]);
    let p1 = PatronId::parse("P1").unwrap();
    assert_eq!(
        loan_ids(&env.store.open_loans_of(&p1).await.unwrap()),
        ["L1", "L2"]
    );
    assert!(
        env.store
            .open_loans_of(&PatronId::parse("P2").unwrap())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_report_names_line_field_and_reason_like_the_local_import() {
    let env = Env::new().await;
    let patrons = "P1,Zoë Martin,zoe@@example,12 rue Sainte-Catherine,,33000,Bordeaux,,fr,no\n\
                   P2,Łukasz Nowak,,3 cours Pasteur,,33000,Bordeaux,,de,no\n\
                   P1,Zoë Autre,,1 rue X,,33000,Bordeaux,,,\n";
    let loans = loans_csv(&[
        csv_loan("L1", "P1", "2026-11-29"),
        csv_loan("L2", "P1", "29.11.2026"),
        csv_loan("L3", "P2", "2026-11-29"),
        csv_loan("L1", "P1", "2026-12-24"),
    ]);
    let done = env
        .import(Some(patrons), Some(&loans), &options())
        .await
        .unwrap();
    let s = &done.summary;
    assert_eq!((s.patrons_inserted, s.loans_inserted), (1, 1));
    assert_eq!((s.rejected, s.warnings), (5, 1));
    let report = report(&done);
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines[0], "file,line,record_id,field,reason,outcome");
    assert!(
        lines[1].starts_with("patrons.csv,2,P1,email,\"malformed")
            && lines[1].ends_with(",imported")
    );
    assert!(lines[2].starts_with("patrons.csv,3,P2,language,") && lines[2].ends_with(",rejected"));
    assert!(
        lines[3]
            .starts_with("patrons.csv,4,P1,patron_id,appears again in this file (first on line 2)")
    );
    assert!(
        lines[4].starts_with("loans.csv,3,L2,due_at,"),
        "{}",
        lines[4]
    );
    // P2's row was rejected, so P2 is unknown: neither in the store nor imported.
    assert!(
        lines[5].starts_with("loans.csv,4,L3,patron_id,unknown patron P2"),
        "{}",
        lines[5]
    );
    assert!(
        lines[6].starts_with("loans.csv,5,L1,loan_id,appears earlier in this file"),
        "{}",
        lines[6]
    );
    assert_eq!(lines.len(), 7);
    assert!(
        !report.contains("zoe@@example"),
        "no email address in the report"
    );
    assert_eq!(env.loan("L1").await.unwrap().due_date, day("2026-11-29"));
    assert_eq!(env.patron("P1").await.full_name, "Zoë Martin");
    assert!(env.patron("P1").await.email.is_none());
}

#[tokio::test]
async fn loans_may_name_patrons_already_stored_and_the_email_status_survives_a_reimport() {
    let env = Env::new().await;
    // 150 patrons, then a loans file alone naming each of them and one unknown:
    // the lookups go past one BatchGetItem.
    let patrons: String = (0..150)
        .map(|i| {
            format!(
                "Q{i:03},Nguyễn Thị Lan {i},q{i}@example.fr,5 rue Judaïque,,33000,Bordeaux,,,\n"
            )
        })
        .collect();
    env.import(Some(&patrons), None, &options()).await.unwrap();
    let mut rows: Vec<String> = (0..150)
        .map(|i| csv_loan(&format!("L{i}"), &format!("Q{i:03}"), "2026-11-29"))
        .collect();
    rows.push(csv_loan("L999", "Q999", "2026-11-29"));
    let done = env
        .import(None, Some(&loans_csv(&rows)), &options())
        .await
        .unwrap();
    assert_eq!(
        (done.summary.loans_inserted, done.summary.rejected),
        (150, 1)
    );
    assert!(report(&done).contains("loans.csv,152,L999,patron_id,unknown patron Q999"));

    let q0 = PatronId::parse("Q000").unwrap();
    let q1 = PatronId::parse("Q001").unwrap();
    env.store
        .set_email_status(&q0, EmailStatus::Bouncing)
        .await
        .unwrap();
    env.store
        .set_email_status(&q1, EmailStatus::Bouncing)
        .await
        .unwrap();
    // Q001 gets a new address, which deserves a new chance; Q000 keeps its own.
    let patrons = patrons.replacen("q1@example.fr", "lan.nguyen@example.fr", 1);
    let done = env.import(Some(&patrons), None, &options()).await.unwrap();
    assert_eq!(done.summary.patrons_updated, 150);
    assert_eq!(env.patron("Q000").await.email_status, EmailStatus::Bouncing);
    assert_eq!(
        env.patron("Q001").await.email_status,
        EmailStatus::Deliverable
    );
}

#[tokio::test]
async fn a_strict_import_with_one_bad_row_writes_nothing() {
    let env = Env::new().await;
    env.seed(1).await;
    let patrons = "P3,Nguyễn Thị Lan,lan@example.fr,5 rue Judaïque,,33000,Bordeaux,,,\n";
    let loans = loans_csv(&[
        csv_loan("L1", "P1", "2026-12-31"),
        csv_loan("L2", "P3", "2026-12-31"),
        "L3,P1,XYZ,1,Titre,,,,2026-12-31,".into(),
    ]);
    let strict = ImportOptions {
        strict: true,
        ..options()
    };
    let done = env
        .import(Some(patrons), Some(&loans), &strict)
        .await
        .unwrap();
    assert!(!done.summary.committed);
    assert_eq!(done.summary.rejected, 1);
    assert!(report(&done).contains("loans.csv,4,L3,library_code,\"unknown library \"\"XYZ\"\""));
    assert_eq!(env.loan("L1").await.unwrap().due_date, day("2026-11-29"));
    assert!(env.loan("L2").await.is_none());
    assert!(
        env.store
            .patrons(&[PatronId::parse("P3").unwrap()])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_snapshot_closing_more_than_a_fifth_is_refused_and_writes_nothing_unless_forced() {
    let env = Env::new().await;
    env.seed(10).await;
    let mut rows: Vec<String> = (1..=7)
        .map(|i| csv_loan(&format!("L{i}"), "P1", "2027-01-15"))
        .collect();
    rows.push(csv_loan("L99", "P3", "2027-01-15"));
    let patrons = "P3,Nguyễn Thị Lan,lan@example.fr,5 rue Judaïque,,33000,Bordeaux,,,\n";
    let err = env
        .import(Some(patrons), Some(&loans_csv(&rows)), &snapshot())
        .await
        .unwrap_err();
    match err {
        ImportError::SnapshotRefused(refused) => {
            assert_eq!((refused.open_before, refused.would_close), (10, 3))
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!(env.open_on("2026-11-29").await.len(), 10);
    assert!(env.open_on("2027-01-15").await.is_empty());
    assert!(
        env.store
            .patrons(&[PatronId::parse("P3").unwrap()])
            .await
            .unwrap()
            .is_empty()
    );

    let forced = ImportOptions {
        force: true,
        ..snapshot()
    };
    let done = env
        .import(Some(patrons), Some(&loans_csv(&rows)), &forced)
        .await
        .unwrap();
    assert_eq!(
        (done.summary.closed_by_snapshot, done.summary.loans_inserted),
        (3, 1)
    );
    assert_eq!(env.open_on("2027-01-15").await.len(), 8);
    assert!(env.open_on("2026-11-29").await.is_empty());
    assert_eq!(
        env.loan("L10").await.unwrap().returned_at,
        Some(options().now)
    );
}

#[tokio::test]
async fn a_snapshot_closes_the_unlisted_open_loans_but_not_those_of_bad_rows() {
    let env = Env::new().await;
    env.seed(10).await;
    let mut rows: Vec<String> = (3..=8)
        .map(|i| csv_loan(&format!("L{i}"), "P1", "2026-11-29"))
        .collect();
    rows.push(csv_loan("L1", "P1", "2026-11-29"));
    rows.push(csv_loan("L1", "P1", "2026-11-29"));
    // L2 is returned by the file itself; L9 is listed but unreadable.
    rows.push(
        "L2,P1,STS,33001L2,Les Misérables,Victor Hugo,,,2026-11-29,2026-11-19T10:00:00+01:00"
            .into(),
    );
    rows.push(csv_loan("L9", "P1", "not a date"));
    let done = env
        .import(None, Some(&loans_csv(&rows)), &snapshot())
        .await
        .unwrap();
    // L10 alone is missing.
    assert_eq!(
        (done.summary.closed_by_snapshot, done.summary.rejected),
        (1, 2)
    );
    assert_eq!(
        env.loan("L10").await.unwrap().returned_at,
        Some(options().now)
    );
    assert!(env.loan("L9").await.unwrap().is_open());
    assert!(!env.loan("L2").await.unwrap().is_open());
    assert_eq!(env.open_on("2026-11-29").await.len(), 8);
}

#[tokio::test]
async fn a_bad_header_names_the_file_and_column_and_writes_nothing() {
    let env = Env::new().await;
    let loans =
        "loan_id,patron_id,library_code,barcode,title,author,call_number,loaned_at,returned_at\n";
    let err = env
        .import(Some(PATRONS), Some(loans), &options())
        .await
        .unwrap_err();
    let said = format!("{:#}", anyhow::Error::from(err));
    assert!(
        said.starts_with("loans.csv: missing column \"due_at\""),
        "{said}"
    );
    assert!(
        env.store
            .patrons(&[PatronId::parse("P1").unwrap()])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_large_import_then_an_unchanged_reimport() {
    let env = Env::new().await;
    let (patrons, loans) = (1_000, 5_000);
    let patron_rows: String = (0..patrons)
        .map(|i| format!("P{i},Zoë Martin {i},p{i}@example.fr,12 rue Sainte-Catherine,,33000,Bordeaux,,fr,no\n"))
        .collect();
    let loan_rows: Vec<String> = (0..loans)
        .map(|i| {
            csv_loan(
                &format!("L{i}"),
                &format!("P{}", i % patrons),
                &format!("2026-12-{:02}", 1 + i % 28),
            )
        })
        .collect();
    let loans_text = loans_csv(&loan_rows);
    let started = std::time::Instant::now();
    let done = env
        .import(Some(&patron_rows), Some(&loans_text), &options())
        .await
        .unwrap();
    let first = started.elapsed().as_secs_f64();
    assert_eq!(
        (done.summary.patrons_inserted, done.summary.loans_inserted),
        (patrons as u64, loans as u64)
    );
    let started = std::time::Instant::now();
    let again = env
        .import(Some(&patron_rows), Some(&loans_text), &snapshot())
        .await
        .unwrap();
    let second = started.elapsed().as_secs_f64();
    assert_eq!(
        (
            again.summary.loans_updated,
            again.summary.closed_by_snapshot
        ),
        (loans as u64, 0)
    );
    let rows = (patrons + loans) as f64;
    eprintln!(
        "DynamoDB Local: first import {rows} rows in {first:.1} s ({:.0} rows/s); unchanged snapshot re-import {second:.1} s ({:.0} rows/s)",
        rows / first,
        rows / second
    );
    assert_eq!(env.open_on("2026-12-01").await.len(), loans / 28 + 1);
}
