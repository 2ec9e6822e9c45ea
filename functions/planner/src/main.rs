//! Lambda entry point of the planner: EventBridge Scheduler's daily invocation
//! and console test events (see `events/`).

use lambda_runtime::{LambdaEvent, service_fn};
use relance_aws::env;
use relance_planner::{Planner, PlannerEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    env::init_json_logs();
    let planner = Planner::from_env().await?;
    let planner = &planner;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<PlannerEvent>| async move { planner.invoke(event.payload).await },
    ))
    .await
}
