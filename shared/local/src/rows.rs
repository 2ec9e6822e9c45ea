//! Reading patrons, loans and notices back from their rows.

use relance_core::address::EmailAddress;
use relance_core::ids::{LibraryCode, LoanId, NoticeId, PatronId, Reference, StageName};
use relance_core::ladder::Channel;
use relance_core::model::{EmailStatus, Item, Language, Loan, Patron, PostalAddress};
use relance_core::notice::{CancelReason, Notice, NoticeStatus};
use relance_core::ports::StoreError;
use rusqlite::Row;

use crate::store::{parse_day, parse_instant};

/// Columns read by [`patron`], in order.
pub const PATRON_COLUMNS: &str = "patron_id, full_name, email, email_status, address_line1, \
     address_line2, postcode, city, country, language, courtesy_opt_out";

/// Columns read by [`loan`], in order.
pub const LOAN_COLUMNS: &str = "loan_id, patron_id, library_code, barcode, title, author, \
     call_number, loaned_at, due_at, due_date, returned_at";

/// Columns read by [`notice`], in order (loans are read separately).
pub const NOTICE_COLUMNS: &str = "notice_id, reference, run_day, patron_id, channel, stage, \
     library_code, status, attempts, message_id, sent_at, cancel_reason";

fn corrupt(
    what: &str,
    value: &str,
    e: impl std::error::Error + Send + Sync + 'static,
) -> StoreError {
    StoreError::corrupt(format!("{what} {value:?}: {e}")).caused_by(e)
}

fn unknown(what: &str, value: &str) -> StoreError {
    StoreError::corrupt(format!("{what} {value:?}: unknown"))
}

fn text(row: &Row<'_>, i: usize) -> Result<String, StoreError> {
    row.get(i).map_err(crate::store::sql)
}

fn optional(row: &Row<'_>, i: usize) -> Result<Option<String>, StoreError> {
    row.get(i).map_err(crate::store::sql)
}

/// A patron from a row of [`PATRON_COLUMNS`].
pub fn patron(row: &Row<'_>) -> Result<Patron, StoreError> {
    let id = text(row, 0)?;
    // An address stored before the rule of what a header can carry (or put
    // there by hand) is no usable address: the patron's notices go to print,
    // as for one malformed in the export, rather than every run failing.
    let email = optional(row, 2)?.and_then(|e| EmailAddress::parse(&e).ok());
    let status = text(row, 3)?;
    let language = optional(row, 9)?;
    Ok(Patron {
        id: PatronId::parse(&id).map_err(|e| corrupt("patron id", &id, e))?,
        full_name: text(row, 1)?,
        email,
        email_status: EmailStatus::parse(&status)
            .ok_or_else(|| unknown("email status", &status))?,
        address: PostalAddress {
            line1: text(row, 4)?,
            line2: text(row, 5)?,
            postcode: text(row, 6)?,
            city: text(row, 7)?,
            country: text(row, 8)?,
        },
        language: language.as_deref().and_then(Language::parse),
        courtesy_opt_out: row.get::<_, bool>(10).map_err(crate::store::sql)?,
    })
}

/// A loan from a row of [`LOAN_COLUMNS`].
pub fn loan(row: &Row<'_>) -> Result<Loan, StoreError> {
    let id = text(row, 0)?;
    let patron_id = text(row, 1)?;
    let library = text(row, 2)?;
    Ok(Loan {
        id: LoanId::parse(&id).map_err(|e| corrupt("loan id", &id, e))?,
        patron_id: PatronId::parse(&patron_id).map_err(|e| corrupt("patron id", &patron_id, e))?,
        library: LibraryCode::parse(&library).map_err(|e| corrupt("library code", &library, e))?,
        item: Item {
            barcode: text(row, 3)?,
            title: text(row, 4)?,
            author: text(row, 5)?,
            call_number: text(row, 6)?,
        },
        loaned_at: optional(row, 7)?
            .as_deref()
            .map(parse_instant)
            .transpose()?,
        due_at: parse_instant(&text(row, 8)?)?,
        due_date: parse_day(&text(row, 9)?)?,
        returned_at: optional(row, 10)?
            .as_deref()
            .map(parse_instant)
            .transpose()?,
    })
}

/// A notice from a row of [`NOTICE_COLUMNS`], with no loans yet.
pub fn notice(row: &Row<'_>) -> Result<Notice, StoreError> {
    let patron_id = text(row, 3)?;
    let channel = text(row, 4)?;
    let stage = text(row, 5)?;
    let library = optional(row, 6)?;
    let status = text(row, 7)?;
    let status = match status.as_str() {
        "pending" => NoticeStatus::Pending,
        "sent" => NoticeStatus::Sent {
            message_id: optional(row, 9)?.unwrap_or_default(),
            at: parse_instant(&optional(row, 10)?.unwrap_or_default())?,
        },
        "cancelled" => {
            let reason = optional(row, 11)?.unwrap_or_default();
            NoticeStatus::Cancelled {
                reason: CancelReason::parse(&reason)
                    .ok_or_else(|| unknown("cancel reason", &reason))?,
            }
        }
        other => return Err(unknown("notice status", other)),
    };
    Ok(Notice {
        id: NoticeId::from_stored(text(row, 0)?),
        reference: Reference::from_stored(text(row, 1)?),
        run_day: parse_day(&text(row, 2)?)?,
        patron_id: PatronId::parse(&patron_id).map_err(|e| corrupt("patron id", &patron_id, e))?,
        channel: Channel::parse(&channel).ok_or_else(|| unknown("channel", &channel))?,
        stage: StageName::parse(&stage).map_err(|e| corrupt("stage", &stage, e))?,
        library: library
            .map(|l| LibraryCode::parse(&l).map_err(|e| corrupt("library code", &l, e)))
            .transpose()?,
        loans: Vec::new(),
        status,
        attempts: row.get(8).map_err(crate::store::sql)?,
    })
}
