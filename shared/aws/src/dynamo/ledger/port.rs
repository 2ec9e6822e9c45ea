//! `impl Ledger for Dynamo`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use relance_core::ids::NoticeId;
use relance_core::ladder::Channel;
use relance_core::notice::{CancelReason, MarkerKey, Notice};
use relance_core::plan::RunPlan;
use relance_core::ports::{Ledger, StoreError};
use relance_core::summary::RunSummary;

use super::item::{
    ATTEMPTS, DAY, KIND, LAST_ERROR, LEASE_UNTIL, RUN_DAY, SENT_AT, SENT_STATUS, STATUS, SUMMARY,
    day_text, instant_text, names, notice_from_item, parse_day, s, text, values,
};
use super::write::NoticeWrite;
use super::{LAST_ERROR_MAX, RUN_ATTEMPTS, is_condition_failure};
use crate::dynamo::table::{
    BY_DAY, BY_PENDING, MESSAGE_ID, NOTICE_DAY, PENDING, PENDING_SK, PK, SK, marker_key, run_key,
    watermark_key,
};
use crate::dynamo::{Dynamo, key_item, store_error};

/// Seeds the id of a fresh notice when a plan meets its notice already sent.
const REPLANNED: &str = "replanned";

impl Dynamo {
    async fn read_watermark(&self) -> Result<Option<NaiveDate>, StoreError> {
        self.get_consistent(key_item(watermark_key()))
            .await?
            .as_ref()
            .and_then(|item| text(item, DAY))
            .map(parse_day)
            .transpose()
    }

    /// Moves the watermark to `run_day` (or keeps it, when it is later) provided
    /// it is still `expected`.
    async fn advance_watermark(
        &self,
        expected: Option<NaiveDate>,
        run_day: NaiveDate,
    ) -> Result<(), StoreError> {
        let new = expected.map_or(run_day, |w| w.max(run_day));
        let mut vals = vec![(":kind", s("watermark")), (":new", s(day_text(new)))];
        let condition = match expected {
            None => "attribute_not_exists(#day)",
            Some(day) => {
                vals.push((":expected", s(day_text(day))));
                "#day = :expected"
            }
        };
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(watermark_key())))
            .update_expression("SET #kind = :kind, #day = :new")
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[("#kind", KIND), ("#day", DAY)])))
            .set_expression_attribute_values(Some(values(vals)))
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failure(&err) => Err(StoreError::conflict(format!(
                "the watermark moved from {expected:?} while planning {run_day}"
            ))),
            Err(err) => Err(store_error(err)),
        }
    }
}

impl Ledger for Dynamo {
    async fn watermark(&self) -> Result<Option<NaiveDate>, StoreError> {
        self.read_watermark().await
    }

    async fn handled(&self, keys: &[MarkerKey]) -> Result<HashSet<MarkerKey>, StoreError> {
        // BatchGetItem refuses a key asked twice. Eventually consistent reads (half
        // the cost): a marker missed because it was written a moment ago is still
        // safe, since recording a plan writes markers conditionally and merges
        // into the same notice ids.
        let by_key: HashMap<(String, String), &MarkerKey> =
            keys.iter().map(|k| (marker_key(k), k)).collect();
        let found = self
            .get_many(by_key.keys().cloned().map(key_item).collect(), false)
            .await?;
        Ok(found
            .iter()
            .filter_map(|item| {
                let key = (text(item, PK)?.to_owned(), text(item, SK)?.to_owned());
                by_key.get(&key).map(|k| (*k).clone())
            })
            .collect())
    }

    /// DynamoDB cannot make a whole plan atomic, so the plan is written in an
    /// order that makes every crash and every race safe:
    ///
    /// 1. The watermark is read (consistently): if it is no longer `expected`,
    ///    another run planned meanwhile and nothing is written (`Conflict`).
    /// 2. Each notice is written with the markers of its loans in conditional
    ///    transactions (see `write.rs`): a loan is never in a notice without its
    ///    marker. A notice id is derived from its natural key, so a notice that
    ///    exists already is the same notice (an earlier attempt, a racing
    ///    planner): it is kept and gains the loans it lacks, never duplicated.
    ///    A loan whose marker names another notice or a skip is handled already
    ///    and is left out.
    /// 3. The skips' markers are put if absent.
    /// 4. The watermark moves last, by a conditional update
    ///    (`attribute_not_exists(day)` or `day = :expected`): of two planners
    ///    racing on one day, exactly one moves it; the other gets `Conflict`,
    ///    having written only notices and markers identical to the winner's (same
    ///    ids) or loans the winner did not see, added to the same notices.
    ///
    /// If the process dies halfway, the watermark has not moved: a re-run plans
    /// the same days again, `handled` hides the loans already recorded (their
    /// notices stay pending and are delivered from the pending index), and the
    /// others are recorded now. Nothing is sent twice, nothing is lost.
    async fn record_plan(
        &self,
        plan: &RunPlan,
        expected: Option<NaiveDate>,
    ) -> Result<(), StoreError> {
        let run_day = plan
            .run_day
            .ok_or_else(|| StoreError::unexpected("a plan without a run day"))?;
        let current = self.read_watermark().await?;
        if current != expected {
            return Err(StoreError::conflict(format!(
                "the watermark moved from {expected:?} to {current:?} while planning {run_day}"
            )));
        }
        let marker_days: HashMap<MarkerKey, NaiveDate> = plan
            .markers
            .iter()
            .map(|m| (m.key.clone(), m.run_day))
            .collect();
        let mut carried = HashSet::new();
        for notice in &plan.notices {
            self.write_notice(NoticeWrite {
                notice,
                seed: REPLANNED,
                moved_from: None,
                marker_days: &marker_days,
            })
            .await?;
            carried.extend(notice.loans.iter().map(|l| MarkerKey {
                loan_id: l.loan_id.clone(),
                due_date: l.due_date,
                stage: l.stage.clone(),
            }));
        }
        let rest: Vec<_> = plan
            .markers
            .iter()
            .filter(|m| !carried.contains(&m.key))
            .collect();
        self.put_markers(&rest).await?;
        self.advance_watermark(expected, run_day).await
    }

    async fn set_watermark(&self, day: NaiveDate) -> Result<(), StoreError> {
        let mut item = key_item(watermark_key());
        item.insert(KIND.into(), s("watermark"));
        item.insert(DAY.into(), s(day_text(day)));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn notices_on(&self, run_day: NaiveDate) -> Result<Vec<Notice>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_DAY)
            .key_condition_expression("#day = :day")
            .set_expression_attribute_names(Some(names(&[("#day", NOTICE_DAY)])))
            .set_expression_attribute_values(Some(values(vec![(":day", s(day_text(run_day)))])));
        self.query_all(query)
            .await?
            .iter()
            .map(notice_from_item)
            .collect()
    }

    async fn pending_notices(
        &self,
        channel: Channel,
        up_to: NaiveDate,
    ) -> Result<Vec<Notice>, StoreError> {
        // `pending_sk` is `{run_day}#{id}`, and `$` sorts right after `#`.
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_PENDING)
            .key_condition_expression("#channel = :channel AND #sk < :after")
            .set_expression_attribute_names(Some(names(&[
                ("#channel", PENDING),
                ("#sk", PENDING_SK),
            ])))
            .set_expression_attribute_values(Some(values(vec![
                (":channel", s(channel.as_str())),
                (":after", s(format!("{}$", day_text(up_to)))),
            ])));
        self.query_all(query)
            .await?
            .iter()
            .map(notice_from_item)
            .collect()
    }

    async fn record_sent(
        &self,
        id: &NoticeId,
        message_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut update = "SET #status = :sent, #sent_at = :at".to_owned();
        let mut removes = "REMOVE #last_error, #pending, #pending_sk, #lease";
        let mut vals = vec![(":sent", s(SENT_STATUS)), (":at", s(instant_text(at)))];
        if message_id.is_empty() {
            // An index key cannot be empty: no message id, no entry in `by_message`.
            removes = "REMOVE #last_error, #pending, #pending_sk, #lease, #message_id";
        } else {
            update.push_str(", #message_id = :message_id");
            vals.push((":message_id", s(message_id)));
        }
        let attribute_names = names(&[
            ("#pk", PK),
            ("#status", STATUS),
            ("#sent_at", SENT_AT),
            ("#message_id", MESSAGE_ID),
            ("#last_error", LAST_ERROR),
            ("#pending", PENDING),
            ("#pending_sk", PENDING_SK),
            ("#lease", LEASE_UNTIL),
        ]);
        let found = self
            .update_notice(
                id,
                format!("{update} {removes}"),
                "attribute_exists(#pk)",
                attribute_names,
                values(vals),
            )
            .await?;
        if !found {
            tracing::warn!(notice = %id, "sent notice is not in the ledger");
        }
        Ok(())
    }

    async fn record_failure(&self, id: &NoticeId, error: &str) -> Result<(), StoreError> {
        let error: String = error.chars().take(LAST_ERROR_MAX).collect();
        let found = self
            .update_notice(
                id,
                "SET #attempts = if_not_exists(#attempts, :zero) + :one, #last_error = :error \
                 REMOVE #lease"
                    .into(),
                "attribute_exists(#pk)",
                names(&[
                    ("#pk", PK),
                    ("#attempts", ATTEMPTS),
                    ("#last_error", LAST_ERROR),
                    ("#lease", LEASE_UNTIL),
                ]),
                values(vec![
                    (
                        ":zero",
                        aws_sdk_dynamodb::types::AttributeValue::N("0".into()),
                    ),
                    (
                        ":one",
                        aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
                    ),
                    (":error", s(error)),
                ]),
            )
            .await?;
        if !found {
            tracing::warn!(notice = %id, "failed notice is not in the ledger");
        }
        Ok(())
    }

    async fn cancel(&self, id: &NoticeId, reason: CancelReason) -> Result<(), StoreError> {
        // Only a pending notice is cancelled; one sent meanwhile stays sent.
        self.cancel_notice(id, reason, true).await.map(|_| ())
    }

    /// The letters are written first, each with the email's markers moved to it
    /// (a marker moves only from the email, or stays on the letter on a retry),
    /// and the email is cancelled last: a crash in between leaves the email
    /// pending, its lease runs out, and the retry falls back again onto the same
    /// letters (same ids, loans keyed by loan), adding nothing twice. A letter of
    /// the day already printed is not touched: the loans go to a fresh letter
    /// whose id derives from it and the email.
    async fn fall_back_to_print(
        &self,
        email: &NoticeId,
        letters: &[Notice],
    ) -> Result<(), StoreError> {
        let no_days = HashMap::new();
        for letter in letters {
            self.write_notice(NoticeWrite {
                notice: letter,
                seed: email.as_str(),
                moved_from: Some(email),
                marker_days: &no_days,
            })
            .await?;
        }
        self.cancel_notice(email, CancelReason::FellBackToPrint, false)
            .await
            .map(|_| ())
    }

    async fn record_run(&self, summary: &RunSummary) -> Result<(), StoreError> {
        let json = serde_json::to_string(summary)
            .map_err(|e| StoreError::unexpected(e.to_string()).caused_by(e))?;
        for _ in 0..RUN_ATTEMPTS {
            let n = self
                .last_run_number(summary.run_day)
                .await?
                .map_or(0, |n| n + 1);
            let mut item = key_item(run_key(summary.run_day, n));
            item.insert(KIND.into(), s("run"));
            item.insert(RUN_DAY.into(), s(day_text(summary.run_day)));
            item.insert(SUMMARY.into(), s(json.as_str()));
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .send()
                .await;
            match put {
                Ok(_) => return Ok(()),
                // Another run took that number: count again.
                Err(err) if is_condition_failure(&err) => {}
                Err(err) => return Err(store_error(err)),
            }
        }
        Err(StoreError::conflict(format!(
            "no free number for a run of {} after {RUN_ATTEMPTS} tries",
            summary.run_day
        )))
    }
}
