//! Local adapters of the engine's ports: SQLite for patrons, loans and the ledger,
//! the filesystem for the outbox.

mod correspondence;
pub mod history;
pub mod import;
mod ledger;
mod loans;
pub mod lock;
pub mod outbox;
mod patron;
pub mod preview;
mod purge;
mod rows;
pub mod runs;
pub mod status;
pub mod store;

pub use outbox::Outbox;
pub use preview::PreviewFolder;
pub use store::Store;
