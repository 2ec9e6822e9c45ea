//! Helpers shared by the operators' tests: the built binary on an imported sample.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::NaiveDate;

pub const RELANCE: &str = env!("CARGO_BIN_EXE_relance");
/// The day the samples are centred on.
pub const TODAY: &str = "2026-11-20";

pub fn relance(config: &Path, args: &[&str]) -> Output {
    Command::new(RELANCE)
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RELANCE_CONFIG")
        .output()
        .expect("the relance binary runs")
}

pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// `TODAY` moved by `days`.
pub fn day(days: i64) -> String {
    let today = NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap();
    (today + chrono::Duration::days(days)).to_string()
}

/// A sample of `loans` loans centred on TODAY, imported; returns the config path.
pub fn imported_sample(dir: &Path, loans: usize) -> PathBuf {
    let out = Command::new(RELANCE)
        .args(["sample", "--out", dir.to_str().unwrap(), "--seed", "7"])
        .args(["--loans", &loans.to_string(), "--today", TODAY])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.join("relance.toml");
    let patrons = dir.join("patrons.csv");
    let loans = dir.join("loans.csv");
    ok(relance(
        &config,
        &[
            "import",
            "--patrons",
            patrons.to_str().unwrap(),
            "--loans",
            loans.to_str().unwrap(),
        ],
    ));
    config
}

pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(files_under(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}
