//! The institution of the tests (the test kit's file), for the core's own unit
//! tests, which cannot depend on the test kit (it depends on this crate).

/// Three libraries (STS, DRT, LSH), the standard ladder, Europe/Paris.
pub const INSTITUTION: &str = include_str!("../../testkit/src/institution.toml");
