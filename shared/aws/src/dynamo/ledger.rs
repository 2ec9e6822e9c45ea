//! The ledger port on DynamoDB: notices, markers, watermark and run summaries, on
//! the single table (see [`super::table`]), plus the claims the Lambda functions
//! take on a notice before sending it.
//!
//! Items (beside the keys `pk`/`sk`):
//! - notice (`NOTICE#{id}`, `NOTICE`): `kind`, `notice_id`, `reference`,
//!   `run_day`, `patron_id`, `channel`, `stage`, `library_code` (letters),
//!   `status` (`pending`/`sent`/`cancelled`), `attempts`, `loans` (a map
//!   `{stage}|{loan_id}` → {`loan_id`, `due_date`, `stage`}), while pending
//!   `pending` = channel and `pending_sk` = `{run_day}#{id}` (the sparse
//!   `by_pending` index), and as it goes `lease_until`, `last_error`,
//!   `message_id` (the `by_message` index), `sent_at`, `cancel_reason`;
//! - marker (`LOAN#{loan}`, `MARKER#{due}#{stage}`): `kind`, `run_day`, and
//!   `notice_id` or `skipped` (the reason);
//! - reference claim (`REF#{reference}`, `REF`): `kind`, `notice_id`;
//! - watermark (`WATERMARK`, `WATERMARK`): `kind`, `day`;
//! - run (`RUN`, `{run_day}#{n}`): `kind`, `run_day`, `summary` (JSON);
//! - staff report (`REPORT`, `{run_day}`): `kind`, `lease_until` while an
//!   invocation sends it, then `report_message_id` and `sent_at`;
//! - delivery counters (`DELIVERED`, `{run_day}`): `kind`, and one number per
//!   outcome the fan-out functions count (`sent`, `letters_rendered`, …);
//! - received mail (`REPLY#{id}`, `REPLY`): `kind`, `received_at`, `class`,
//!   `patron_id`, `notice_id`, `linked_by` (each absent when not linked),
//!   `source` (its S3 key), `forwarded` (the forward's message id, once sent);
//! - bounce or complaint (`FEEDBACK#{id}`, `FEEDBACK`): `kind`, `at`,
//!   `feedback_kind`, `patron_id`, `notice_id` (absent when not known).
//!
//! Dates are `YYYY-MM-DD`, instants RFC 3339 UTC.

mod correspondence;
mod deliveries;
mod fanout;
mod item;
mod patron;
mod port;
mod reports;
mod transact;
mod write;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, ReturnValue};
use chrono::{DateTime, NaiveDate, Utc};
use relance_core::ids::NoticeId;
use relance_core::notice::{CancelReason, Notice};
use relance_core::ports::StoreError;
use relance_core::summary::RunSummary;

use self::item::{
    CANCEL_REASON, CANCELLED_STATUS, LEASE_UNTIL, PENDING_STATUS, STATUS, SUMMARY, day_text,
    instant_text, names, notice_from_item, s, text, values,
};
use super::table::{BY_MESSAGE, MESSAGE_ID, PENDING, PENDING_SK, PK, SK, notice_key, run_key};
use super::{Dynamo, Item, key_item, store_error};
pub use crate::fanout::Claim;

/// Longest delivery error kept on a notice.
const LAST_ERROR_MAX: usize = 1000;
/// Attempts at numbering a run summary when another run records at the same time.
const RUN_ATTEMPTS: u32 = 8;

impl Dynamo {
    /// Claims a pending notice for `lease` from `now`, so that one invocation at a
    /// time delivers it: the lease is set only when the notice is pending and has
    /// no lease or an expired one (a crashed invocation's notice is claimable
    /// again once its lease ends). `record_sent`, `record_failure`, `cancel` and
    /// `fall_back_to_print` clear it.
    pub async fn claim(
        &self,
        id: &NoticeId,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Claim, StoreError> {
        let now_text = instant_text(now);
        for _ in 0..3 {
            let claimed = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_item(notice_key(id))))
                .update_expression("SET #lease = :until")
                .condition_expression(
                    "#status = :pending AND (attribute_not_exists(#lease) OR #lease <= :now)",
                )
                .set_expression_attribute_names(Some(names(&[
                    ("#lease", LEASE_UNTIL),
                    ("#status", STATUS),
                ])))
                .set_expression_attribute_values(Some(values(vec![
                    (":until", s(instant_text(now + lease))),
                    (":pending", s(PENDING_STATUS)),
                    (":now", s(now_text.as_str())),
                ])))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match claimed {
                Ok(out) => {
                    return notice_from_item(&out.attributes.unwrap_or_default())
                        .map(Claim::Claimed);
                }
                Err(err) if !is_condition_failure(&err) => return Err(store_error(err)),
                Err(_) => {}
            }
            let Some(item) = self.notice_item(id).await? else {
                return Ok(Claim::Missing);
            };
            if text(&item, STATUS) != Some(PENDING_STATUS) {
                return Ok(Claim::Done);
            }
            if text(&item, LEASE_UNTIL).is_some_and(|until| until > now_text.as_str()) {
                return Ok(Claim::Leased);
            }
            // The lease ended between the update and the read: try again.
        }
        Ok(Claim::Leased)
    }

    /// The notice with this id, read consistently.
    pub async fn notice(&self, id: &NoticeId) -> Result<Option<Notice>, StoreError> {
        self.notice_item(id)
            .await?
            .map(|item| notice_from_item(&item))
            .transpose()
    }

    async fn notice_item(&self, id: &NoticeId) -> Result<Option<Item>, StoreError> {
        self.get_consistent(key_item(notice_key(id))).await
    }

    async fn get_consistent(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(store_error)?;
        self.count(out.consumed_capacity());
        Ok(out.item)
    }

    /// The notice whose sent message had this transport id (a reply's
    /// `In-Reply-To`), through the `by_message` index.
    pub async fn notice_id_of_message(
        &self,
        message_id: &str,
    ) -> Result<Option<NoticeId>, StoreError> {
        if message_id.is_empty() {
            return Ok(None);
        }
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_MESSAGE)
            .key_condition_expression("#m = :m")
            .expression_attribute_names("#m", MESSAGE_ID)
            .expression_attribute_values(":m", s(message_id));
        let items = self.query_all(query).await?;
        Ok(items.iter().find_map(|item| {
            text(item, PK)
                .and_then(|pk| pk.strip_prefix("NOTICE#"))
                .map(|id| NoticeId::from_stored(id.to_owned()))
        }))
    }

    /// The latest `limit` run summaries, latest first.
    pub async fn runs(&self, limit: usize) -> Result<Vec<RunSummary>, StoreError> {
        let mut runs = Vec::new();
        let mut start = None;
        while runs.len() < limit {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :run")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":run", s(runs_partition()))
                .scan_index_forward(false)
                .limit(i32::try_from(limit - runs.len()).unwrap_or(i32::MAX))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(store_error)?;
            self.count(page.consumed_capacity());
            for item in page.items() {
                let json = text(item, SUMMARY)
                    .ok_or_else(|| StoreError::corrupt("a run without its summary"))?;
                runs.push(
                    serde_json::from_str(json).map_err(|e| {
                        StoreError::corrupt(format!("run summary: {e}")).caused_by(e)
                    })?,
                );
            }
            start = page.last_evaluated_key;
            if start.as_ref().is_none_or(HashMap::is_empty) {
                break;
            }
        }
        runs.truncate(limit);
        Ok(runs)
    }

    /// The number of the last run recorded for `run_day`, if any.
    async fn last_run_number(&self, run_day: NaiveDate) -> Result<Option<u32>, StoreError> {
        let pk = runs_partition();
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :run AND begins_with(#sk, :day)")
            .set_expression_attribute_names(Some(names(&[("#pk", PK), ("#sk", SK)])))
            .set_expression_attribute_values(Some(values(vec![
                (":run", s(pk)),
                (":day", s(format!("{}#", day_text(run_day)))),
            ])))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(store_error)?;
        self.count(page.consumed_capacity());
        page.items()
            .first()
            .and_then(|item| text(item, SK))
            .map(|sk| {
                sk.rsplit('#')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| StoreError::corrupt(format!("run key {sk:?}")))
            })
            .transpose()
    }

    /// Runs an UpdateItem on a notice; `false` when its condition did not hold.
    async fn update_notice(
        &self,
        id: &NoticeId,
        update: String,
        condition: &str,
        attribute_names: HashMap<String, String>,
        attribute_values: HashMap<String, AttributeValue>,
    ) -> Result<bool, StoreError> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(notice_key(id))))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(attribute_names))
            .set_expression_attribute_values(Some(attribute_values))
            .send()
            .await;
        match updated {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(store_error(err)),
        }
    }

    /// Marks a notice cancelled for `reason`; with `only_pending`, only a pending
    /// one. It leaves the pending index and loses its lease.
    async fn cancel_notice(
        &self,
        id: &NoticeId,
        reason: CancelReason,
        only_pending: bool,
    ) -> Result<bool, StoreError> {
        let mut vals = vec![
            (":cancelled", s(CANCELLED_STATUS)),
            (":reason", s(reason.as_str())),
        ];
        let condition = if only_pending {
            vals.push((":pending", s(PENDING_STATUS)));
            "#status = :pending"
        } else {
            "attribute_exists(#pk)"
        };
        let mut attribute_names = names(&[
            ("#status", STATUS),
            ("#reason", CANCEL_REASON),
            ("#pending", PENDING),
            ("#pending_sk", PENDING_SK),
            ("#lease", LEASE_UNTIL),
        ]);
        if !only_pending {
            attribute_names.insert("#pk".into(), PK.into());
        }
        self.update_notice(
            id,
            "SET #status = :cancelled, #reason = :reason REMOVE #pending, #pending_sk, #lease"
                .into(),
            condition,
            attribute_names,
            values(vals),
        )
        .await
    }
}

/// The partition every run summary shares (see [`run_key`]).
fn runs_partition() -> String {
    run_key(NaiveDate::MIN, 0).0
}

fn is_condition_failure<E, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}
