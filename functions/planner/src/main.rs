//! Lambda entry point of the planner: EventBridge Scheduler's daily invocation
//! and console test events (see `events/`).

use lambda_runtime::{LambdaEvent, service_fn};
use relance_aws::{Clients, env};
use relance_planner::{Planner, PlannerEvent, Settings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    env::init_json_logs();
    let settings = Settings::from_env()?;
    let planner = Planner::new(Clients::from_env().await, settings).await?;
    let planner = &planner;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<PlannerEvent>| async move { planner.invoke(event.payload).await },
    ))
    .await
}
