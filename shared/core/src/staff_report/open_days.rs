//! The report's open-days section (rules §14): the notices that wait for their
//! library's next open day, and those delivered after waiting.

use std::fmt::Write as _;

use crate::summary::{OpenDayWait, RunSummary};

/// Lines listed per list at most; the rest is counted.
const LISTED: usize = 50;

/// Writes the section, when the run held or delivered anything for an open day.
pub(super) fn write_section(t: &mut String, s: &RunSummary) {
    if s.waiting_for_open_day.is_empty() && s.delivered_after_closure.is_empty() {
        return;
    }
    let _ = writeln!(t, "\nOpen days");
    let lists = [
        (
            "waiting for their library's next open day",
            &s.waiting_for_open_day,
            "to deliver on",
        ),
        (
            "delivered in this run after waiting",
            &s.delivered_after_closure,
            "delivered on",
        ),
    ];
    for (what, waits, when) in lists {
        if waits.is_empty() {
            continue;
        }
        let _ = writeln!(t, "  {} {what}", waits.len());
        for wait in waits.iter().take(LISTED) {
            let _ = writeln!(t, "    {}", line(wait, when));
        }
        if waits.len() > LISTED {
            let _ = writeln!(t, "    … and {} more", waits.len() - LISTED);
        }
    }
}

/// `R7K2-9QF letter letter P0001 (STS): deferred from 2026-12-06: … closed (Sunday); to deliver on 2026-12-07`
pub fn line(wait: &OpenDayWait, when: &str) -> String {
    format!(
        "{} {} {} {} ({}): {}; {when} {}",
        wait.reference,
        wait.channel,
        wait.stage,
        wait.patron_id,
        wait.library,
        wait,
        wait.delivery_day
            .map_or_else(|| "no open day in sight".to_owned(), |d| d.to_string())
    )
}
