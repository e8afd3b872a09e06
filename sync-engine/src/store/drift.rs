//! The drift history: reconciliation runs and the positions that were not in step.

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::Value;

use super::StoreError;

/// A reconciliation run to keep in the drift history: its summary and the positions that were
/// not in step (in-step positions are only counted, not kept).
#[derive(Debug, Clone, PartialEq)]
pub struct NewDriftRun {
    /// When the run compared the systems.
    pub at: Timestamp,
    /// The run's summary, serialised.
    pub summary: Value,
    /// The positions not in step at this run.
    pub rows: Vec<NewDriftRow>,
}

/// One position of a drift run.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDriftRow {
    /// The position's identity (SKU, location and status), unique within a run.
    pub position: String,
    /// Its classification (`explained_by_in_flight`, `drift`).
    pub class: String,
    /// The row, serialised.
    pub row: Value,
}

/// A drift run read back from the history.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDriftRun {
    /// Store-assigned id, increasing with each run.
    pub id: i64,
    /// When the run compared the systems.
    pub at: Timestamp,
    /// The run's summary as recorded.
    pub summary: Value,
}

/// A position of a drift run read back from the history.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDriftRow {
    /// The run it belongs to.
    pub run_id: i64,
    /// When that run compared the systems.
    pub at: Timestamp,
    /// The position's identity.
    pub position: String,
    /// Its classification.
    pub class: String,
    /// The row as recorded.
    pub row: Value,
}

/// The history of reconciliation runs.
#[async_trait]
pub trait DriftStore: Send + Sync {
    /// Records a reconciliation run and its rows in one transaction; returns the run's id.
    async fn record_drift_run(&self, run: NewDriftRun) -> Result<i64, StoreError>;
    /// Drift runs, newest first: at most `limit`, and only those at or after `since` if given.
    async fn drift_runs(
        &self,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<StoredDriftRun>, StoreError>;
    /// The rows of one run, ordered by position; empty when the run is unknown or every
    /// position was in step.
    async fn drift_run_rows(&self, run_id: i64) -> Result<Vec<StoredDriftRow>, StoreError>;
    /// The rows recorded for one position, newest run first, at most `limit`. A run in which
    /// the position was in step has no row.
    async fn drift_position_history(
        &self,
        position: &str,
        limit: usize,
    ) -> Result<Vec<StoredDriftRow>, StoreError>;
    /// Deletes the runs (and their rows) recorded before `before`; returns how many runs.
    async fn prune_drift_runs(&self, before: Timestamp) -> Result<u64, StoreError>;
}
