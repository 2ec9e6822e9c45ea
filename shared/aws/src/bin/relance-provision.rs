//! `relance-provision`: creates the table, queues, bucket and SES identity
//! Relance needs (on the emulators, via `scripts/emulators.sh provision`) and
//! prints them as `export RELANCE_…=…` lines for `eval`.

use anyhow::Context;
use clap::Parser;
use relance_aws::Clients;
use relance_aws::provision::{Names, Resources, provision};

/// Provisions Relance's AWS resources; endpoints, region and credentials come
/// from the SDK's environment (`AWS_ENDPOINT_URL*`, `AWS_REGION`, …).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The DynamoDB table.
    #[arg(long, env = "RELANCE_TABLE", default_value = "relance")]
    table: String,
    /// The S3 bucket.
    #[arg(long, env = "RELANCE_BUCKET", default_value = "relance-local")]
    bucket: String,
    /// The mailer's queue (its dead-letter queue is `{name}-dlq`).
    #[arg(long, env = "RELANCE_MAIL_QUEUE", default_value = "relance-mail")]
    mail_queue: String,
    /// The letters function's queue (its dead-letter queue is `{name}-dlq`).
    #[arg(long, env = "RELANCE_LETTER_QUEUE", default_value = "relance-letters")]
    letter_queue: String,
    /// Visibility timeout of the queues, in seconds (≥ 6 × the function timeout).
    #[arg(long, env = "RELANCE_QUEUE_VISIBILITY_S", default_value_t = 180)]
    visibility_timeout_s: u32,
    /// The sender address, created as an SES identity.
    #[arg(long, env = "RELANCE_SENDER")]
    sender: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let names = Names {
        table: args.table,
        bucket: args.bucket,
        mail_queue: args.mail_queue,
        letter_queue: args.letter_queue,
        visibility_timeout_s: args.visibility_timeout_s,
    };
    let clients = Clients::from_env().await;
    let resources = provision(&clients, &names, &args.sender)
        .await
        .context("provisioning")?;
    print!("{}", exports(&resources));
    Ok(())
}

/// The resources as shell `export` lines.
fn exports(resources: &Resources) -> String {
    [
        ("RELANCE_TABLE", &resources.table),
        ("RELANCE_BUCKET", &resources.bucket),
        ("RELANCE_MAIL_QUEUE_URL", &resources.mail_queue_url),
        ("RELANCE_LETTER_QUEUE_URL", &resources.letter_queue_url),
    ]
    .iter()
    .map(|(name, value)| format!("export {name}={}\n", shell_quote(value)))
    .collect()
}

/// `value` as one shell word: bare when it is made of safe characters only.
fn shell_quote(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=".contains(&b));
    if safe {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_are_one_shell_word_each() {
        let resources = Resources {
            table: "relance".into(),
            bucket: "relance-local".into(),
            mail_queue_url: "http://127.0.0.1:5000/123456789012/relance-mail".into(),
            letter_queue_url: "it's odd".into(),
        };
        assert_eq!(
            exports(&resources),
            "export RELANCE_TABLE=relance\n\
             export RELANCE_BUCKET=relance-local\n\
             export RELANCE_MAIL_QUEUE_URL=http://127.0.0.1:5000/123456789012/relance-mail\n\
             export RELANCE_LETTER_QUEUE_URL='it'\\''s odd'\n"
        );
    }
}
