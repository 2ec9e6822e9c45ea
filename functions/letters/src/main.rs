//! Lambda entry point of the letters function: batches from the letters queue,
//! one library per message, with partial batch failures reported.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use relance_aws::env;
use relance_letters::Letters;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    env::init_json_logs();
    let letters = Letters::from_env().await?;
    let letters = &letters;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(letters.handle(event.payload, chrono::Utc::now()).await)
    }))
    .await
}
