//! The report's open-days section (rules §14): the notices that wait for their
//! library's next open day, and those delivered after waiting.

use std::fmt::Write as _;

use crate::summary::{OpenDayWait, RunSummary};

use super::wording::{EN, Wording};

/// Lines listed per list at most; the rest is counted.
const LISTED: usize = 50;

/// Writes the section, when the run held or delivered anything for an open day.
pub(super) fn write_section(t: &mut String, s: &RunSummary, w: &Wording) {
    if s.waiting_for_open_day.is_empty() && s.delivered_after_closure.is_empty() {
        return;
    }
    let _ = writeln!(t, "\n{}", w.open_days);
    let lists = [
        (w.waiting, &s.waiting_for_open_day, w.to_deliver_on),
        (
            w.delivered_after,
            &s.delivered_after_closure,
            w.delivered_on,
        ),
    ];
    for (what, waits, when) in lists {
        if waits.is_empty() {
            continue;
        }
        let _ = writeln!(t, "  {} {what}", waits.len());
        for wait in waits.iter().take(LISTED) {
            let _ = writeln!(t, "    {}", worded(wait, when, w));
        }
        if waits.len() > LISTED {
            let _ = writeln!(t, "    … {} {} {}", w.and, waits.len() - LISTED, w.and_more);
        }
    }
}

/// `R7K2-9QF letter letter P0001 (STS): deferred from 2026-12-06: … closed (Sunday); to deliver on 2026-12-07`
pub fn line(wait: &OpenDayWait, when: &str) -> String {
    worded(wait, when, &EN)
}

/// The line in the report's language.
fn worded(wait: &OpenDayWait, when: &str, w: &Wording) -> String {
    let c = w.colon;
    format!(
        "{} {} {} {} ({}){c} {} {}{c} {}{} {when} {}",
        wait.reference,
        wait.channel,
        wait.stage,
        wait.patron_id,
        wait.library,
        w.deferred_from,
        w.day(wait.decided_on),
        wait.reason,
        w.semicolon,
        wait.delivery_day
            .map_or_else(|| w.no_open_day.to_owned(), |d| w.day(d))
    )
}
