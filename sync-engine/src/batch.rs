//! Batched cadence: inventory adjustments collected per location and posted to NetSuite as one
//! `inventoryAdjustment` every window, so that high volume stays inside the account's
//! governance.
//!
//! With adjustments batched (see [`crate::engine::Engine::with_cadence`]), the engine enqueues
//! each planned adjustment as usual but with `not_before` =
//! [`WAITING_FOR_BATCH`](crate::store::WAITING_FOR_BATCH), so the outbox never runs it. Every
//! window the [`Batcher`]:
//!
//! 1. reads the waiting adjustments, oldest first, and groups them by NetSuite location, account
//!    and transaction date (the header fields one adjustment can only have once);
//! 2. cuts each group into batches of at most `max_lines` members and **persists each batch's
//!    membership** before anything is sent, under a key derived from the member keys (the
//!    NetSuite `externalId` of the batch's record);
//! 3. posts each open batch: one line per member, in outbox order. Success completes the batch
//!    and every member with the record's id; an answer that never came leaves the batch
//!    `Ambiguous`, and the record is looked up by `eid:` before it is posted again; a rejection
//!    fails the batch and every member and raises one `action-failed` exception naming them.
//!
//! A batch that was persisted but not posted when the process stopped is resumed with the same
//! members and key on the next run; new adjustments go into new batches. Every member is still
//! an action in the ledger with the event that planned it, so a batch traces back to its source
//! events ([`crate::store::BatchStore::batch_members`]).
//!
//! Windows, due retries and completions are timed by the batcher's clock
//! ([`Batcher::with_clock`], the system clock by default; see [`crate::clock`]).
//!
//! Lines are kept one per member, not summed per item: each line carries its movement's memo
//! and its own lots and serials, so a NetSuite line maps to exactly one Clarus movement.
//!
//! ```no_run
//! # async fn demo(
//! #     store: std::sync::Arc<dyn sync_engine::store::Store>,
//! #     executor: sync_engine::netsuite::NetSuiteExecutor,
//! # ) {
//! use std::sync::Arc;
//! use sync_engine::batch::{BatchConfig, Batcher};
//! use sync_engine::config::Cadence;
//!
//! let cadence = Cadence::Batched { every_secs: 300, max_lines: 200 };
//! if let Some(config) = BatchConfig::from_cadence(cadence) {
//!     let batcher = Batcher::new(store, Arc::new(executor), config);
//!     // As a scheduled job of the service, or once by hand:
//!     let run = batcher.run(jiff::Timestamp::now()).await;
//! }
//! # }
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use sync_core::subject::ExceptionSubject;
use sync_core::{ActionType, ExceptionKind};

use async_trait::async_trait;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use sync_core::batching::BatchPolicy;
use sync_core::{Action, InventoryAdjustment, PlannedAction};

use crate::backoff::Backoff;
use crate::cadence::Cadence;
use crate::clock::{self, SharedClock};
use crate::engine::Engine;
use crate::job::Scheduled;
use crate::netsuite::NetSuiteExecutor;
use crate::outbox::{ExecutionError, OutboxConfig};
use crate::store::{
    ActionStatus, NewBatch, NewException, OutboxAction, Store, StoreError, StoredBatch,
};

/// The outbox kind of the actions this module batches.
pub const ADJUSTMENT_KIND: &str = ActionType::PostInventoryAdjustment.code();

/// How the [`Batcher`] batches and retries.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// Time between runs (the window).
    pub every: Duration,
    /// Lines (member actions) per NetSuite transaction, at least 1.
    pub max_lines: usize,
    /// The account's time zone: members are grouped by the civil date of their movement in it,
    /// because one adjustment has one transaction date. Default UTC.
    pub time_zone: TimeZone,
    /// Waiting actions read per run; the rest wait for the next run.
    pub scan_limit: usize,
    /// Attempts before a batch is given up and an exception raised.
    pub max_attempts: u32,
    /// First retry delay; doubled per attempt.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
}

impl BatchConfig {
    /// A batcher running every `every`, posting at most `max_lines` lines a transaction, with
    /// the outbox's default retries.
    pub fn new(every: Duration, max_lines: usize) -> Self {
        let retry = OutboxConfig::default();
        BatchConfig {
            every,
            max_lines: max_lines.max(1),
            time_zone: TimeZone::UTC,
            scan_limit: 10_000,
            max_attempts: retry.max_attempts,
            backoff_base: retry.backoff_base,
            backoff_max: retry.backoff_max,
        }
    }

    /// The configuration of a batched cadence; `None` for an immediate one.
    pub fn from_cadence(cadence: Cadence) -> Option<Self> {
        match cadence {
            Cadence::Immediate => None,
            Cadence::Batched {
                every_secs,
                max_lines,
            } => Some(Self::new(Duration::from_secs(every_secs), max_lines)),
        }
    }

    /// How waiting adjustments are grouped into batches, as the core decides.
    pub fn policy(&self) -> BatchPolicy {
        BatchPolicy {
            max_lines: self.max_lines,
            time_zone: self.time_zone.clone(),
        }
    }

    /// The backoff between attempts of a batch.
    fn backoff(&self) -> Backoff {
        Backoff::new(self.backoff_base, self.backoff_max)
    }
}

/// Posts a batch of adjustments as one NetSuite record. [`NetSuiteExecutor`] is the real one;
/// tests may use fakes.
#[async_trait]
pub trait AdjustmentPoster: Send + Sync + 'static {
    /// Posts one inventory adjustment with one line per adjustment (all of one location and
    /// account) under `external_id`; returns the record's id. A create refused because the
    /// external id is taken must be answered with the existing record's id.
    async fn post_adjustments(
        &self,
        external_id: &str,
        memo: &str,
        adjustments: &[InventoryAdjustment],
    ) -> Result<Option<String>, ExecutionError>;

    /// After an ambiguous attempt: the id of the record with this external id, if it exists.
    async fn find_adjustment(&self, external_id: &str) -> Result<Option<String>, ExecutionError>;
}

#[async_trait]
impl AdjustmentPoster for NetSuiteExecutor {
    async fn post_adjustments(
        &self,
        external_id: &str,
        memo: &str,
        adjustments: &[InventoryAdjustment],
    ) -> Result<Option<String>, ExecutionError> {
        NetSuiteExecutor::post_adjustments(self, external_id, memo, adjustments).await
    }

    async fn find_adjustment(&self, external_id: &str) -> Result<Option<String>, ExecutionError> {
        NetSuiteExecutor::find_adjustment(self, external_id).await
    }
}

/// What one run of the [`Batcher`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchRun {
    /// Batches formed (membership persisted).
    pub formed: usize,
    /// Batches completed (posted, or found posted after an ambiguous attempt).
    pub completed: usize,
    /// Batches to be tried again later.
    pub retrying: usize,
    /// Batches given up (rejected, or out of attempts).
    pub failed: usize,
    /// Waiting actions failed on their own because they cannot be a line (unreadable payload,
    /// zero quantity).
    pub rejected_actions: usize,
}

/// Forms batches of waiting inventory adjustments and posts them; a [`Scheduled`] job.
#[derive(Clone)]
pub struct Batcher {
    store: Arc<dyn Store>,
    poster: Arc<dyn AdjustmentPoster>,
    config: BatchConfig,
    clock: SharedClock,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Batcher {
    /// A batcher over a store and a poster.
    pub fn new(
        store: Arc<dyn Store>,
        poster: Arc<dyn AdjustmentPoster>,
        config: BatchConfig,
    ) -> Self {
        Batcher {
            store,
            poster,
            config,
            clock: clock::system(),
        }
    }

    /// Reads the time from `clock` (the system clock by default): the window's "now" when run
    /// as a scheduled job, when a retry is due again, when a batch was posted.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets up the adjustments' cadence at start-up; the batcher returned, if any, goes into the
    /// service's scheduled jobs. With `Batched`, that is a batcher with its window and line
    /// limit. With `Immediate`, adjustments an earlier batched run left waiting are handed back
    /// to the outbox, and a batcher is returned only if batches formed earlier are still open,
    /// to finish them (it forms no new ones, as nothing waits any more).
    pub async fn for_cadence(
        store: Arc<dyn Store>,
        poster: Arc<dyn AdjustmentPoster>,
        cadence: Cadence,
    ) -> Result<Option<Self>, StoreError> {
        Self::for_cadence_with_clock(store, poster, cadence, clock::system()).await
    }

    /// [`for_cadence`](Self::for_cadence) reading the time from `clock` (the batcher returned
    /// keeps it, see [`with_clock`](Self::with_clock)).
    pub async fn for_cadence_with_clock(
        store: Arc<dyn Store>,
        poster: Arc<dyn AdjustmentPoster>,
        cadence: Cadence,
        clock: SharedClock,
    ) -> Result<Option<Self>, StoreError> {
        match BatchConfig::from_cadence(cadence) {
            Some(config) => Ok(Some(Batcher::new(store, poster, config).with_clock(clock))),
            None => {
                let released = store.release_waiting(ADJUSTMENT_KIND, clock.now()).await?;
                if released > 0 {
                    tracing::info!(
                        released,
                        "adjustments waiting for a batch handed to the outbox"
                    );
                }
                if store.open_batches(ADJUSTMENT_KIND).await?.is_empty() {
                    return Ok(None);
                }
                let config = BatchConfig::new(Duration::from_secs(60), 1);
                Ok(Some(Batcher::new(store, poster, config).with_clock(clock)))
            }
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BatchConfig {
        &self.config
    }

    /// One window: forms batches of what is waiting, then posts every open batch that is due
    /// (those persisted by an earlier run first).
    pub async fn run(&self, now: Timestamp) -> Result<BatchRun, StoreError> {
        let mut run = BatchRun::default();
        let (formed, rejected) = self.form(now).await?;
        run.formed = formed.len();
        run.rejected_actions = rejected;
        let posted = self.post_due(now).await?;
        run.completed = posted.completed;
        run.retrying = posted.retrying;
        run.failed = posted.failed;
        Ok(run)
    }

    /// Forms batches of the waiting adjustments and persists their membership, posting
    /// nothing. Returns the keys of the batches formed and how many waiting actions were failed
    /// on their own.
    pub async fn form(&self, now: Timestamp) -> Result<(Vec<String>, usize), StoreError> {
        let waiting = self
            .store
            .waiting_for_batch(ADJUSTMENT_KIND, self.config.scan_limit)
            .await?;
        let mut rejected = 0;
        // Read every waiting action; what cannot be read is refused on its own.
        let mut readable = Vec::with_capacity(waiting.len());
        for action in &waiting {
            match read_adjustment(action) {
                Ok(a) => readable.push((action.action.key.as_str(), a)),
                Err(message) => {
                    self.reject_action(action, &message).await?;
                    rejected += 1;
                }
            }
        }
        // The core groups them (location, account, date; at most `max_lines` each).
        let plan = self
            .config
            .policy()
            .plan(readable.iter().map(|(k, a)| (*k, a)));
        let by_key: HashMap<&str, &OutboxAction> =
            waiting.iter().map(|a| (a.action.key.as_str(), a)).collect();
        for (key, why) in plan.refused {
            if let Some(action) = by_key.get(key.as_str()) {
                self.reject_action(action, &why.to_string()).await?;
                rejected += 1;
            }
        }
        let mut formed = Vec::new();
        for planned in plan.batches {
            let key = planned.key.as_str().to_owned();
            let lines = planned.members.len();
            let grouping = planned.grouping;
            let batch = NewBatch {
                key: key.clone(),
                kind: ADJUSTMENT_KIND.to_owned(),
                grouping: grouping.clone(),
                members: planned.members,
            };
            match self.store.create_batch(batch, now).await {
                Ok(()) => {
                    tracing::info!(batch = %key, lines, %grouping, "batch formed");
                    formed.push(key);
                }
                // Another batcher took a member first: what is left waits for the next run.
                Err(StoreError::BatchConflict { batch, action }) => {
                    tracing::warn!(%batch, %action, "batch not formed: a member was taken")
                }
                Err(e) => return Err(e),
            }
        }
        Ok((formed, rejected))
    }

    /// Posts every open batch that is due at `now`, oldest first.
    pub async fn post_due(&self, now: Timestamp) -> Result<BatchRun, StoreError> {
        let mut run = BatchRun::default();
        for batch in self.store.open_batches(ADJUSTMENT_KIND).await? {
            if batch.next_attempt_at > now {
                continue;
            }
            let span = tracing::info_span!("batch", key = %batch.batch.key);
            let _entered = span.enter();
            match self.post(&batch).await? {
                ActionStatus::Done => run.completed += 1,
                ActionStatus::Failed => run.failed += 1,
                ActionStatus::Pending | ActionStatus::Ambiguous => run.retrying += 1,
            }
        }
        Ok(run)
    }

    /// One attempt at one batch; returns where it stands after it.
    async fn post(&self, batch: &StoredBatch) -> Result<ActionStatus, StoreError> {
        let key = &batch.batch.key;
        let members = self.store.batch_members(key).await?;
        let mut adjustments = Vec::with_capacity(members.len());
        for member in &members {
            match read_adjustment(&member.action) {
                Ok(a) => adjustments.push(a),
                Err(message) => {
                    return self
                        .give_up(
                            batch,
                            &format!("member {}: {message}", member.action.action.key),
                        )
                        .await;
                }
            }
        }
        if adjustments.is_empty() {
            return self.give_up(batch, "the batch has no members").await;
        }
        if batch.status == ActionStatus::Ambiguous {
            match self.poster.find_adjustment(key).await {
                Ok(Some(id)) => {
                    tracing::info!(%id, "found the record of an ambiguous batch post");
                    self.store
                        .complete_batch(key, Some(id), self.clock.now())
                        .await?;
                    return Ok(ActionStatus::Done);
                }
                Ok(None) => {}
                Err(ExecutionError::Rejected(message)) => {
                    return self.give_up(batch, &message).await;
                }
                Err(e) => return self.retry_later(batch, e, true).await,
            }
        }
        self.store
            .begin_batch_attempt(key, self.clock.now())
            .await?;
        let memo = format!(
            "Clarus stock adjustments: {} movements ({})",
            adjustments.len(),
            batch.batch.grouping
        );
        match self.poster.post_adjustments(key, &memo, &adjustments).await {
            Ok(id) => {
                tracing::info!(id = ?id, lines = adjustments.len(), "batch posted");
                self.store.complete_batch(key, id, self.clock.now()).await?;
                Ok(ActionStatus::Done)
            }
            Err(ExecutionError::Rejected(message)) => self.give_up(batch, &message).await,
            Err(e) => {
                let ambiguous = matches!(e, ExecutionError::Ambiguous(_))
                    || batch.status == ActionStatus::Ambiguous;
                self.retry_later(batch, e, ambiguous).await
            }
        }
    }

    async fn retry_later(
        &self,
        batch: &StoredBatch,
        error: ExecutionError,
        ambiguous: bool,
    ) -> Result<ActionStatus, StoreError> {
        let key = &batch.batch.key;
        let attempts = batch.attempts + 1;
        if attempts >= self.config.max_attempts {
            let message = format!("gave up after {attempts} attempts: {error}");
            self.store
                .fail_batch(
                    key,
                    &message,
                    ambiguous,
                    None,
                    Some(batch_exception(batch, &message)),
                    self.clock.now(),
                )
                .await?;
            return Ok(ActionStatus::Failed);
        }
        let delay = self.config.backoff().jittered(attempts, key);
        let retry_at = self.clock.now() + SignedDuration::try_from(delay).unwrap_or_default();
        tracing::debug!(%error, ?delay, "batch post retried later");
        self.store
            .fail_batch(
                key,
                &error.to_string(),
                ambiguous,
                Some(retry_at),
                None,
                self.clock.now(),
            )
            .await?;
        Ok(if ambiguous {
            ActionStatus::Ambiguous
        } else {
            ActionStatus::Pending
        })
    }

    async fn give_up(
        &self,
        batch: &StoredBatch,
        message: &str,
    ) -> Result<ActionStatus, StoreError> {
        tracing::warn!(batch = %batch.batch.key, %message, "batch rejected");
        self.store
            .fail_batch(
                &batch.batch.key,
                message,
                false,
                None,
                Some(batch_exception(batch, message)),
                self.clock.now(),
            )
            .await?;
        Ok(ActionStatus::Failed)
    }

    /// Fails one waiting action that cannot be a line of any batch, with its own exception (as
    /// the outbox would have).
    async fn reject_action(&self, action: &OutboxAction, message: &str) -> Result<(), StoreError> {
        let key = &action.action.key;
        tracing::warn!(%key, %message, "waiting adjustment rejected");
        self.store
            .fail_action(key, message, false, None, self.clock.now())
            .await?;
        self.store
            .raise_exception(
                NewException::of(
                    ExceptionKind::ActionFailed {
                        action: ActionType::parse(&action.action.kind),
                    },
                    ExceptionSubject::Action(key.clone()).to_string(),
                    crate::engine::document_label(&action.action.document),
                    format!("{} {key} failed: {message}", action.action.kind),
                    serde_json::json!({ "action": key, "error": message }),
                ),
                self.clock.now(),
            )
            .await
    }
}

/// The adjustment of a waiting action, or why it cannot be a line.
fn read_adjustment(action: &OutboxAction) -> Result<InventoryAdjustment, String> {
    let planned: PlannedAction = serde_json::from_value(action.action.payload.clone())
        .map_err(|e| format!("stored action cannot be read: {e}"))?;
    match planned.action {
        Action::PostInventoryAdjustment(a) => Ok(a),
        other => Err(format!(
            "{} cannot be batched as an inventory adjustment",
            crate::engine::action_kind(&other)
        )),
    }
}

/// The one exception of a failed batch, naming every member.
fn batch_exception(batch: &StoredBatch, message: &str) -> NewException {
    let key = &batch.batch.key;
    let members = &batch.batch.members;
    NewException::of(
        ExceptionKind::ActionFailed {
            action: Some(ActionType::PostInventoryAdjustment),
        },
        ExceptionSubject::Batch(key.clone()).to_string(),
        format!(
            "inventory adjustment batch {key} ({})",
            batch.batch.grouping
        ),
        format!(
            "{ADJUSTMENT_KIND} batch {key} of {} actions ({}) failed: {message}",
            members.len(),
            members.join(", ")
        ),
        serde_json::json!({
            "batch": key,
            "grouping": batch.batch.grouping,
            "members": members,
            "error": message,
        }),
    )
}

#[async_trait]
impl Scheduled for Batcher {
    fn name(&self) -> &str {
        "adjustment-batches"
    }

    fn interval(&self) -> Duration {
        self.config.every
    }

    async fn run_once(&self, _engine: &Engine) -> Result<usize, crate::job::JobError> {
        let run = self
            .run(self.clock.now())
            .await
            .map_err(crate::job::JobError::of)?;
        Ok(run.completed + run.failed + run.rejected_actions)
    }
}
