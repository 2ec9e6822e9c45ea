//! What a run did, as `relance run --json` prints it and the ledger keeps it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::notice::Notice;

/// The summary of one run (rules §10: at least `run_day`, `planned_days`,
/// `notices`, `emails_sent`, `letters_rendered`, `cancelled`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The day the run is for.
    pub run_day: NaiveDate,
    /// The days whose stages were matched (empty when the day was already planned).
    pub planned_days: Vec<NaiveDate>,
    /// Nothing was recorded or sent.
    pub dry_run: bool,
    /// New notices per stage.
    pub notices: BTreeMap<String, usize>,
    /// Emails the transport accepted.
    pub emails_sent: usize,
    /// Letters rendered to PDF (print batches).
    pub letters_rendered: usize,
    /// Letter notices waiting for the letters channel.
    pub letters_pending: usize,
    /// Notices cancelled at send time (every loan returned or renewed since planning).
    pub cancelled: usize,
    /// Email notices turned into letters because the address stopped working.
    pub fell_back_to_print: usize,
    /// Reminder loans planned straight to print (patron without a usable email).
    pub print_fallbacks: usize,
    /// Loans that reached a stage without a notice, per reason.
    pub skipped: BTreeMap<String, usize>,
    /// Pending notices of earlier run days that this run tried again.
    pub requeued: usize,
    /// Send attempts that failed and will be retried.
    pub failed: usize,
    /// Pending notices not attempted because the transport kept failing.
    pub deferred: usize,
    /// Loans of this run's notices that `[source] recheck` could not check
    /// against the library system (budget spent, system out): sent as planned.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_rechecked: usize,
    /// The notices that failed in this run, each with its reason (rules §13: a
    /// notice that cannot be rendered or sent fails alone and is listed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<NoticeFailure>,
    /// What staff should fix before the next run (e.g. a library the store names
    /// and the config lacks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Notices that wait, pending, for their library's next open day (rules §14):
    /// letters of a closed library, and emails when the institution holds them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting_for_open_day: Vec<OpenDayWait>,
    /// Notices delivered in this run that were decided on a day their library
    /// was closed: the letters printed in this batch after waiting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivered_after_closure: Vec<OpenDayWait>,
    /// Why the run stopped before its end, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The warning for a library code that loans carry and the config lacks.
pub fn unknown_library(code: &str) -> String {
    format!(
        "open loans name library {code:?}, which the config does not have: their notices \
         stay pending until it is added to [[libraries]]"
    )
}

/// A notice that could not be delivered in a run, and why; ids only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeFailure {
    pub reference: String,
    /// Its recipient's id.
    pub patron_id: String,
    /// `email` or `letter`.
    pub channel: String,
    pub stage: String,
    /// A letter's library.
    pub library: Option<String>,
    /// Why it failed (it stays pending and is tried again by the next run).
    pub reason: String,
}

impl NoticeFailure {
    /// The failure of `notice` for `reason`.
    pub fn of(notice: &Notice, reason: impl Into<String>) -> Self {
        Self {
            reference: notice.reference.to_string(),
            patron_id: notice.patron_id.to_string(),
            channel: notice.channel.as_str().to_owned(),
            stage: notice.stage.to_string(),
            library: notice.library.as_ref().map(ToString::to_string),
            reason: reason.into(),
        }
    }
}

/// A notice moved to its library's next open day (rules §14); ids only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenDayWait {
    pub reference: String,
    /// Its recipient's id.
    pub patron_id: String,
    /// `email` or `letter`.
    pub channel: String,
    pub stage: String,
    /// A letter's library; an email's libraries, comma-separated.
    pub library: String,
    /// The run day that decided it.
    pub decided_on: NaiveDate,
    /// The day it is delivered (printed, for a letter): its library's next open
    /// day, when a run takes place that day; `None` when the library stays closed
    /// for years.
    pub delivery_day: Option<NaiveDate>,
    /// Why it waits ("BU Centre closed (Sunday)").
    pub reason: String,
}

impl OpenDayWait {
    /// The wait of `notice`, from `library`, to be delivered on `delivery_day`, for `reason`.
    pub fn of(
        notice: &Notice,
        library: impl Into<String>,
        delivery_day: Option<NaiveDate>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            reference: notice.reference.to_string(),
            patron_id: notice.patron_id.to_string(),
            channel: notice.channel.as_str().to_owned(),
            stage: notice.stage.to_string(),
            library: library.into(),
            decided_on: notice.run_day,
            delivery_day,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for OpenDayWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "deferred from {}: {}", self.decided_on, self.reason)
    }
}

/// Waits told together: one line per (channel, library, day decided, reason,
/// delivery day), with how many notices share it, in first-seen order
/// (`2 letters of STS deferred from 2026-12-06: … closed (Sunday); on 2026-12-07`).
pub fn wait_lines(waits: &[OpenDayWait], when: &str) -> Vec<String> {
    let mut groups: Vec<(&OpenDayWait, usize)> = Vec::new();
    for wait in waits {
        let same = |g: &&mut (&OpenDayWait, usize)| {
            let w = g.0;
            (
                w.channel.as_str(),
                w.library.as_str(),
                w.decided_on,
                w.reason.as_str(),
                w.delivery_day,
            ) == (
                wait.channel.as_str(),
                wait.library.as_str(),
                wait.decided_on,
                wait.reason.as_str(),
                wait.delivery_day,
            )
        };
        match groups.iter_mut().find(same) {
            Some(group) => group.1 += 1,
            None => groups.push((wait, 1)),
        }
    }
    groups
        .into_iter()
        .map(|(w, n)| {
            let plural = if n == 1 { "" } else { "s" };
            let day = w.delivery_day.map_or_else(
                || "no open day in sight".to_owned(),
                |d| format!("{when} {d}"),
            );
            format!("{n} {}{plural} of {} {w}; {day}", w.channel, w.library)
        })
        .collect()
}
