//! The outbox: actions planned for the other system, run in order per document.

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::Value;

use super::StoreError;

/// An action to enqueue in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAction {
    /// The deterministic idempotency key (also the NetSuite `externalId`).
    pub key: String,
    /// The document the action belongs to; actions of one document run in order.
    pub document: String,
    /// A short name of the action kind, for reports (`fulfil_sales_order`, ...).
    pub kind: String,
    /// The action itself, serialised.
    pub payload: Value,
    /// Earliest time to run it (batched flows run later than they are planned).
    pub not_before: Timestamp,
}

/// The state of an action in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatus {
    /// Waiting to run (or to be retried).
    Pending,
    /// The last attempt may have reached the server without an answer: look it up before resending.
    Ambiguous,
    /// Applied; the target system's id is recorded.
    Done,
    /// Given up after a permanent error; an exception says why.
    Failed,
}

impl ActionStatus {
    /// The name stored in the database.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Pending => "pending",
            ActionStatus::Ambiguous => "ambiguous",
            ActionStatus::Done => "done",
            ActionStatus::Failed => "failed",
        }
    }

    /// The status of a stored name.
    pub(super) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => ActionStatus::Pending,
            "ambiguous" => ActionStatus::Ambiguous,
            "done" => ActionStatus::Done,
            "failed" => ActionStatus::Failed,
            _ => return None,
        })
    }
}

/// An action read back from the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxAction {
    /// Position in the outbox; actions of one document run in this order.
    pub seq: i64,
    /// The action as it was enqueued.
    pub action: NewAction,
    /// Where it stands.
    pub status: ActionStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// The last error, if any attempt failed.
    pub last_error: Option<String>,
    /// The id of the record the action created or changed, once done.
    pub result_id: Option<String>,
}

/// Which actions [`OutboxStore::actions_page`] returns: every field set narrows the choice
/// (the default takes every action).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionFilter {
    /// Only actions in these statuses (any status when empty).
    pub statuses: Vec<ActionStatus>,
    /// Only actions of these kinds (any kind when empty).
    pub kinds: Vec<String>,
}

impl ActionFilter {
    /// The actions not yet done or failed (pending or ambiguous, those waiting for a batch
    /// included): the outbox's in-flight rows.
    pub fn unfinished() -> Self {
        ActionFilter {
            statuses: vec![ActionStatus::Pending, ActionStatus::Ambiguous],
            kinds: Vec::new(),
        }
    }
}

/// How many actions of one kind are in one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionCount {
    /// Action kind (`fulfil_sales_order`, ...).
    pub kind: String,
    /// Status.
    pub status: ActionStatus,
    /// Number of actions.
    pub count: u64,
}

/// An action's place in time: when it was planned and when its status last changed
/// (reports, monitoring). Carries no payload.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRecord {
    /// The action's key.
    pub key: String,
    /// The document the action belongs to.
    pub document: String,
    /// Action kind (`fulfil_sales_order`, ...).
    pub kind: String,
    /// Where it stands.
    pub status: ActionStatus,
    /// The key of the event whose plan enqueued it.
    pub event_key: String,
    /// When it was planned.
    pub created_at: Timestamp,
    /// When its status last changed (for a done action: when it was done).
    pub updated_at: Timestamp,
}

/// The outbox of actions (enqueued by [`LedgerStore::commit_plan`](super::LedgerStore::commit_plan)):
/// what is due, the attempts made and their outcome.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Actions that may run now: for each document, its first action not yet done or failed,
    /// if that action is due. Oldest documents first.
    async fn due_actions(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxAction>, StoreError>;
    /// Records that an attempt is about to be sent: until it is completed or failed, a crash
    /// leaves the action `Ambiguous`, so the record is looked up before anything is sent again.
    async fn begin_attempt(&self, key: &str) -> Result<(), StoreError>;
    /// Records success at `at` with the target system's record id.
    async fn complete_action(
        &self,
        key: &str,
        result_id: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Records a failed attempt at `at`: retried at `retry_at`, or given up when `retry_at` is
    /// `None`. `ambiguous` says the request may have been applied without an answer.
    async fn fail_action(
        &self,
        key: &str,
        error: &str,
        ambiguous: bool,
        retry_at: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Puts a failed action back in the outbox, due at `at`, with its attempts reset. Returns
    /// whether it was failed (an action that is pending, ambiguous or done is left alone).
    async fn retry_action(&self, key: &str, at: Timestamp) -> Result<bool, StoreError>;
    /// One action by key.
    async fn action(&self, key: &str) -> Result<Option<OutboxAction>, StoreError>;
    /// How many actions there are per kind and status (reports, quiescence checks).
    async fn action_counts(&self) -> Result<Vec<ActionCount>, StoreError>;
    /// At most `limit` actions matching `filter` whose position is after `after_seq`, in outbox
    /// order: a periodic reader pages through what it needs (the next page starts after the
    /// last `seq` read) instead of reading the whole outbox.
    async fn actions_page(
        &self,
        filter: &ActionFilter,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<OutboxAction>, StoreError>;
    /// Every action, in outbox order (reports and tests).
    async fn actions(&self) -> Result<Vec<OutboxAction>, StoreError>;
    /// Every action's timestamps and status, in outbox order, without payloads (monitoring).
    async fn action_records(&self) -> Result<Vec<ActionRecord>, StoreError>;
}
