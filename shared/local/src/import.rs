//! Importing CSV exports into the embedded store.
