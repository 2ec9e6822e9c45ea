//! Lambda entry point of the importer: S3 `ObjectCreated` events under `imports/`.

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{LambdaEvent, service_fn};
use relance_aws::{Clients, env};
use relance_importer::{Importer, Settings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    env::init_json_logs();
    let settings = Settings::from_env()?;
    let importer = Importer::new(Clients::from_env().await, settings).await?;
    let importer = &importer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        importer.handle(event.payload, chrono::Utc::now()).await
    }))
    .await
}
