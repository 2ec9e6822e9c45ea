//! Mail that comes back, composed from the ports: a received mail is read,
//! linked to its notice or patron, recorded, and — when a person wrote it —
//! forwarded to the staff inbox; a bounce or complaint marks the patron's address
//! so that the next reminder falls back to a letter. The same steps serve the
//! `relance inbound` / `relance feedback` commands and the Lambda functions.

use chrono::{DateTime, Utc};

use crate::address::EmailAddress;
use crate::calendar::local_date;
use crate::config::Config;
use crate::ids::{NoticeId, PatronId};
use crate::inbound::feedback::FeedbackEvent;
use crate::inbound::forward::{Forward, compose};
use crate::inbound::{
    FeedbackKind, FeedbackRecord, LinkedBy, ReceivedMail, ReplyRecord, Verdicts, read,
};
use crate::model::{EmailStatus, Patron};
use crate::notice::Notice;
use crate::ports::{Correspondence, LoanStore, MailTransport, OutgoingMail, TransportError};

use super::RunError;

/// The mailroom with its adapters.
pub struct Mailroom<'a, S, C, T> {
    /// The institution's configuration.
    pub config: &'a Config,
    /// Patrons and their open loans; their address status.
    pub store: &'a S,
    /// Notices to link to, and the record of what came back.
    pub book: &'a C,
    /// Where forwards go.
    pub transport: &'a T,
}

/// One received mail, as the receiving side hands it over.
#[derive(Debug, Clone)]
pub struct Arrival<'a> {
    /// Unique per received mail (SES's message id, a digest of a file).
    pub id: &'a str,
    /// The mail as received.
    pub raw: &'a [u8],
    /// Where it is kept (an S3 key, a file path).
    pub source: &'a str,
    /// The receiving service's verdicts.
    pub verdicts: Verdicts,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// The file stem of its forward in an outbox (`forward-3`).
    pub outbox_name: String,
}

/// What became of a received mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Its record, as stored.
    pub record: ReplyRecord,
    /// True when this call forwarded it (false when it is not for staff, or was
    /// forwarded before).
    pub forwarded_now: bool,
}

/// What a feedback event did for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackOutcome {
    /// The record, one per (event, recipient, patron).
    pub record: FeedbackRecord,
    /// False when the same event was already recorded (nothing changed).
    pub new: bool,
}

/// How a received mail was linked.
#[derive(Debug, Default)]
struct Link {
    notice: Option<Notice>,
    patron: Option<Patron>,
    by: Option<LinkedBy>,
}

/// Sending: receiving a mail may forward it.
impl<S: LoanStore, C: Correspondence, T: MailTransport> Mailroom<'_, S, C, T> {
    /// Reads, links, records and, when staff should see it, forwards one mail.
    /// Receiving the same mail again records and forwards nothing more.
    pub async fn receive(&self, arrival: &Arrival<'_>) -> Result<Received, RunError> {
        let mail = read(arrival.raw, arrival.verdicts);
        let link = self.link(&mail, arrival.verdicts).await?;
        let record = self
            .book
            .record_reply(&ReplyRecord {
                id: arrival.id.to_owned(),
                received_at: arrival.received_at,
                class: mail.class,
                patron_id: link.patron.as_ref().map(|p| p.id.clone()),
                notice_id: link.notice.as_ref().map(|n| n.id.clone()),
                linked_by: link.by,
                source: arrival.source.to_owned(),
                forwarded: None,
            })
            .await?;
        if record.forwarded.is_some() || !record.class.is_forwarded() {
            return Ok(Received {
                record,
                forwarded_now: false,
            });
        }
        let message_id = self.forward(arrival, &mail, &link).await?;
        self.book.record_forward(&record.id, &message_id).await?;
        Ok(Received {
            record: ReplyRecord {
                forwarded: Some(message_id),
                ..record
            },
            forwarded_now: true,
        })
    }

    async fn forward(
        &self,
        arrival: &Arrival<'_>,
        mail: &ReceivedMail,
        link: &Link,
    ) -> Result<String, RunError> {
        let open_loans = match &link.patron {
            Some(patron) => self.store.open_loans_of(&patron.id).await?,
            None => Vec::new(),
        };
        let today = local_date(arrival.received_at, self.config.institution.timezone);
        let composed = compose(&Forward {
            config: self.config,
            mail,
            raw: arrival.raw,
            source: arrival.source,
            patron: link.patron.as_ref(),
            notice: link.notice.as_ref(),
            linked_by: link.by,
            verdicts: arrival.verdicts,
            open_loans: &open_loans,
            today,
            received_at: arrival.received_at,
        })?;
        let outgoing = OutgoingMail {
            notice_id: NoticeId::derive(&format!("forward|{}", arrival.id)),
            run_day: today,
            name: arrival.outbox_name.clone(),
            from: self.config.mail.from.address.clone(),
            to: self.config.mail.staff_inbox.clone(),
            raw: composed.raw,
        };
        self.transport
            .send(&outgoing)
            .await
            .map_err(|err| match err {
                // The staff inbox is ours: a refusal is a misconfiguration to report.
                TransportError::Rejected { message, source } => {
                    RunError::Transport(TransportError::Unexpected {
                        message: format!("the staff inbox was refused: {message}"),
                        source,
                    })
                }
                other => RunError::Transport(other),
            })
    }

    /// The notice the mail answers (`In-Reply-To` / `References`, then the
    /// reference in the subject or text), else the patron whose address sent it
    /// — unless DMARC failed, when the `From` may be anyone's.
    async fn link(&self, mail: &ReceivedMail, verdicts: Verdicts) -> Result<Link, RunError> {
        for id in &mail.replied_to {
            if let Some(notice) = self.notice_of_message(id).await? {
                return self.linked(notice, LinkedBy::MessageId).await;
            }
        }
        if let Some(reference) = &mail.reference
            && let Some(notice) = self.book.notice_by_reference(reference).await?
        {
            return self.linked(notice, LinkedBy::Reference).await;
        }
        if let Some(from) = mail.from.as_ref().filter(|_| verdicts.sender_trusted()) {
            let mut patrons = self.book.patrons_by_email(&from.address).await?;
            // An address shared by several patrons names none of them.
            if patrons.len() == 1 {
                return Ok(Link {
                    patron: patrons.pop(),
                    notice: None,
                    by: Some(LinkedBy::Sender),
                });
            }
        }
        Ok(Link::default())
    }

    /// Our own Message-ID (`relance.{notice id}@…`) names the notice; otherwise
    /// the id may be the transport's (SES rewrites Message-ID to
    /// `{its message id}@{region}.amazonses.com`).
    async fn notice_of_message(&self, id: &str) -> Result<Option<Notice>, RunError> {
        let local = id.split('@').next().unwrap_or(id);
        if let Some(notice_id) = local
            .strip_prefix("relance.")
            .and_then(|rest| NoticeId::parse(rest).ok())
        {
            return Ok(self.book.notice(&notice_id).await?);
        }
        if local.is_empty() {
            return Ok(None);
        }
        Ok(self.book.notice_by_message_id(local).await?)
    }

    async fn linked(&self, notice: Notice, by: LinkedBy) -> Result<Link, RunError> {
        let patron = self
            .store
            .patrons(std::slice::from_ref(&notice.patron_id))
            .await?
            .pop();
        Ok(Link {
            notice: Some(notice),
            patron,
            by: Some(by),
        })
    }
}

/// Records a bounce or complaint and marks the addresses it names: every
/// patron with a bounced address is marked bouncing, with a complained-of
/// address complaining; soft bounces are recorded and counted only. An
/// address that is no patron's (a library inbox) is recorded without a patron.
pub async fn record_feedback<S: LoanStore, C: Correspondence>(
    store: &S,
    book: &C,
    event: &FeedbackEvent,
) -> Result<Vec<FeedbackOutcome>, RunError> {
    let notice = match &event.message_id {
        Some(id) => book.notice_by_message_id(id).await?,
        None => None,
    };
    let mut outcomes = Vec::new();
    for (n, recipient) in event.recipients.iter().enumerate() {
        let patrons = match EmailAddress::parse(recipient) {
            Ok(address) => book.patrons_by_email(&address).await?,
            Err(_) => Vec::new(),
        };
        let ids: Vec<Option<PatronId>> = if patrons.is_empty() {
            vec![None]
        } else {
            patrons.into_iter().map(|p| Some(p.id)).collect()
        };
        for patron_id in ids {
            let record = FeedbackRecord {
                id: match &patron_id {
                    Some(patron) => format!("{}#{n}#{patron}", event.id),
                    None => format!("{}#{n}", event.id),
                },
                at: event.at,
                kind: event.kind,
                notice_id: notice
                    .as_ref()
                    .filter(|notice| Some(&notice.patron_id) == patron_id.as_ref())
                    .map(|notice| notice.id.clone()),
                patron_id,
            };
            let new = book.record_feedback(&record).await?;
            if let Some(patron) = &record.patron_id {
                let status = match event.kind {
                    FeedbackKind::HardBounce => Some(EmailStatus::Bouncing),
                    FeedbackKind::Complaint => Some(EmailStatus::Complaining),
                    FeedbackKind::SoftBounce => None,
                };
                if let Some(status) = status {
                    store.set_email_status(patron, status).await?;
                }
            }
            outcomes.push(FeedbackOutcome { record, new });
        }
    }
    Ok(outcomes)
}
