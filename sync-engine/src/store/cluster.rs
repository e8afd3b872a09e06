//! Several instances on one database: leases (one leader per job), the instances alive, claims
//! on deliveries and actions (one instance works on each, and the work of a dead instance is
//! taken back when its claim expires), and the ledger head (plans committed on a state no other
//! instance has moved on from).
//!
//! A store serving one instance (SQLite) keeps the same semantics: the conformance suite runs the
//! same behaviours on every backend.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::{CommitOutcome, Delivery, OutboxAction, PlanCommit, StoreError};

/// A lease as recorded: who holds it and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The job the lease is for (`netsuite-poller`, `reconcile`, ...).
    pub name: String,
    /// The instance holding it.
    pub holder: String,
    /// When it stops being held unless renewed.
    pub expires_at: Timestamp,
    /// When the holder took it (renewals keep this time).
    pub acquired_at: Timestamp,
}

/// An instance of the engine as its heartbeats recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRecord {
    /// The instance's id.
    pub id: String,
    /// When it started.
    pub started_at: Timestamp,
    /// Its last heartbeat.
    pub last_seen: Timestamp,
}

/// Coordination between instances of the engine sharing one database.
///
/// Every time is the caller's (`now`, `until`): the store never reads the clock, so instances
/// must keep their clocks close (NTP); a lease's or a claim's length should be well above the
/// clock skew between them.
#[async_trait]
pub trait ClusterStore: Send + Sync {
    /// Takes the lease `name` for `holder` until `now + ttl`, atomically: when nobody holds it,
    /// when its holder's time ran out (`expires_at <= now`), or when `holder` already holds it
    /// (a renewal, which keeps `acquired_at`). Returns whether `holder` holds it now; `false`
    /// leaves another holder's lease untouched.
    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: SignedDuration,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Gives the lease up, if `holder` holds it (another holder's lease is left alone). Returns
    /// whether it was released.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool, StoreError>;
    /// The leases held at `now` (not expired), by name (status, readiness).
    async fn leases(&self, now: Timestamp) -> Result<Vec<Lease>, StoreError>;

    /// Records that `instance` (started at `started_at`) is alive at `now`.
    async fn heartbeat(
        &self,
        instance: &str,
        started_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// The instances seen at or after `since`, by id.
    async fn live_instances(&self, since: Timestamp) -> Result<Vec<InstanceRecord>, StoreError>;
    /// Forgets the instances last seen before `before`. Returns how many were forgotten.
    async fn forget_instances(&self, before: Timestamp) -> Result<u64, StoreError>;

    /// Deliveries to process, as [`unprocessed_deliveries`](super::DeliveryStore::unprocessed_deliveries)
    /// lists them (not processed, due at `now`, oldest first, at most `limit`) but without those
    /// another holder claimed until after `now`; the ones returned are claimed by `holder` until
    /// `until`. Marking a delivery processed or deferring it ends its claim; a claim that runs
    /// out (its holder died) lets another holder take the delivery.
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        limit: usize,
        holder: &str,
        until: Timestamp,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// Actions to run, as [`due_actions`](super::OutboxStore::due_actions) lists them (for each
    /// document its first action not yet done or failed, if due, oldest first) but without the
    /// documents whose first action another holder claimed until after `now`; the ones returned
    /// are claimed by `holder` until `until`. Completing or failing an action ends its claim.
    /// Only a lane's head is handed out, so a document's actions still run in order.
    async fn claim_due_actions(
        &self,
        now: Timestamp,
        limit: usize,
        holder: &str,
        until: Timestamp,
    ) -> Result<Vec<OutboxAction>, StoreError>;

    /// The position of the last state change in the state log (0 when nothing was ever
    /// written; the last position pruned when the whole log was pruned).
    async fn ledger_head(&self) -> Result<i64, StoreError>;
    /// The state changes after position `after`, in commit order, with their positions, at most
    /// `limit`: what another instance committed since this one last read.
    async fn state_log_since(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Value)>, StoreError>;
    /// [`commit_plan`](super::LedgerStore::commit_plan), provided the ledger head is still
    /// `expected_head` (the state the plan was made on): checked in the commit's transaction,
    /// commits serialised across instances. When another commit moved the head, nothing is
    /// written and [`CommitOutcome::Stale`] carries the head now.
    async fn commit_plan_at(
        &self,
        commit: PlanCommit,
        expected_head: i64,
    ) -> Result<CommitOutcome, StoreError>;
}

/// `now + ttl`, in milliseconds, saturating.
pub(super) fn expiry_millis(now: Timestamp, ttl: SignedDuration) -> i64 {
    let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    now.as_millisecond().saturating_add(ttl)
}
