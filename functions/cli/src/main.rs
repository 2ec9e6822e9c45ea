//! `relance`: the notice engine on an embedded store.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod backend;
mod commands;
mod context;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Loan notices for a library network: courtesy emails, reminders and letters.
#[derive(Parser)]
#[command(name = "relance", version, about)]
struct Cli {
    /// The institution's configuration file.
    #[arg(
        long,
        global = true,
        default_value = "relance.toml",
        env = "RELANCE_CONFIG"
    )]
    config: PathBuf,
    /// Where to work: the embedded store, or the AWS deployment (its table from
    /// RELANCE_TABLE, its config from --config / RELANCE_CONFIG as s3://bucket/key).
    #[arg(long, global = true, value_enum, default_value_t = backend::Backend::Local)]
    backend: backend::Backend,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import patrons and loans from CSV exports (upsert).
    Import(commands::import::ImportArgs),
    /// Pull every open loan and its patron from the library system ([source]) and import them as a snapshot.
    Sync(commands::sync::SyncArgs),
    /// Plan the notices of a run day and deliver them.
    Run(commands::run::RunArgs),
    /// Restart after a stop without sending anything retroactively.
    Resume(commands::run::ResumeArgs),
    /// Show the watermark, pending notices and the last runs.
    Status(commands::status::StatusArgs),
    /// Write a realistic sample institution (config, patrons, loans).
    Sample(commands::sample::SampleArgs),
    /// Show what a run day would send and print, as a static HTML page; nothing is sent or recorded.
    Preview(commands::preview::PreviewArgs),
    /// Forecast the notices of each coming day from the due dates of open loans.
    Forecast(commands::forecast::ForecastArgs),
    /// Show every notice of a patron, newest first.
    History(commands::history::HistoryArgs),
    /// Read a received mail (a reply to the generic address): record it, and
    /// forward it to the staff inbox when a person wrote it.
    Inbound(commands::mailroom::InboundArgs),
    /// Read a bounce or complaint event: the patron's next reminder becomes a letter.
    Feedback(commands::mailroom::FeedbackArgs),
    /// Remove the personal data past its [retention] period (each run does it too).
    Purge(commands::purge::PurgeArgs),
    /// Export or erase everything stored about a patron (data protection requests).
    Patron(commands::patron::PatronArgs),
}

impl Command {
    /// For a command that does not work on the AWS deployment, what does its
    /// job there (rules §13 lists the commands both homes have).
    fn on_aws_instead(&self) -> Option<&'static str> {
        match self {
            Self::Import(_) => Some(
                "imports go through the importer function: drop the exports under imports/ \
                 in the bucket",
            ),
            Self::Sync(_) => Some("the sync function pulls from the library system on AWS"),
            Self::Run(args) if !args.dry_run => Some(
                "the planner function runs the day on AWS (console event \
                 {\"date\": \"…\"}); relance run --dry-run --backend aws shows what it would plan",
            ),
            Self::Sample(_) => Some("a sample is written locally; leave out --backend aws"),
            Self::Inbound(_) | Self::Feedback(_) => {
                Some("the inbound and feedback functions receive replies and bounces on AWS")
            }
            Self::Purge(_) => Some(
                "DynamoDB's TTL and the bucket's lifecycle rules expire personal data on AWS \
                 (rules §16)",
            ),
            _ => None,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RELANCE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if cli.backend == backend::Backend::Aws
        && let Some(instead) = cli.command.on_aws_instead()
    {
        eprintln!("error: not with --backend aws: {instead}");
        return ExitCode::FAILURE;
    }
    let backend = cli.backend;
    let outcome = match cli.command {
        Command::Import(args) => commands::import::run(&cli.config, args),
        Command::Sync(args) => commands::sync::run(&cli.config, args),
        Command::Run(args) => commands::run::run(&cli.config, backend, args),
        Command::Resume(args) => commands::run::resume(&cli.config, backend, args),
        Command::Status(args) => commands::status::run(&cli.config, backend, args),
        Command::Sample(args) => commands::sample::run(args),
        Command::Preview(args) => commands::preview::run(&cli.config, backend, args),
        Command::Forecast(args) => commands::forecast::run(&cli.config, backend, args),
        Command::History(args) => commands::history::run(&cli.config, backend, args),
        Command::Inbound(args) => commands::mailroom::inbound(&cli.config, args),
        Command::Feedback(args) => commands::mailroom::feedback(&cli.config, args),
        Command::Purge(args) => commands::purge::run(&cli.config, args),
        Command::Patron(args) => commands::patron::run(&cli.config, backend, args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", error_text(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, as `{:#}` writes them, but ending at a cause the
/// text already spells out: the store and transport errors keep their cause as
/// a source and also say it in their message, which the ledger records.
fn error_text(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if text.contains(&cause) {
            break;
        }
        text.push_str(": ");
        text.push_str(&cause);
    }
    text
}

#[cfg(test)]
mod tests {
    use relance_core::ports::StoreError;

    use super::error_text;

    #[test]
    fn a_cause_the_message_already_says_is_not_said_twice() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let store = StoreError::unavailable(format!("/var/relance: {io}")).caused_by(io);
        let error = anyhow::Error::new(store).context("the run for 2026-11-30 stopped");
        assert_eq!(
            format!("{error:#}"),
            "the run for 2026-11-30 stopped: store unavailable: /var/relance: denied: denied"
        );
        assert_eq!(
            error_text(&error),
            "the run for 2026-11-30 stopped: store unavailable: /var/relance: denied"
        );
    }

    #[test]
    fn causes_the_message_does_not_say_are_written_as_with_alternate_display() {
        let error = anyhow::Error::new(std::io::Error::other("disk full"))
            .context("writing the outbox")
            .context("the run for 2026-11-30 stopped");
        assert_eq!(error_text(&error), format!("{error:#}"));
    }
}
