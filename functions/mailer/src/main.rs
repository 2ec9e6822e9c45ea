//! Lambda entry point of the mailer: batches from the mail queue, with partial
//! batch failures reported (`ReportBatchItemFailures`).

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use relance_aws::env;
use relance_mailer::Mailer;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    env::init_json_logs();
    let mailer = Mailer::from_env().await?;
    let mailer = &mailer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(mailer.handle(event.payload, chrono::Utc::now()).await)
    }))
    .await
}
