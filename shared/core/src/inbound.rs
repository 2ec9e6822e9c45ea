//! Mail that comes back: patrons' replies to the generic address, auto-replies,
//! delivery reports, and the sending service's bounce and complaint events.
//! Reading and classifying a raw mail, composing the forward to the staff inbox
//! and reading a feedback event are pure; linking, recording and forwarding are
//! the mailroom's (`service::mailroom`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::address::Mailbox;
use crate::ids::{NoticeId, PatronId, Reference};

pub mod feedback;
pub mod forward;
mod read;

pub use read::read;

/// What a received mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailClass {
    /// Written by a person: forwarded to the staff inbox.
    Reply,
    /// An automatic answer (RFC 3834 `Auto-Submitted`, `X-Autoreply`,
    /// `Precedence: bulk|auto_reply|junk|list`, out-of-office subjects): recorded only.
    AutoReply,
    /// A delivery status notification (`multipart/report; report-type=delivery-status`
    /// or a mailer-daemon's notice): recorded only.
    DeliveryReport,
    /// The receiving service's spam verdict failed: recorded only.
    Spam,
    /// The receiving service's virus verdict failed: recorded only.
    Virus,
    /// Not readable as a mail at all: forwarded with the raw bytes attached, so
    /// that nothing a person wrote is lost.
    Unreadable,
}

impl MailClass {
    /// The name used in stores and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reply => "reply",
            Self::AutoReply => "auto_reply",
            Self::DeliveryReport => "delivery_report",
            Self::Spam => "spam",
            Self::Virus => "virus",
            Self::Unreadable => "unreadable",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Reply,
            Self::AutoReply,
            Self::DeliveryReport,
            Self::Spam,
            Self::Virus,
            Self::Unreadable,
        ]
        .into_iter()
        .find(|class| class.as_str() == value)
    }

    /// Whether staff receive it.
    pub fn is_forwarded(self) -> bool {
        matches!(self, Self::Reply | Self::Unreadable)
    }
}

/// The receiving service's verdicts (SES receipt `spamVerdict` / `virusVerdict`,
/// `spfVerdict` / `dkimVerdict` / `dmarcVerdict`); none where there is no such
/// service (the `relance inbound` command).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verdicts {
    /// `spamVerdict.status == "FAIL"`.
    pub spam: bool,
    /// `virusVerdict.status == "FAIL"`.
    pub virus: bool,
    /// Whether the sending host may send for the envelope's domain.
    pub spf: Option<SenderCheck>,
    /// Whether the mail's signature holds.
    pub dkim: Option<SenderCheck>,
    /// Whether the `From` domain vouches for the mail (SPF or DKIM, aligned).
    pub dmarc: Option<SenderCheck>,
}

impl Verdicts {
    /// Whether the `From` address may be trusted to name a patron: not when
    /// DMARC failed, since anyone can write any `From` (rules §12). A reference
    /// or a Message-ID in the mail still links it.
    pub fn sender_trusted(&self) -> bool {
        self.dmarc != Some(SenderCheck::Fail)
    }
}

/// What the receiving service found of one check of the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderCheck {
    /// The check passed.
    Pass,
    /// The check failed.
    Fail,
    /// Neither: the domain publishes no policy, or the result is neutral.
    Gray,
    /// The service could not decide.
    ProcessingFailed,
    /// The check is turned off.
    Disabled,
}

impl SenderCheck {
    /// Reads SES's `status` (`PASS`, `FAIL`, `GRAY`, `PROCESSING_FAILED`, `DISABLED`).
    pub fn parse(status: &str) -> Option<Self> {
        match status.to_ascii_uppercase().as_str() {
            "PASS" => Some(Self::Pass),
            "FAIL" => Some(Self::Fail),
            "GRAY" => Some(Self::Gray),
            "PROCESSING_FAILED" => Some(Self::ProcessingFailed),
            "DISABLED" => Some(Self::Disabled),
            _ => None,
        }
    }

    /// As SES writes it, lower-cased.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Gray => "gray",
            Self::ProcessingFailed => "processing_failed",
            Self::Disabled => "disabled",
        }
    }
}

/// What was read off a received mail. Every field is decoded text; nothing here
/// goes into a header of ours without being encoded by the mail builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    pub class: MailClass,
    /// The sender (`From`), when it parses as an address.
    pub from: Option<Mailbox>,
    /// The decoded subject; empty when there is none.
    pub subject: String,
    /// Its own Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// The ids it answers: `In-Reply-To` first, then `References` from the most
    /// recent, without angle brackets and without repeats.
    pub replied_to: Vec<String>,
    /// The first notice reference found in the subject, else in the text.
    pub reference: Option<Reference>,
    /// The text of the message (the HTML part converted when there is no text
    /// part), at most [`TEXT_LIMIT`] characters.
    pub text: String,
}

/// How much of a reply's text is kept for the forward's body.
pub const TEXT_LIMIT: usize = 20_000;

/// Mail larger than this is not attached to its forward: the forward says where
/// the original is kept (7 MiB is ~9.4 MB once base64-encoded, under the 10 MB
/// many institutional mail servers accept).
pub const ATTACH_LIMIT: usize = 7 * 1024 * 1024;

/// A stable id for a received mail where the receiving side gives none (a file
/// given to `relance inbound`): the first 20 hex digits of its SHA-256.
pub fn digest(raw: &[u8]) -> String {
    Sha256::digest(raw)
        .iter()
        .take(10)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How a received mail was linked to its notice or patron.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkedBy {
    /// `In-Reply-To` / `References` named a message we sent.
    MessageId,
    /// The notice reference in the subject or the text.
    Reference,
    /// The sender's address is a patron's.
    Sender,
}

impl LinkedBy {
    /// The name used in stores and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MessageId => "message_id",
            Self::Reference => "reference",
            Self::Sender => "sender",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::MessageId, Self::Reference, Self::Sender]
            .into_iter()
            .find(|by| by.as_str() == value)
    }
}

/// The record of one received mail. Ids only: the mail itself stays where it
/// was received (`source`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyRecord {
    /// Unique per received mail (the receiving service's message id, or a digest
    /// of the file): receiving it again changes nothing.
    pub id: String,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    pub class: MailClass,
    /// The patron it was linked to.
    pub patron_id: Option<PatronId>,
    /// The notice it was linked to.
    pub notice_id: Option<NoticeId>,
    pub linked_by: Option<LinkedBy>,
    /// Where the raw mail is (an S3 key, a file path).
    pub source: String,
    /// The message id of its forward to the staff inbox, once sent.
    pub forwarded: Option<String>,
}

/// What a bounce or complaint says about an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    /// A permanent bounce: the address is marked bouncing.
    HardBounce,
    /// A transient or undetermined bounce: counted, the address stays usable.
    SoftBounce,
    /// The recipient marked the mail as spam: the address is marked complaining.
    Complaint,
}

impl FeedbackKind {
    /// The name used in stores and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HardBounce => "hard_bounce",
            Self::SoftBounce => "soft_bounce",
            Self::Complaint => "complaint",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::HardBounce, Self::SoftBounce, Self::Complaint]
            .into_iter()
            .find(|kind| kind.as_str() == value)
    }
}

/// The record of one bounce or complaint about one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedbackRecord {
    /// Unique per (event, recipient): recording it again changes nothing.
    pub id: String,
    /// When the sending service reported it.
    pub at: DateTime<Utc>,
    /// What it says.
    pub kind: FeedbackKind,
    /// The patron whose address it is, when known.
    pub patron_id: Option<PatronId>,
    /// The notice whose sending it concerns, when known.
    pub notice_id: Option<NoticeId>,
}
