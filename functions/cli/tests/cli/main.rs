//! The `relance` command through its built binary: one test binary, a module
//! per command, the helpers in `common`.

mod aws_backend;
mod common;
mod exports;
mod forecast;
mod history;
mod hostile;
mod import;
mod mailroom;
mod open_days;
mod preview;
mod privacy;
mod report;
mod run;
mod sync;

/// The stand-in's Alma key, which no output may show.
fn hostile_secret() -> &'static str {
    relance_tests::standins::API_KEY
}
