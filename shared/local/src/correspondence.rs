//! The correspondence port on SQLite: notices and patrons that mail coming back
//! links to, and the record of replies and bounce or complaint reports.

use relance_core::address::EmailAddress;
use relance_core::ids::{NoticeId, PatronId, Reference};
use relance_core::inbound::{FeedbackRecord, LinkedBy, MailClass, ReplyRecord};
use relance_core::model::Patron;
use relance_core::notice::Notice;
use relance_core::ports::{Correspondence, StoreError};
use rusqlite::{OptionalExtension, Row, params};

use crate::ledger::notices_where;
use crate::rows::{self, PATRON_COLUMNS};
use crate::store::{Store, instant_text, parse_instant, sql};

pub(crate) const REPLY_COLUMNS: &str =
    "reply_id, received_at, class, patron_id, notice_id, linked_by, source, forwarded";

impl Store {
    fn one_notice(&self, clause: &str, key: &str) -> Result<Option<Notice>, StoreError> {
        Ok(notices_where(&self.conn(), clause, [key])?.pop())
    }

    /// The replies linked to a patron, newest first.
    pub fn replies_of(&self, patron: &PatronId) -> Result<Vec<ReplyRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {REPLY_COLUMNS} FROM replies WHERE patron_id = ?1 \
                 ORDER BY received_at DESC, reply_id"
            ))
            .map_err(sql)?;
        let mut rows = stmt.query([patron.as_str()]).map_err(sql)?;
        let mut replies = Vec::new();
        while let Some(row) = rows.next().map_err(sql)? {
            replies.push(reply(row)?);
        }
        Ok(replies)
    }

    /// How many received mails were forwarded to staff (names the next forward
    /// in the outbox).
    pub fn forwards(&self) -> Result<u64, StoreError> {
        self.conn()
            .query_row(
                "SELECT count(*) FROM replies WHERE forwarded IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .map_err(sql)
    }
}

impl Correspondence for Store {
    async fn notice(&self, id: &NoticeId) -> Result<Option<Notice>, StoreError> {
        self.one_notice("notice_id = ?1", id.as_str())
    }

    async fn notice_by_message_id(&self, message_id: &str) -> Result<Option<Notice>, StoreError> {
        self.one_notice("message_id = ?1", message_id)
    }

    async fn notice_by_reference(
        &self,
        reference: &Reference,
    ) -> Result<Option<Notice>, StoreError> {
        self.one_notice("reference = ?1", reference.as_str())
    }

    async fn patrons_by_email(&self, address: &EmailAddress) -> Result<Vec<Patron>, StoreError> {
        // Served by the expression index patrons_by_email.
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {PATRON_COLUMNS} FROM patrons \
                 WHERE lower(email) = lower(?1) AND email IS NOT NULL ORDER BY patron_id"
            ))
            .map_err(sql)?;
        let mut rows = stmt.query([address.as_str()]).map_err(sql)?;
        let mut patrons = Vec::new();
        while let Some(row) = rows.next().map_err(sql)? {
            patrons.push(rows::patron(row)?);
        }
        Ok(patrons)
    }

    async fn record_reply(&self, record: &ReplyRecord) -> Result<ReplyRecord, StoreError> {
        let conn = self.conn();
        conn.prepare_cached(
            "INSERT INTO replies (reply_id, received_at, class, patron_id, notice_id, linked_by, \
             source, forwarded) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (reply_id) DO NOTHING",
        )
        .map_err(sql)?
        .execute(params![
            record.id,
            instant_text(record.received_at),
            record.class.as_str(),
            record.patron_id.as_ref().map(PatronId::as_str),
            record.notice_id.as_ref().map(NoticeId::as_str),
            record.linked_by.map(LinkedBy::as_str),
            record.source,
            record.forwarded,
        ])
        .map_err(sql)?;
        conn.prepare_cached(&format!(
            "SELECT {REPLY_COLUMNS} FROM replies WHERE reply_id = ?1"
        ))
        .map_err(sql)?
        .query_row([&record.id], |row| Ok(reply(row)))
        .optional()
        .map_err(sql)?
        .ok_or_else(|| StoreError::unexpected(format!("reply {} vanished", record.id)))?
    }

    async fn record_forward(&self, reply_id: &str, message_id: &str) -> Result<(), StoreError> {
        self.execute(
            "UPDATE replies SET forwarded = ?2 WHERE reply_id = ?1",
            [reply_id, message_id],
        )?;
        Ok(())
    }

    async fn record_feedback(&self, record: &FeedbackRecord) -> Result<bool, StoreError> {
        let inserted = self.execute(
            "INSERT INTO feedback (feedback_id, at, kind, patron_id, notice_id) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (feedback_id) DO NOTHING",
            params![
                record.id,
                instant_text(record.at),
                record.kind.as_str(),
                record.patron_id.as_ref().map(PatronId::as_str),
                record.notice_id.as_ref().map(NoticeId::as_str),
            ],
        )?;
        Ok(inserted == 1)
    }
}

pub(crate) fn reply(row: &Row<'_>) -> Result<ReplyRecord, StoreError> {
    let get = |i| row.get::<_, Option<String>>(i).map_err(sql);
    let required = |i| row.get::<_, String>(i).map_err(sql);
    let class = required(2)?;
    Ok(ReplyRecord {
        id: required(0)?,
        received_at: parse_instant(&required(1)?)?,
        class: MailClass::parse(&class)
            .ok_or_else(|| StoreError::corrupt(format!("reply class {class:?}")))?,
        patron_id: get(3)?
            .map(|id| {
                PatronId::parse(&id).map_err(|e| StoreError::corrupt(e.to_string()).caused_by(e))
            })
            .transpose()?,
        notice_id: get(4)?.map(NoticeId::from_stored),
        linked_by: get(5)?.as_deref().and_then(LinkedBy::parse),
        source: required(6)?,
        forwarded: get(7)?,
    })
}
