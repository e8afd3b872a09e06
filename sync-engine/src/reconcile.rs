//! Snapshot reconciliation: Clarus on-hand against NetSuite on-hand, with the movements still in
//! the outbox counted as in flight, per SKU × location × status.
//!
//! The snapshots come from the adapters (`clarus::StockSnapshotReader`,
//! `netsuite::OnHandReader`); this module adds the in-flight rows from the store, runs the core's
//! drift computation, raises an exception for every drifting position and resolves the drift
//! exceptions of positions that are back in step.

use std::collections::HashSet;

use jiff::Timestamp;
use sync_core::drift::compare;
use sync_core::{DriftClass, DriftReport, PlannedAction, StockRow, Thresholds};

use crate::engine::{EngineError, stored_exception};
use crate::store::{ActionStatus, Store};

/// Kind of the exceptions raised for drifting positions.
pub const DRIFT_KIND: &str = "stock-drift";

/// The signed on-hand changes of NetSuite actions not yet done (pending or ambiguous).
pub async fn in_flight_rows(store: &dyn Store) -> Result<Vec<StockRow>, EngineError> {
    let mut rows = Vec::new();
    for action in store.actions().await? {
        if !matches!(
            action.status,
            ActionStatus::Pending | ActionStatus::Ambiguous
        ) {
            continue;
        }
        let planned: PlannedAction = serde_json::from_value(action.action.payload)?;
        rows.extend(planned.action.on_hand_changes());
    }
    Ok(rows)
}

/// Compares the two snapshots, counting in-flight movements; raises an exception for each
/// drifting position and resolves those of positions no longer drifting.
pub async fn reconcile(
    store: &dyn Store,
    clarus: Vec<StockRow>,
    netsuite: Vec<StockRow>,
    thresholds: Thresholds,
    now: Timestamp,
) -> Result<DriftReport, EngineError> {
    let in_flight = in_flight_rows(store).await?;
    let report = compare(clarus, netsuite, in_flight, thresholds);
    let mut drifting = HashSet::new();
    for row in &report.rows {
        if row.class != DriftClass::Drift {
            continue;
        }
        if let Some(exception) = row.exception(now) {
            let stored = stored_exception(&exception)?;
            drifting.insert(stored.key.clone());
            store.refresh_exception(stored, now).await?;
        }
    }
    for open in store.exceptions().await? {
        if open.resolved_at.is_none()
            && open.exception.kind == DRIFT_KIND
            && !drifting.contains(&open.exception.key)
        {
            store
                .resolve_exception(&open.exception.key, "back in step at reconciliation", now)
                .await?;
        }
    }
    Ok(report)
}
