//! `expires_at` on loans and patrons (rules §16): a returned loan expires
//! `[retention] returned_loans` days after its return; a patron left without
//! open loans expires once neither they nor a notice they may have had is kept
//! (`patrons` days after their last return, and not before `notices` days). A
//! patron who borrows again loses their `expires_at`. DynamoDB's TTL then
//! deletes the item, within a few days of that instant.
//!
//! The open loans of a patron are read from the `by_patron` index, which is
//! eventually consistent: a return just written may still show as open, and the
//! patron then keeps no `expires_at` until their next return — late, never early.
//! A patron rewritten by an import loses it too, the same way.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use relance_core::ids::PatronId;
use relance_core::model::Loan;
use relance_core::ports::{LoanStore, StoreError};

use super::table::{EXPIRES_AT, PK, patron_key};
use super::{Dynamo, Item, key_item, store_error};

/// Patrons settled at once.
const LANES: usize = 4;

impl Dynamo {
    /// A returned loan's `expires_at`.
    pub(super) fn stamp_loan(&self, loan: &Loan, item: &mut Item) {
        if let Some(at) = loan.returned_at {
            let expires = self.retention().returned_loan_expiry(at, self.timezone());
            item.insert(EXPIRES_AT.into(), Self::expiry(expires));
        }
    }

    /// After `loans` were written: their patrons with an open loan among them
    /// lose any `expires_at`; those whose loans are now all returned get one.
    pub(super) async fn settle_patrons(&self, loans: &[Loan]) -> Result<(), StoreError> {
        let open: BTreeSet<&PatronId> = loans
            .iter()
            .filter(|l| l.is_open())
            .map(|l| &l.patron_id)
            .collect();
        let mut closed: BTreeMap<&PatronId, DateTime<Utc>> = BTreeMap::new();
        for loan in loans {
            if let Some(at) = loan.returned_at.filter(|_| !open.contains(&loan.patron_id)) {
                let last = closed.entry(&loan.patron_id).or_insert(at);
                *last = (*last).max(at);
            }
        }
        let work: Vec<(&PatronId, Option<DateTime<Utc>>)> = open
            .into_iter()
            .map(|p| (p, None))
            .chain(closed.into_iter().map(|(p, at)| (p, Some(at))))
            .collect();
        // A few requests in flight, as the import's other writes.
        let work = &work;
        let lane = |i: usize| async move {
            for (patron, closed_at) in work.iter().skip(i).step_by(LANES) {
                self.settle_patron(patron, *closed_at).await?;
            }
            Ok::<(), StoreError>(())
        };
        let (a, b, c, d) = tokio::join!(lane(0), lane(1), lane(2), lane(3));
        a.and(b).and(c).and(d)
    }

    /// A patron with an open loan loses `expires_at`; one whose last loan came
    /// back at `closed_at` and who has no open loan left gets it.
    async fn settle_patron(
        &self,
        patron: &PatronId,
        closed_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        match closed_at {
            None => self.patron_expiry(patron, None).await,
            Some(at) if self.open_loans_of(patron).await?.is_empty() => {
                let expires = self.retention().patron_expiry(at, self.timezone());
                self.patron_expiry(patron, Some(expires)).await
            }
            Some(_) => Ok(()),
        }
    }

    /// Sets (or, with `None`, removes) a patron's `expires_at`; a patron not
    /// stored, or without one to remove, is left alone.
    async fn patron_expiry(
        &self,
        patron: &PatronId,
        expires: Option<i64>,
    ) -> Result<(), StoreError> {
        let update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(patron_key(patron))))
            .expression_attribute_names("#exp", EXPIRES_AT);
        let update = match expires {
            Some(at) => update
                .update_expression("SET #exp = :exp")
                .condition_expression("attribute_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":exp", Self::expiry(at)),
            None => update
                .update_expression("REMOVE #exp")
                .condition_expression("attribute_exists(#exp)"),
        };
        match update.send().await {
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
