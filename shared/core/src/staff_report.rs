//! The staff report: after each run, one email to the staff inbox with the counts
//! per stage and per library, the cancellations and why, the print fallbacks, the
//! failures and the last import's rejects, and the run day's notices attached as
//! CSV. Ids and references only: names and addresses stay in the ledger.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use serde::{Deserialize, Serialize};

use crate::address::EmailAddress;
use crate::config::Config;
use crate::ids::{LibraryCode, LoanId};
use crate::notice::{CancelReason, Notice, NoticeStatus};
use crate::ports::Cause;
use crate::summary::RunSummary;

/// Rejected rows listed in the email; the rest are in the rejects file.
const REJECTS_LISTED: usize = 20;

/// One line of an import's rejects file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectLine {
    pub file: String,
    pub line: String,
    /// The row's id.
    pub record_id: String,
    /// The field at fault.
    pub field: String,
    pub reason: String,
    /// `rejected` or `imported` (a warning).
    pub outcome: String,
}

/// The last import, as the store recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastImport {
    /// When it ran.
    pub at: DateTime<Utc>,
    /// Rows not imported.
    pub rejected: u64,
    /// Problems in imported rows.
    pub warnings: u64,
    /// Whether anything was kept.
    pub committed: bool,
    /// The rejects file, when there was anything to report.
    pub rejects_file: Option<String>,
    /// Its lines (possibly only the first ones).
    pub lines: Vec<RejectLine>,
}

/// Everything the report is built from.
pub struct StaffReportInput<'a> {
    /// Sender, staff inbox, libraries.
    pub config: &'a Config,
    /// What the run did.
    pub summary: &'a RunSummary,
    /// The notices of the run day, as the ledger holds them after the run.
    pub notices: &'a [Notice],
    /// The owning library of each of their loans.
    pub libraries: &'a HashMap<LoanId, LibraryCode>,
    /// The last import, if any.
    pub last_import: Option<&'a LastImport>,
    /// The dead-letter queues and how many messages wait in each (AWS: what
    /// failed every retry); empty where there are none (locally).
    pub dead_letters: &'a [(String, u64)],
    /// The Date header.
    pub sent_at: DateTime<Utc>,
}

/// The report, built.
#[derive(Debug, Clone)]
pub struct StaffReport {
    pub subject: String,
    /// The text body.
    pub text: String,
    /// The attached `notices-{run_day}.csv`.
    pub csv: Vec<u8>,
    /// The attachment's file name.
    pub csv_name: String,
    /// The whole message.
    pub raw: Vec<u8>,
}

/// Why the report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StaffReportError {
    /// Writing the CSV failed (unexpected: it is written in memory).
    #[error("writing the notices CSV: {source}")]
    Csv {
        /// The CSV writer's error.
        #[source]
        source: csv::Error,
    },
    /// Writing the MIME message failed.
    #[error("building the report email: {source}")]
    Mime {
        /// The message builder's error, or the address that cannot go in a header.
        #[source]
        source: Cause,
    },
}

/// The columns of the attached CSV.
pub const CSV_COLUMNS: [&str; 10] = [
    "notice_id",
    "reference",
    "patron_id",
    "stage",
    "channel",
    "library",
    "loans",
    "status",
    "detail",
    "attempts",
];

/// A notice's status as the CSV writes it, and its detail (cancel reason or message id).
pub fn status_columns(notice: &Notice) -> (&'static str, String) {
    match &notice.status {
        NoticeStatus::Pending => ("pending", String::new()),
        NoticeStatus::Sent { message_id, .. } => ("sent", message_id.clone()),
        NoticeStatus::Cancelled { reason } => ("cancelled", reason.as_str().to_owned()),
    }
}

/// The libraries of a notice: a letter's own, an email's loans' ones, in code order.
pub fn notice_libraries(notice: &Notice, libraries: &HashMap<LoanId, LibraryCode>) -> Vec<String> {
    if let Some(library) = &notice.library {
        return vec![library.to_string()];
    }
    let mut codes: Vec<String> = notice
        .loans
        .iter()
        .filter_map(|l| libraries.get(&l.loan_id).map(ToString::to_string))
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// Builds the notices CSV: one row per notice, loans and libraries separated by spaces.
pub fn notices_csv(
    notices: &[Notice],
    libraries: &HashMap<LoanId, LibraryCode>,
) -> Result<Vec<u8>, StaffReportError> {
    let err = |source| StaffReportError::Csv { source };
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(CSV_COLUMNS).map_err(err)?;
    for notice in notices {
        let (status, detail) = status_columns(notice);
        let loans: Vec<&str> = notice.loans.iter().map(|l| l.loan_id.as_str()).collect();
        csv.write_record([
            notice.id.as_str(),
            notice.reference.as_str(),
            notice.patron_id.as_str(),
            notice.stage.as_str(),
            notice.channel.as_str(),
            &notice_libraries(notice, libraries).join(" "),
            &loans.join(" "),
            status,
            &detail,
            &notice.attempts.to_string(),
        ])
        .map_err(err)?;
    }
    csv.into_inner().map_err(|e| err(e.into_error().into()))
}

/// Builds the report email to the staff inbox.
pub fn compose_staff_report(input: &StaffReportInput<'_>) -> Result<StaffReport, StaffReportError> {
    let config = input.config;
    let s = input.summary;
    let day = s.run_day;
    let total: usize = s.notices.values().sum();
    let subject = if s.stopped.is_some() {
        format!(
            "Relance – run of {day} STOPPED: {} emails sent, {} letters to print",
            s.emails_sent, s.letters_rendered
        )
    } else {
        // A day run again (after a run that stopped, say) decides nothing new:
        // its subject counts the day's notices, not "0 new".
        let notices = if s.planned_days.is_empty() {
            format!("run again, {} notices of the day", input.notices.len())
        } else {
            format!("{total} new notices")
        };
        format!(
            "Relance – run of {day}: {notices}, {} emails sent, {} letters to print{}",
            s.emails_sent,
            s.letters_rendered,
            if s.failed + s.deferred > 0 {
                format!(", {} failures", s.failed + s.deferred)
            } else {
                String::new()
            }
        )
    };
    let text = body(input);
    let csv = notices_csv(input.notices, input.libraries)?;
    let csv_name = format!("notices-{day}.csv");
    let domain = config.mail.from.address.domain();
    let message_id = format!(
        "relance.report.{day}.{}.{}@{domain}",
        input.sent_at.timestamp(),
        input.sent_at.timestamp_subsec_nanos()
    );
    let raw = MessageBuilder::new()
        .header(
            "From",
            Raw::new(mailbox(
                config.mail.from.name.as_deref(),
                &config.mail.from.address,
            )?),
        )
        .header("To", Raw::new(mailbox(None, &config.mail.staff_inbox)?))
        .subject(Text::new(subject.clone()))
        .date(Date::new(input.sent_at.timestamp()))
        .message_id(MessageId::new(message_id))
        .header("Auto-Submitted", Raw::new("auto-generated"))
        .text_body(text.clone())
        .attachment(
            ContentType::new("text/csv").attribute("charset", "utf-8"),
            csv_name.clone(),
            csv.clone(),
        )
        .write_to_vec()
        .map_err(|e| StaffReportError::Mime { source: e.into() })?;
    Ok(StaffReport {
        subject,
        text,
        csv,
        csv_name,
        raw,
    })
}

fn body(input: &StaffReportInput<'_>) -> String {
    let config = input.config;
    let s = input.summary;
    let mut t = String::new();
    let days: Vec<String> = s.planned_days.iter().map(ToString::to_string).collect();
    let _ = writeln!(t, "{} – run of {}", config.institution.name, s.run_day);
    if let Some(stopped) = &s.stopped {
        let _ = writeln!(
            t,
            "\nTHE RUN STOPPED before its end: {stopped}\nWhat it did is below; the next run \
             (or running this day again) goes on from there."
        );
    }
    if !s.warnings.is_empty() {
        let _ = writeln!(t, "\nTo fix before the next run");
        for warning in &s.warnings {
            let _ = writeln!(t, "  - {warning}");
        }
    }
    let _ = writeln!(
        t,
        "Planned days: {}",
        if days.is_empty() {
            "none (already planned; pending notices retried)".to_owned()
        } else {
            days.join(", ")
        }
    );

    let stages: Vec<String> = config
        .ladder
        .stages()
        .iter()
        .map(|x| x.name.to_string())
        .collect();
    let _ = writeln!(t, "\nNew notices per stage");
    for stage in &stages {
        let n = s.notices.get(stage).copied().unwrap_or(0);
        let _ = writeln!(t, "  {stage:<24} {n:>6}");
    }
    let _ = writeln!(
        t,
        "  {:<24} {:>6}",
        "total",
        s.notices.values().sum::<usize>()
    );

    let _ = writeln!(
        t,
        "\nNotices of {} per library and stage (an email listing loans of several libraries counts for each)",
        s.run_day
    );
    let mut per_library: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for notice in input.notices {
        for library in notice_libraries(notice, input.libraries) {
            *per_library
                .entry(library)
                .or_default()
                .entry(notice.stage.to_string())
                .or_default() += 1;
        }
    }
    if per_library.is_empty() {
        let _ = writeln!(t, "  none");
    }
    for (library, counts) in &per_library {
        let name = LibraryCode::parse(library)
            .ok()
            .and_then(|c| config.library(&c).map(|l| l.name.clone()))
            .unwrap_or_default();
        let line: Vec<String> = stages
            .iter()
            .filter_map(|st| counts.get(st).map(|n| format!("{st} {n}")))
            .collect();
        let _ = writeln!(t, "  {library:<8} {name}: {}", line.join(", "));
    }

    let _ = writeln!(t, "\nDelivery");
    let _ = writeln!(t, "  emails sent                {:>6}", s.emails_sent);
    let _ = writeln!(
        t,
        "  letters rendered           {:>6}  (print batches emailed to the libraries)",
        s.letters_rendered
    );
    let _ = writeln!(t, "  letters still pending      {:>6}", s.letters_pending);
    let _ = writeln!(t, "  retried from earlier days  {:>6}", s.requeued);
    open_days::write_section(&mut t, s);

    let _ = writeln!(t, "\nPrint fallbacks");
    let _ = writeln!(
        t,
        "  {} reminder loans planned to print (patron without a usable email)",
        s.print_fallbacks
    );
    let _ = writeln!(
        t,
        "  {} emails turned into letters (the address stopped working)",
        s.fell_back_to_print
    );

    let _ = writeln!(t, "\nCancellations: {} in this run", s.cancelled);
    if s.not_rechecked > 0 {
        let _ = writeln!(
            t,
            "  {} loans could not be checked against the library system before sending \
             (call budget spent or system unavailable): their notices went as planned",
            s.not_rechecked
        );
    }
    for reason in [CancelReason::NothingLeft, CancelReason::FellBackToPrint] {
        let refs: Vec<&str> = input
            .notices
            .iter()
            .filter(|n| n.status == NoticeStatus::Cancelled { reason })
            .map(|n| n.reference.as_str())
            .collect();
        if !refs.is_empty() {
            let why = match reason {
                CancelReason::NothingLeft => "every loan returned or renewed since planning",
                CancelReason::FellBackToPrint => "fell back to print (loans moved to a letter)",
            };
            let _ = writeln!(t, "  {} {why}: {}", refs.len(), refs.join(" "));
        }
    }
    if !s.skipped.is_empty() {
        let skipped: Vec<String> = s.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(t, "  loans skipped (no notice): {}", skipped.join(", "));
    }

    let _ = writeln!(
        t,
        "\nFailures: {} failed (retried by the next run), {} not attempted (transport down)",
        s.failed, s.deferred
    );
    for f in &s.failures {
        let _ = writeln!(
            t,
            "  {} {} {} {}{}: {}",
            f.reference,
            f.channel,
            f.stage,
            f.patron_id,
            f.library
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default(),
            f.reason
        );
    }
    let listed: std::collections::HashSet<&str> =
        s.failures.iter().map(|f| f.reference.as_str()).collect();
    for n in input.notices.iter().filter(|n| {
        n.status == NoticeStatus::Pending
            && n.attempts > 0
            && !listed.contains(n.reference.as_str())
    }) {
        let _ = writeln!(
            t,
            "  {} {} {} {}: {} failed attempts",
            n.reference, n.channel, n.stage, n.patron_id, n.attempts
        );
    }

    if !input.dead_letters.is_empty() {
        let queues: Vec<String> = input
            .dead_letters
            .iter()
            .map(|(queue, n)| format!("{queue} {n}"))
            .collect();
        let _ = writeln!(
            t,
            "\nDead-letter queues (messages that failed every retry: see \"Dead letters\" in the README)\n  {}",
            queues.join(", ")
        );
    }

    let _ = writeln!(t, "\nLast import");
    match input.last_import {
        None => {
            let _ = writeln!(t, "  none recorded");
        }
        Some(import) => {
            let _ = writeln!(
                t,
                "  {}: {} rejected rows, {} warnings{}",
                import.at.format("%Y-%m-%d %H:%M UTC"),
                import.rejected,
                import.warnings,
                if import.committed {
                    ""
                } else {
                    " (nothing kept: strict import)"
                }
            );
            if let Some(file) = &import.rejects_file {
                let _ = writeln!(t, "  rejects file: {file}");
            }
            for line in import.lines.iter().take(REJECTS_LISTED) {
                let _ = writeln!(
                    t,
                    "  {} line {} {} {}: {} ({})",
                    line.file, line.line, line.record_id, line.field, line.reason, line.outcome
                );
            }
            if import.lines.len() > REJECTS_LISTED {
                let _ = writeln!(
                    t,
                    "  … and {} more in the rejects file",
                    import.lines.len() - REJECTS_LISTED
                );
            }
        }
    }
    let _ = writeln!(
        t,
        "\nAttached: notices-{}.csv, the {} notices of run day {} as the ledger holds them.",
        s.run_day,
        input.notices.len(),
        s.run_day
    );
    t
}

/// An address header value, encoded as every other mail's (`email::mailbox`).
fn mailbox(name: Option<&str>, address: &EmailAddress) -> Result<String, StaffReportError> {
    crate::email::mailbox(name, address).map_err(|e| StaffReportError::Mime { source: e.into() })
}
mod open_days;

pub use open_days::line as open_day_line;

#[cfg(test)]
mod tests;
