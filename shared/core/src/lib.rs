//! The Relance notice engine: the ladder, the calendar, planning, consolidation
//! and rendering, with the ports its adapters implement. Pure: it never reads the
//! clock, the environment or the network; time, ids and data come in as arguments.

pub mod address;
pub mod calendar;
pub mod config;
pub mod email;
pub mod forecast;
pub mod ids;
pub mod import;
pub mod inbound;
pub mod ladder;
pub mod letter;
pub mod model;
pub mod notice;
pub mod open_days;
pub mod plan;
pub mod ports;
pub mod preview;
pub mod recheck;
pub mod retention;
pub mod schedule;
pub mod service;
pub mod staff_report;
pub mod summary;

#[cfg(test)]
pub(crate) mod testing;
