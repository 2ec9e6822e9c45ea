//! Local adapters of the engine's ports: SQLite for patrons, loans and the ledger,
//! the filesystem for the outbox.

pub mod import;
mod ledger;
mod loans;
pub mod outbox;
mod rows;
pub mod status;
pub mod store;

pub use outbox::Outbox;
pub use store::Store;
