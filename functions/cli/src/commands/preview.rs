//! `relance preview`: what a run day would send and print, as a static page,
//! without sending or recording anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{NaiveDate, Utc};
use relance_core::calendar::shift;
use relance_core::forecast::{forecast_svg, load_forecast};
use relance_core::ladder::Channel;
use relance_core::ports::{Ledger, LoanStore};
use relance_core::preview::{
    PageInput, PreviewOutput, PreviousDay, PreviousSource, preview_run, render_page,
};
use relance_core::service::Engine;
use relance_core::summary::{RunSummary, wait_lines};
use relance_local::PreviewFolder;

use crate::backend::Backend;
use crate::context::{Context, Home, on_store};

/// Run manifests read on AWS to find the previous day's.
const RUNS_READ: usize = 20;

/// Preview a run day.
#[derive(clap::Args)]
pub struct PreviewArgs {
    /// The run day (YYYY-MM-DD); today in the institution's timezone by default.
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// The folder of the page; `{state_dir}/preview/{date}` by default.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Days of forecast on the page.
    #[arg(long, default_value_t = 45, value_parser = clap::value_parser!(u16).range(1..=366))]
    pub forecast_days: u16,
}

/// Runs the day on adapters that record nothing, writes its emails and letters
/// into the preview folder and the page beside them.
pub fn run(config: &Path, backend: Backend, args: PreviewArgs) -> anyhow::Result<ExitCode> {
    let (ctx, home) = Context::open_read(config, backend)?;
    let templates = match &home {
        Home::Local(..) => ctx.templates()?,
        Home::Aws(deployment) => deployment.function.templates.clone(),
    };
    let day = args.date.unwrap_or_else(|| ctx.today());
    let dir = args
        .out
        .unwrap_or_else(|| ctx.state_dir.join("preview").join(day.to_string()));
    let folder = PreviewFolder::new(&dir, day);
    folder
        .clear()
        .with_context(|| format!("cannot clear the preview folder {}", dir.display()))?;
    let now = Utc::now();
    let rt = home.runtime();
    let previous_runs = match &home {
        Home::Local(store, _) => store.runs_on(shift(day, -1).context("date out of range")?)?,
        Home::Aws(deployment) => {
            let previous = shift(day, -1).context("date out of range")?;
            let mut runs = rt.block_on(deployment.dynamo().runs(RUNS_READ))?;
            runs.retain(|run| run.run_day == previous);
            runs
        }
    };
    let (preview, previous, forecast) = on_store!(&home, |store| {
        let preview = rt
            .block_on(preview_run(
                &ctx.config,
                &templates,
                store,
                store,
                PreviewOutput {
                    transport: &folder,
                    archive: &folder,
                },
                day,
                now,
            ))
            .with_context(|| format!("the preview of {day} stopped"))?;
        let previous = previous_day(&ctx, store, previous_runs, &templates, &folder, day, rt)?;
        let forecast = rt
            .block_on(load_forecast(
                &ctx.config,
                store,
                store,
                day,
                usize::from(args.forecast_days),
            ))
            .context("cannot compute the forecast")?;
        (preview, previous, forecast)
    });
    let email_stages: Vec<String> = ctx
        .config
        .ladder
        .stages()
        .iter()
        .filter(|s| s.channel == Channel::Email)
        .map(|s| s.name.to_string())
        .collect();
    let chart_svg = forecast_svg(&forecast, &email_stages)?;
    let page = render_page(&PageInput {
        config: &ctx.config,
        day,
        generated_at: now,
        preview: &preview,
        previous: &previous,
        forecast: &forecast,
        chart_svg: &chart_svg,
    })?;
    let index = dir.join("index.html");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(&index, page).with_context(|| format!("cannot write {}", index.display()))?;

    let s = &preview.summary;
    let total: usize = s.notices.values().sum();
    tracing::info!(run_day = %day, notices = total, emails = s.emails_sent, letters = s.letters_rendered, "preview written");
    let notices: Vec<String> = s.notices.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("Preview of {day} (nothing sent or recorded):");
    println!(
        "  new notices: {}",
        if notices.is_empty() {
            "none".to_owned()
        } else {
            notices.join(", ")
        }
    );
    println!(
        "  emails to send {}, letters to print {}, cancelled {}",
        s.emails_sent, s.letters_rendered, s.cancelled
    );
    for line in wait_lines(&s.delivered_after_closure, "printed on") {
        println!("  delivered after waiting: {line}");
    }
    for line in wait_lines(&s.waiting_for_open_day, "to deliver on") {
        println!("  waiting for an open day: {line}");
    }
    println!("Open {}", index.display());
    Ok(ExitCode::SUCCESS)
}

/// The previous day's new notices: as recorded by its runs, or else what a dry
/// run for it would plan now.
fn previous_day<S: LoanStore + Ledger>(
    ctx: &Context,
    store: &S,
    runs: Vec<RunSummary>,
    templates: &relance_core::email::Templates,
    folder: &PreviewFolder,
    day: NaiveDate,
    rt: &tokio::runtime::Runtime,
) -> anyhow::Result<PreviousDay> {
    let previous = shift(day, -1).context("date out of range")?;
    if !runs.is_empty() {
        let mut notices = BTreeMap::new();
        for run in runs {
            for (stage, n) in run.notices {
                *notices.entry(stage).or_default() += n;
            }
        }
        return Ok(PreviousDay {
            day: previous,
            source: PreviousSource::Recorded,
            notices,
        });
    }
    // Planning only reads; the folder is never written to by it.
    let engine = Engine {
        config: &ctx.config,
        templates,
        store,
        ledger: store,
        transport: folder,
        archive: folder,
    };
    let (plan, _) = rt
        .block_on(engine.plan(previous))
        .with_context(|| format!("cannot plan {previous} for comparison"))?;
    Ok(PreviousDay {
        day: previous,
        source: PreviousSource::DryRun,
        notices: plan.notices_by_stage(),
    })
}
