//! Lambda entry point of the sync function: EventBridge Scheduler's daily
//! invocation before the planner, and console events (see `events/`).

use lambda_runtime::{LambdaEvent, service_fn};
use relance_aws::env;
use relance_sync::{SourceSync, SyncEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    env::init_json_logs();
    let sync = SourceSync::from_env().await?;
    let sync = &sync;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<SyncEvent>| async move {
            sync.handle(event.payload, chrono::Utc::now()).await
        },
    ))
    .await
}
