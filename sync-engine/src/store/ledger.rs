//! The ledger: which events were planned, the state changes they made, and the one atomic
//! transaction that commits a plan.

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::Value;

use super::{NewAction, NewException, StoreError};

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

/// The ledger of planned events and the state log.
///
/// [`commit_plan`](LedgerStore::commit_plan) writes across roles (the outbox and the exception
/// queue too) and must be atomic in every backend.
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
}
