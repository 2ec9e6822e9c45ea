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
use crate::ports::{Cause, LoanStore, StoreError};
use crate::summary::RunSummary;

use wording::Wording;

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

/// The owning library of each loan the notices list, read from the store.
pub async fn loan_libraries(
    store: &impl LoanStore,
    notices: &[Notice],
) -> Result<HashMap<LoanId, LibraryCode>, StoreError> {
    let mut loan_ids: Vec<LoanId> = notices
        .iter()
        .flat_map(|n| n.loans.iter().map(|l| l.loan_id.clone()))
        .collect();
    loan_ids.sort();
    loan_ids.dedup();
    Ok(store
        .loans(&loan_ids)
        .await?
        .into_iter()
        .map(|l| (l.id, l.library))
        .collect())
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
    let w = Wording::of(config.institution.default_language);
    let c = w.colon;
    let day = s.run_day;
    let shown = w.day(day);
    let total: usize = s.notices.values().sum();
    let subject = if s.stopped.is_some() {
        format!(
            "Relance – {} {shown} {}{c} {} {}, {} {}",
            w.run_of,
            w.stopped,
            s.emails_sent,
            w.emails_sent,
            s.letters_rendered,
            w.letters_to_print
        )
    } else {
        // A day run again (after a run that stopped, say) decides nothing new:
        // its subject counts the day's notices, not "0 new".
        let notices = if s.planned_days.is_empty() {
            format!("{} {} {}", w.run_again, input.notices.len(), w.of_the_day)
        } else {
            format!("{total} {}", w.new_notices)
        };
        format!(
            "Relance – {} {shown}{c} {notices}, {} {}, {} {}{}",
            w.run_of,
            s.emails_sent,
            w.emails_sent,
            s.letters_rendered,
            w.letters_to_print,
            if s.failed + s.deferred > 0 {
                format!(", {} {}", s.failed + s.deferred, w.failures_subject)
            } else {
                String::new()
            }
        )
    };
    let text = body(input, w);
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

fn body(input: &StaffReportInput<'_>, w: &Wording) -> String {
    let config = input.config;
    let s = input.summary;
    let c = w.colon;
    let run_day = w.day(s.run_day);
    let mut t = String::new();
    let days: Vec<String> = s.planned_days.iter().map(|d| w.day(*d)).collect();
    let _ = writeln!(t, "{} – {} {run_day}", config.institution.name, w.run_of);
    if let Some(stopped) = &s.stopped {
        let _ = writeln!(
            t,
            "\n{}{c} {stopped}\n{}",
            w.stopped_before_end, w.stopped_what_next
        );
    }
    if !s.warnings.is_empty() {
        let _ = writeln!(t, "\n{}", w.to_fix);
        for warning in &s.warnings {
            let _ = writeln!(t, "  - {warning}");
        }
    }
    let _ = writeln!(
        t,
        "{}{c} {}",
        w.planned_days,
        if days.is_empty() {
            w.already_planned.to_owned()
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
    let _ = writeln!(t, "\n{}", w.per_stage);
    for stage in &stages {
        let n = s.notices.get(stage).copied().unwrap_or(0);
        let _ = writeln!(t, "  {stage:<24} {n:>6}");
    }
    let _ = writeln!(
        t,
        "  {:<24} {:>6}",
        w.total,
        s.notices.values().sum::<usize>()
    );

    let _ = writeln!(t, "\n{} {run_day} {}", w.notices_of, w.per_library);
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
        let _ = writeln!(t, "  {}", w.none);
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
        let _ = writeln!(t, "  {library:<8} {name}{c} {}", line.join(", "));
    }

    let _ = writeln!(t, "\n{}", w.delivery);
    let _ = writeln!(t, "  {:<27}{:>6}", w.sent, s.emails_sent);
    let _ = writeln!(
        t,
        "  {:<27}{:>6}  {}",
        w.rendered, s.letters_rendered, w.rendered_note
    );
    let _ = writeln!(t, "  {:<27}{:>6}", w.still_pending, s.letters_pending);
    let _ = writeln!(t, "  {:<27}{:>6}", w.retried, s.requeued);
    open_days::write_section(&mut t, s, w);

    let _ = writeln!(t, "\n{}", w.print_fallbacks);
    let _ = writeln!(t, "  {} {}", s.print_fallbacks, w.planned_to_print);
    let _ = writeln!(t, "  {} {}", s.fell_back_to_print, w.turned_into_letters);

    let _ = writeln!(
        t,
        "\n{}{c} {} {}",
        w.cancellations, s.cancelled, w.in_this_run
    );
    if s.not_rechecked > 0 {
        let _ = writeln!(
            t,
            "  {} {}{c} {}",
            s.not_rechecked, w.not_rechecked, w.went_as_planned
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
                CancelReason::NothingLeft => w.nothing_left,
                CancelReason::FellBackToPrint => w.fell_back_to_print,
            };
            let _ = writeln!(t, "  {} {why}{c} {}", refs.len(), refs.join(" "));
        }
    }
    if !s.skipped.is_empty() {
        let skipped: Vec<String> = s.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(t, "  {}{c} {}", w.skipped, skipped.join(", "));
    }

    let _ = writeln!(
        t,
        "\n{}{c} {} {}, {} {}",
        w.failures, s.failed, w.failed, s.deferred, w.not_attempted
    );
    for f in &s.failures {
        let _ = writeln!(
            t,
            "  {} {} {} {}{}{c} {}",
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
            "  {} {} {} {}{c} {} {}",
            n.reference, n.channel, n.stage, n.patron_id, n.attempts, w.failed_attempts
        );
    }

    if !input.dead_letters.is_empty() {
        let queues: Vec<String> = input
            .dead_letters
            .iter()
            .map(|(queue, n)| format!("{queue} {n}"))
            .collect();
        let _ = writeln!(t, "\n{}\n  {}", w.dead_letters, queues.join(", "));
    }

    let _ = writeln!(t, "\n{}", w.last_import);
    match input.last_import {
        None => {
            let _ = writeln!(t, "  {}", w.none_recorded);
        }
        Some(import) => {
            let _ = writeln!(
                t,
                "  {}{c} {} {}, {} {}{}",
                import.at.format(w.date_time),
                import.rejected,
                w.rejected_rows,
                import.warnings,
                w.warnings,
                if import.committed {
                    String::new()
                } else {
                    format!(" {}", w.nothing_kept)
                }
            );
            if let Some(file) = &import.rejects_file {
                let _ = writeln!(t, "  {}{c} {file}", w.rejects_file);
            }
            for line in import.lines.iter().take(REJECTS_LISTED) {
                let _ = writeln!(
                    t,
                    "  {} {} {} {} {}{c} {} ({})",
                    line.file,
                    w.line,
                    line.line,
                    line.record_id,
                    line.field,
                    line.reason,
                    line.outcome
                );
            }
            if import.lines.len() > REJECTS_LISTED {
                let _ = writeln!(
                    t,
                    "  … {} {} {}",
                    w.and,
                    import.lines.len() - REJECTS_LISTED,
                    w.more_in_rejects
                );
            }
        }
    }
    let _ = writeln!(
        t,
        "\n{}{c} notices-{}.csv, {} {} {} {run_day}{}.",
        w.attached,
        s.run_day,
        w.attached_notices,
        input.notices.len(),
        w.attached_ledger,
        w.attached_held
    );
    t
}

/// An address header value, encoded as every other mail's (`email::mailbox`).
fn mailbox(name: Option<&str>, address: &EmailAddress) -> Result<String, StaffReportError> {
    crate::email::mailbox(name, address).map_err(|e| StaffReportError::Mime { source: e.into() })
}
mod open_days;
mod wording;

pub use open_days::line as open_day_line;

#[cfg(test)]
mod tests;
