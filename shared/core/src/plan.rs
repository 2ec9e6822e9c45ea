//! The pure planner: from the loans that reach a stage on the planned days, decide
//! the notices of the run day and the ledger markers (SPEC §5–6).

use std::collections::{BTreeMap, HashMap, HashSet};

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
mod tests {
    use super::*;
    use crate::address::EmailAddress;
    use crate::ids::LoanId;
    use crate::model::{EmailStatus, Item, PostalAddress};
    use chrono::{TimeZone, Utc};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn patron(id: &str, email: Option<&str>, opt_out: bool) -> Patron {
        Patron {
            id: PatronId::parse(id).unwrap(),
            full_name: format!("Patron {id}"),
            email: email.map(|e| EmailAddress::parse(e).unwrap()),
            email_status: EmailStatus::Deliverable,
            address: PostalAddress::default(),
            language: None,
            courtesy_opt_out: opt_out,
        }
    }

    fn loan(id: &str, patron: &str, library: &str, due: &str) -> Loan {
        Loan {
            id: LoanId::parse(id).unwrap(),
            patron_id: PatronId::parse(patron).unwrap(),
            library: LibraryCode::parse(library).unwrap(),
            item: Item {
                barcode: format!("B{id}"),
                title: format!("Title {id}"),
                author: String::new(),
                call_number: String::new(),
            },
            loaned_at: None,
            due_at: Utc.from_utc_datetime(&d(due).and_hms_opt(22, 0, 0).unwrap()),
            due_date: d(due),
            returned_at: None,
        }
    }

    fn candidate(loan: Loan, stage: &str, day: &str) -> Candidate {
        Candidate {
            loan,
            stage: StageName::parse(stage).unwrap(),
            day: d(day),
        }
    }

    fn patrons(list: Vec<Patron>) -> HashMap<PatronId, Patron> {
        list.into_iter().map(|p| (p.id.clone(), p)).collect()
    }

    const DAY: &str = "2026-11-29";

    #[test]
    fn loans_of_one_patron_at_several_libraries_make_one_email_per_stage() {
        let ps = patrons(vec![patron("P1", Some("p1@example.fr"), false)]);
        let cands = vec![
            candidate(loan("L1", "P1", "STS", "2026-11-22"), "first_reminder", DAY),
            candidate(loan("L2", "P1", "DRT", "2026-11-22"), "first_reminder", DAY),
            candidate(loan("L3", "P1", "LSH", "2026-11-22"), "first_reminder", DAY),
            candidate(loan("L4", "P1", "STS", "2026-12-02"), "courtesy", DAY),
        ];
        let plan = plan(
            &Ladder::standard(),
            d(DAY),
            vec![d(DAY)],
            cands,
            &ps,
            &HashSet::new(),
        );
        assert_eq!(plan.notices.len(), 2);
        let reminder = plan
            .notices
            .iter()
            .find(|n| n.stage.as_str() == "first_reminder")
            .unwrap();
        let ids: Vec<_> = reminder.loans.iter().map(|l| l.loan_id.as_str()).collect();
        assert_eq!(ids, ["L2", "L3", "L1"], "grouped library by library");
        assert_eq!(plan.markers.len(), 4);
    }

    #[test]
    fn courtesy_is_not_sent_to_patrons_who_opted_out_or_cannot_be_emailed() {
        let ps = patrons(vec![
            patron("P1", Some("p1@example.fr"), true),
            patron("P2", None, false),
        ]);
        let cands = vec![
            candidate(loan("L1", "P1", "STS", "2026-12-02"), "courtesy", DAY),
            candidate(loan("L2", "P2", "STS", "2026-12-02"), "courtesy", DAY),
        ];
        let plan = plan(
            &Ladder::standard(),
            d(DAY),
            vec![d(DAY)],
            cands,
            &ps,
            &HashSet::new(),
        );
        assert!(plan.notices.is_empty());
        assert_eq!(plan.skipped().get("opted_out"), Some(&1));
        assert_eq!(plan.skipped().get("no_usable_email"), Some(&1));
    }

    #[test]
    fn reminders_of_a_patron_without_email_go_to_the_owning_library_print_batch() {
        let ps = patrons(vec![patron("P2", None, false)]);
        let cands = vec![
            candidate(loan("L1", "P2", "STS", "2026-11-22"), "first_reminder", DAY),
            candidate(loan("L2", "P2", "DRT", "2026-11-22"), "first_reminder", DAY),
        ];
        let ladder = Ladder::standard();
        let plan = plan(&ladder, d(DAY), vec![d(DAY)], cands, &ps, &HashSet::new());
        assert_eq!(plan.notices.len(), 2, "one letter per owning library");
        assert!(
            plan.notices
                .iter()
                .all(|n| n.channel == Channel::Letter && n.stage.as_str() == "first_reminder")
        );
        assert_eq!(plan.print_fallbacks(&ladder), 2);
    }

    #[test]
    fn a_letter_takes_the_highest_stage_of_its_loans() {
        let ps = patrons(vec![patron("P2", None, false)]);
        let cands = vec![
            candidate(loan("L1", "P2", "STS", "2026-11-22"), "first_reminder", DAY),
            candidate(loan("L2", "P2", "STS", "2026-10-25"), "letter", DAY),
        ];
        let plan = plan(
            &Ladder::standard(),
            d(DAY),
            vec![d(DAY)],
            cands,
            &ps,
            &HashSet::new(),
        );
        assert_eq!(plan.notices.len(), 1);
        assert_eq!(plan.notices[0].stage.as_str(), "letter");
        assert_eq!(plan.notices[0].loans.len(), 2);
    }

    #[test]
    fn what_the_ledger_already_handled_is_left_out() {
        let ps = patrons(vec![patron("P1", Some("p1@example.fr"), false)]);
        let c = candidate(loan("L1", "P1", "STS", "2026-11-22"), "first_reminder", DAY);
        let handled = HashSet::from([c.key()]);
        let plan = plan(
            &Ladder::standard(),
            d(DAY),
            vec![d(DAY)],
            vec![c],
            &ps,
            &handled,
        );
        assert!(plan.notices.is_empty() && plan.markers.is_empty());
    }

    #[test]
    fn catch_up_days_are_consolidated_into_the_run_day_notices() {
        let ps = patrons(vec![patron("P1", Some("p1@example.fr"), false)]);
        let cands = vec![
            candidate(
                loan("L1", "P1", "STS", "2026-11-20"),
                "first_reminder",
                "2026-11-27",
            ),
            candidate(loan("L2", "P1", "STS", "2026-11-22"), "first_reminder", DAY),
        ];
        let days = vec![d("2026-11-27"), d("2026-11-28"), d(DAY)];
        let plan = plan(
            &Ladder::standard(),
            d(DAY),
            days,
            cands,
            &ps,
            &HashSet::new(),
        );
        assert_eq!(plan.notices.len(), 1);
        assert_eq!(plan.notices[0].run_day, d(DAY));
        assert_eq!(plan.notices[0].loans.len(), 2);
    }

    #[test]
    fn loans_of_unknown_patrons_are_marked_not_lost_silently() {
        let cands = vec![candidate(
            loan("L1", "P9", "STS", "2026-11-22"),
            "first_reminder",
            DAY,
        )];
        let plan = plan(
            &Ladder::standard(),
            d(DAY),
            vec![d(DAY)],
            cands,
            &HashMap::new(),
            &HashSet::new(),
        );
        assert_eq!(plan.skipped().get("unknown_patron"), Some(&1));
    }
}
