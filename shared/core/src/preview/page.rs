//! The preview page: a static HTML report rendered from a minijinja template
//! shipped in the binary, every value from data escaped by auto-escaping.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;

use crate::config::Config;
use crate::forecast::Forecast;
use crate::ids::LibraryCode;
use crate::ladder::{Channel, StageKind};
use crate::notice::{CancelReason, Notice, NoticeStatus};

use super::{Preview, PreviewedNotice};

mod labels;

use labels::Labels;

const TEMPLATE_NAME: &str = "preview.html";
const TEMPLATE: &str = include_str!("page.html");

/// Why the page could not be rendered (unexpected: the template is shipped).
#[derive(Debug, thiserror::Error)]
#[error("rendering the preview page: {message}")]
pub struct PageError {
    /// The template error with its details (`{:#}`), which its plain text lacks.
    message: String,
    /// The template error.
    #[source]
    source: minijinja::Error,
}

/// Where the previous day's counts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviousSource {
    /// The ledger's record of the runs of that day.
    Recorded,
    /// What `run --dry-run` for that day would plan now (no run recorded).
    DryRun,
}

/// The previous run day's new notices per stage, to compare with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviousDay {
    /// The day before the previewed one.
    pub day: NaiveDate,
    /// Where the counts come from.
    pub source: PreviousSource,
    /// New notices per stage.
    pub notices: BTreeMap<String, usize>,
}

/// Everything the page shows.
pub struct PageInput<'a> {
    /// The institution, its libraries and ladder.
    pub config: &'a Config,
    /// The previewed run day.
    pub day: NaiveDate,
    /// When the preview was made.
    pub generated_at: DateTime<Utc>,
    /// What the run would do.
    pub preview: &'a Preview,
    /// The previous day, for comparison.
    pub previous: &'a PreviousDay,
    /// The forecast of the coming days, from the previewed day.
    pub forecast: &'a Forecast,
    /// The forecast chart, an SVG document drawn by the engine.
    pub chart_svg: &'a str,
}

#[derive(Serialize)]
struct CountRow {
    stage: String,
    count: usize,
    previous: usize,
    change: String,
}

#[derive(Serialize)]
struct Item {
    title: String,
    author: String,
    barcode: String,
    call_number: String,
    due_date: NaiveDate,
    when: String,
}

#[derive(Serialize)]
struct NoticeRow {
    reference: String,
    patron_id: String,
    patron_name: String,
    to: String,
    items: Vec<Item>,
    other_libraries: Vec<String>,
    status: String,
    retried_from: Option<NaiveDate>,
    eml: Option<String>,
    html: Option<String>,
    pdf: Option<String>,
}

#[derive(Serialize)]
struct LibraryGroup {
    code: String,
    name: String,
    notices: Vec<NoticeRow>,
    batch_pdf: Option<String>,
    batch_mail: Option<String>,
}

#[derive(Serialize)]
struct Section {
    id: String,
    title: String,
    count: usize,
    libraries: Vec<LibraryGroup>,
}

#[derive(Serialize)]
struct ForecastRow {
    day: NaiveDate,
    weekday: String,
    counts: Vec<usize>,
    letters: usize,
    /// Why letters moved to or from this day (rules §14).
    notes: Vec<String>,
    total: usize,
    peak: bool,
}

#[derive(Serialize)]
struct LibraryCounts {
    code: String,
    name: String,
    counts: Vec<usize>,
}

#[derive(Serialize)]
struct Page<'a> {
    /// The labels, in the institution's language.
    t: &'static Labels,
    institution: &'a str,
    day: NaiveDate,
    generated_at: String,
    /// As shown to people, joined (dates only: nothing to escape).
    planned_days: Value,
    stages: Vec<String>,
    counts: Vec<CountRow>,
    total: usize,
    previous_total: usize,
    previous_day: NaiveDate,
    previous_source: &'static str,
    summary: &'a crate::summary::RunSummary,
    /// Notices waiting for an open day, and those delivered after waiting (rules §14).
    waiting: &'a [crate::summary::OpenDayWait],
    delivered_after_closure: &'a [crate::summary::OpenDayWait],
    held_back: usize,
    by_library: Vec<LibraryCounts>,
    sections: Vec<Section>,
    forecast_days: usize,
    forecast: Vec<ForecastRow>,
    peak_letters: usize,
    peak_day: Option<NaiveDate>,
    chart_svg: &'a str,
}

/// Renders the page.
pub fn render_page(input: &PageInput<'_>) -> Result<String, PageError> {
    let page = build(input);
    let t = page.t;
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // `{{ day|date }}`: an ISO date as shown to people in the page's language.
    // Digits and slashes only: nothing to escape.
    env.add_filter("date", move |value: String| {
        NaiveDate::parse_from_str(&value, "%Y-%m-%d").map_or_else(
            |_| Value::from(value),
            |d| Value::from_safe_string(t.day(d)),
        )
    });
    // Auto-escaping is on for names ending in `.html`.
    env.add_template(TEMPLATE_NAME, TEMPLATE)
        .map_err(|source| PageError {
            message: format!("{source:#}"),
            source,
        })?;
    env.get_template(TEMPLATE_NAME)
        .and_then(|t| t.render(&page))
        .map_err(|source| PageError {
            message: format!("{source:#}"),
            source,
        })
}

fn build<'a>(input: &'a PageInput<'a>) -> Page<'a> {
    let config = input.config;
    let t = Labels::of(config.institution.default_language);
    let preview = input.preview;
    let stages: Vec<String> = config
        .ladder
        .stages()
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    let counts: Vec<CountRow> = stages
        .iter()
        .map(|stage| {
            let count = preview.summary.notices.get(stage).copied().unwrap_or(0);
            let previous = input.previous.notices.get(stage).copied().unwrap_or(0);
            CountRow {
                stage: stage.clone(),
                count,
                previous,
                change: change(count, previous),
            }
        })
        .collect();
    let total = counts.iter().map(|c| c.count).sum();
    let previous_total = counts.iter().map(|c| c.previous).sum();

    let forecast: Vec<ForecastRow> = input
        .forecast
        .days
        .iter()
        .map(|d| ForecastRow {
            day: d.day,
            weekday: t.weekday(d.day).to_owned(),
            counts: stages
                .iter()
                .map(|s| d.notices.get(s).copied().unwrap_or(0))
                .collect(),
            letters: d.letters,
            notes: (d.letters_held > 0)
                .then(|| format!("{} {}", d.letters_held, t.held_closed))
                .into_iter()
                .chain(d.deferred_letters.iter().map(|l| t.deferred(l)))
                .collect(),
            total: d.total(),
            peak: false,
        })
        .collect();
    let mut forecast = forecast;
    let peak = forecast
        .iter()
        .enumerate()
        .filter(|(_, r)| r.letters > 0)
        .max_by_key(|(i, r)| (r.letters, std::cmp::Reverse(*i)))
        .map(|(i, r)| (i, r.letters, r.day));
    if let Some((i, _, _)) = peak {
        forecast[i].peak = true;
    }

    let new_notices: Vec<&PreviewedNotice> = preview.notices.iter().filter(|n| n.new).collect();
    let by_library = config
        .libraries
        .iter()
        .map(|library| LibraryCounts {
            code: library.code.to_string(),
            name: library.name.clone(),
            counts: stages
                .iter()
                .map(|stage| {
                    new_notices
                        .iter()
                        .filter(|n| n.notice.stage.as_str() == stage)
                        .filter(|n| libraries_of(&n.notice, preview).contains(&library.code))
                        .count()
                })
                .collect(),
        })
        .collect();

    Page {
        t,
        institution: &config.institution.name,
        day: input.day,
        generated_at: input
            .generated_at
            .with_timezone(&config.institution.timezone)
            .format(t.date_time)
            .to_string(),
        planned_days: Value::from_safe_string(
            preview
                .summary
                .planned_days
                .iter()
                .map(|d| t.day(*d))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        stages,
        counts,
        total,
        previous_total,
        previous_day: input.previous.day,
        previous_source: match input.previous.source {
            PreviousSource::Recorded => t.recorded,
            PreviousSource::DryRun => t.dry_run,
        },
        summary: &preview.summary,
        waiting: &preview.summary.waiting_for_open_day,
        delivered_after_closure: &preview.summary.delivered_after_closure,
        held_back: preview
            .notices
            .iter()
            .filter(|n| n.notice.status == NoticeStatus::Pending && n.error.is_some())
            .count(),
        by_library,
        sections: sections(input),
        forecast_days: input.forecast.days.len(),
        peak_letters: peak.map_or(0, |p| p.1),
        peak_day: peak.map(|p| p.2),
        forecast,
        chart_svg: input.chart_svg,
    }
}

fn change(count: usize, previous: usize) -> String {
    match count.cmp(&previous) {
        std::cmp::Ordering::Equal => "=".to_owned(),
        std::cmp::Ordering::Greater => format!("+{}", count - previous),
        std::cmp::Ordering::Less => format!("−{}", previous - count),
    }
}

/// The libraries a notice's loans belong to, in code order.
fn libraries_of(notice: &Notice, preview: &Preview) -> Vec<LibraryCode> {
    if let Some(library) = &notice.library {
        return vec![library.clone()];
    }
    let mut codes: Vec<LibraryCode> = notice
        .loans
        .iter()
        .filter_map(|l| {
            preview
                .loans
                .get(&l.loan_id)
                .map(|loan| loan.library.clone())
        })
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// One section per (stage, channel), ladder order, emails before letters; in each,
/// one group per library.
fn sections(input: &PageInput<'_>) -> Vec<Section> {
    let config = input.config;
    let t = Labels::of(config.institution.default_language);
    let preview = input.preview;
    // How many letters each (library, patron) has: two go by reference (as the run names them).
    let mut letters_of: HashMap<(LibraryCode, String), usize> = HashMap::new();
    for n in &preview.notices {
        if let (Channel::Letter, Some(library), NoticeStatus::Sent { .. }) =
            (n.notice.channel, &n.notice.library, &n.notice.status)
        {
            *letters_of
                .entry((library.clone(), n.notice.patron_id.to_string()))
                .or_default() += 1;
        }
    }
    let mut grouped: BTreeMap<(usize, Channel), BTreeMap<LibraryCode, Vec<NoticeRow>>> =
        BTreeMap::new();
    let mut counts: BTreeMap<(usize, Channel), usize> = BTreeMap::new();
    let mut ordered: Vec<&PreviewedNotice> = preview.notices.iter().collect();
    ordered.sort_by(|a, b| {
        (&a.notice.patron_id, a.notice.run_day, &a.notice.reference).cmp(&(
            &b.notice.patron_id,
            b.notice.run_day,
            &b.notice.reference,
        ))
    });
    for n in ordered {
        let rank = config
            .ladder
            .get(&n.notice.stage)
            .map_or(usize::MAX, |s| s.rank);
        let key = (rank, n.notice.channel);
        *counts.entry(key).or_default() += 1;
        let libraries = libraries_of(&n.notice, preview);
        for library in &libraries {
            let row = notice_row(input, n, library, &libraries, &letters_of);
            grouped
                .entry(key)
                .or_default()
                .entry(library.clone())
                .or_default()
                .push(row);
        }
    }
    grouped
        .into_iter()
        .map(|((rank, channel), libraries)| {
            let stage = config.ladder.stages().get(rank);
            let name = stage.map_or(t.unknown_stage.to_owned(), |s| s.name.to_string());
            let what = match (channel, stage.map(|s| s.kind)) {
                (Channel::Email, _) => t.emails,
                (Channel::Letter, Some(StageKind::Letter)) => t.letters_to_print,
                (Channel::Letter, _) => t.print_fallback,
            };
            Section {
                id: format!("{name}-{channel}"),
                title: format!("{name}{} {what}", t.colon),
                count: counts[&(rank, channel)],
                libraries: libraries
                    .into_iter()
                    .map(|(code, notices)| {
                        let has_batch =
                            channel == Channel::Letter && notices.iter().any(|n| n.pdf.is_some());
                        LibraryGroup {
                            name: config
                                .library(&code)
                                .map_or_else(|| code.to_string(), |l| l.name.clone()),
                            batch_pdf: has_batch.then(|| format!("letters/{}/batch.pdf", code)),
                            batch_mail: has_batch.then(|| format!("mail/letters-{}.eml", code)),
                            code: code.to_string(),
                            notices,
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

fn notice_row(
    input: &PageInput<'_>,
    n: &PreviewedNotice,
    library: &LibraryCode,
    libraries: &[LibraryCode],
    letters_of: &HashMap<(LibraryCode, String), usize>,
) -> NoticeRow {
    let preview = input.preview;
    let t = Labels::of(input.config.institution.default_language);
    let notice = &n.notice;
    let patron = preview.patrons.get(&notice.patron_id);
    let items = notice
        .loans
        .iter()
        .filter_map(|l| preview.loans.get(&l.loan_id))
        .filter(|loan| &loan.library == library)
        .map(|loan| {
            let days = loan.days_overdue(input.day);
            Item {
                title: loan.item.title.clone(),
                author: loan.item.author.clone(),
                barcode: loan.item.barcode.clone(),
                call_number: loan.item.call_number.clone(),
                due_date: loan.due_date,
                when: match days {
                    0 => t.due_today.to_owned(),
                    d if d < 0 => format!("{} {} {}", t.due_in, -d, t.days),
                    d => format!("{d} {}", t.days_overdue),
                },
            }
        })
        .collect();
    let sent = matches!(notice.status, NoticeStatus::Sent { .. });
    let eml = match (&notice.status, notice.channel) {
        (NoticeStatus::Sent { message_id, .. }, Channel::Email) if safe_link(message_id) => {
            Some(message_id.clone())
        }
        _ => None,
    };
    let pdf = (sent && notice.channel == Channel::Letter).then(|| {
        let stem = notice.patron_id.file_stem();
        let two = letters_of
            .get(&(library.clone(), notice.patron_id.to_string()))
            .is_some_and(|n| *n > 1);
        if two {
            format!("letters/{}/{stem}-{}.pdf", library, notice.reference)
        } else {
            format!("letters/{}/{stem}.pdf", library)
        }
    });
    NoticeRow {
        reference: notice.reference.to_string(),
        patron_id: notice.patron_id.to_string(),
        patron_name: patron.map(|p| p.full_name.clone()).unwrap_or_default(),
        to: match (notice.channel, patron) {
            (Channel::Email, Some(p)) => p
                .usable_email()
                .map_or_else(|| t.no_usable_email.to_owned(), |e| e.to_string()),
            (Channel::Letter, Some(p)) => p.address.lines().join(", "),
            (_, None) => t.not_in_store.to_owned(),
        },
        items,
        other_libraries: libraries
            .iter()
            .filter(|c| *c != library)
            .map(ToString::to_string)
            .collect(),
        status: status(n, t),
        retried_from: (notice.run_day < input.day).then_some(notice.run_day),
        html: eml
            .as_ref()
            .map(|e| format!("{}.html", e.trim_end_matches(".eml"))),
        eml,
        pdf,
    }
}

/// A relative link that stays in the preview folder.
fn safe_link(path: &str) -> bool {
    path.starts_with("mail/") && !path.contains("..") && path.ends_with(".eml")
}

fn status(n: &PreviewedNotice, t: &Labels) -> String {
    match (&n.notice.status, n.notice.channel, &n.error) {
        (NoticeStatus::Sent { .. }, Channel::Email, _) => t.would_be_sent.to_owned(),
        (NoticeStatus::Sent { .. }, Channel::Letter, _) => t.would_be_printed.to_owned(),
        (NoticeStatus::Cancelled { reason }, _, _) => match reason {
            CancelReason::NothingLeft => t.cancelled_nothing_left.to_owned(),
            CancelReason::FellBackToPrint => t.goes_to_print.to_owned(),
        },
        (NoticeStatus::Pending, _, Some(error)) => {
            format!("{}{} {error}", t.held_back_because, t.colon)
        }
        (NoticeStatus::Pending, _, None) => t.stays_pending.to_owned(),
    }
}
