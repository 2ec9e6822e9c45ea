//! Lambda entry point of the feedback function: subscribed to the SNS topic that
//! is the SES configuration set's event destination for bounces and complaints.

use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use relance_aws::env;
use relance_feedback::Feedback;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    env::init_json_logs();
    let feedback = Feedback::from_env().await?;
    let feedback = &feedback;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SnsEvent>| async move {
        feedback.handle(event.payload).await.map(|_| ())
    }))
    .await
}
