//! The table: one DynamoDB table for patrons, loans and the ledger, its sparse
//! indexes, the key of each kind of item, and its creation. The access patterns
//! are listed in `shared/aws/README.md`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use chrono::NaiveDate;
use relance_core::ids::{LoanId, NoticeId, PatronId};
use relance_core::notice::MarkerKey;

use super::store_error;
use relance_core::ports::StoreError;

/// Partition key of every item.
pub const PK: &str = "pk";
/// Sort key of every item.
pub const SK: &str = "sk";
/// Epoch seconds after which DynamoDB may delete the item (TTL).
pub const EXPIRES_AT: &str = "expires_at";

/// Open loans by local due date. Only open loans carry [`DUE_DAY`]: a returned
/// loan drops it and leaves the index. Projection: all attributes.
pub const BY_DUE: &str = "by_due";
/// Partition of [`BY_DUE`]: the local due date, `YYYY-MM-DD`.
pub const DUE_DAY: &str = "due_day";
/// A patron's open loans. Only open loans carry [`OPEN_PATRON`]. Projection: all.
pub const BY_PATRON: &str = "by_patron";
/// Partition of [`BY_PATRON`]: the patron id.
pub const OPEN_PATRON: &str = "open_patron";
/// Sort key of [`BY_DUE`] and [`BY_PATRON`]: the loan id.
pub const LOAN_ID: &str = "loan_id";
/// Pending notices by channel, oldest run day first. Only pending notices carry
/// [`PENDING`]. Projection: all.
pub const BY_PENDING: &str = "by_pending";
/// Partition of [`BY_PENDING`]: the channel (`email` or `letter`).
pub const PENDING: &str = "pending";
/// Sort key of [`BY_PENDING`]: `{run_day}#{notice_id}`.
pub const PENDING_SK: &str = "pending_sk";
/// Notices by the transport's message id (linking a reply to its notice).
/// Projection: keys only.
pub const BY_MESSAGE: &str = "by_message";
/// Partition of [`BY_MESSAGE`].
pub const MESSAGE_ID: &str = "message_id";
/// Notices by the run day that decided them (the staff report's list). Only
/// notices carry [`NOTICE_DAY`]. Projection: all.
pub const BY_DAY: &str = "by_day";
/// Partition of [`BY_DAY`]: the notice's run day, `YYYY-MM-DD`; sort: [`PK`].
pub const NOTICE_DAY: &str = "notice_day";
/// Patrons by email address (linking a reply or a bounce to its patron). Only
/// patrons with an address carry [`EMAIL_KEY`]. Projection: all.
pub const BY_EMAIL: &str = "by_email";
/// Partition of [`BY_EMAIL`]: the address in lower case.
pub const EMAIL_KEY: &str = "email_key";

/// Key of a patron: (`PATRON#{id}`, `PATRON`).
pub fn patron_key(id: &PatronId) -> (String, String) {
    (format!("PATRON#{}", id.as_str()), "PATRON".into())
}

/// Key of a loan: (`LOAN#{id}`, `LOAN`).
pub fn loan_key(id: &LoanId) -> (String, String) {
    (format!("LOAN#{}", id.as_str()), "LOAN".into())
}

/// Key of a notice: (`NOTICE#{id}`, `NOTICE`); its loans are attributes of it.
pub fn notice_key(id: &NoticeId) -> (String, String) {
    (format!("NOTICE#{}", id.as_str()), "NOTICE".into())
}

/// Key of a marker, one per (loan, due date, stage) handled:
/// (`LOAN#{loan}`, `MARKER#{due}#{stage}`) — beside its loan, so a loan's
/// history is one Query.
pub fn marker_key(key: &MarkerKey) -> (String, String) {
    (
        format!("LOAN#{}", key.loan_id.as_str()),
        format!("MARKER#{}#{}", key.due_date, key.stage.as_str()),
    )
}

/// Key of the claim on a notice reference (unique references):
/// (`REF#{reference}`, `REF`).
pub fn reference_key(reference: &str) -> (String, String) {
    (format!("REF#{reference}"), "REF".into())
}

/// Key of the record of a received mail: (`REPLY#{id}`, `REPLY`).
pub fn reply_key(id: &str) -> (String, String) {
    (format!("REPLY#{id}"), "REPLY".into())
}

/// Key of the record of a bounce or complaint: (`FEEDBACK#{id}`, `FEEDBACK`).
pub fn feedback_key(id: &str) -> (String, String) {
    (format!("FEEDBACK#{id}"), "FEEDBACK".into())
}

/// Key of the watermark: (`WATERMARK`, `WATERMARK`).
pub fn watermark_key() -> (String, String) {
    ("WATERMARK".into(), "WATERMARK".into())
}

/// Key of a run summary: (`RUN`, `{run_day}#{n}`) — the runs are one Query, newest last.
pub fn run_key(run_day: NaiveDate, n: u32) -> (String, String) {
    ("RUN".into(), format!("{run_day}#{n:06}"))
}

fn attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("name and type are set")
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("name and type are set")
}

fn index(
    name: &str,
    partition: &str,
    sort: &str,
    projection: ProjectionType,
) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(partition, KeyType::Hash))
        .key_schema(key(sort, KeyType::Range))
        .projection(Projection::builder().projection_type(projection).build())
        .build()
        .expect("name, keys and projection are set")
}

/// Creates the table with its indexes (on-demand capacity) and TTL on
/// [`EXPIRES_AT`], and waits until it is active. An existing table is left as it is.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash))
        .key_schema(key(SK, KeyType::Range))
        .set_attribute_definitions(Some(
            [
                PK,
                SK,
                DUE_DAY,
                OPEN_PATRON,
                LOAN_ID,
                PENDING,
                PENDING_SK,
                MESSAGE_ID,
                EMAIL_KEY,
                NOTICE_DAY,
            ]
            .into_iter()
            .map(attribute)
            .collect(),
        ))
        .global_secondary_indexes(index(BY_DUE, DUE_DAY, LOAN_ID, ProjectionType::All))
        .global_secondary_indexes(index(BY_PATRON, OPEN_PATRON, LOAN_ID, ProjectionType::All))
        .global_secondary_indexes(index(BY_PENDING, PENDING, PENDING_SK, ProjectionType::All))
        .global_secondary_indexes(index(BY_MESSAGE, MESSAGE_ID, SK, ProjectionType::KeysOnly))
        .global_secondary_indexes(index(BY_EMAIL, EMAIL_KEY, SK, ProjectionType::All))
        .global_secondary_indexes(index(BY_DAY, NOTICE_DAY, PK, ProjectionType::All))
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(err) => return Err(store_error(err)),
    }
    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(store_error)?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(EXPIRES_AT)
                .build()
                .expect("enabled and name are set"),
        )
        .send()
        .await
        .map(|_| ())
        .or_else(|err| {
            // Asking again for the TTL already set is refused: that is fine.
            if err.as_service_error().is_some_and(|e| {
                e.meta()
                    .message()
                    .is_some_and(|m| m.contains("already enabled"))
            }) {
                Ok(())
            } else {
                Err(store_error(err))
            }
        })
}
