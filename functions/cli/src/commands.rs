//! One module per subcommand.

pub mod aws;
pub mod forecast;
pub mod history;
pub mod import;
pub mod mailroom;
pub mod patron;
pub mod preview;
pub mod purge;
pub mod run;
pub mod sample;
pub mod status;
pub mod sync;
