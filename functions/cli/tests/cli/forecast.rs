//! The forecast matches the planner: for a sample, the forecast for day D is what
//! `run --dry-run` for D then reports.

use crate::common::*;
use serde_json::Value;

/// The forecast's entry for `day`.
fn forecast_of<'a>(forecast: &'a Value, day: &str) -> &'a Value {
    forecast["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["day"] == day)
        .unwrap_or_else(|| panic!("{day} is not in the forecast"))
}

fn assert_matches_dry_run(config: &std::path::Path, forecast: &Value, day: &str) {
    let dry = json(&ok(relance(
        config,
        &["run", "--dry-run", "--date", day, "--json"],
    )));
    let f = forecast_of(forecast, day);
    assert_eq!(
        f["planned_days"], dry["planned_days"],
        "planned days of {day}"
    );
    assert_eq!(f["notices"], dry["notices"], "notices per stage on {day}");
    // The forecast counts letters on the day they are printed (rules §14): those
    // the day decides are the printed ones, less those deferred to it from earlier
    // days, plus those it holds for a later open day.
    let arrived: u64 = f["deferred_letters"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter(|x| x["from"] != day)
                .map(|x| x["letters"].as_u64().unwrap())
                .sum()
        })
        .unwrap_or(0);
    let decided = f["letters"].as_u64().unwrap() - arrived + f["letters_held"].as_u64().unwrap();
    assert_eq!(
        Some(decided),
        dry["letters_pending"].as_u64(),
        "letters on {day}"
    );
    assert_eq!(
        f["print_fallbacks"], dry["print_fallbacks"],
        "print fallbacks on {day}"
    );
    assert_eq!(f["skipped"], dry["skipped"], "skips on {day}");
}

#[test]
fn the_forecast_of_each_day_is_what_a_dry_run_of_that_day_reports() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 600);
    let forecast = json(&ok(relance(
        &config,
        &["forecast", "--from", TODAY, "--days", "45", "--json"],
    )));
    let days = forecast["days"].as_array().unwrap();
    assert_eq!(days.len(), 45);
    assert_eq!(days[0]["day"], TODAY);
    let letters: u64 = days.iter().map(|d| d["letters"].as_u64().unwrap()).sum();
    let courtesy: u64 = days
        .iter()
        .map(|d| d["notices"]["courtesy"].as_u64().unwrap_or(0))
        .sum();
    assert!(letters > 0 && courtesy > 0, "{forecast}");
    for offset in [0, 1, 3, 7, 13, 21, 30, 35, 44] {
        assert_matches_dry_run(&config, &forecast, &day(offset));
    }
}

#[test]
fn after_a_run_the_forecast_still_matches_the_next_run_and_the_already_planned_day_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 400);
    ok(relance(&config, &["run", "--date", TODAY, "--json"]));
    let forecast = json(&ok(relance(
        &config,
        &["forecast", "--from", TODAY, "--days", "40", "--json"],
    )));
    assert_eq!(forecast["watermark"], TODAY);
    let today = forecast_of(&forecast, TODAY);
    assert_eq!(today["planned_days"], serde_json::json!([]));
    assert_eq!(today["notices"], serde_json::json!({}));
    // The next day, and days far enough for a dry run to plan them alone
    // (more than 1 + catch_up_days after the watermark).
    for offset in [0, 1, 4, 10, 22, 35] {
        assert_matches_dry_run(&config, &forecast, &day(offset));
    }
}

#[test]
fn the_forecast_table_shows_the_letters_to_print() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 300);
    let text = ok(relance(
        &config,
        &["forecast", "--from", TODAY, "--days", "10"],
    ));
    assert!(text.contains("letters"), "{text}");
    assert!(text.contains("Most letters to print:"), "{text}");
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("2026-1") && !l.contains("deferred from"))
            .count(),
        10 + 1,
        "{text}"
    );
    // The sample's libraries are closed on Sundays: Sunday 22 November's letters
    // are printed on the Monday, and the table says so.
    assert!(
        text.contains("letter(s) held: their library is closed"),
        "{text}"
    );
    assert!(text.contains("deferred from 2026-11-22"), "{text}");
    assert!(text.contains("closed (Sunday)"), "{text}");
}
