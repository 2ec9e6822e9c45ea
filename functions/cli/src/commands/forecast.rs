//! `relance forecast`: the notices a daily run would decide on each coming day.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use relance_core::forecast::{Forecast, load_forecast};
use relance_core::ports::Ledger as _;

use crate::backend::Backend;
use crate::context::{Context, on_store};

/// Forecast the notices of the coming days.
#[derive(clap::Args)]
pub struct ForecastArgs {
    /// The first day (YYYY-MM-DD); today in the institution's timezone by default.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// How many days.
    #[arg(long, default_value_t = 45, value_parser = clap::value_parser!(u16).range(1..=366))]
    pub days: u16,
    /// Print the forecast as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Reads the store and ledger (records nothing) and prints the forecast.
pub fn run(config: &Path, backend: Backend, args: ForecastArgs) -> anyhow::Result<ExitCode> {
    let (ctx, home) = Context::open_read(config, backend)?;
    let from = args.from.unwrap_or_else(|| ctx.today());
    let rt = home.runtime();
    let forecast = on_store!(&home, |store| {
        if let Some(warning) = ctx.watermark_warning(rt.block_on(store.watermark())?) {
            eprintln!("{warning}");
        }
        rt.block_on(load_forecast(
            &ctx.config,
            store,
            store,
            from,
            usize::from(args.days),
        ))
    })
    .with_context(|| format!("cannot forecast from {from}"))?;
    tracing::info!(from = %from, days = args.days, "forecast computed");
    if args.json {
        println!("{}", serde_json::to_string_pretty(&forecast)?);
    } else {
        print_table(&forecast);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(forecast: &Forecast) {
    println!(
        "New notices a daily run would decide, from the loans open now (none returned or renewed):"
    );
    let mut header = format!("  {:<14}", "day");
    for stage in &forecast.stages {
        header.push_str(&format!(" {:>w$}", stage, w = stage.len().max(6)));
    }
    println!("{header} {:>8} {:>6}", "letters", "total");
    for day in &forecast.days {
        let mut line = format!("  {:<14}", day.day.format("%a %Y-%m-%d").to_string());
        for stage in &forecast.stages {
            let n = day.notices.get(stage).copied().unwrap_or(0);
            line.push_str(&format!(" {:>w$}", n, w = stage.len().max(6)));
        }
        let note = if day.planned_days.is_empty() {
            "  (already planned)"
        } else if day.planned_days.len() > 1 {
            "  (catches up on missed days)"
        } else {
            ""
        };
        println!("{line} {:>8} {:>6}{note}", day.letters, day.total());
        // Rules §14: letters are counted on the day they are printed, and say why.
        if day.letters_held > 0 {
            println!(
                "  {:<14} {} letter(s) held: their library is closed",
                "", day.letters_held
            );
        }
        for deferred in &day.deferred_letters {
            println!("  {:<14} prints {deferred}", "");
        }
    }
    if let Some(peak) = forecast
        .days
        .iter()
        .filter(|d| d.letters > 0)
        .max_by_key(|d| (d.letters, std::cmp::Reverse(d.day)))
    {
        println!(
            "Most letters to print: {} on {} (letter stage and print fallbacks).",
            peak.letters, peak.day
        );
    }
}
