//! What the fan-out functions delivered for each run day: one item per run day
//! (`DELIVERED`, `{run_day}`) of counters the mailer and the letters function
//! add to atomically (UpdateItem `ADD`), read beside the planner's run
//! manifests by the planner's status event.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use relance_core::ports::StoreError;

use super::item::{KIND, day_text, s};
use crate::dynamo::{Dynamo, key_item, store_error};
use crate::fanout::RECHECK_CALLS;

/// Key of a run day's delivery counters.
fn delivered_key(run_day: NaiveDate) -> (String, String) {
    ("DELIVERED".into(), day_text(run_day))
}

impl Dynamo {
    /// Adds to a run day's delivery counters (`sent`, `cancelled`,
    /// `fell_back_to_print`, `letters_rendered`, …); names are ours, never data.
    pub async fn count_delivered(
        &self,
        run_day: NaiveDate,
        counts: &[(&'static str, u64)],
    ) -> Result<(), StoreError> {
        let counts: Vec<_> = counts.iter().filter(|(_, n)| *n > 0).collect();
        if counts.is_empty() {
            return Ok(());
        }
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(delivered_key(run_day))))
            .expression_attribute_names("#kind", KIND)
            .expression_attribute_values(":kind", s("delivered"));
        let mut adds = Vec::new();
        for (i, (name, n)) in counts.iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#c{i}"), *name)
                .expression_attribute_values(format!(":c{i}"), AttributeValue::N(n.to_string()));
            adds.push(format!("#c{i} :c{i}"));
        }
        update
            .update_expression(format!("SET #kind = :kind ADD {}", adds.join(", ")))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// Takes one of the run day's `max` calls to the library system: one
    /// UpdateItem `ADD` of [`RECHECK_CALLS`], on the condition that fewer than
    /// `max` were taken, so that concurrent invocations never exceed it.
    pub async fn take_recheck_call(
        &self,
        run_day: NaiveDate,
        max: u32,
    ) -> Result<bool, StoreError> {
        if max == 0 {
            return Ok(false);
        }
        let taken = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(delivered_key(run_day))))
            .update_expression("SET #kind = :kind ADD #calls :one")
            .condition_expression("attribute_not_exists(#calls) OR #calls < :max")
            .expression_attribute_names("#kind", KIND)
            .expression_attribute_names("#calls", RECHECK_CALLS)
            .expression_attribute_values(":kind", s("delivered"))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":max", AttributeValue::N(max.to_string()))
            .send()
            .await;
        match taken {
            Ok(_) => Ok(true),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(err) => Err(store_error(err)),
        }
    }

    /// The delivery counters of these run days (absent: nothing delivered yet).
    pub async fn delivered(
        &self,
        run_days: &[NaiveDate],
    ) -> Result<BTreeMap<NaiveDate, BTreeMap<String, u64>>, StoreError> {
        // BatchGetItem refuses a key asked twice.
        let days: BTreeSet<NaiveDate> = run_days.iter().copied().collect();
        let keys = days
            .into_iter()
            .map(|d| key_item(delivered_key(d)))
            .collect();
        let mut delivered = BTreeMap::new();
        for item in self.get_many(keys, false).await? {
            let Some(day) = item
                .get(crate::dynamo::table::SK)
                .and_then(|v| v.as_s().ok())
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            else {
                continue;
            };
            let counts = item
                .iter()
                .filter_map(|(name, value)| {
                    let n = value.as_n().ok()?.parse().ok()?;
                    Some((name.clone(), n))
                })
                .collect();
            delivered.insert(day, counts);
        }
        Ok(delivered)
    }
}
