//! Local adapters of the engine's ports: SQLite for patrons, loans and the ledger,
//! the filesystem for the outbox.

pub mod import;
pub mod store;

pub use store::Store;
