//! DynamoDB adapter: [`Dynamo`] is the engine's `LoanStore` (patrons, loans) and
//! `Ledger` (notices, markers, watermark, runs) on one table (see [`table`]).
//! Every read asks for its consumed capacity, added up in [`Dynamo::read_units`];
//! every Query paginates; every batch retries its unprocessed items with backoff.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_dynamodb::Client;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConsumedCapacity, KeysAndAttributes, PutRequest, ReturnConsumedCapacity,
    WriteRequest,
};
use chrono_tz::Tz;
use relance_core::config::Retention;
use relance_core::ports::StoreError;

// The SDK helpers, for the table modules below.
pub(crate) use crate::sdk::{backoff, store_error};

mod expiry;
pub mod import;
pub mod ledger;
pub mod store;
pub mod table;

/// An item as the SDK gives it.
pub type Item = HashMap<String, AttributeValue>;

/// Attempts of a batch before its unprocessed items make it fail.
const BATCH_ATTEMPTS: u32 = 8;
/// BatchGetItem takes at most 100 keys, BatchWriteItem 25 requests.
const BATCH_GET_MAX: usize = 100;
const BATCH_WRITE_MAX: usize = 25;

/// The table and its client, with the read units consumed so far.
#[derive(Debug)]
pub struct Dynamo {
    client: Client,
    table: String,
    read_units: Mutex<f64>,
    /// How long what becomes purgeable is kept before its `expires_at` (TTL).
    retention: Retention,
    /// The institution's timezone, in which retention days are counted.
    timezone: Tz,
}

impl Dynamo {
    /// The adapter over `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            read_units: Mutex::new(0.0),
            retention: Retention::default(),
            timezone: chrono_tz::Europe::Paris,
        }
    }

    /// The same adapter, stamping `expires_at` after the config's `[retention]`
    /// periods, counted in days of `timezone` (the defaults of rules §16 and
    /// Europe/Paris otherwise).
    #[must_use]
    pub fn with_retention(mut self, retention: Retention, timezone: Tz) -> Self {
        self.retention = retention;
        self.timezone = timezone;
        self
    }

    /// The periods `expires_at` is stamped after.
    pub fn retention(&self) -> &Retention {
        &self.retention
    }

    /// The timezone retention days are counted in.
    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// `expires_at` as DynamoDB's TTL reads it: a number of epoch seconds.
    pub fn expiry(at: i64) -> AttributeValue {
        AttributeValue::N(at.to_string())
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Read capacity units consumed by this adapter's reads so far, as DynamoDB
    /// reported them (`ReturnConsumedCapacity::Total`).
    pub fn read_units(&self) -> f64 {
        *self.read_units.lock().expect("read units lock")
    }

    fn count(&self, consumed: Option<&ConsumedCapacity>) {
        if let Some(units) = consumed.and_then(ConsumedCapacity::capacity_units) {
            *self.read_units.lock().expect("read units lock") += units;
        }
    }

    fn count_all(&self, consumed: &[ConsumedCapacity]) {
        for c in consumed {
            self.count(Some(c));
        }
    }

    /// Every item of a Query, page after page. `query` is the prepared request
    /// (table, index, key condition, values); capacity is asked for and counted.
    pub async fn query_all(&self, query: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = query
                .clone()
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(store_error)?;
            self.count(page.consumed_capacity());
            start = page.last_evaluated_key().cloned();
            items.extend(page.items.unwrap_or_default());
            if start.as_ref().is_none_or(HashMap::is_empty) {
                return Ok(items);
            }
        }
    }

    /// The items with these keys that exist, in no particular order; strongly
    /// consistent when `consistent`. Unprocessed keys are retried with backoff.
    pub async fn get_many(
        &self,
        keys: Vec<Item>,
        consistent: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_MAX) {
            let mut pending = KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(consistent)
                .build()
                .map_err(|e| StoreError::unexpected(e.to_string()).caused_by(e))?;
            for attempt in 0.. {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, pending)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(store_error)?;
                self.count_all(out.consumed_capacity());
                if let Some(mut found) = out.responses {
                    items.extend(found.remove(&self.table).unwrap_or_default());
                }
                match out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                    Some(rest) if !rest.keys().is_empty() => {
                        if attempt + 1 >= BATCH_ATTEMPTS {
                            return Err(StoreError::unavailable(format!(
                                "{} keys still unprocessed after {BATCH_ATTEMPTS} attempts",
                                rest.keys().len()
                            )));
                        }
                        backoff(attempt).await;
                        pending = rest;
                    }
                    _ => break,
                }
            }
        }
        Ok(items)
    }

    /// Puts these items, 25 per request; unprocessed items are retried with backoff.
    pub async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        let mut requests = items.into_iter().map(|item| {
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .expect("item is set"),
                )
                .build()
        });
        loop {
            let chunk: Vec<WriteRequest> = requests.by_ref().take(BATCH_WRITE_MAX).collect();
            if chunk.is_empty() {
                return Ok(());
            }
            self.write_batch(chunk).await?;
        }
    }

    /// One BatchWriteItem of at most 25 requests, retried until all are processed.
    pub async fn write_batch(&self, mut requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for attempt in 0.. {
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(store_error)?;
            match out
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
            {
                Some(rest) if !rest.is_empty() => {
                    if attempt + 1 >= BATCH_ATTEMPTS {
                        return Err(StoreError::unavailable(format!(
                            "{} writes still unprocessed after {BATCH_ATTEMPTS} attempts",
                            rest.len()
                        )));
                    }
                    backoff(attempt).await;
                    requests = rest;
                }
                _ => return Ok(()),
            }
        }
        unreachable!("the loop returns")
    }
}

/// A key attribute map from a (partition, sort) pair.
pub fn key_item((pk, sk): (String, String)) -> Item {
    HashMap::from([
        (table::PK.to_owned(), AttributeValue::S(pk)),
        (table::SK.to_owned(), AttributeValue::S(sk)),
    ])
}
