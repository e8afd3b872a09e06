//! The ledger: which events were planned, the state changes they made, and the one atomic
//! transaction that commits a plan; snapshots of the planner's state and the retention of what
//! they make unnecessary; the lifecycle documents stuck detection reads, page by page.

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::Value;

use super::{ActionRecord, NewAction, NewException, StoreError};

/// Everything the core decided for one event, committed in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanCommit {
    /// The event's source identity, used to recognise a duplicate.
    pub event_key: String,
    /// Whether the event is now complete, so that a redelivery is a duplicate. A blocked event
    /// (retryable problem) is committed without being marked seen, and planned again later.
    pub mark_seen: bool,
    /// The document the event belongs to.
    pub document: String,
    /// The event itself, serialised, so a batch can be traced back to what made it.
    pub event: Value,
    /// When the engine planned it.
    pub planned_at: Timestamp,
    /// State changes to append to the state log.
    pub changes: Vec<Value>,
    /// Actions to enqueue.
    pub actions: Vec<NewAction>,
    /// Exceptions to raise.
    pub exceptions: Vec<NewException>,
    /// Exceptions (by key) that the event resolved.
    pub resolved_exceptions: Vec<String>,
    /// The lifecycle document the event belongs to (an order or a stock movement, as a document
    /// key; see [`crate::lifecycle`]), `None` for events outside any lifecycle (items, products).
    /// The commit records it with the event and clears the finished mark of it and of every
    /// document its actions are filed under (see [`LedgerStore::unfinished_documents`]).
    pub owner: Option<String>,
}

/// What [`LedgerStore::commit_plan`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The event was new; its plan is now durable.
    Committed,
    /// The event was seen before; nothing was written.
    Duplicate,
    /// Another commit moved the ledger head since the plan was made
    /// ([`ClusterStore::commit_plan_at`](super::ClusterStore::commit_plan_at)); nothing was
    /// written. `head` is the ledger head now: read the state log up to it and plan again.
    Stale {
        /// The ledger head at the time of the check.
        head: i64,
    },
}

/// An event as recorded in the ledger when its plan was committed (reports, monitoring).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// The event's source identity key.
    pub event_key: String,
    /// The document the event was committed under.
    pub document: String,
    /// The event itself, serialised (a re-plan records a small note instead of an event).
    pub event: Value,
    /// When the engine planned it.
    pub planned_at: Timestamp,
}

/// The planner's state saved at a position in the state log (see [`crate::snapshot`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSnapshot {
    /// The position in the state log of the last change the state reflects.
    pub head: i64,
    /// The version of the state's serialised form; a snapshot of another format is not read.
    pub format: u32,
    /// When it was taken.
    pub taken_at: Timestamp,
    /// The state, as JSON text.
    pub state: String,
}

/// A lifecycle document not known to be finished (see [`LedgerStore::unfinished_documents`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedDocument {
    /// Its document key.
    pub key: String,
    /// Bumped by every commit that touches it: marking it finished checks that it did not move.
    pub version: i64,
}

/// The ledger of planned events and the state log.
///
/// [`commit_plan`](LedgerStore::commit_plan) writes across roles (the outbox and the exception
/// queue too) and must be atomic in every backend.
///
/// # Snapshots and retention
///
/// [`save_snapshot`](LedgerStore::save_snapshot) keeps the planner's state at a position; the
/// state log up to the newest snapshot's position may then be pruned
/// ([`prune_state_log`](LedgerStore::prune_state_log)), oldest first, and the highest position
/// pruned is the [`state_log_horizon`](LedgerStore::state_log_horizon): a reader behind it
/// cannot catch up from the log and must load the newest snapshot.
///
/// # Lifecycle documents
///
/// Every commit records its event's lifecycle document ([`PlanCommit::owner`]) and clears the
/// finished mark of the documents it touches; stuck detection reads the documents not finished
/// ([`unfinished_documents`](LedgerStore::unfinished_documents)) a page at a time, their events
/// and actions, and marks finished those with nothing left to do
/// ([`finish_documents`](LedgerStore::finish_documents)). Recorded events of finished documents
/// may be pruned ([`prune_events`](LedgerStore::prune_events)).
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// Commits a plan atomically, unless the event was seen before: the event is marked seen
    /// (when `mark_seen`), its state changes appended, its actions enqueued (a key enqueued
    /// before is kept, not doubled), its exceptions raised and the exceptions it settled
    /// resolved, all in one transaction, at `planned_at`.
    async fn commit_plan(&self, commit: PlanCommit) -> Result<CommitOutcome, StoreError>;
    /// Whether an event with this key was committed.
    async fn event_seen(&self, event_key: &str) -> Result<bool, StoreError>;
    /// Every state change in commit order, to rebuild the core's state at start-up.
    async fn state_log(&self) -> Result<Vec<Value>, StoreError>;
    /// Every event recorded in the ledger, in planning order (monitoring).
    async fn recorded_events(&self) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Saves a snapshot (replacing one at the same position) and deletes the snapshots older
    /// than the one before it: the newest two are kept.
    async fn save_snapshot(&self, snapshot: StateSnapshot) -> Result<(), StoreError>;
    /// The newest snapshot, if any.
    async fn latest_snapshot(&self) -> Result<Option<StateSnapshot>, StoreError>;
    /// The position of the newest snapshot, if any (without reading the state).
    async fn snapshot_head(&self) -> Result<Option<i64>, StoreError>;
    /// The highest position pruned from the state log; 0 when nothing was.
    async fn state_log_horizon(&self) -> Result<i64, StoreError>;
    /// Deletes at most `limit` state-log entries from the oldest, stopping at the first entry
    /// recorded at or after `before` or beyond the newest snapshot's position (nothing without a
    /// snapshot): what is deleted is always a prefix of the log that the newest snapshot covers.
    /// Raises the horizon to the last position deleted. Returns how many were deleted.
    async fn prune_state_log(&self, before: Timestamp, limit: usize) -> Result<u64, StoreError>;
    /// Deletes at most `limit` recorded events planned before `before` whose lifecycle document
    /// is finished, or which belong to none (items, products), oldest first; then forgets
    /// finished documents with no event left. Events recorded before owners were kept (owner
    /// unknown) are never deleted. Returns how many events were deleted.
    async fn prune_events(&self, before: Timestamp, limit: usize) -> Result<u64, StoreError>;

    /// Lifecycle documents not marked finished, first seen at or before `seen_by`, with a key
    /// after `after`, in key order, at most `limit`.
    async fn unfinished_documents(
        &self,
        seen_by: Timestamp,
        after: &str,
        limit: usize,
    ) -> Result<Vec<WatchedDocument>, StoreError>;
    /// The recorded events of these lifecycle documents, in planning order.
    async fn document_events(&self, owners: &[String]) -> Result<Vec<RecordedEvent>, StoreError>;
    /// The outbox actions filed under one of `documents` or enqueued by one of `event_keys`, in
    /// the order they were enqueued.
    async fn document_actions(
        &self,
        documents: &[String],
        event_keys: &[String],
    ) -> Result<Vec<ActionRecord>, StoreError>;
    /// Marks these documents finished at `at`, each only if its version is still the one given
    /// (no commit touched it since it was read). Returns how many were marked.
    async fn finish_documents(
        &self,
        documents: &[WatchedDocument],
        at: Timestamp,
    ) -> Result<u64, StoreError>;
    /// At most `limit` recorded events whose lifecycle document is unknown (recorded before the
    /// store kept it), oldest first.
    async fn events_without_owner(&self, limit: usize) -> Result<Vec<RecordedEvent>, StoreError>;
    /// Records the lifecycle document of events recorded without one (`None`: the event belongs
    /// to none), registering each document as first seen at its event's planning time.
    async fn set_event_owners(&self, owners: &[(String, Option<String>)])
    -> Result<(), StoreError>;
}
