//! The `relance` command through its built binary: one test binary, a module
//! per command, the helpers in `common`.

mod common;
mod exports;
mod forecast;
mod history;
mod hostile;
mod import;
mod mailroom;
mod preview;
mod privacy;
mod report;
mod run;
