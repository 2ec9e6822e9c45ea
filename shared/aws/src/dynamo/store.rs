//! The engine's `LoanStore` on DynamoDB, and the writes of the import.
//!
//! Patrons and loans are items of typed attributes (one attribute per field, not a
//! JSON blob), so the table reads well in the console:
//!
//! - patron (`PATRON#{id}`, `PATRON`): `kind` = `patron`, `patron_id`, `full_name`,
//!   `email` (absent: none), `email_status`, `address_line1`, `address_line2`,
//!   `postcode`, `city`, `country`, `language` (absent: the institution's
//!   default), `courtesy_opt_out` (BOOL);
//! - loan (`LOAN#{id}`, `LOAN`): `kind` = `loan`, `loan_id`, `patron_id`,
//!   `library_code`, `barcode`, `title`, `author`, `call_number`, `loaned_at`
//!   (absent: unknown), `due_at` (UTC, RFC 3339), `due_date` (local date),
//!   `returned_at` (absent while open), and, on open loans only, the sparse index
//!   keys `due_day` (= `due_date`) and `open_patron` (= `patron_id`).
//!
//! Instants are RFC 3339 in UTC (`2026-11-29T22:59:00Z`), dates `YYYY-MM-DD`.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use relance_core::address::EmailAddress;
use relance_core::ids::{LibraryCode, LoanId, PatronId};
use relance_core::model::{self, EmailStatus, Language, Loan, Patron, PostalAddress};
use relance_core::ports::{LoanStore, StoreError};

use super::table::{BY_DUE, BY_PATRON, DUE_DAY, LOAN_ID, OPEN_PATRON, loan_key, patron_key};
use super::{BATCH_GET_MAX, BATCH_WRITE_MAX, Dynamo, Item, key_item, store_error};

/// Batch requests in flight at once in bulk reads and writes (imports, big
/// `patrons`/`loans` calls): one at a time leaves DynamoDB idle during each round trip.
const LANES: usize = 4;

const KIND: &str = "kind";
const PATRON_ID: &str = "patron_id";
const FULL_NAME: &str = "full_name";
const EMAIL: &str = "email";
const EMAIL_STATUS: &str = "email_status";
const ADDRESS_LINE1: &str = "address_line1";
const ADDRESS_LINE2: &str = "address_line2";
const POSTCODE: &str = "postcode";
const CITY: &str = "city";
const COUNTRY: &str = "country";
const LANGUAGE: &str = "language";
const COURTESY_OPT_OUT: &str = "courtesy_opt_out";
const LIBRARY_CODE: &str = "library_code";
const BARCODE: &str = "barcode";
const TITLE: &str = "title";
const AUTHOR: &str = "author";
const CALL_NUMBER: &str = "call_number";
const LOANED_AT: &str = "loaned_at";
const DUE_AT: &str = "due_at";
const DUE_DATE: &str = "due_date";
const RETURNED_AT: &str = "returned_at";

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn instant_text(at: DateTime<Utc>) -> String {
    // AutoSi keeps sub-second digits when there are any, so values read back equal.
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// A patron as an item (see the module documentation for the layout).
pub fn patron_item(patron: &Patron) -> Item {
    let (pk, sk) = patron_key(&patron.id);
    let a = &patron.address;
    let mut item = Item::from([
        (super::table::PK.to_owned(), s(pk)),
        (super::table::SK.to_owned(), s(sk)),
        (KIND.to_owned(), s("patron")),
        (PATRON_ID.to_owned(), s(patron.id.as_str())),
        (FULL_NAME.to_owned(), s(&patron.full_name)),
        (EMAIL_STATUS.to_owned(), s(patron.email_status.as_str())),
        (ADDRESS_LINE1.to_owned(), s(&a.line1)),
        (ADDRESS_LINE2.to_owned(), s(&a.line2)),
        (POSTCODE.to_owned(), s(&a.postcode)),
        (CITY.to_owned(), s(&a.city)),
        (COUNTRY.to_owned(), s(&a.country)),
        (
            COURTESY_OPT_OUT.to_owned(),
            AttributeValue::Bool(patron.courtesy_opt_out),
        ),
    ]);
    if let Some(email) = &patron.email {
        item.insert(EMAIL.to_owned(), s(email.as_str()));
        item.insert(super::table::EMAIL_KEY.to_owned(), s(email_key(email)));
    }
    if let Some(language) = patron.language {
        item.insert(LANGUAGE.to_owned(), s(language.code()));
    }
    item
}

/// The [`super::table::BY_EMAIL`] partition of an address: lower case, so that a
/// reply from `Camille.Martin@…` finds the patron exported as `camille.martin@…`.
pub fn email_key(address: &EmailAddress) -> String {
    address.as_str().to_lowercase()
}

/// A loan as an item; only an open loan carries the sparse index keys
/// [`DUE_DAY`] and [`OPEN_PATRON`], so a returned one is in neither index.
pub fn loan_item(loan: &Loan) -> Item {
    let (pk, sk) = loan_key(&loan.id);
    let item_of = &loan.item;
    let mut item = Item::from([
        (super::table::PK.to_owned(), s(pk)),
        (super::table::SK.to_owned(), s(sk)),
        (KIND.to_owned(), s("loan")),
        (LOAN_ID.to_owned(), s(loan.id.as_str())),
        (PATRON_ID.to_owned(), s(loan.patron_id.as_str())),
        (LIBRARY_CODE.to_owned(), s(loan.library.as_str())),
        (BARCODE.to_owned(), s(&item_of.barcode)),
        (TITLE.to_owned(), s(&item_of.title)),
        (AUTHOR.to_owned(), s(&item_of.author)),
        (CALL_NUMBER.to_owned(), s(&item_of.call_number)),
        (DUE_AT.to_owned(), s(instant_text(loan.due_at))),
        (DUE_DATE.to_owned(), s(day_text(loan.due_date))),
    ]);
    if let Some(at) = loan.loaned_at {
        item.insert(LOANED_AT.to_owned(), s(instant_text(at)));
    }
    match loan.returned_at {
        Some(at) => {
            item.insert(RETURNED_AT.to_owned(), s(instant_text(at)));
        }
        None => {
            item.insert(DUE_DAY.to_owned(), s(day_text(loan.due_date)));
            item.insert(OPEN_PATRON.to_owned(), s(loan.patron_id.as_str()));
        }
    }
    item
}

/// Reads the attributes of one item; errors name the item by its id only
/// (never a value: names and addresses are personal data).
struct Reader<'a> {
    item: &'a Item,
    what: &'static str,
    id: &'a str,
}

impl<'a> Reader<'a> {
    fn new(item: &'a Item, what: &'static str, id_attribute: &str) -> Result<Self, StoreError> {
        match item.get(id_attribute) {
            Some(AttributeValue::S(id)) => Ok(Self { item, what, id }),
            _ => Err(StoreError::corrupt(format!(
                "{what} item without a string {id_attribute}"
            ))),
        }
    }

    fn corrupt(&self, name: &str, problem: &str) -> StoreError {
        StoreError::corrupt(format!("{} {}: {name} {problem}", self.what, self.id))
    }

    fn optional(&self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(text)) => Ok(Some(text)),
            Some(_) => Err(self.corrupt(name, "is not a string")),
        }
    }

    fn required(&self, name: &str) -> Result<&'a str, StoreError> {
        self.optional(name)?
            .ok_or_else(|| self.corrupt(name, "is missing"))
    }

    /// Absent is empty: an older or hand-made item may leave empty texts out.
    fn text(&self, name: &str) -> Result<String, StoreError> {
        Ok(self.optional(name)?.unwrap_or_default().to_owned())
    }

    fn parsed<T, E>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, StoreError> {
        parse(self.required(name)?).map_err(|_| self.corrupt(name, "is not valid"))
    }

    fn instant(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.optional(name)?
            .map(|text| {
                DateTime::parse_from_rfc3339(text)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| self.corrupt(name, "is not an RFC 3339 timestamp"))
            })
            .transpose()
    }
}

/// A patron from its item.
pub fn patron_from_item(item: &Item) -> Result<Patron, StoreError> {
    let r = Reader::new(item, "patron", PATRON_ID)?;
    // An address stored before the rule that refuses it now reads as none (print
    // fallback), never as a corrupt patron that would stop the run.
    let email = r.optional(EMAIL)?.and_then(|e| EmailAddress::parse(e).ok());
    let language = r
        .optional(LANGUAGE)?
        .map(|l| Language::parse(l).ok_or_else(|| r.corrupt(LANGUAGE, "is unknown")))
        .transpose()?;
    let courtesy_opt_out = match item.get(COURTESY_OPT_OUT) {
        None => false,
        Some(AttributeValue::Bool(flag)) => *flag,
        Some(_) => return Err(r.corrupt(COURTESY_OPT_OUT, "is not a boolean")),
    };
    Ok(Patron {
        id: r.parsed(PATRON_ID, PatronId::parse)?,
        full_name: r.text(FULL_NAME)?,
        email,
        email_status: match r.optional(EMAIL_STATUS)? {
            None => EmailStatus::Deliverable,
            Some(status) => {
                EmailStatus::parse(status).ok_or_else(|| r.corrupt(EMAIL_STATUS, "is unknown"))?
            }
        },
        address: PostalAddress {
            line1: r.text(ADDRESS_LINE1)?,
            line2: r.text(ADDRESS_LINE2)?,
            postcode: r.text(POSTCODE)?,
            city: r.text(CITY)?,
            country: r.text(COUNTRY)?,
        },
        language,
        courtesy_opt_out,
    })
}

/// A loan from its item.
pub fn loan_from_item(item: &Item) -> Result<Loan, StoreError> {
    let r = Reader::new(item, "loan", LOAN_ID)?;
    Ok(Loan {
        id: r.parsed(LOAN_ID, LoanId::parse)?,
        patron_id: r.parsed(PATRON_ID, PatronId::parse)?,
        library: r.parsed(LIBRARY_CODE, LibraryCode::parse)?,
        item: model::Item {
            barcode: r.text(BARCODE)?,
            title: r.text(TITLE)?,
            author: r.text(AUTHOR)?,
            call_number: r.text(CALL_NUMBER)?,
        },
        loaned_at: r.instant(LOANED_AT)?,
        due_at: r
            .instant(DUE_AT)?
            .ok_or_else(|| r.corrupt(DUE_AT, "is missing"))?,
        due_date: r.parsed(DUE_DATE, |d| NaiveDate::parse_from_str(d, "%Y-%m-%d"))?,
        returned_at: r.instant(RETURNED_AT)?,
    })
}

/// The keys of these ids, each once (BatchGetItem refuses a repeated key).
fn unique_keys<'a, T: Eq + std::hash::Hash + 'a>(
    ids: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&T) -> (String, String),
) -> Vec<Item> {
    let mut seen = HashSet::new();
    ids.into_iter()
        .filter(|id| seen.insert(*id))
        .map(|id| key_item(key(id)))
        .collect()
}

impl Dynamo {
    /// Writes these patrons as they are (email status included), replacing the
    /// stored ones; 25 per BatchWriteItem, a few batches in flight.
    pub async fn put_patrons(&self, patrons: &[Patron]) -> Result<(), StoreError> {
        self.put_in_lanes(patrons.iter().map(patron_item).collect())
            .await
    }

    /// Writes these loans as they are, replacing the stored ones; a returned loan
    /// is written without the sparse attributes, so it leaves both indexes.
    /// A returned loan carries its `expires_at`, and its patron's is settled
    /// (`expiry.rs`).
    pub async fn put_loans(&self, loans: &[Loan]) -> Result<(), StoreError> {
        let items = loans
            .iter()
            .map(|loan| {
                let mut item = loan_item(loan);
                self.stamp_loan(loan, &mut item);
                item
            })
            .collect();
        self.put_in_lanes(items).await?;
        self.settle_patrons(loans).await
    }

    /// Closes these loans as returned at `returned_at` and returns how many were
    /// open. Loans already returned or unknown are left alone. Read (strongly
    /// consistent, 100 per BatchGetItem) then rewritten (25 per BatchWriteItem):
    /// this costs a read and a write per loan in a few hundred requests rather
    /// than one UpdateItem call per loan. Its writers are the import and the
    /// send-time check ([`LoanStore::record_returns`]), which only ever close.
    pub async fn close_loans(
        &self,
        ids: &[LoanId],
        returned_at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.close_loans_at(ids, |_| returned_at).await
    }

    /// [`Dynamo::close_loans`], each loan at its own time.
    async fn close_loans_at(
        &self,
        ids: &[LoanId],
        returned_at: impl Fn(&LoanId) -> DateTime<Utc> + Sync,
    ) -> Result<u64, StoreError> {
        let mut closed = 0;
        let keys = unique_keys(ids, loan_key);
        for chunk in keys.chunks(BATCH_GET_MAX * LANES) {
            let mut loans = Vec::with_capacity(chunk.len());
            for item in self.get_in_lanes(chunk.to_vec(), true).await? {
                let mut loan = loan_from_item(&item)?;
                if loan.is_open() {
                    loan.returned_at = Some(returned_at(&loan.id));
                    loans.push(loan);
                }
            }
            closed += loans.len() as u64;
            self.put_loans(&loans).await?;
        }
        Ok(closed)
    }

    /// The items of these keys, [`LANES`] BatchGetItem calls at a time.
    pub(super) async fn get_in_lanes(
        &self,
        keys: Vec<Item>,
        consistent: bool,
    ) -> Result<Vec<Item>, StoreError> {
        if keys.len() <= BATCH_GET_MAX {
            return self.get_many(keys, consistent).await;
        }
        let [a, b, c, d] = lanes(keys, BATCH_GET_MAX);
        let (a, b, c, d) = tokio::join!(
            self.get_many(a, consistent),
            self.get_many(b, consistent),
            self.get_many(c, consistent),
            self.get_many(d, consistent),
        );
        let mut items = a?;
        items.extend(b?);
        items.extend(c?);
        items.extend(d?);
        Ok(items)
    }

    /// Puts these items, [`LANES`] BatchWriteItem calls at a time.
    pub(super) async fn put_in_lanes(&self, items: Vec<Item>) -> Result<(), StoreError> {
        if items.len() <= BATCH_WRITE_MAX {
            return self.put_many(items).await;
        }
        let [a, b, c, d] = lanes(items, BATCH_WRITE_MAX);
        let (a, b, c, d) = tokio::join!(
            self.put_many(a),
            self.put_many(b),
            self.put_many(c),
            self.put_many(d)
        );
        a.and(b).and(c).and(d)
    }

    /// The open loans in one partition of a sparse index: one paginated Query.
    async fn open_loans_in(
        &self,
        index: &str,
        attribute: &str,
        value: String,
    ) -> Result<Vec<Loan>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", attribute)
            .expression_attribute_values(":v", AttributeValue::S(value));
        let mut loans = Vec::new();
        for item in self.query_all(query).await? {
            let loan = loan_from_item(&item)?;
            // Indexes are eventually consistent; a loan just returned may linger.
            if loan.is_open() {
                loans.push(loan);
            }
        }
        Ok(loans)
    }
}

/// Deals `items` into [`LANES`] lists, `batch` consecutive items at a time, so
/// that each list splits into whole batches.
fn lanes(items: Vec<Item>, batch: usize) -> [Vec<Item>; LANES] {
    let mut lanes: [Vec<Item>; LANES] = Default::default();
    for (n, item) in items.into_iter().enumerate() {
        lanes[(n / batch) % LANES].push(item);
    }
    lanes
}

impl LoanStore for Dynamo {
    /// One paginated Query of the sparse index `by_due` (only open loans carry
    /// its key), eventually consistent as every index read is.
    async fn open_loans_due_on(&self, due: NaiveDate) -> Result<Vec<Loan>, StoreError> {
        self.open_loans_in(BY_DUE, DUE_DAY, day_text(due)).await
    }

    /// BatchGetItem, 100 keys per call, eventually consistent.
    async fn patrons(&self, ids: &[PatronId]) -> Result<Vec<Patron>, StoreError> {
        let keys = unique_keys(ids, patron_key);
        self.get_in_lanes(keys, false)
            .await?
            .iter()
            .map(patron_from_item)
            .collect()
    }

    /// BatchGetItem, 100 keys per call, strongly consistent: this is the
    /// re-check at send time, which must see a return recorded just before.
    async fn loans(&self, ids: &[LoanId]) -> Result<Vec<Loan>, StoreError> {
        let keys = unique_keys(ids, loan_key);
        self.get_in_lanes(keys, true)
            .await?
            .iter()
            .map(loan_from_item)
            .collect()
    }

    /// One paginated Query of the sparse index `by_patron`.
    async fn open_loans_of(&self, patron: &PatronId) -> Result<Vec<Loan>, StoreError> {
        self.open_loans_in(BY_PATRON, OPEN_PATRON, patron.as_str().to_owned())
            .await
    }

    /// One UpdateItem of the patron's `email_status`; an unknown patron is left
    /// alone (no item is created), as in the embedded store.
    async fn set_email_status(
        &self,
        patron: &PatronId,
        status: EmailStatus,
    ) -> Result<(), StoreError> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(patron_key(patron))))
            .update_expression("SET #s = :s")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#s", EMAIL_STATUS)
            .expression_attribute_names("#pk", super::table::PK)
            .expression_attribute_values(":s", s(status.as_str()))
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                tracing::warn!(patron = %patron, "email status of an unknown patron not recorded");
                Ok(())
            }
            Err(err) => Err(store_error(err)),
        }
    }

    /// Read and rewritten as [`Dynamo::close_loans`] does.
    async fn record_returns(
        &self,
        returns: &[(LoanId, DateTime<Utc>)],
    ) -> Result<usize, StoreError> {
        let at: HashMap<&LoanId, DateTime<Utc>> =
            returns.iter().map(|(id, at)| (id, *at)).collect();
        let ids: Vec<LoanId> = returns.iter().map(|(id, _)| id.clone()).collect();
        let closed = self.close_loans_at(&ids, |id| at[id]).await?;
        Ok(closed as usize)
    }
}
