//! The integration tests of `sync-engine`, one test binary: a module per area of the engine,
//! each against the real engine and store (SQLite, and PostgreSQL with the `postgres` feature)
//! and the simulators or fakes of the two systems, and [`support`] for the set-up they share.
//!
//! Every test runs in this one process alongside the others: a test uses its own store, its own
//! simulators on ephemeral ports, its own temporary files and its own PostgreSQL schema. A test
//! that measures the whole process (its resident memory) runs again alone in a child process
//! (see [`support::process`]).
//!
//! Run one area with a filter: `cargo test -p sync-engine --test it -- store::`.

mod support;

mod alerts;
mod batch;
mod clarus_decoder;
mod clarus_executor;
mod clarus_movement_sweep;
mod close;
mod config;
mod drift_history;
mod engine;
mod exceptions;
mod intake;
mod metrics;
mod monitor;
mod netsuite_costs;
mod netsuite_executor;
mod netsuite_outbox;
mod netsuite_poller;
mod netsuite_postings;
mod netsuite_snapshot;
mod reconcile;
mod runbook;
mod service;
mod snapshot;
mod store;
mod store_upgrade;
mod stuck;
