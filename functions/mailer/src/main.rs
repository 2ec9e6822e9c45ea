//! Lambda entry point of the mailer: batches from the mail queue, with partial
//! batch failures reported (`ReportBatchItemFailures`).

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use relance_aws::{Clients, env};
use relance_mailer::{Mailer, Settings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    env::init_json_logs();
    let settings = Settings::from_env()?;
    let mailer = Mailer::new(Clients::from_env().await, settings).await?;
    let mailer = &mailer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(mailer.handle(event.payload, chrono::Utc::now()).await)
    }))
    .await
}
