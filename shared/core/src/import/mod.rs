//! Reading patron and loan exports: row by row validation into domain values.
