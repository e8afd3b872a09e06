//! Durable state: the ledger of seen events, the outbox of actions, the exception queue,
//! watermarks and the drift history, behind the [`Store`] trait.
//!
//! The store is deliberately ignorant of the domain: payloads are JSON values that the engine
//! serialises from `sync-core` types. That keeps one schema for every backend (SQLite today,
//! PostgreSQL later) and lets a schema change in the core need no migration here.
//!
//! The one transaction that matters is [`Store::commit_plan`]: marking an event seen, appending the
//! state changes the core returned, enqueueing its actions and raising its exceptions happen
//! together or not at all, so a crash between any two steps cannot lose or double an action.

mod sqlite;

pub use sqlite::SqliteStore;

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::Value;

/// Errors from the durable store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused an operation.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// A stored JSON payload could not be read back.
    #[error("stored payload is not valid JSON: {0}")]
    Payload(#[from] serde_json::Error),
    /// The database file was written by a newer version of this crate.
    #[error("database schema version {found} is newer than this build knows ({known})")]
    SchemaTooNew {
        /// The version found in the file.
        found: i64,
        /// The newest version this build can migrate to.
        known: i64,
    },
    /// An action or exception that the caller named does not exist.
    #[error("{what} `{key}` not found")]
    NotFound {
        /// What was looked for ("action", "exception").
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// A batch could not be formed: a member is already in a batch or no longer waiting.
    #[error("batch `{batch}` cannot take action `{action}`: it is not waiting for a batch")]
    BatchConflict {
        /// The batch.
        batch: String,
        /// The action.
        action: String,
    },
    /// The blocking task running the query was cancelled or panicked.
    #[error("store task failed: {0}")]
    Task(String),
}

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

/// An exception to raise in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewException {
    /// Deterministic key: raising the same exception twice keeps one open row.
    pub key: String,
    /// Exception kind (`unknown_sku`, `over_despatch`, ...).
    pub kind: String,
    /// Who owns it (`operations`, `finance`, `item_master`, `integration`).
    pub owner: String,
    /// Severity as the core names it.
    pub severity: String,
    /// The document it concerns.
    pub document: String,
    /// A human message.
    pub message: String,
    /// Anchor into the operations guide.
    pub runbook: String,
    /// The full exception, serialised.
    pub payload: Value,
}

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

/// What [`Store::commit_plan`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The event was new; its plan is now durable.
    Committed,
    /// The event was seen before; nothing was written.
    Duplicate,
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
    fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Pending => "pending",
            ActionStatus::Ambiguous => "ambiguous",
            ActionStatus::Done => "done",
            ActionStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
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

/// An exception read back from the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredException {
    /// The exception as raised.
    pub exception: NewException,
    /// When it was first raised.
    pub raised_at: Timestamp,
    /// When it was resolved, if it was.
    pub resolved_at: Option<Timestamp>,
    /// The note given on resolution.
    pub resolution_note: Option<String>,
}

/// One entry of an exception's audit trail: every change to an exception is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the trail (increasing across all exceptions).
    pub seq: i64,
    /// The exception's key.
    pub key: String,
    /// When the change happened.
    pub at: Timestamp,
    /// What changed: `raised`, `updated`, `resolved`, `reopened`, `retry-requested`, `retried`.
    pub change: String,
    /// The note given with the change (a resolution note, a retry's outcome).
    pub note: Option<String>,
}

/// A request a person made about an exception from outside the running engine (the `sync`
/// command line), handled by the engine in order (see `crate::exceptions::RequestHandler`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRequest {
    /// Position in the request queue.
    pub seq: i64,
    /// The exception's key.
    pub key: String,
    /// What was asked (`retry`).
    pub request: String,
    /// The note given with the request.
    pub note: Option<String>,
    /// When it was asked.
    pub requested_at: Timestamp,
    /// When the engine handled it, once it did.
    pub handled_at: Option<Timestamp>,
    /// What handling it did, once handled.
    pub outcome: Option<String>,
}

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

/// Durable state of the engine. Implementations must make [`Store::commit_plan`] atomic.
#[async_trait]
pub trait Store: Send + Sync + 'static {
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
    /// Marks a delivery processed (its event was planned, or it was recorded as unusable).
    async fn mark_delivery_processed(
        &self,
        id: i64,
        note: Option<String>,
    ) -> Result<(), StoreError>;

    /// Commits a plan atomically, unless the event was seen before.
    async fn commit_plan(&self, commit: PlanCommit) -> Result<CommitOutcome, StoreError>;
    /// Whether an event with this key was committed.
    async fn event_seen(&self, event_key: &str) -> Result<bool, StoreError>;
    /// Every state change in commit order, to rebuild the core's state at start-up.
    async fn state_log(&self) -> Result<Vec<Value>, StoreError>;

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
    /// Records success with the target system's record id.
    async fn complete_action(
        &self,
        key: &str,
        result_id: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Records a failed attempt: retried at `retry_at`, or given up when `retry_at` is `None`.
    /// `ambiguous` says the request may have been applied without an answer.
    async fn fail_action(
        &self,
        key: &str,
        error: &str,
        ambiguous: bool,
        retry_at: Option<Timestamp>,
    ) -> Result<(), StoreError>;
    /// One action by key.
    async fn action(&self, key: &str) -> Result<Option<OutboxAction>, StoreError>;
    /// How many actions there are per kind and status (reports, quiescence checks).
    async fn action_counts(&self) -> Result<Vec<ActionCount>, StoreError>;
    /// Every action, in outbox order (reports and tests).
    async fn actions(&self) -> Result<Vec<OutboxAction>, StoreError>;
    /// Every action's timestamps and status, in outbox order, without payloads (monitoring).
    async fn action_records(&self) -> Result<Vec<ActionRecord>, StoreError>;
    /// Every event recorded in the ledger, in planning order (monitoring).
    async fn recorded_events(&self) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Raises an exception outside a plan (worker failures, stuck documents).
    async fn raise_exception(
        &self,
        exception: NewException,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Raises an exception, or refreshes an open one with the newest message and payload (the
    /// audit trail records an `updated` entry when the message changed).
    async fn refresh_exception(
        &self,
        exception: NewException,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Resolves an open exception with a note; resolving a resolved one changes nothing.
    async fn resolve_exception(
        &self,
        key: &str,
        note: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Every exception, open first, then by time raised.
    async fn exceptions(&self) -> Result<Vec<StoredException>, StoreError>;
    /// The open exceptions, by time raised (monitoring, alerts, reconciliation: the queue of
    /// what still needs someone, without the resolved history).
    async fn open_exceptions(&self) -> Result<Vec<StoredException>, StoreError>;
    /// One exception by key.
    async fn exception(&self, key: &str) -> Result<Option<StoredException>, StoreError>;
    /// The audit trail of one exception, oldest first.
    async fn exception_audit(&self, key: &str) -> Result<Vec<AuditEntry>, StoreError>;
    /// Audit entries of every exception after position `after_seq`, in order (a running
    /// engine learns from them what people changed from outside).
    async fn audit_since(&self, after_seq: i64) -> Result<Vec<AuditEntry>, StoreError>;
    /// Queues a request to retry an exception and records it in the audit trail. Fails with
    /// [`StoreError::NotFound`] when there is no such exception.
    async fn request_retry(
        &self,
        key: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<i64, StoreError>;
    /// Requests not handled yet, oldest first.
    async fn open_requests(&self) -> Result<Vec<ExceptionRequest>, StoreError>;
    /// Every request about one exception, oldest first.
    async fn requests_for(&self, key: &str) -> Result<Vec<ExceptionRequest>, StoreError>;
    /// Records what handling a request did, in the request and in the audit trail.
    async fn finish_request(
        &self,
        seq: i64,
        outcome: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Puts a failed action back in the outbox, due at `at`, with its attempts reset. Returns
    /// whether it was failed (an action that is pending, ambiguous or done is left alone).
    async fn retry_action(&self, key: &str, at: Timestamp) -> Result<bool, StoreError>;
    /// Puts a failed batch and its failed members back, due at `at`, with the attempts reset.
    /// Returns whether the batch was failed.
    async fn retry_batch(&self, key: &str, at: Timestamp) -> Result<bool, StoreError>;
    /// Makes every deferred delivery due at `at`. Returns how many were waiting.
    async fn wake_deferred_deliveries(&self, at: Timestamp) -> Result<u64, StoreError>;
    /// Hands a processed delivery back for processing at `at`. Returns whether it existed.
    async fn reprocess_delivery(&self, id: i64, at: Timestamp) -> Result<bool, StoreError>;

    /// Actions of `kind` waiting for a batch and not yet in one, oldest first.
    async fn waiting_for_batch(
        &self,
        kind: &str,
        limit: usize,
    ) -> Result<Vec<OutboxAction>, StoreError>;
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
    /// Records that the batch is about to be posted: until completed or failed, a crash leaves
    /// it `Ambiguous`, so its record is looked up before it is posted again.
    async fn begin_batch_attempt(&self, key: &str) -> Result<(), StoreError>;
    /// Records success: the batch and every member done with the record's id, in one
    /// transaction.
    async fn complete_batch(
        &self,
        key: &str,
        result_id: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Records a failed attempt: retried at `retry_at`, or given up when `retry_at` is `None`,
    /// in which case every member fails too and `exception` (if any) is raised in the same
    /// transaction.
    async fn fail_batch(
        &self,
        key: &str,
        error: &str,
        ambiguous: bool,
        retry_at: Option<Timestamp>,
        exception: Option<NewException>,
    ) -> Result<(), StoreError>;
    /// Hands actions of `kind` that wait for a batch (and are in none) back to the outbox, due
    /// at `now`: used when a flow's cadence is changed back to immediate. Returns how many.
    async fn release_waiting(&self, kind: &str, now: Timestamp) -> Result<u64, StoreError>;

    /// A named watermark (pollers: last `lastmodifieddate` seen).
    async fn watermark(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Sets a named watermark.
    async fn set_watermark(&self, name: &str, value: &str) -> Result<(), StoreError>;

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
