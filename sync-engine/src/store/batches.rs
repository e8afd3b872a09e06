//! Batches: actions of a batched flow wait in the outbox until a batcher posts them together as
//! one record.

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::Value;

use super::{ActionStatus, NewException, OutboxAction, StoreError};

/// `not_before` of an action that waits for a batch: the outbox never finds it due; a batcher
/// (see `crate::batch`) puts it in a batch and completes it with the batch's record.
pub const WAITING_FOR_BATCH: Timestamp = Timestamp::MAX;

/// A batch of waiting actions to post as one record, with its membership.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBatch {
    /// Deterministic key of the batch (also the NetSuite `externalId` of its record).
    pub key: String,
    /// The kind of its member actions (`post_inventory_adjustment`).
    pub kind: String,
    /// What the members share, for reports (for example location, account and date).
    pub grouping: String,
    /// Keys of the member actions, in the order their lines are posted.
    pub members: Vec<String>,
}

/// A batch read back from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBatch {
    /// The batch as it was formed; `members` in line order.
    pub batch: NewBatch,
    /// Where it stands (`Pending` until posted, `Ambiguous` after a post without an answer).
    pub status: ActionStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// Earliest time of the next attempt.
    pub next_attempt_at: Timestamp,
    /// The last error, if any attempt failed.
    pub last_error: Option<String>,
    /// The id of the posted record, once done.
    pub result_id: Option<String>,
    /// When it was formed.
    pub created_at: Timestamp,
}

/// A member of a batch traced back to the event that planned it.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchMember {
    /// The member action.
    pub action: OutboxAction,
    /// The key of the event whose plan enqueued it.
    pub event_key: String,
    /// That event as recorded in the ledger, when it was recorded (a blocked event is not).
    pub event: Option<Value>,
}

/// Batches of outbox actions posted as one record, and the actions waiting for one
/// (`not_before` = [`WAITING_FOR_BATCH`]).
#[async_trait]
pub trait BatchStore: Send + Sync {
    /// Actions of `kind` waiting for a batch and not yet in one, oldest first.
    async fn waiting_for_batch(
        &self,
        kind: &str,
        limit: usize,
    ) -> Result<Vec<OutboxAction>, StoreError>;
    /// Hands actions of `kind` that wait for a batch (and are in none) back to the outbox, due
    /// at `now`: used when a flow's cadence is changed back to immediate. Returns how many.
    async fn release_waiting(&self, kind: &str, now: Timestamp) -> Result<u64, StoreError>;
    /// Persists a batch and its membership in one transaction, before anything is posted. Fails
    /// with [`StoreError::BatchConflict`] (writing nothing) when a member is not a waiting
    /// action outside any batch.
    async fn create_batch(&self, batch: NewBatch, at: Timestamp) -> Result<(), StoreError>;
    /// Batches of `kind` not yet done or failed, oldest first (due or not).
    async fn open_batches(&self, kind: &str) -> Result<Vec<StoredBatch>, StoreError>;
    /// One batch by key.
    async fn batch(&self, key: &str) -> Result<Option<StoredBatch>, StoreError>;
    /// Every batch, oldest first (reports).
    async fn batches(&self) -> Result<Vec<StoredBatch>, StoreError>;
    /// The members of a batch in line order, each with the event that planned it.
    async fn batch_members(&self, key: &str) -> Result<Vec<BatchMember>, StoreError>;
    /// Records at `at` that the batch is about to be posted: until completed or failed, a crash
    /// leaves it `Ambiguous`, so its record is looked up before it is posted again.
    async fn begin_batch_attempt(&self, key: &str, at: Timestamp) -> Result<(), StoreError>;
    /// Records success at `at`: the batch and every member done with the record's id, in one
    /// transaction.
    async fn complete_batch(
        &self,
        key: &str,
        result_id: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Records a failed attempt at `at`: retried at `retry_at`, or given up when `retry_at` is
    /// `None`, in which case every member fails too and `exception` (if any) is raised in the
    /// same transaction.
    async fn fail_batch(
        &self,
        key: &str,
        error: &str,
        ambiguous: bool,
        retry_at: Option<Timestamp>,
        exception: Option<NewException>,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Puts a failed batch and its failed members back, due at `at`, with the attempts reset.
    /// Returns whether the batch was failed.
    async fn retry_batch(&self, key: &str, at: Timestamp) -> Result<bool, StoreError>;
}
