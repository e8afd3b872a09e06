//! The NetSuite side of the engine.
//!
//! - [`NetSuiteExecutor`]: carries out the NetSuite actions the core plans (item fulfilments and
//!   receipts by transform, inventory adjustments, moves between sellable and quarantine stock)
//!   and finds them again by `eid:` after an ambiguous attempt.
//! - [`convert`]: NetSuite records → `sync-core` items and orders, wrapped in [`sync_core::Event`]s.
//! - [`NetSuitePoller`]: SuiteQL on `lastmodifieddate` for items, sales orders, purchase orders
//!   and return authorisations, with an overlap window, feeding [`crate::engine::Engine::ingest`].
//! - [`OnHandReader`]: NetSuite on-hand per SKU × location × status for the drift check.
//! - [`CostReader`]: NetSuite average cost per item and location, to value the drift.
//!
//! Errors of the NetSuite client are mapped onto [`crate::outbox::ExecutionError`] by
//! [`classify`]: refused before anything was applied → retryable, outcome unknown → ambiguous,
//! business errors → rejected with NetSuite's own code and message.

pub mod convert;
mod costs;
mod errors;
mod executor;
mod lots;
mod poller;
mod segments;
mod snapshot;

pub use costs::{CostReader, UnitCosts};
pub use errors::{Stage, classify};
pub use executor::{ExecutorConfig, NetSuiteExecutor};
pub use poller::{NetSuitePoller, PollError, PollKind, PollReport, PollerConfig, watermark_name};
pub use segments::{LocationSegments, Segments};
pub use snapshot::{OnHandReader, SkippedBalance, SnapshotError, SnapshotSummary};
