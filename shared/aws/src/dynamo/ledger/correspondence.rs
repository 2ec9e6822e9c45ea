//! The correspondence port on DynamoDB: the notices and patrons mail coming back
//! links to (by id, by the `by_message` and `by_email` indexes, by reference
//! claim), and the records of received mail and of bounces and complaints, each
//! written once (conditional put on its key).

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use relance_core::address::EmailAddress;
use relance_core::ids::{NoticeId, PatronId, Reference};
use relance_core::inbound::{FeedbackKind, FeedbackRecord, LinkedBy, MailClass, ReplyRecord};
use relance_core::model::Patron;
use relance_core::notice::Notice;
use relance_core::ports::{Correspondence, StoreError};

use super::item::{KIND, NOTICE_ID, PATRON_ID, instant_text, parse_instant, required, s, text};
use crate::dynamo::store::{email_key, patron_from_item};
use crate::dynamo::table::{
    BY_EMAIL, EMAIL_KEY, EXPIRES_AT, PK, feedback_key, reference_key, reply_key,
};
use crate::dynamo::{Dynamo, Item, key_item, store_error};

const RECEIVED_AT: &str = "received_at";
const CLASS: &str = "class";
const LINKED_BY: &str = "linked_by";
const SOURCE: &str = "source";
const FORWARDED: &str = "forwarded";
const AT: &str = "at";
const FEEDBACK_KIND: &str = "feedback_kind";

impl Correspondence for Dynamo {
    async fn notice(&self, id: &NoticeId) -> Result<Option<Notice>, StoreError> {
        Dynamo::notice(self, id).await
    }

    async fn notice_by_message_id(&self, message_id: &str) -> Result<Option<Notice>, StoreError> {
        match self.notice_id_of_message(message_id).await? {
            Some(id) => Dynamo::notice(self, &id).await,
            None => Ok(None),
        }
    }

    async fn notice_by_reference(
        &self,
        reference: &Reference,
    ) -> Result<Option<Notice>, StoreError> {
        let claim = self
            .get_many(vec![key_item(reference_key(reference.as_str()))], false)
            .await?;
        match claim.first().and_then(|item| text(item, NOTICE_ID)) {
            Some(id) => Dynamo::notice(self, &NoticeId::from_stored(id.to_owned())).await,
            None => Ok(None),
        }
    }

    async fn patrons_by_email(&self, address: &EmailAddress) -> Result<Vec<Patron>, StoreError> {
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(BY_EMAIL)
            .key_condition_expression("#e = :e")
            .expression_attribute_names("#e", EMAIL_KEY)
            .expression_attribute_values(":e", s(email_key(address)));
        self.query_all(query)
            .await?
            .iter()
            .map(patron_from_item)
            .collect()
    }

    async fn record_reply(&self, reply: &ReplyRecord) -> Result<ReplyRecord, StoreError> {
        let mut item = key_item(reply_key(&reply.id));
        item.insert(KIND.into(), s("reply"));
        item.insert(RECEIVED_AT.into(), s(instant_text(reply.received_at)));
        let expires = self
            .retention()
            .mail_expiry(reply.received_at, self.timezone());
        item.insert(EXPIRES_AT.into(), Dynamo::expiry(expires));
        item.insert(CLASS.into(), s(reply.class.as_str()));
        item.insert(SOURCE.into(), s(&reply.source));
        if let Some(patron) = &reply.patron_id {
            item.insert(PATRON_ID.into(), s(patron.as_str()));
        }
        if let Some(notice) = &reply.notice_id {
            item.insert(NOTICE_ID.into(), s(notice.as_str()));
        }
        if let Some(by) = reply.linked_by {
            item.insert(LINKED_BY.into(), s(by.as_str()));
        }
        if let Some(forwarded) = &reply.forwarded {
            item.insert(FORWARDED.into(), s(forwarded));
        }
        match self.put_if_new(item).await? {
            None => Ok(reply.clone()),
            Some(earlier) => reply_from_item(&earlier),
        }
    }

    async fn record_forward(&self, reply_id: &str, message_id: &str) -> Result<(), StoreError> {
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(reply_key(reply_id))))
            .update_expression("SET #f = :f")
            .expression_attribute_names("#f", FORWARDED)
            .expression_attribute_values(":f", s(message_id))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn record_feedback(&self, feedback: &FeedbackRecord) -> Result<bool, StoreError> {
        let mut item = key_item(feedback_key(&feedback.id));
        item.insert(KIND.into(), s("feedback"));
        item.insert(AT.into(), s(instant_text(feedback.at)));
        let expires = self.retention().mail_expiry(feedback.at, self.timezone());
        item.insert(EXPIRES_AT.into(), Dynamo::expiry(expires));
        item.insert(FEEDBACK_KIND.into(), s(feedback.kind.as_str()));
        if let Some(patron) = &feedback.patron_id {
            item.insert(PATRON_ID.into(), s(patron.as_str()));
        }
        if let Some(notice) = &feedback.notice_id {
            item.insert(NOTICE_ID.into(), s(notice.as_str()));
        }
        Ok(self.put_if_new(item).await?.is_none())
    }
}

impl Dynamo {
    /// Puts an item unless its key exists; returns the existing item then.
    async fn put_if_new(&self, item: Item) -> Result<Option<Item>, StoreError> {
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let err = match put {
            Ok(_) => return Ok(None),
            Err(err) => err,
        };
        if let Some(PutItemError::ConditionalCheckFailedException(existing)) =
            err.as_service_error()
        {
            return existing
                .item()
                .cloned()
                .map(Some)
                .ok_or_else(|| StoreError::unexpected("the existing item was not returned"));
        }
        Err(store_error(err))
    }
}

pub(super) fn reply_from_item(item: &Item) -> Result<ReplyRecord, StoreError> {
    let class = required(item, CLASS)?;
    Ok(ReplyRecord {
        id: required(item, PK)?
            .strip_prefix("REPLY#")
            .unwrap_or_default()
            .to_owned(),
        received_at: parse_instant(required(item, RECEIVED_AT)?)?,
        class: MailClass::parse(class)
            .ok_or_else(|| StoreError::corrupt(format!("reply class {class:?}")))?,
        patron_id: text(item, PATRON_ID)
            .map(|id| {
                PatronId::parse(id).map_err(|e| StoreError::corrupt(e.to_string()).caused_by(e))
            })
            .transpose()?,
        notice_id: text(item, NOTICE_ID).map(|id| NoticeId::from_stored(id.to_owned())),
        linked_by: text(item, LINKED_BY).and_then(LinkedBy::parse),
        source: required(item, SOURCE)?.to_owned(),
        forwarded: text(item, FORWARDED).map(str::to_owned),
    })
}

/// A bounce or complaint record read back from its item.
pub(super) fn feedback_from_item(item: &Item) -> Result<FeedbackRecord, StoreError> {
    let kind = required(item, FEEDBACK_KIND)?;
    Ok(FeedbackRecord {
        id: required(item, PK)?
            .strip_prefix("FEEDBACK#")
            .unwrap_or_default()
            .to_owned(),
        at: parse_instant(required(item, AT)?)?,
        kind: FeedbackKind::parse(kind)
            .ok_or_else(|| StoreError::corrupt(format!("feedback kind {kind:?}")))?,
        patron_id: text(item, PATRON_ID)
            .map(|id| {
                PatronId::parse(id).map_err(|e| StoreError::corrupt(e.to_string()).caused_by(e))
            })
            .transpose()?,
        notice_id: text(item, NOTICE_ID).map(|id| NoticeId::from_stored(id.to_owned())),
    })
}
