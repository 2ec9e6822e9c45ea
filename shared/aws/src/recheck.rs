//! The send-time check on AWS (rules §15, `[source] recheck`): the mailer and
//! the letters function read a notice's loans through the core's
//! [`RecheckedStore`], which asks the library system about each open one and
//! records a return it learns in the table at once. The budget of calls
//! (`[source] max_calls_per_run`) is the institution's calendar day's, shared
//! by every invocation through a conditional counter in the table
//! ([`FanOutBook::take_recheck_call`]); what each check did is added to that
//! day's counters, which the staff report reads (`not_rechecked`). An
//! invocation asks only within its window of time, so that a slow system
//! cannot hold a batch past the function's timeout (its messages would come
//! back, and end in the dead-letter queue, unsent): past it, loans go unchecked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use relance_core::calendar::local_date;
use relance_core::config::Config;
use relance_core::ports::{CallBudget, LoanStore, LoanSystem};
use relance_core::recheck::{RecheckTally, RecheckedStore};
use relance_sources::{Retry, Source};

use crate::fanout::FanOutBook;
use crate::function::Function;
use crate::metrics::Metrics;
use crate::secrets::SecretsManager;

/// `[source] recheck` in a fan-out function: the library system (none when its
/// client could not be set up: every loan then goes unchecked, and is counted)
/// and the day's budget of calls.
pub struct Recheck<Y = Source> {
    system: Option<Y>,
    max_calls: u32,
    window: Duration,
}

impl Recheck {
    /// The check the function's config asks for; `None` when `[source]
    /// recheck` is off. The credentials are read from Secrets Manager once, as
    /// the instance starts; when they cannot be, the error is logged (it names
    /// secrets by ARN, never their values) and notices go as planned, unchecked.
    /// Each invocation asks within `window` of its start.
    pub async fn of(function: &Function, window: Duration) -> Option<Self> {
        let settings = function.config.source.as_ref().filter(|s| s.recheck)?;
        let source = SecretsManager::new(function.clients.secretsmanager.clone())
            .source(settings, Retry::RECHECK)
            .await;
        let system = match source {
            Ok(source) => Some(source),
            Err(e) => {
                tracing::error!(
                    error = format!("{e:#}"),
                    "[source] recheck is on, but the library system cannot be asked: \
                     notices go as planned, unchecked"
                );
                None
            }
        };
        Some(Self::new(system, settings.max_calls_per_run, window))
    }
}

impl<Y: LoanSystem> Recheck<Y> {
    /// A check against `system`, within `max_calls` a day, each invocation
    /// asking within `window` of its start.
    pub fn new(system: Option<Y>, max_calls: u32, window: Duration) -> Self {
        Self {
            system,
            max_calls,
            window,
        }
    }

    /// The budget of `now`'s calendar day in the institution's timezone, for
    /// the calls of an invocation starting now.
    pub fn budget<'a, B: FanOutBook>(
        &self,
        book: &'a B,
        config: &Config,
        now: DateTime<Utc>,
    ) -> DayBudget<'a, B> {
        DayBudget {
            book,
            day: local_date(now, config.institution.timezone),
            max: self.max_calls,
            until: Instant::now() + self.window,
            window_closed: AtomicBool::new(false),
        }
    }

    /// `store`, its loans checked against the system within `budget`.
    pub fn store<'a, S: LoanStore, B: CallBudget>(
        &'a self,
        store: &'a S,
        budget: &'a B,
        now: DateTime<Utc>,
    ) -> RecheckedStore<'a, S, Y, B> {
        RecheckedStore::new(store, self.system.as_ref(), budget, now)
    }
}

/// A day's budget of calls to the library system, counted in the table, and
/// an invocation's window of time to make them in.
pub struct DayBudget<'a, B> {
    book: &'a B,
    day: NaiveDate,
    max: u32,
    until: Instant,
    window_closed: AtomicBool,
}

impl<B: FanOutBook> DayBudget<'_, B> {
    /// Adds what `function`'s check did to the day's counters
    /// (`not_rechecked`, `rechecked_returned`), to its CloudWatch metrics
    /// ([`metrics`]) and logs it: counts, and the system's error (ids and
    /// status only). A failure to count is logged; the deliveries stand.
    pub async fn count(&self, function: &str, tally: &RecheckTally) {
        metrics(function, tally).emit();
        tracing::info!(
            day = %self.day,
            calls = tally.calls,
            confirmed_open = tally.confirmed_open,
            returned = tally.returned.len(),
            not_rechecked = tally.not_rechecked,
            system_out = tally.system_out,
            "loans checked against the library system"
        );
        if let Some(error) = &tally.error {
            tracing::warn!(error = %error, "the library system could not be asked before sending");
        }
        let counted = self
            .book
            .count_delivered(
                self.day,
                &[
                    ("not_rechecked", tally.not_rechecked as u64),
                    ("rechecked_returned", tally.returned.len() as u64),
                ],
            )
            .await;
        if let Err(e) = counted {
            tracing::warn!(day = %self.day, error = %e, "the send-time check not counted");
        }
    }
}

/// The metrics of one invocation's check: `RecheckCalls`, `RecheckedReturned`,
/// `NotRechecked`, and `RecheckSystemOut` (1 when the system failed), which
/// the stack's `LibrarySystemUnreachableAlarm` watches.
pub fn metrics(function: &str, tally: &RecheckTally) -> Metrics {
    Metrics::of(function)
        .count("RecheckCalls", tally.calls as usize)
        .count("RecheckedReturned", tally.returned.len())
        .count("NotRechecked", tally.not_rechecked)
        .count("RecheckSystemOut", usize::from(tally.system_out))
}

impl<B: FanOutBook> CallBudget for DayBudget<'_, B> {
    async fn take(&self) -> bool {
        if Instant::now() >= self.until {
            if !self.window_closed.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    day = %self.day,
                    "the invocation's time to ask the library system is over: \
                     the rest of its loans go unchecked"
                );
            }
            return false;
        }
        match self.book.take_recheck_call(self.day, self.max).await {
            Ok(taken) => taken,
            Err(e) => {
                tracing::warn!(day = %self.day, error = %e, "the budget of calls cannot be counted: loan unchecked");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::Value;

    use super::*;

    #[test]
    fn a_check_that_found_the_system_out_is_a_metric_the_alarm_reads() {
        let tally = RecheckTally {
            calls: 3,
            confirmed_open: 1,
            returned: vec![(
                relance_core::ids::LoanId::parse("L1").unwrap(),
                Utc.with_ymd_and_hms(2026, 11, 29, 9, 0, 0).unwrap(),
            )],
            not_rechecked: 4,
            system_out: true,
            error: Some("HTTP 503".into()),
        };
        let line = metrics("mailer", &tally).line(Utc::now());
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["Function"], "mailer");
        assert_eq!(value["RecheckCalls"], 3.0);
        assert_eq!(value["RecheckedReturned"], 1.0);
        assert_eq!(value["NotRechecked"], 4.0);
        assert_eq!(value["RecheckSystemOut"], 1.0);
        assert!(!line.contains("503"), "counts only");
        let healthy = metrics("letters", &RecheckTally::default()).line(Utc::now());
        let value: Value = serde_json::from_str(&healthy).unwrap();
        assert_eq!(value["RecheckSystemOut"], 0.0);
    }
}
