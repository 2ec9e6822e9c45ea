//! Lambda entry point of the inbound function: invoked by the SES receipt rule
//! (`Event`) after its S3 action stored the mail under `inbound/`.

use aws_lambda_events::event::ses::SimpleEmailEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use relance_aws::env;
use relance_inbound::Inbound;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    env::init_json_logs();
    let inbound = Inbound::from_env().await?;
    let inbound = &inbound;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<SimpleEmailEvent>| async move {
            inbound.handle(event.payload).await.map(|_| ())
        },
    ))
    .await
}
