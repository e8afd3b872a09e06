//! The set-up the test modules share.
//!
//! - [`events`]: the core events the engine tests feed it, and the mappings they plan with.
//! - [`fakes`]: a fake target system, and an engine, store and outbox around it.
//! - [`clarus`]: the Clarus simulator, a client for it, a store and the webhook intake.
//! - [`netsuite`]: the NetSuite simulator and a client for it.
//! - [`store`]: the backends of the store (SQLite, PostgreSQL in a fresh schema per test) and
//!   the fixtures of the store's conformance suite.
//! - [`process`]: running a test alone in a child process.

pub mod clarus;
pub mod events;
pub mod fakes;
pub mod netsuite;
pub mod process;
pub mod store;
