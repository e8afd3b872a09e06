//! Snapshots of the planner's state, so that start-up does not apply the whole state log.
//!
//! A snapshot is the engine's view (sync-core's [`MemoryState`](sync_core::MemoryState), as
//! JSON) at a position of the state log, its *head*. [`Engine::open`] loads the newest snapshot
//! and applies only the log after it, a page at a time; [`SnapshotJob`] saves one whenever the
//! log has grown by [`SnapshotJob::every_entries`] since the last. Once a snapshot covers them,
//! log entries older than the retention may be pruned ([`crate::retention::HistoryRetention`]).
//! The store keeps the newest two snapshots.
//!
//! A snapshot records the [`FORMAT`] of the state it holds: a version of the engine whose
//! sync-core serialises the state differently changes it, and ignores snapshots of another
//! format (applying the whole log instead while it is all there; see
//! [`EngineError::MissingSnapshot`](crate::engine::EngineError::MissingSnapshot) when it is
//! not). Design and measurements: `docs/decisions/snapshots.md`.
//!
//! ```
//! use sync_engine::snapshot::SnapshotJob;
//!
//! assert_eq!(SnapshotJob::default().every_entries(), 10_000);
//! ```
//!
//! [`Engine::open`]: crate::engine::Engine::open

use std::time::Duration;

use async_trait::async_trait;

use crate::engine::Engine;
use crate::job::{JobError, Scheduled};

pub use crate::engine::SNAPSHOT_FORMAT as FORMAT;

/// The scheduled job saving a snapshot when the state log has grown enough since the last one.
#[derive(Debug, Clone)]
pub struct SnapshotJob {
    every_entries: i64,
    interval: Duration,
}

impl Default for SnapshotJob {
    /// Every 10,000 state-log entries, looked at every five minutes.
    fn default() -> Self {
        SnapshotJob::new(10_000, Duration::from_secs(300))
    }
}

impl SnapshotJob {
    /// A job saving a snapshot once `every_entries` (at least 1) entries follow the newest one,
    /// looking every `interval`.
    pub fn new(every_entries: i64, interval: Duration) -> Self {
        SnapshotJob {
            every_entries: every_entries.max(1),
            interval,
        }
    }

    /// How many state-log entries after the newest snapshot make a new one.
    pub fn every_entries(&self) -> i64 {
        self.every_entries
    }

    /// Saves a snapshot if the log grew by [`SnapshotJob::every_entries`] since the newest;
    /// returns its position.
    pub async fn run(&self, engine: &Engine) -> Result<Option<i64>, crate::engine::EngineError> {
        let store = engine.store();
        let head = store.ledger_head().await?;
        let newest = store.snapshot_head().await?.unwrap_or(0);
        if head - newest < self.every_entries {
            return Ok(None);
        }
        engine.save_snapshot().await
    }
}

#[async_trait]
impl Scheduled for SnapshotJob {
    fn name(&self) -> &str {
        "snapshot"
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    async fn run_once(&self, engine: &Engine) -> Result<usize, JobError> {
        match self.run(engine).await {
            Ok(Some(head)) => {
                tracing::info!(head, "saved a snapshot of the planner's state");
                Ok(1)
            }
            Ok(None) => Ok(0),
            Err(e) => Err(JobError::context("saving a snapshot", e)),
        }
    }
}
