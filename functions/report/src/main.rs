//! Lambda entry point of the report function: EventBridge Scheduler's daily
//! invocation after the fan-out, and console events (see `events/`).

use lambda_runtime::{LambdaEvent, service_fn};
use relance_aws::env;
use relance_report::{Report, ReportEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    env::init_json_logs();
    let report = Report::from_env().await?;
    let report = &report;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ReportEvent>| async move {
            report.handle(event.payload, chrono::Utc::now()).await
        },
    ))
    .await
}
