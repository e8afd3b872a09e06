//! Raw deliveries kept before they are answered, and their processing state.

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::Value;

use super::StoreError;

/// A raw delivery from outside (a webhook body, a polled record) kept before it is answered.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    /// Which source sent it, e.g. `clarus-webhook` or `netsuite-poll`.
    pub source: String,
    /// When it arrived.
    pub received_at: Timestamp,
    /// Headers worth keeping (identifying headers only; never credentials).
    pub headers: Value,
    /// The body as received.
    pub body: Vec<u8>,
}

/// A delivery read back from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Store-assigned id, increasing in arrival order.
    pub id: i64,
    /// The delivery as it arrived.
    pub delivery: NewDelivery,
}

/// The intake's inbox: deliveries are kept durably before they are answered, then processed in
/// arrival order, deferred while their event is blocked, and marked processed.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Keeps a raw delivery durably; only after this returns may intake answer 2xx.
    async fn record_delivery(&self, delivery: NewDelivery) -> Result<i64, StoreError>;
    /// Deliveries not yet processed and due at `now`, oldest first.
    async fn unprocessed_deliveries(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// Puts a delivery aside until `until` (its event was blocked, for example by a missing
    /// mapping), with a note saying why.
    async fn defer_delivery(&self, id: i64, until: Timestamp, note: &str)
    -> Result<(), StoreError>;
    /// How many deliveries are not yet processed (due or deferred).
    async fn unprocessed_count(&self) -> Result<u64, StoreError>;
    /// When the oldest delivery from `source` that is due at `now` and not processed yet
    /// arrived, `None` when there is none: what arrived before it has been processed. Deferred
    /// deliveries (due later) are left out. The Clarus sweeps read it so that a webhook still
    /// waiting in the intake is not taken for a lost one.
    async fn oldest_due_delivery(
        &self,
        source: &str,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError>;
    /// Marks a delivery processed at `at` (its event was planned, or it was recorded as
    /// unusable).
    async fn mark_delivery_processed(
        &self,
        id: i64,
        note: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Makes every deferred delivery due at `at`. Returns how many were waiting.
    async fn wake_deferred_deliveries(&self, at: Timestamp) -> Result<u64, StoreError>;
    /// Hands a processed delivery back for processing at `at`. Returns whether it existed.
    async fn reprocess_delivery(&self, id: i64, at: Timestamp) -> Result<bool, StoreError>;
    /// Deletes at most `limit` deliveries processed before `processed_before`, oldest first, and
    /// returns how many (the retention of stored webhook bodies; see
    /// `crate::retention`). Deliveries not yet processed, due or deferred, are never deleted.
    async fn prune_deliveries(
        &self,
        processed_before: Timestamp,
        limit: usize,
    ) -> Result<u64, StoreError>;
}
