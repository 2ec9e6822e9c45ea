//! Conditional transactions and the reading of their cancellation reasons, and
//! the markers written without a notice (skips).

use std::collections::HashSet;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::error::TransactionCanceledException;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use relance_core::notice::{Marker, MarkerOutcome};
use relance_core::ports::StoreError;

use super::item::{KIND, NOTICE_ID, RUN_DAY, SKIPPED, day_text, s};
use crate::dynamo::table::{EXPIRES_AT, PK, marker_key};
use crate::dynamo::{Dynamo, Item, backoff, key_item, store_error};

/// Items per TransactWriteItems.
pub(super) const TRANSACTION_MAX: usize = 100;
/// Cancellations for contention retried before the store is called unavailable.
const CONTENTION_ATTEMPTS: u32 = 8;

/// Why one item of a cancelled transaction failed.
#[derive(Debug, PartialEq, Eq)]
enum Reason {
    /// This item was fine.
    None,
    /// Its condition did not hold.
    ConditionFailed,
    /// Another transaction or the throughput limit: try again later.
    Contention,
    /// Anything else (validation, size): a bug to report.
    Other(String),
}

fn reason(code: &str) -> Reason {
    match code {
        "" | "None" => Reason::None,
        "ConditionalCheckFailed" => Reason::ConditionFailed,
        "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded" => {
            Reason::Contention
        }
        other => Reason::Other(other.to_owned()),
    }
}

/// The reasons, one per item in request order. Where the SDK leaves
/// `CancellationReasons` empty (some emulators), they are read from the message,
/// which lists the codes: `… for specific reasons [ConditionalCheckFailed, None]`.
fn reasons(e: &TransactionCanceledException) -> Vec<Reason> {
    if !e.cancellation_reasons().is_empty() {
        return e
            .cancellation_reasons()
            .iter()
            .map(|r| reason(r.code().unwrap_or("None")))
            .collect();
    }
    e.message()
        .and_then(|m| Some(&m[m.rfind('[')? + 1..m.rfind(']')?]))
        .map(|list| list.split(',').map(|c| reason(c.trim())).collect())
        .unwrap_or_default()
}

/// How a transaction ended.
pub(super) enum Outcome {
    /// Every item was written.
    Committed,
    /// Nothing was written: `true` for each item (in request order) whose
    /// condition did not hold; at least one is.
    Refused(Vec<bool>),
    /// Nothing was written because of contention; the backoff is done: send it again.
    Retry,
}

/// Turns a request builder's error into the store's.
pub(super) fn built<T, E>(result: Result<T, E>) -> Result<T, StoreError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    result.map_err(|e| StoreError::unexpected(format!("request: {e}")).caused_by(e))
}

impl Dynamo {
    /// Runs one transaction. A refusal is an outcome, not an error; contention is
    /// waited out (`contention` counts the attempts of the caller's whole write).
    pub(super) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        contention: &mut u32,
    ) -> Result<Outcome, StoreError> {
        let count = items.len();
        let sent = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let reasons = match sent {
            Ok(_) => return Ok(Outcome::Committed),
            Err(err) => match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => reasons(e),
                _ => return Err(store_error(err)),
            },
        };
        if reasons.len() != count {
            return Err(StoreError::unexpected(format!(
                "a cancelled transaction of {count} items gave {} reasons",
                reasons.len()
            )));
        }
        if let Some(Reason::Other(code)) = reasons.iter().find(|r| matches!(r, Reason::Other(_))) {
            return Err(StoreError::unexpected(format!(
                "transaction cancelled: {code}"
            )));
        }
        if reasons.contains(&Reason::Contention) {
            *contention += 1;
            if *contention >= CONTENTION_ATTEMPTS {
                return Err(StoreError::unavailable(format!(
                    "transaction still contended after {CONTENTION_ATTEMPTS} attempts"
                )));
            }
            backoff(*contention).await;
            return Ok(Outcome::Retry);
        }
        if !reasons.contains(&Reason::ConditionFailed) {
            return Err(StoreError::unexpected(
                "transaction cancelled with no failed condition",
            ));
        }
        Ok(Outcome::Refused(
            reasons
                .iter()
                .map(|r| *r == Reason::ConditionFailed)
                .collect(),
        ))
    }

    /// A Put of `item` only if no item has its key.
    pub(super) fn put_if_absent(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Writes markers that no notice of the plan carries (skips), as conditional
    /// puts, up to 100 per transaction: a marker already present is kept as it is,
    /// so a skip never overwrites the notice marker of a racing planner.
    /// BatchWriteItem would cost half the write units but cannot be conditional;
    /// skips are few (courtesy opt-outs, missing addresses).
    pub(super) async fn put_markers(&self, markers: &[&Marker]) -> Result<(), StoreError> {
        let mut seen = HashSet::new();
        let mut left: Vec<&Marker> = markers
            .iter()
            .copied()
            .filter(|m| seen.insert(&m.key))
            .collect();
        let mut contention = 0u32;
        while !left.is_empty() {
            let len = left.len().min(TRANSACTION_MAX);
            let items = left[..len]
                .iter()
                .map(|m| {
                    let mut item = marker_item(m);
                    let expires = self.retention().marker_expiry(m.run_day, self.timezone());
                    item.insert(EXPIRES_AT.into(), Dynamo::expiry(expires));
                    self.put_if_absent(item)
                })
                .collect::<Result<Vec<_>, _>>()?;
            match self.transact(items, &mut contention).await? {
                Outcome::Committed => {
                    left.drain(..len);
                }
                Outcome::Retry => {}
                Outcome::Refused(failed) => {
                    // Present already: kept as they are.
                    let mut i = 0;
                    left.retain(|_| {
                        let keep = !failed.get(i).copied().unwrap_or(false);
                        i += 1;
                        keep
                    });
                }
            }
        }
        Ok(())
    }
}

/// A marker as an item: its run day and its notice or skip reason.
fn marker_item(marker: &Marker) -> Item {
    let mut item = key_item(marker_key(&marker.key));
    item.insert(KIND.into(), s("marker"));
    item.insert(RUN_DAY.into(), s(day_text(marker.run_day)));
    match &marker.outcome {
        MarkerOutcome::Notice(id) => item.insert(NOTICE_ID.into(), s(id.as_str())),
        MarkerOutcome::Skipped(reason) => item.insert(SKIPPED.into(), s(reason.as_str())),
    };
    item
}
