//! The DynamoDB writes of an import: the [`ImportSink`] the core's import
//! pipeline (`relance_core::import::import`) writes through.
//!
//! DynamoDB has no transaction as large as an import, yet a strict import with a
//! bad row and a refused snapshot must write nothing. So when either may refuse
//! (strict or snapshot), the sink holds its writes until commit; otherwise it
//! writes each batch as it comes, and memory stays flat.
//!
//! Each batch is compared with the stored items (strongly consistent
//! BatchGetItem, 100 keys each) and only new or changed items are written
//! (BatchWriteItem, 25 each, a few in flight, unprocessed items retried with
//! backoff). A daily re-import of an unchanged export thus costs reads, not
//! writes, and a held snapshot holds only what changed.
//!
//! The open loans of a snapshot come from a paginated Scan of the sparse index
//! `by_patron` (only open loans are in it) projected on `loan_id`. This is the
//! one Scan of the design, and the import is not the daily path; it reads every
//! open loan once (read units are counted on the items' size, not the projection).
//!
//! An import is the only writer of loan items: run one import at a time (the
//! importer function has a reserved concurrency of one). A bounce recorded for a
//! patron between the read and the write of its batch may be overwritten; the
//! next bounce records it again.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use chrono::{DateTime, Utc};
use relance_core::ids::{LoanId, PatronId};
use relance_core::import::{ImportOptions, ImportSummary};
use relance_core::model::{Loan, Patron};
use relance_core::ports::{ImportSink, StoreError};

use super::store::{loan_from_item, patron_from_item};
use super::table::{BY_PATRON, LOAN_ID, loan_key, patron_key};
use super::{Dynamo, Item, key_item, store_error};

/// Items written together at commit.
const WRITE_CHUNK: usize = 400;

/// One import's writes to the table.
pub struct DynamoSink<'a> {
    dynamo: &'a Dynamo,
    now: DateTime<Utc>,
    /// Writes wait for commit (strict or snapshot imports).
    hold: bool,
    patrons: Vec<Patron>,
    loans: Vec<Loan>,
    to_close: Vec<LoanId>,
    started: std::time::Instant,
}

impl<'a> DynamoSink<'a> {
    /// The sink of an import run with `options`; its batch number is the
    /// import's time in epoch seconds (loan items carry no batch stamp).
    pub fn new(dynamo: &'a Dynamo, options: &ImportOptions) -> Self {
        Self {
            dynamo,
            now: options.now,
            hold: options.strict || options.snapshot,
            patrons: Vec::new(),
            loans: Vec::new(),
            to_close: Vec::new(),
            started: std::time::Instant::now(),
        }
    }

    /// Compares `rows` with their stored items; writes (or holds) the new and
    /// changed ones, and returns how many were new.
    async fn upsert<T: Record>(&mut self, rows: &[T]) -> Result<u64, StoreError> {
        let keys = rows.iter().map(|row| key_item(row.key())).collect();
        let stored: HashMap<T::Id, T> = self
            .dynamo
            .get_in_lanes(keys, true)
            .await?
            .iter()
            .map(|item| T::from_item(item).map(|row| (row.id().clone(), row)))
            .collect::<Result<_, _>>()?;
        let mut inserted = 0;
        let mut changed = Vec::with_capacity(rows.len());
        for row in rows {
            let mut row = row.clone();
            match stored.get(row.id()) {
                None => inserted += 1,
                Some(old) => {
                    row.keep_from(old);
                    if *old == row {
                        continue;
                    }
                }
            }
            changed.push(row);
        }
        if self.hold {
            T::held(self).extend(changed);
        } else {
            T::put(self.dynamo, &changed).await?;
        }
        Ok(inserted)
    }

    async fn write_held(&mut self) -> Result<(), StoreError> {
        for chunk in self.patrons.chunks(WRITE_CHUNK) {
            self.dynamo.put_patrons(chunk).await?;
        }
        for chunk in self.loans.chunks(WRITE_CHUNK) {
            self.dynamo.put_loans(chunk).await?;
        }
        if !self.to_close.is_empty() {
            self.dynamo.close_loans(&self.to_close, self.now).await?;
        }
        Ok(())
    }
}

impl ImportSink for DynamoSink<'_> {
    fn batch(&self) -> i64 {
        self.now.timestamp()
    }

    fn known_patrons(
        &mut self,
        ids: &[PatronId],
    ) -> impl Future<Output = Result<HashSet<PatronId>, StoreError>> + Send {
        let keys = ids.iter().map(|id| key_item(patron_key(id))).collect();
        async move {
            self.dynamo
                .get_in_lanes(keys, false)
                .await?
                .iter()
                .map(|item| patron_from_item(item).map(|p| p.id))
                .collect()
        }
    }

    fn upsert_patrons(
        &mut self,
        patrons: &[Patron],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.upsert(patrons)
    }

    fn upsert_loans(
        &mut self,
        loans: &[Loan],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.upsert(loans)
    }

    fn open_loan_ids(
        &mut self,
    ) -> impl Future<Output = Result<HashSet<LoanId>, StoreError>> + Send {
        self.dynamo.open_loan_ids()
    }

    /// Held until commit: only a snapshot closes loans, and a snapshot holds.
    fn close_loans(
        &mut self,
        ids: &[LoanId],
        _at: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.to_close.extend_from_slice(ids);
        std::future::ready(Ok(ids.len() as u64))
    }

    fn commit(
        mut self,
        summary: &ImportSummary,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let s = summary.clone();
        async move {
            self.write_held().await?;
            tracing::info!(
                patrons_inserted = s.patrons_inserted,
                patrons_updated = s.patrons_updated,
                loans_inserted = s.loans_inserted,
                loans_updated = s.loans_updated,
                closed_by_snapshot = s.closed_by_snapshot,
                rejected = s.rejected,
                warnings = s.warnings,
                seconds = self.started.elapsed().as_secs_f64(),
                "import written"
            );
            Ok(())
        }
    }
}

/// What the sink needs of a patron or a loan to compare and write it.
trait Record: Clone + PartialEq + Send + Sync + Sized {
    type Id: Eq + Hash + Clone + Send + Sync;
    fn id(&self) -> &Self::Id;
    fn key(&self) -> (String, String);
    fn from_item(item: &Item) -> Result<Self, StoreError>;
    /// Keeps what the store learnt that the export does not carry.
    fn keep_from(&mut self, _stored: &Self) {}
    fn held<'s>(sink: &'s mut DynamoSink<'_>) -> &'s mut Vec<Self>;
    fn put(dynamo: &Dynamo, rows: &[Self]) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl Record for Patron {
    type Id = PatronId;
    fn id(&self) -> &PatronId {
        &self.id
    }
    fn key(&self) -> (String, String) {
        patron_key(&self.id)
    }
    fn from_item(item: &Item) -> Result<Self, StoreError> {
        patron_from_item(item)
    }
    /// The email status learnt from bounces is kept unless the address changed.
    fn keep_from(&mut self, stored: &Self) {
        if stored.email == self.email {
            self.email_status = stored.email_status;
        }
    }
    fn held<'s>(sink: &'s mut DynamoSink<'_>) -> &'s mut Vec<Self> {
        &mut sink.patrons
    }
    fn put(dynamo: &Dynamo, rows: &[Self]) -> impl Future<Output = Result<(), StoreError>> + Send {
        dynamo.put_patrons(rows)
    }
}

impl Record for Loan {
    type Id = LoanId;
    fn id(&self) -> &LoanId {
        &self.id
    }
    fn key(&self) -> (String, String) {
        loan_key(&self.id)
    }
    fn from_item(item: &Item) -> Result<Self, StoreError> {
        loan_from_item(item)
    }
    fn held<'s>(sink: &'s mut DynamoSink<'_>) -> &'s mut Vec<Self> {
        &mut sink.loans
    }
    fn put(dynamo: &Dynamo, rows: &[Self]) -> impl Future<Output = Result<(), StoreError>> + Send {
        dynamo.put_loans(rows)
    }
}

impl Dynamo {
    /// The ids of every open loan: a paginated Scan of the sparse index
    /// `by_patron`, projected on the loan id. Import only, never the daily path.
    async fn open_loan_ids(&self) -> Result<HashSet<LoanId>, StoreError> {
        let mut ids = HashSet::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .index_name(BY_PATRON)
                .projection_expression("#id")
                .expression_attribute_names("#id", LOAN_ID)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(store_error)?;
            self.count(page.consumed_capacity());
            for item in page.items() {
                let id = match item.get(LOAN_ID) {
                    Some(AttributeValue::S(id)) => LoanId::parse(id).ok(),
                    _ => None,
                };
                ids.insert(id.ok_or_else(|| {
                    StoreError::corrupt("an open loan of index by_patron has no valid loan_id")
                })?);
            }
            start = page.last_evaluated_key().cloned();
            if start.as_ref().is_none_or(HashMap::is_empty) {
                return Ok(ids);
            }
        }
    }
}
