//! The imperative shell of the Clarus WMS ⇄ NetSuite integration.
//!
//! Will hold: adapters between the clients' wire types and `sync-core`'s domain model; durable
//! state in embedded SQLite (ledger of seen events and applied actions, outbox, exception queue,
//! watermarks) behind a store trait; workers that run the outbox per document under NetSuite's
//! concurrency budget; webhook intake and pollers; schedules for batched flows and snapshot
//! reconciliation; and the reports that operations and finance read.

pub mod engine;
pub mod outbox;
pub mod router;
pub mod store;
pub mod intake;
pub mod processor;
pub mod config;
pub mod netsuite;
pub mod service;
pub mod clarus;
pub mod reconcile;
pub mod batch;
pub mod assemble;
