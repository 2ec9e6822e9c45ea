//! AWS adapters of the engine's ports: DynamoDB for patrons, loans and the ledger,
//! SES v2 for mail, S3 for letters, SQS for the fan-out queues; Secrets Manager
//! for the library system's credentials.

pub mod archive;
pub mod dynamo;
pub mod env;
pub mod fanout;
pub mod function;
pub mod mail;
pub mod metrics;
pub mod provision;
pub mod queue;
pub mod recheck;
pub mod sdk;
pub mod secrets;

pub use function::Function;
pub use sdk::Clients;
