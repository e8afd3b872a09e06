//! Retention of stored webhook bodies: deliveries processed longer ago than the retention
//! (`[webhook] keep_deliveries_days`, 90 days by default) are deleted by the `retention` job, a
//! bounded number per call so that no deletion holds the database for long.
//!
//! Retention of history ([`HistoryRetention`], `keep_history_days`, 90 days by default): the
//! `history-retention` job deletes state-log entries older than the retention that the newest
//! snapshot covers (start-up and every catch-up need only the snapshot and the log after it,
//! see [`crate::snapshot`]), and recorded events older than the retention whose lifecycle
//! document is finished (stuck detection reads only unfinished documents; an event's
//! redelivery is still recognised by the planner's state, which keeps every event seen), or
//! that belong to no lifecycle (items, products).
//!
//! A delivery is kept for as long as it is not processed, however old: a deferred delivery is
//! work still to do. What the engine decided from a delivery (the events planned, the actions,
//! the exceptions and their audit trail) is in the ledger and is not touched; only the raw body
//! and its headers go. The drift history has its own retention (`[drift] history_days`).
//!
//! ```
//! use std::time::Duration;
//! use sync_engine::retention::DeliveryRetention;
//!
//! let job = DeliveryRetention::new(90);
//! assert_eq!(job.keep(), Duration::from_secs(90 * 86_400));
//! ```

use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};

use crate::engine::Engine;
use crate::job::{JobError, Scheduled};
use crate::store::{Store, StoreError};

/// Deliveries deleted per store call.
pub const PRUNE_CHUNK: usize = 1_000;

/// Deliveries processed before `now - keep` deleted, in chunks of [`PRUNE_CHUNK`]; returns how
/// many.
pub async fn prune_deliveries(
    store: &dyn Store,
    keep: Duration,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let keep = SignedDuration::try_from(keep).unwrap_or(SignedDuration::MAX);
    let cutoff = now.checked_sub(keep).unwrap_or(Timestamp::MIN);
    let mut total = 0;
    loop {
        let n = store.prune_deliveries(cutoff, PRUNE_CHUNK).await?;
        total += n;
        if n < PRUNE_CHUNK as u64 {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// State-log entries covered by the newest snapshot and recorded events of finished documents,
/// older than `now - keep`, deleted in chunks of [`PRUNE_CHUNK`]; returns how many of each.
pub async fn prune_history(
    store: &dyn Store,
    keep: Duration,
    now: Timestamp,
) -> Result<PrunedHistory, StoreError> {
    let keep = SignedDuration::try_from(keep).unwrap_or(SignedDuration::MAX);
    let cutoff = now.checked_sub(keep).unwrap_or(Timestamp::MIN);
    let mut pruned = PrunedHistory::default();
    loop {
        let n = store.prune_state_log(cutoff, PRUNE_CHUNK).await?;
        pruned.state_log += n;
        if n < PRUNE_CHUNK as u64 {
            break;
        }
        tokio::task::yield_now().await;
    }
    loop {
        let n = store.prune_events(cutoff, PRUNE_CHUNK).await?;
        pruned.events += n;
        if n < PRUNE_CHUNK as u64 {
            return Ok(pruned);
        }
        tokio::task::yield_now().await;
    }
}

/// What [`prune_history`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrunedHistory {
    /// State-log entries.
    pub state_log: u64,
    /// Recorded events.
    pub events: u64,
}

/// The scheduled job deleting history older than the retention, hourly (see the module's
/// documentation).
///
/// ```
/// use std::time::Duration;
/// use sync_engine::retention::HistoryRetention;
///
/// assert_eq!(HistoryRetention::new(90).keep(), Duration::from_secs(90 * 86_400));
/// ```
#[derive(Debug, Clone)]
pub struct HistoryRetention {
    keep: Duration,
}

impl HistoryRetention {
    /// Keeps history for `days` days (at least one).
    pub fn new(days: u32) -> Self {
        HistoryRetention {
            keep: Duration::from_secs(u64::from(days.max(1)) * 86_400),
        }
    }

    /// How long history is kept.
    pub fn keep(&self) -> Duration {
        self.keep
    }
}

#[async_trait]
impl Scheduled for HistoryRetention {
    fn name(&self) -> &str {
        "history-retention"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(3_600)
    }

    async fn run_once(&self, engine: &Engine) -> Result<usize, JobError> {
        let now = engine.clock().now();
        let pruned = prune_history(engine.store().as_ref(), self.keep, now)
            .await
            .map_err(|e| JobError::context("pruning history", e))?;
        if pruned != PrunedHistory::default() {
            tracing::info!(
                state_log = pruned.state_log,
                events = pruned.events,
                keep_days = self.keep.as_secs() / 86_400,
                "deleted history past the retention"
            );
        }
        Ok(usize::try_from(pruned.state_log + pruned.events).unwrap_or(usize::MAX))
    }
}

/// The scheduled job deleting processed deliveries older than the retention, hourly.
#[derive(Debug, Clone)]
pub struct DeliveryRetention {
    keep: Duration,
}

impl DeliveryRetention {
    /// Keeps processed deliveries for `days` days (at least one).
    pub fn new(days: u32) -> Self {
        DeliveryRetention {
            keep: Duration::from_secs(u64::from(days.max(1)) * 86_400),
        }
    }

    /// How long a processed delivery is kept.
    pub fn keep(&self) -> Duration {
        self.keep
    }
}

#[async_trait]
impl Scheduled for DeliveryRetention {
    fn name(&self) -> &str {
        "retention"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(3_600)
    }

    async fn run_once(&self, engine: &Engine) -> Result<usize, JobError> {
        let now = engine.clock().now();
        let pruned = prune_deliveries(engine.store().as_ref(), self.keep, now)
            .await
            .map_err(|e| JobError::context("pruning deliveries", e))?;
        // What the Clarus adapter keeps per record serves to decode deliveries again: it goes
        // with them (entries unwritten for as long).
        let cutoff = now
            .checked_sub(SignedDuration::try_from(self.keep).unwrap_or(SignedDuration::MAX))
            .unwrap_or(Timestamp::MIN);
        let chunk = u32::try_from(PRUNE_CHUNK).unwrap_or(u32::MAX);
        let kept = crate::clarus::prune_kept(engine.store().as_ref(), cutoff, chunk)
            .await
            .map_err(|e| JobError::context("pruning adapter state", e))?;
        if kept > 0 {
            tracing::info!(kept, "deleted adapter state past the retention");
        }
        if pruned > 0 {
            tracing::info!(
                pruned,
                keep_days = self.keep.as_secs() / 86_400,
                "deleted processed deliveries past the retention"
            );
        }
        Ok(usize::try_from(pruned).unwrap_or(usize::MAX))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::{NewDelivery, SqliteStore};

    fn at(days: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + days * 86_400).unwrap()
    }

    #[tokio::test]
    async fn deliveries_past_the_retention_are_deleted_in_chunks_and_the_rest_kept() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let record = |day: i64| NewDelivery {
            source: "clarus-webhook".into(),
            received_at: at(day),
            headers: serde_json::json!({}),
            body: b"{}".to_vec(),
        };
        // 2,500 processed on day 0 (three chunks), one processed on day 89, one never; on day 91
        // the first 2,500 are past 90 days.
        for _ in 0..2_500 {
            let id = store.record_delivery(record(0)).await.unwrap();
            store
                .mark_delivery_processed(id, None, at(0))
                .await
                .unwrap();
        }
        let recent = store.record_delivery(record(89)).await.unwrap();
        store
            .mark_delivery_processed(recent, None, at(89))
            .await
            .unwrap();
        let waiting = store.record_delivery(record(0)).await.unwrap();

        let keep = DeliveryRetention::new(90).keep();
        assert_eq!(
            prune_deliveries(store.as_ref(), keep, at(91))
                .await
                .unwrap(),
            2_500
        );
        assert_eq!(
            prune_deliveries(store.as_ref(), keep, at(91))
                .await
                .unwrap(),
            0
        );
        assert!(store.reprocess_delivery(recent, at(91)).await.unwrap());
        assert_eq!(store.unprocessed_count().await.unwrap(), 2);
        let ids: Vec<i64> = store
            .unprocessed_deliveries(at(100), 10)
            .await
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(ids, [recent, waiting]);
    }

    #[test]
    fn a_retention_of_zero_days_keeps_one_day() {
        assert_eq!(
            DeliveryRetention::new(0).keep(),
            Duration::from_secs(86_400)
        );
    }
}
