//! The feedback function: SES publishes each bounce and complaint of the
//! configuration set the mailer sends with to an SNS topic, which invokes this
//! function. A hard bounce marks the patron's address bouncing, a complaint
//! complaining — the planner then sends their next reminder as a letter (rules
//! §5); a soft bounce is recorded and counted. Other event types are ignored.
//! A failure fails the invocation, which SNS retries; an event recorded before
//! changes nothing.

use std::sync::Arc;

use anyhow::Context as _;
use aws_lambda_events::event::sns::SnsEvent;
use relance_aws::Function;
use relance_aws::dynamo::Dynamo;
use relance_aws::env::SettingsError;
use relance_aws::metrics::Metrics;
use relance_core::inbound::feedback;
use relance_core::service::{FeedbackOutcome, record_feedback};

/// The feedback function with its table, built once per instance.
pub struct Feedback {
    dynamo: Arc<Dynamo>,
}

impl Feedback {
    /// The deployed function.
    pub async fn from_env() -> Result<Self, SettingsError> {
        Ok(Self::new(Function::from_env().await?))
    }

    /// The feedback function of a function.
    pub fn new(function: Function) -> Self {
        Self {
            dynamo: function.dynamo,
        }
    }

    /// Handles every event of an SNS delivery; the first failure fails it.
    pub async fn handle(&self, event: SnsEvent) -> anyhow::Result<Vec<FeedbackOutcome>> {
        let mut outcomes = Vec::new();
        for record in &event.records {
            let sns_id = &record.sns.message_id;
            let Some(event) = feedback::parse(record.sns.message.as_bytes())
                .with_context(|| format!("SNS message {sns_id}"))?
            else {
                tracing::info!(sns = %sns_id, "not a bounce or complaint: ignored");
                continue;
            };
            for outcome in record_feedback(&*self.dynamo, &*self.dynamo, &event).await? {
                tracing::info!(
                    feedback = %outcome.record.id,
                    kind = outcome.record.kind.as_str(),
                    patron = outcome.record.patron_id.as_ref().map(|p| p.as_str()),
                    new = outcome.new,
                    "feedback recorded"
                );
                Metrics::of("feedback")
                    .dimension("Kind", outcome.record.kind.as_str())
                    .count("Feedback", usize::from(outcome.new))
                    .emit();
                outcomes.push(outcome);
            }
        }
        Ok(outcomes)
    }
}
