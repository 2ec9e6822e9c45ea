//! The staff report of each run day, sent once: an item (`REPORT`, `{run_day}`)
//! claimed with a lease before sending (a second invocation finds it leased or
//! sent) and marked with the message id once SES accepted it.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use relance_core::ports::StoreError;

use super::is_condition_failure;
use super::item::{KIND, LEASE_UNTIL, SENT_AT, day_text, instant_text, names, s, text, values};
use crate::dynamo::{Dynamo, key_item, store_error};
use crate::fanout::ReportClaim;

/// Key of a run day's report. The message id is kept under another name than
/// [`MESSAGE_ID`](crate::dynamo::table::MESSAGE_ID), which would put the item in the notices' `by_message` index.
fn report_key(run_day: NaiveDate) -> (String, String) {
    ("REPORT".into(), day_text(run_day))
}

/// Where the report's SES message id is kept.
const REPORT_MESSAGE_ID: &str = "report_message_id";

impl Dynamo {
    /// Claims the run day's report for `lease` from `now`, unless it was sent
    /// or another invocation holds an unexpired lease.
    pub async fn claim_report(
        &self,
        run_day: NaiveDate,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<ReportClaim, StoreError> {
        let now_text = instant_text(now);
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(report_key(run_day))))
            .update_expression("SET #kind = :kind, #lease = :until")
            .condition_expression(
                "attribute_not_exists(#sent) AND (attribute_not_exists(#lease) OR #lease <= :now)",
            )
            .set_expression_attribute_names(Some(names(&[
                ("#kind", KIND),
                ("#lease", LEASE_UNTIL),
                ("#sent", REPORT_MESSAGE_ID),
            ])))
            .set_expression_attribute_values(Some(values(vec![
                (":kind", s("report")),
                (":until", s(instant_text(now + lease))),
                (":now", s(now_text.as_str())),
            ])))
            .send()
            .await;
        match claimed {
            Ok(_) => Ok(ReportClaim::Claimed),
            Err(err) if !is_condition_failure(&err) => Err(store_error(err)),
            Err(_) => {
                let item = self.get_consistent(key_item(report_key(run_day))).await?;
                Ok(
                    match item.as_ref().and_then(|i| text(i, REPORT_MESSAGE_ID)) {
                        Some(message_id) => ReportClaim::Sent {
                            message_id: message_id.to_owned(),
                        },
                        None => ReportClaim::Leased,
                    },
                )
            }
        }
    }

    /// Marks the run day's report sent, with its message id.
    pub async fn record_report(
        &self,
        run_day: NaiveDate,
        message_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(report_key(run_day))))
            .update_expression("SET #sent = :id, #at = :at REMOVE #lease")
            .set_expression_attribute_names(Some(names(&[
                ("#sent", REPORT_MESSAGE_ID),
                ("#at", SENT_AT),
                ("#lease", LEASE_UNTIL),
            ])))
            .set_expression_attribute_values(Some(values(vec![
                (":id", s(message_id)),
                (":at", s(instant_text(at))),
            ])))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
