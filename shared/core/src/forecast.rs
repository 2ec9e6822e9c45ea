//! The forecast: the notices a daily run would decide on each of the coming days,
//! from the known due dates of the open loans, assuming no further return,
//! renewal or loan. The planner itself decides each day, so a day's forecast is
//! what `run --dry-run` for that day reports when that day is the next to plan.

mod chart;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::shift;
use crate::config::{Config, Library};
use crate::ids::PatronId;
use crate::ladder::{Channel, Ladder};
use crate::model::{Loan, Patron};
use crate::notice::MarkerKey;
use crate::plan::{Candidate, plan};
use crate::ports::{Ledger, LoanStore, StoreError};
use crate::schedule::planned_days;

pub use chart::{ChartError, forecast_svg};

/// What a run would decide on one day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ForecastDay {
    /// The run day.
    pub day: NaiveDate,
    /// The days its run would plan: the day itself, more when the forecast's first
    /// day catches up on missed days, none when the day is already planned.
    pub planned_days: Vec<NaiveDate>,
    /// New notices per stage, counted as `run --json` counts them (a letter under
    /// the highest stage of its loans).
    pub notices: BTreeMap<String, usize>,
    /// Emails per stage.
    pub emails: BTreeMap<String, usize>,
    /// Letters to print on this day (the letter stage and print fallbacks), one
    /// per patron and library: those decided this day at an open library, and
    /// those deferred to this day from a day their library was closed (rules §14).
    pub letters: usize,
    /// Letters decided this day whose library is closed: they are printed on its
    /// next open day, and counted there.
    pub letters_held: usize,
    /// The letters printed this day after waiting, and why they waited.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deferred_letters: Vec<DeferredLetters>,
    /// Reminder loans that go to print because the patron cannot be emailed.
    pub print_fallbacks: usize,
    /// Open loans that reach each stage on the planned days, notice or not.
    pub loans: BTreeMap<String, usize>,
    /// Loans that reach a stage without a notice, per reason.
    pub skipped: BTreeMap<String, usize>,
}

/// Letters of one library decided on a closed day and printed on a later one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeferredLetters {
    /// The day that decided them.
    pub from: NaiveDate,
    /// Their library's code.
    pub library: String,
    /// How many.
    pub letters: usize,
    /// Why they waited ("BU Centre closed (Sunday)").
    pub reason: String,
}

impl std::fmt::Display for DeferredLetters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = if self.letters == 1 { "" } else { "s" };
        write!(
            f,
            "{} letter{plural} of {} deferred from {}: {}",
            self.letters, self.library, self.from, self.reason
        )
    }
}

impl ForecastDay {
    /// Every new notice of the day.
    pub fn total(&self) -> usize {
        self.notices.values().sum()
    }
}

/// The forecast of consecutive days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forecast {
    /// The ledger's watermark when the forecast was made.
    pub watermark: Option<NaiveDate>,
    /// The ladder's stage names, in order.
    pub stages: Vec<String>,
    /// One entry per day, from the first.
    pub days: Vec<ForecastDay>,
}

/// Which days the run of each day from `from` plans when a run happens every day:
/// the first as the schedule decides from the watermark (it may catch up), each
/// later day alone, and nothing for a day already planned.
pub fn daily_schedule(
    watermark: Option<NaiveDate>,
    from: NaiveDate,
    days: usize,
    catch_up_days: u32,
) -> Vec<(NaiveDate, Vec<NaiveDate>)> {
    let mut mark = watermark;
    (0..days as i64)
        .filter_map(|i| shift(from, i))
        .map(|day| {
            let planned = planned_days(mark, day, catch_up_days);
            if !planned.is_empty() {
                mark = Some(day);
            }
            (day, planned)
        })
        .collect()
}

/// The due dates whose open loans a forecast needs: for each planned day and
/// stage, the due date that reaches the stage on that day.
pub fn due_dates_needed(
    ladder: &Ladder,
    schedule: &[(NaiveDate, Vec<NaiveDate>)],
) -> Vec<NaiveDate> {
    let mut dues: Vec<NaiveDate> = schedule
        .iter()
        .flat_map(|(_, planned)| planned)
        .flat_map(|&day| {
            ladder
                .stages()
                .iter()
                .filter_map(move |s| s.due_date_reaching_on(day))
        })
        .collect();
    dues.sort();
    dues.dedup();
    dues
}

/// Everything a forecast is computed from.
pub struct ForecastInput<'a> {
    pub ladder: &'a Ladder,
    /// The libraries, whose calendars move letters to open days.
    pub libraries: &'a [Library],
    /// What each day's run plans ([`daily_schedule`]).
    pub schedule: &'a [(NaiveDate, Vec<NaiveDate>)],
    /// The open loans by local due date, for every date of [`due_dates_needed`].
    pub loans_by_due: &'a BTreeMap<NaiveDate, Vec<Loan>>,
    /// The loans' patrons.
    pub patrons: &'a HashMap<PatronId, Patron>,
    /// The (loan, due date, stage) keys the ledger has already handled.
    pub handled: &'a HashSet<MarkerKey>,
    /// The watermark the schedule started from.
    pub watermark: Option<NaiveDate>,
}

/// Runs the planner over each day of the schedule: the same eligibility, skips,
/// print fallbacks and consolidation as a run. Pure.
pub fn forecast(input: &ForecastInput<'_>) -> Forecast {
    let ladder = input.ladder;
    let mut days: Vec<ForecastDay> = input
        .schedule
        .iter()
        .map(|(day, planned)| {
            let mut candidates = Vec::new();
            let mut loans = BTreeMap::new();
            for &planned_day in planned {
                for stage in ladder.stages() {
                    let due = stage.due_date_reaching_on(planned_day);
                    let due_loans = due.and_then(|d| input.loans_by_due.get(&d));
                    for loan in due_loans.into_iter().flatten() {
                        *loans.entry(stage.name.to_string()).or_default() += 1;
                        candidates.push(Candidate {
                            loan: loan.clone(),
                            stage: stage.name.clone(),
                            day: planned_day,
                        });
                    }
                }
            }
            let decided = plan(
                ladder,
                *day,
                planned.clone(),
                candidates,
                input.patrons,
                input.handled,
            );
            let mut emails = BTreeMap::new();
            let mut letters = 0;
            let mut held: BTreeMap<String, usize> = BTreeMap::new();
            for notice in &decided.notices {
                match notice.channel {
                    Channel::Email => *emails.entry(notice.stage.to_string()).or_default() += 1,
                    Channel::Letter => {
                        let library = notice
                            .library
                            .as_ref()
                            .and_then(|code| input.libraries.iter().find(|l| &l.code == code));
                        match library.filter(|l| !l.open_days.is_open(*day)) {
                            Some(l) => *held.entry(l.code.to_string()).or_default() += 1,
                            None => letters += 1,
                        }
                    }
                }
            }
            ForecastDay {
                day: *day,
                planned_days: planned.clone(),
                notices: decided.notices_by_stage(),
                emails,
                letters,
                letters_held: held.values().sum(),
                deferred_letters: held
                    .into_iter()
                    .map(|(library, letters)| DeferredLetters {
                        from: *day,
                        library,
                        letters,
                        reason: String::new(),
                    })
                    .collect(),
                print_fallbacks: decided.print_fallbacks(ladder),
                loans,
                skipped: decided
                    .skipped()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            }
        })
        .collect();
    move_held_letters(&mut days, input.libraries);
    Forecast {
        watermark: input.watermark,
        stages: ladder.stages().iter().map(|s| s.name.to_string()).collect(),
        days,
    }
}

/// Moves each day's held letters (kept for now in its `deferred_letters`) to the
/// first later forecast day their library is open, where they are printed; the
/// forecast's days are consecutive, as daily runs are. Letters whose library
/// stays closed past the forecast's end are in no day's count.
fn move_held_letters(days: &mut [ForecastDay], libraries: &[Library]) {
    let held: Vec<(usize, DeferredLetters)> = days
        .iter_mut()
        .enumerate()
        .flat_map(|(i, d)| {
            std::mem::take(&mut d.deferred_letters)
                .into_iter()
                .map(move |h| (i, h))
        })
        .collect();
    for (i, mut letters) in held {
        let Some(library) = libraries
            .iter()
            .find(|l| l.code.as_str() == letters.library)
        else {
            continue;
        };
        letters.reason = library.closed_on(letters.from).unwrap_or_default();
        if let Some(day) = days[i..]
            .iter_mut()
            .find(|d| library.open_days.is_open(d.day))
        {
            day.letters += letters.letters;
            day.deferred_letters.push(letters);
        }
    }
}

/// Reads what the forecast of `days` days from `from` needs through the ports —
/// each due date's open loans once, the ledger's markers and the patrons in one
/// call each — and computes it. Records nothing.
pub async fn load_forecast(
    config: &Config,
    store: &impl LoanStore,
    ledger: &impl Ledger,
    from: NaiveDate,
    days: usize,
) -> Result<Forecast, StoreError> {
    let watermark = ledger.watermark().await?;
    let schedule = daily_schedule(watermark, from, days, config.institution.catch_up_days);
    let mut loans_by_due = BTreeMap::new();
    for due in due_dates_needed(&config.ladder, &schedule) {
        loans_by_due.insert(due, store.open_loans_due_on(due).await?);
    }
    let mut keys = Vec::new();
    for (_, planned) in &schedule {
        for &day in planned {
            for stage in config.ladder.stages() {
                let Some(due) = stage.due_date_reaching_on(day) else {
                    continue;
                };
                for loan in loans_by_due.get(&due).into_iter().flatten() {
                    keys.push(MarkerKey {
                        loan_id: loan.id.clone(),
                        due_date: loan.due_date,
                        stage: stage.name.clone(),
                    });
                }
            }
        }
    }
    let handled = ledger.handled(&keys).await?;
    let mut ids: Vec<PatronId> = loans_by_due
        .values()
        .flatten()
        .map(|l| l.patron_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    let patrons = store
        .patrons(&ids)
        .await?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    Ok(forecast(&ForecastInput {
        ladder: &config.ladder,
        libraries: &config.libraries,
        schedule: &schedule,
        loans_by_due: &loans_by_due,
        patrons: &patrons,
        handled: &handled,
        watermark,
    }))
}

#[cfg(test)]
mod tests;
