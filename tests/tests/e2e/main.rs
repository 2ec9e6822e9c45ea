//! End-to-end tests that cross crates: the engine on the embedded store, and
//! the serverless path against DynamoDB Local and moto. One test binary, a
//! module per subject; the helpers are the `relance-tests` library (`tests/src`).

mod aws_channels;
mod aws_e2e;
mod aws_ledger;
mod aws_mailroom;
mod aws_open_days;
mod aws_planner_reads;
mod aws_report;
mod aws_retention;
mod aws_store;
mod aws_sync;
mod aws_throttling;
mod consolidation;
mod idempotency;
mod infra_drift;
mod letters;
mod lifecycle;
mod open_days;
mod planner_properties;
mod restart_table;
mod retention_properties;
