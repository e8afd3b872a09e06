//! The Clarus side of the engine.
//!
//! - [`ClarusExecutor`]: carries out the Clarus actions the core plans (products, goods outs and
//!   their cancellation, goods-in receipts) and finds a create again by `reference` after an
//!   ambiguous attempt (Clarus has no idempotency key).
//! - [`ClarusDecoder`]: turns stored webhook deliveries into core events (despatches, receipts,
//!   stock movements). Webhooks are unsigned, so a despatch is re-read over GraphQL and built
//!   from what Clarus holds, not from what the body claims. Goods out `processed` and
//!   pick-list webhooks become warehouse progress (acknowledged, picking) for the monitor.
//! - [`ClarusSweep`]: asks Clarus about the goods outs and receipts of the orders the ledger
//!   still waits for, and produces the same despatch events as their webhooks (same
//!   [`sync_core::SourceId`]), so a lost webhook is caught and a duplicate is a no-op; a lost
//!   receipt, which Clarus documents no read for, raises an exception.
//! - [`MovementSweep`]: the same for stock movements (adjustments, holds, releases, stock-check
//!   differences), read from Clarus stock transactions.
//! - [`StockSnapshotReader`]: Clarus on-hand per SKU × NetSuite location × status for the
//!   drift check.
//! - [`SYNC_SUBSCRIPTIONS`]: the webhooks the integration subscribes to.
//!
//! # What goes where in Clarus
//!
//! | Clarus field | value |
//! |---|---|
//! | product `code` / `external_system_reference1` | SKU / NetSuite item internal id |
//! | goods out and goods-in `reference` | NetSuite `tranId` |
//! | goods out and goods-in `external_system_reference1` | NetSuite order internal id |
//! | goods out and goods-in `external_system_reference2` | the action's idempotency key |
//! | goods-in `external_system_reference3` | order kind, `PO` or `RA` |
//! | line `external_system_reference1` (and `alt_line_number`) | NetSuite order line (`line`) |
//!
//! These generic fields are written for people and for the webhook bodies (which carry the full
//! record); Clarus documents none of them on its GraphQL reads, so the engine never asks for
//! them. It keeps its own record of each goods out and goods in it creates (order, reference,
//! line order) and checks the webhook's claims against it.

mod decoder;
mod despatch;
mod errors;
mod executor;
mod held;
pub(crate) mod horizon;
mod kept;
mod movement;
mod movement_sweep;
mod nodes;
mod products;
mod products_sweep;
mod progress;
mod receipt;
mod schema_check;
mod shipped;
mod snapshot;
mod sweep;

pub use crate::subscriptions::SYNC_SUBSCRIPTIONS;
pub use decoder::ClarusDecoder;
pub use despatch::{
    DESPATCH_EVENT, DespatchReader, SHIPMENT_EVENT, despatch_source, shipment_source,
};
pub use errors::{Sent, classify, decode_error};
pub use executor::{ClarusExecutor, ExecutorSettings};
pub use horizon::{MAX_INTAKE_WAIT, NORMAL_INTAKE_LAG, intake_behind, sweep_horizon};
pub use kept::{KeptError, prune as prune_kept};
pub use movement::{hold_made_by_receipt, movement_from_webhook};
pub use movement_sweep::{
    MOVEMENT_REBUILT, MOVEMENT_SUBTYPES, MOVEMENT_SWEEP_WATERMARK, MovementSweep,
    MovementSweepReport,
};
pub use nodes::engine_reads;
pub use products_sweep::{ProductCheck, ProductSweep, ProductSweepReport};
pub use receipt::RECEIPT_EVENT;
pub use schema_check::{
    CLARUS_SCHEMA_KEY, CLARUS_SCHEMA_KIND, CLARUS_SCHEMA_RUNBOOK, ClarusSchemaCheck,
    INTROSPECTION_QUERY, IntrospectionError, MissingField, RECHECK_GAP, SCHEMA_CHECK_INTERVAL,
    SCHEMA_CHECK_JOB, SchemaCheckOutcome, SchemaExceptionChange, SchemaReport, apply_schema_report,
    compare_schema, flow_of_root, schema_exception,
};
pub use shipped::despatch_reported;
pub use snapshot::{SkippedStock, SnapshotSummary, StockSnapshotReader};
pub use sweep::{ClarusSweep, ReceiptGap, SweepError, SweepFailure, SweepReport};
