//! Writing notices with their markers, in conditional transactions, and what to do
//! when DynamoDB cancels one.
//!
//! A notice and the markers of its loans go in one TransactWriteItems: Put the
//! notice if its id is new, Put the claim on its reference if the reference is
//! free, Update each marker if it is absent or already names this notice. A
//! transaction holds at most 100 items, so a notice lists at most 98 loans per
//! transaction: the first carries the notice with its first 98 loans, each next
//! one adds 98 more to the pending notice (`SET loans.#k = :v`) with their
//! markers. A loan is thus never in the notice without its marker, nor the other
//! way round, even when a crash stops the writes between two transactions; the
//! loans left out have no marker and are planned again by the next run of that
//! day, which adds them to the same notice.
//!
//! The cancellation reasons, one per item in request order, say what failed:
//! - the notice exists: it is the same notice (its id is derived from its
//!   natural key), written by an earlier attempt or a racing planner; the loans
//!   are added to it, which changes nothing when they are there already;
//! - the notice is no longer pending (printed or sent since): the loans go to a
//!   fresh notice whose id is derived from this one, so that they are neither
//!   lost nor added to a message already gone;
//! - a marker exists for another notice or as a skip: that loan is handled
//!   already and is dropped from this write (markers are kept as they are);
//! - the reference is taken by another notice: it is derived again with the next
//!   salt, as the SQLite ledger does;
//! - a transaction conflict or throttling: retried after a backoff.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::NaiveDate;
use relance_core::ids::{NoticeId, Reference};
use relance_core::notice::{MarkerKey, Notice, NoticeLoan, NoticeStatus};
use relance_core::ports::StoreError;

use super::item::{
    KIND, LOANS, NOTICE_ID, PENDING_STATUS, RUN_DAY, STATUS, day_text, loan_entry, loan_value,
    names, notice_item, reference_item, s, values,
};
use super::transact::{Outcome, TRANSACTION_MAX, built};
use crate::dynamo::table::{EXPIRES_AT, PK, marker_key, notice_key};
use crate::dynamo::{Dynamo, key_item};

/// Loans per transaction: the notice and its reference claim take two places.
const LOANS_PER_TRANSACTION: usize = TRANSACTION_MAX - 2;
/// Salts tried before a reference collision is reported as an error.
const REFERENCE_SALTS: u32 = 16;
/// Fresh notice ids tried before giving up.
const FRESH_IDS: u32 = 8;

/// One notice to write with the markers of its loans.
pub(super) struct NoticeWrite<'a> {
    /// The notice as decided; its id and reference are the first choice.
    pub notice: &'a Notice,
    /// Makes the id of a fresh notice when this one has already gone out.
    pub seed: &'a str,
    /// The email notice whose markers move to this letter (print fallback).
    pub moved_from: Option<&'a NoticeId>,
    /// The run day of each loan's marker, as the plan says it (default: the
    /// notice's run day).
    pub marker_days: &'a HashMap<MarkerKey, NaiveDate>,
}

fn marker_of(loan: &NoticeLoan) -> MarkerKey {
    MarkerKey {
        loan_id: loan.loan_id.clone(),
        due_date: loan.due_date,
        stage: loan.stage.clone(),
    }
}

/// The id of the `n`th choice for a notice: its own, then fresh ones.
fn candidate_id(id: &NoticeId, seed: &str, n: u32) -> NoticeId {
    match n {
        0 => id.clone(),
        1 => NoticeId::derive(&format!("{id}|after|{seed}")),
        n => NoticeId::derive(&format!("{id}|after|{seed}|{n}")),
    }
}

impl Dynamo {
    /// Points the loan's marker at `id`, creating it if absent; refused when it
    /// names another notice (or a skip) than `id` or `moved_from`.
    fn marker_update(
        &self,
        loan: &NoticeLoan,
        id: &NoticeId,
        moved_from: Option<&NoticeId>,
        run_day: NaiveDate,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut vals = vec![
            (":kind", s("marker")),
            (":day", s(day_text(run_day))),
            (":id", s(id.as_str())),
            (
                ":exp",
                Dynamo::expiry(self.retention().marker_expiry(run_day, self.timezone())),
            ),
        ];
        let condition = match moved_from {
            Some(from) => {
                vals.push((":from", s(from.as_str())));
                "attribute_not_exists(#pk) OR #notice IN (:id, :from)"
            }
            None => "attribute_not_exists(#pk) OR #notice = :id",
        };
        let update = built(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key_item(marker_key(&marker_of(loan)))))
                .update_expression(
                    "SET #kind = :kind, #run_day = if_not_exists(#run_day, :day), #notice = :id, \
                     #exp = if_not_exists(#exp, :exp)",
                )
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names(&[
                    ("#pk", PK),
                    ("#kind", KIND),
                    ("#run_day", RUN_DAY),
                    ("#notice", NOTICE_ID),
                    ("#exp", EXPIRES_AT),
                ])))
                .set_expression_attribute_values(Some(values(vals)))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Adds loans to a notice that exists and is still pending.
    fn loans_update(
        &self,
        id: &NoticeId,
        loans: &[NoticeLoan],
    ) -> Result<TransactWriteItem, StoreError> {
        let mut attribute_names = names(&[("#pk", PK), ("#status", STATUS), ("#loans", LOANS)]);
        let mut vals = values(vec![(":pending", s(PENDING_STATUS))]);
        let mut sets = Vec::with_capacity(loans.len());
        for (i, loan) in loans.iter().enumerate() {
            attribute_names.insert(format!("#k{i}"), loan_entry(loan));
            vals.insert(format!(":v{i}"), loan_value(loan));
            sets.push(format!("#loans.#k{i} = :v{i}"));
        }
        let update = built(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key_item(notice_key(id))))
                .update_expression(format!("SET {}", sets.join(", ")))
                .condition_expression("attribute_exists(#pk) AND #status = :pending")
                .set_expression_attribute_names(Some(attribute_names))
                .set_expression_attribute_values(Some(vals))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Writes a notice with the markers of its loans (see the module comment for
    /// what each cancellation means). Loans already handled by another notice are
    /// left out; a notice whose every loan is handled elsewhere is not written.
    pub(super) async fn write_notice(&self, write: NoticeWrite<'_>) -> Result<(), StoreError> {
        let notice = write.notice;
        let mut seen = HashSet::new();
        let mut loans: Vec<NoticeLoan> = notice
            .loans
            .iter()
            .filter(|l| seen.insert(loan_entry(l)))
            .cloned()
            .collect();
        let had_loans = !loans.is_empty();
        let (mut candidate, mut salt, mut contention) = (0u32, 0u32, 0u32);
        // The candidate notice exists: loans are added to it.
        let mut exists = false;
        let rounds = 2 * loans.len() + 64;
        for _ in 0..rounds {
            let id = candidate_id(&notice.id, write.seed, candidate);
            let chunk_len = loans.len().min(LOANS_PER_TRANSACTION);
            let chunk = &loans[..chunk_len];
            if chunk.is_empty() && (exists || had_loans) {
                return Ok(());
            }
            let mut items = Vec::with_capacity(chunk_len + 2);
            if exists {
                items.push(self.loans_update(&id, chunk)?);
            } else {
                let reference = if candidate == 0 && salt == 0 {
                    notice.reference.clone()
                } else {
                    Reference::derive(&id, salt)
                };
                let first = Notice {
                    id: id.clone(),
                    reference: reference.clone(),
                    loans: chunk.to_vec(),
                    status: NoticeStatus::Pending,
                    attempts: 0,
                    ..notice.clone()
                };
                // The notice and its reference claim expire together (rules §16).
                let expires = Dynamo::expiry(
                    self.retention()
                        .notice_expiry(notice.run_day, self.timezone()),
                );
                let mut notice_item = notice_item(&first);
                notice_item.insert(EXPIRES_AT.into(), expires.clone());
                let mut claim = reference_item(&reference, &id);
                claim.insert(EXPIRES_AT.into(), expires);
                items.push(self.put_if_absent(notice_item)?);
                items.push(self.put_if_absent(claim)?);
            }
            let head = items.len();
            for loan in chunk {
                let day = write
                    .marker_days
                    .get(&marker_of(loan))
                    .copied()
                    .unwrap_or(notice.run_day);
                items.push(self.marker_update(loan, &id, write.moved_from, day)?);
            }
            let failed = match self.transact(items, &mut contention).await? {
                Outcome::Committed => {
                    loans.drain(..chunk_len);
                    if loans.is_empty() {
                        return Ok(());
                    }
                    exists = true;
                    continue;
                }
                Outcome::Retry => continue,
                Outcome::Refused(failed) => failed,
            };
            let handled_elsewhere: HashSet<String> = chunk
                .iter()
                .zip(&failed[head..])
                .filter(|(_, failed)| **failed)
                .map(|(l, _)| loan_entry(l))
                .collect();
            loans.retain(|l| !handled_elsewhere.contains(&loan_entry(l)));
            if failed[0] {
                if !exists {
                    // Same id, same natural key: the same notice, recorded before.
                    exists = true;
                } else {
                    match self.notice(&id).await? {
                        None => exists = false,
                        // Its status moved under us: look again.
                        Some(n) if n.status == NoticeStatus::Pending => {}
                        Some(_) => {
                            candidate += 1;
                            salt = 0;
                            exists = false;
                            if candidate > FRESH_IDS {
                                return Err(StoreError::conflict(format!(
                                    "notice {}: no fresh id after {FRESH_IDS} tries",
                                    notice.id
                                )));
                            }
                            let fresh = candidate_id(&notice.id, write.seed, candidate);
                            tracing::debug!(notice = %notice.id, %fresh, "notice out already, loans go to a fresh one");
                        }
                    }
                }
            } else if !exists && failed[1] {
                salt += 1;
                if salt >= REFERENCE_SALTS {
                    return Err(StoreError::conflict(format!(
                        "no free reference for notice {id} after {REFERENCE_SALTS} tries"
                    )));
                }
            }
        }
        Err(StoreError::unexpected(format!(
            "notice {}: no progress after {rounds} transactions",
            notice.id
        )))
    }
}
