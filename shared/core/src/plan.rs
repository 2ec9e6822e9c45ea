//! The pure planner: from the loans that reach a stage on the planned days, decide
//! the notices of the run day and the ledger markers (rules §5–6).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use serde::Serialize;

use crate::ids::{LibraryCode, PatronId, StageName};
use crate::ladder::{Channel, Ladder, Stage, StageKind};
use crate::model::{Loan, Patron};
use crate::notice::{Marker, MarkerKey, MarkerOutcome, Notice, NoticeLoan, SkipReason};

/// A loan that reaches `stage` on `day`, one of the planned days.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The open loan.
    pub loan: Loan,
    /// The stage it reaches.
    pub stage: StageName,
    /// The day it reaches it.
    pub day: NaiveDate,
}

impl Candidate {
    /// The ledger key of this (loan, due date, stage).
    pub fn key(&self) -> MarkerKey {
        MarkerKey {
            loan_id: self.loan.id.clone(),
            due_date: self.loan.due_date,
            stage: self.stage.clone(),
        }
    }
}

/// What the planner decided for one run day.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunPlan {
    /// The run day.
    pub run_day: Option<NaiveDate>,
    /// The days whose stages were matched.
    pub planned_days: Vec<NaiveDate>,
    /// New notices, all pending.
    pub notices: Vec<Notice>,
    /// One marker per (loan, due date, stage) handled, with or without a notice.
    pub markers: Vec<Marker>,
    /// The library codes of planned loans that the config lacks: their notices
    /// are planned, and fail at delivery until the library is added.
    pub unknown_libraries: BTreeSet<LibraryCode>,
}

impl RunPlan {
    /// New notices per stage name.
    pub fn notices_by_stage(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for notice in &self.notices {
            *counts.entry(notice.stage.to_string()).or_default() += 1;
        }
        counts
    }

    /// Markers skipped, per reason.
    pub fn skipped(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for marker in &self.markers {
            if let MarkerOutcome::Skipped(reason) = marker.outcome {
                *counts.entry(reason.as_str()).or_default() += 1;
            }
        }
        counts
    }

    /// Reminder loans that go to print because the patron cannot be emailed.
    pub fn print_fallbacks(&self, ladder: &Ladder) -> usize {
        self.notices
            .iter()
            .filter(|n| n.channel == Channel::Letter)
            .flat_map(|n| &n.loans)
            .filter(|l| {
                ladder
                    .get(&l.stage)
                    .is_some_and(|s| s.channel == Channel::Email)
            })
            .count()
    }
}

/// A loan of a letter, with the rank of the stage it reached.
type LetterLine = (Loan, NoticeLoan, usize);

/// Where a candidate goes.
enum Route {
    Email,
    Letter,
    Skip(SkipReason),
}

fn route(stage: &Stage, patron: Option<&Patron>) -> Route {
    let Some(patron) = patron else {
        return Route::Skip(SkipReason::UnknownPatron);
    };
    match stage.kind {
        StageKind::Letter => Route::Letter,
        StageKind::Courtesy if patron.courtesy_opt_out => Route::Skip(SkipReason::OptedOut),
        StageKind::Courtesy if patron.usable_email().is_none() => {
            Route::Skip(SkipReason::NoUsableEmail)
        }
        StageKind::Courtesy => Route::Email,
        StageKind::Reminder { .. } if patron.usable_email().is_none() => Route::Letter,
        StageKind::Reminder { .. } => Route::Email,
    }
}

/// Decides the notices of `run_day` from the candidates of all planned days:
/// candidates already in the ledger (`handled`) are left out, courtesy is skipped
/// for opted-out patrons and patrons without a usable email, reminders for those
/// go to print, and loans are consolidated into one email per (patron, stage) and
/// one letter per (patron, owning library).
pub fn plan(
    ladder: &Ladder,
    run_day: NaiveDate,
    planned_days: Vec<NaiveDate>,
    candidates: Vec<Candidate>,
    patrons: &HashMap<PatronId, Patron>,
    handled: &HashSet<MarkerKey>,
) -> RunPlan {
    // Emails by (patron, stage rank); letters by (patron, library), each loan with its stage rank.
    let mut emails: BTreeMap<(PatronId, usize), Vec<(Loan, NoticeLoan)>> = BTreeMap::new();
    let mut letters: BTreeMap<(PatronId, LibraryCode), Vec<LetterLine>> = BTreeMap::new();
    let mut markers = Vec::new();
    let mut seen = HashSet::new();

    for candidate in candidates {
        let key = candidate.key();
        if handled.contains(&key) || !seen.insert(key.clone()) {
            continue;
        }
        let Some(stage) = ladder.get(&candidate.stage) else {
            continue;
        };
        let patron = patrons.get(&candidate.loan.patron_id);
        let entry = NoticeLoan {
            loan_id: candidate.loan.id.clone(),
            due_date: candidate.loan.due_date,
            stage: stage.name.clone(),
        };
        let patron_id = candidate.loan.patron_id.clone();
        match route(stage, patron) {
            Route::Skip(reason) => markers.push(Marker {
                key,
                run_day,
                outcome: MarkerOutcome::Skipped(reason),
            }),
            Route::Email => {
                let id = Notice::email_id(&patron_id, &stage.name, run_day);
                markers.push(Marker {
                    key,
                    run_day,
                    outcome: MarkerOutcome::Notice(id),
                });
                emails
                    .entry((patron_id, stage.rank))
                    .or_default()
                    .push((candidate.loan, entry));
            }
            Route::Letter => {
                let library = candidate.loan.library.clone();
                let id = Notice::letter_id(&patron_id, &library, run_day);
                markers.push(Marker {
                    key,
                    run_day,
                    outcome: MarkerOutcome::Notice(id),
                });
                letters.entry((patron_id, library)).or_default().push((
                    candidate.loan,
                    entry,
                    stage.rank,
                ));
            }
        }
    }

    let mut notices = Vec::with_capacity(emails.len() + letters.len());
    for ((patron_id, rank), mut loans) in emails {
        let stage = ladder.stages()[rank].name.clone();
        loans.sort_by(|a, b| listing_order(&a.0, &b.0));
        let id = Notice::email_id(&patron_id, &stage, run_day);
        let loans = loans.into_iter().map(|(_, l)| l).collect();
        notices.push(Notice::pending(
            id,
            run_day,
            patron_id,
            Channel::Email,
            stage,
            None,
            loans,
        ));
    }
    for ((patron_id, library), mut loans) in letters {
        let top = loans.iter().map(|l| l.2).max().unwrap_or_default();
        let stage = ladder.stages()[top].name.clone();
        loans.sort_by(|a, b| listing_order(&a.0, &b.0));
        let id = Notice::letter_id(&patron_id, &library, run_day);
        let loans = loans.into_iter().map(|(_, l, _)| l).collect();
        notices.push(Notice::pending(
            id,
            run_day,
            patron_id,
            Channel::Letter,
            stage,
            Some(library),
            loans,
        ));
    }

    RunPlan {
        run_day: Some(run_day),
        planned_days,
        notices,
        markers,
        unknown_libraries: BTreeSet::new(),
    }
}

/// Library by library, then oldest due first, then by title.
pub fn listing_order(a: &Loan, b: &Loan) -> std::cmp::Ordering {
    (&a.library, a.due_date, &a.item.title, &a.id).cmp(&(
        &b.library,
        b.due_date,
        &b.item.title,
        &b.id,
    ))
}

#[cfg(test)]
mod tests;
