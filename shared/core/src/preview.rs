//! The preview of a run day: the run itself, on adapters that record nothing
//! ([`DryLedger`], [`DryStore`]) and a transport and archive that write files
//! instead of sending, so each email and letter is exactly what the run would
//! produce; then the static page that shows it ([`render_page`]).

mod overlay;
mod page;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::Config;
use crate::email::Templates;
use crate::ids::{LoanId, PatronId};
use crate::model::{Loan, Patron};
use crate::ports::{Ledger, LetterArchive, LoanStore, MailTransport, StoreError};
use crate::service::{Engine, RunError};
use crate::summary::RunSummary;

pub use overlay::{DryLedger, DryStore, PreviewedNotice};
pub use page::{PageError, PageInput, PreviousDay, PreviousSource, render_page};

/// What a run of the day would do, with what the page needs to show it.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The run's summary, as `run --json` would print it.
    pub summary: RunSummary,
    /// Every notice the run would make or deliver, with its outcome.
    pub notices: Vec<PreviewedNotice>,
    /// Their recipients, as the store has them.
    pub patrons: HashMap<PatronId, Patron>,
    /// Their loans, as the store has them.
    pub loans: HashMap<LoanId, Loan>,
}

/// The adapters a preview writes its files through.
pub struct PreviewOutput<'a, T, A> {
    /// Receives each email, as the run would send it.
    pub transport: &'a T,
    /// Receives each letter and print batch.
    pub archive: &'a A,
}

/// Runs `day` as `relance run` would, through `output`, recording nothing in
/// `store` or `ledger`: plans, delivers emails (re-check, fallbacks,
/// cancellations) and renders the letters' batches.
pub async fn preview_run<S, L, T, A>(
    config: &Config,
    templates: &Templates,
    store: &S,
    ledger: &L,
    output: PreviewOutput<'_, T, A>,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Preview, RunError>
where
    S: LoanStore,
    L: Ledger,
    T: MailTransport,
    A: LetterArchive,
{
    let dry_store = DryStore::new(store);
    let dry_ledger = DryLedger::new(ledger);
    let engine = Engine {
        config,
        templates,
        store: &dry_store,
        ledger: &dry_ledger,
        transport: output.transport,
        archive: output.archive,
    };
    let summary = engine.run(day, false, now).await?;
    let notices = dry_ledger.into_notices();
    let (patrons, loans) = details(store, &notices).await?;
    Ok(Preview {
        summary,
        notices,
        patrons,
        loans,
    })
}

type Details = (HashMap<PatronId, Patron>, HashMap<LoanId, Loan>);

async fn details(
    store: &impl LoanStore,
    notices: &[PreviewedNotice],
) -> Result<Details, StoreError> {
    let mut patron_ids: Vec<PatronId> = notices
        .iter()
        .map(|n| n.notice.patron_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    patron_ids.sort();
    let loan_ids: Vec<LoanId> = notices
        .iter()
        .flat_map(|n| n.notice.loans.iter().map(|l| l.loan_id.clone()))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let patrons = store
        .patrons(&patron_ids)
        .await?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let loans = store
        .loans(&loan_ids)
        .await?
        .into_iter()
        .map(|l| (l.id.clone(), l))
        .collect();
    Ok((patrons, loans))
}

#[cfg(test)]
mod tests;
