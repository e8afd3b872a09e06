//! Example binaries for the Clarus WMS ⇄ NetSuite SDK.
//!
//! The binaries in `src/bin/` are the end-to-end demo against the built-in simulators, a runner
//! against real endpoints, per-flow examples and small command-line tools for each client.

pub mod extend;
pub mod harness;
pub mod report;
pub mod scenario;
pub mod walkthrough;
