//! Lambda entry point of the importer: S3 `ObjectCreated` events under `imports/`.

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{LambdaEvent, service_fn};
use relance_aws::env;
use relance_importer::Importer;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    env::init_json_logs();
    let importer = Importer::from_env().await?;
    let importer = &importer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        importer.handle(event.payload, chrono::Utc::now()).await
    }))
    .await
}
