//! A data protection request on DynamoDB (rules §16): everything stored about a
//! patron, and its erasure.
//!
//! The items of a patron all carry `patron_id` (the patron, their loans, notices,
//! received mail and bounce or complaint records), but no index leads from a
//! patron to their returned loans, notices or mail: one paginated Scan of the
//! table with a filter on `patron_id` finds them. A request from a data
//! protection officer is rare, and a Scan is what it costs; the daily path never
//! does it. Erasing deletes those items and the reference claims of the
//! notices, and turns the markers that named the notices into plain skips
//! (`skipped` = `erased`): they keep only that the (loan, due date, stage) was
//! handled, so a loan imported again is not notified again.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{DeleteRequest, ReturnConsumedCapacity, WriteRequest};
use relance_core::ids::PatronId;
use relance_core::ports::{PatronRecords, StoreError};
use relance_core::retention::{PatronErasure, PatronExport};

use super::correspondence::{feedback_from_item, reply_from_item};
use super::item::{KIND, NOTICE_ID, PATRON_ID, SKIPPED, names, notice_from_item, s, values};
use crate::dynamo::store::{loan_from_item, patron_from_item};
use crate::dynamo::table::{PK, SK, reference_key};
use crate::dynamo::{Dynamo, Item, key_item, store_error};

/// Deletes per BatchWriteItem.
const DELETES_PER_BATCH: usize = 25;

impl Dynamo {
    /// Every item carrying this `patron_id`: one paginated, strongly consistent Scan.
    async fn items_of(&self, patron: &PatronId) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client()
                .scan()
                .table_name(self.table())
                .filter_expression("#p = :p")
                .expression_attribute_names("#p", PATRON_ID)
                .expression_attribute_values(":p", s(patron.as_str()))
                .consistent_read(true)
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

    /// The markers of a loan (its partition, `MARKER#…`).
    async fn markers_of(&self, loan_pk: &str) -> Result<Vec<Item>, StoreError> {
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :marker)")
            .set_expression_attribute_names(Some(names(&[("#pk", PK), ("#sk", SK)])))
            .set_expression_attribute_values(Some(values(vec![
                (":pk", s(loan_pk)),
                (":marker", s("MARKER#")),
            ])))
            .consistent_read(true);
        self.query_all(query).await
    }

    /// Turns a marker that names `notice` into a plain skip; one that names
    /// another notice (or none) is left as it is.
    async fn unlink_marker(&self, marker: &Item, notice: &str) -> Result<(), StoreError> {
        let key: Item = [PK, SK]
            .iter()
            .filter_map(|k| marker.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect();
        let updated = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key))
            .update_expression("REMOVE #notice SET #skipped = :erased")
            .condition_expression("#notice = :id")
            .set_expression_attribute_names(Some(names(&[
                ("#notice", NOTICE_ID),
                ("#skipped", SKIPPED),
            ])))
            .set_expression_attribute_values(Some(values(vec![
                (":erased", s("erased")),
                (":id", s(notice)),
            ])))
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(err) => Err(store_error(err)),
        }
    }
}

fn kind(item: &Item) -> &str {
    item.get(KIND)
        .and_then(|v| v.as_s().ok())
        .map_or("", String::as_str)
}

impl PatronRecords for Dynamo {
    async fn export_patron(&self, patron: &PatronId) -> Result<PatronExport, StoreError> {
        let mut export = PatronExport {
            patron: None,
            loans: Vec::new(),
            notices: Vec::new(),
            replies: Vec::new(),
            feedback: Vec::new(),
        };
        for item in self.items_of(patron).await? {
            match kind(&item) {
                "patron" => export.patron = Some(patron_from_item(&item)?),
                "loan" => export.loans.push(loan_from_item(&item)?),
                "notice" => export.notices.push(notice_from_item(&item)?),
                "reply" => export.replies.push(reply_from_item(&item)?),
                "feedback" => export.feedback.push(feedback_from_item(&item)?),
                _ => {}
            }
        }
        export.loans.sort_by(|a, b| a.id.cmp(&b.id));
        export
            .notices
            .sort_by(|a, b| (a.run_day, &a.id).cmp(&(b.run_day, &b.id)));
        export
            .replies
            .sort_by(|a, b| (a.received_at, &a.id).cmp(&(b.received_at, &b.id)));
        export
            .feedback
            .sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        Ok(export)
    }

    async fn erase_patron(&self, patron: &PatronId) -> Result<PatronErasure, StoreError> {
        let items = self.items_of(patron).await?;
        let mut erased = PatronErasure::default();
        let mut loan_partitions = BTreeSet::new();
        let mut notices = BTreeSet::new();
        let mut deletes: Vec<Item> = Vec::with_capacity(items.len());
        for item in &items {
            match kind(item) {
                "patron" => erased.patrons += 1,
                "loan" => {
                    erased.loans += 1;
                    loan_partitions.insert(super::item::required(item, PK)?.to_owned());
                }
                "notice" => {
                    erased.notices += 1;
                    let notice = notice_from_item(item)?;
                    for loan in &notice.loans {
                        loan_partitions.insert(format!("LOAN#{}", loan.loan_id.as_str()));
                    }
                    deletes.push(key_item(reference_key(notice.reference.as_str())));
                    notices.insert(notice.id.as_str().to_owned());
                }
                "reply" => erased.replies += 1,
                "feedback" => erased.feedback += 1,
                _ => continue,
            }
            deletes.push(key_item((
                super::item::required(item, PK)?.to_owned(),
                super::item::required(item, SK)?.to_owned(),
            )));
        }
        // Markers first: a crash after them leaves the notices to erase again.
        for partition in &loan_partitions {
            for marker in self.markers_of(partition).await? {
                erased.markers_kept += 1;
                if let Some(id) = super::item::text(&marker, NOTICE_ID)
                    && notices.contains(id)
                {
                    self.unlink_marker(&marker, id).await?;
                }
            }
        }
        for chunk in deletes.chunks(DELETES_PER_BATCH) {
            let requests = chunk
                .iter()
                .map(|key| {
                    WriteRequest::builder()
                        .delete_request(
                            DeleteRequest::builder()
                                .set_key(Some(key.clone()))
                                .build()
                                .expect("key is set"),
                        )
                        .build()
                })
                .collect();
            self.write_batch(requests).await?;
        }
        tracing::info!(patron = %patron, items = deletes.len(), "patron erased");
        Ok(erased)
    }
}
