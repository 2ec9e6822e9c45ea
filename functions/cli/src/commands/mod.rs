//! One module per subcommand.

pub mod import;
pub mod run;
pub mod sample;
pub mod status;
