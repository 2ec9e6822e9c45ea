//! The end-to-end suites' support: the AWS emulators and stack, proxies that
//! record or throttle calls, and the test kit (re-exported).

pub mod emulators;
pub mod network;
pub mod recorder;
pub mod relay;
pub mod stack;
pub mod standins;
pub mod throttle;

pub use relance_testkit::*;
