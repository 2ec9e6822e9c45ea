//! The forecast: the notices a daily run would decide on each of the coming days,
//! from the known due dates of the open loans, assuming no further return,
//! renewal or loan. The planner itself decides each day, so a day's forecast is
//! what `run --dry-run` for that day reports when that day is the next to plan.

mod chart;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::shift;
use crate::config::Config;
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
    /// Letters to print (the letter stage and print fallbacks), one per patron and library.
    pub letters: usize,
    /// Reminder loans that go to print because the patron cannot be emailed.
    pub print_fallbacks: usize,
    /// Open loans that reach each stage on the planned days, notice or not.
    pub loans: BTreeMap<String, usize>,
    /// Loans that reach a stage without a notice, per reason.
    pub skipped: BTreeMap<String, usize>,
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
    let days = input
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
            for notice in &decided.notices {
                match notice.channel {
                    Channel::Email => *emails.entry(notice.stage.to_string()).or_default() += 1,
                    Channel::Letter => letters += 1,
                }
            }
            ForecastDay {
                day: *day,
                planned_days: planned.clone(),
                notices: decided.notices_by_stage(),
                emails,
                letters,
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
    Forecast {
        watermark: input.watermark,
        stages: ladder.stages().iter().map(|s| s.name.to_string()).collect(),
        days,
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
        schedule: &schedule,
        loans_by_due: &loans_by_due,
        patrons: &patrons,
        handled: &handled,
        watermark,
    }))
}

#[cfg(test)]
mod tests;
