//! The planning half of the engine: events in, durable plans out.
//!
//! [`Engine::ingest`] asks `sync-core` what an event means against the engine's view of what is
//! known, commits the resulting plan to the [`Store`] in one transaction, and only then applies it
//! to the in-memory view. At start-up the view is rebuilt by replaying the committed plans, so
//! the view after a restart is exactly the one before it.
//!
//! # Several instances on one store
//!
//! Several engines may plan into one database (one per instance of `sync run`). Each keeps its
//! own view, plus the position in the state log of the last change it applied (its *applied
//! head*). Planning is serialised across instances by a version check, not by locks:
//!
//! 1. under the engine's mutex, the view *catches up*: the state log after the applied head is
//!    read ([`ClusterStore::state_log_since`](crate::store::ClusterStore::state_log_since)) and
//!    applied as [`Engine::open`] applies it, and resolutions people made since (the exception
//!    audit trail) are applied too;
//! 2. the event is planned on that view;
//! 3. the plan is committed only if the ledger head is still the applied head
//!    ([`ClusterStore::commit_plan_at`](crate::store::ClusterStore::commit_plan_at), checked in
//!    the commit's transaction, commits serialised database-wide). When another instance
//!    committed in between, nothing is written ([`CommitOutcome::Stale`]): the view catches up
//!    and the event is planned again, at most [`MAX_PLAN_ATTEMPTS`] times
//!    ([`EngineError::Contended`] after that).
//!
//! A committed plan is applied to the view at once and its state-log entry, which is the first
//! after the applied head (the check guarantees no commit came between), is skipped by the next
//! catch-up instead of being applied twice. A commit whose answer was lost (the store failed
//! after writing) is not applied locally: the next catch-up applies it from the log. Either way
//! the view is exactly the state log up to the applied head, so a plan is always made on a view
//! that includes every plan committed before it, whichever instance made it.
//!
//! Per-document locks would not be enough: planning one document reads others (the item master
//! and products an order names, an order a despatch fulfils), so any commit may change what
//! another document's plan should be.
//!
//! # Snapshots
//!
//! The view is saved now and then as a snapshot at its applied head ([`Engine::save_snapshot`],
//! run by [`crate::snapshot::SnapshotJob`]); [`Engine::open`] loads the newest snapshot and
//! applies only the state log after it, a page at a time. Once a snapshot covers them, old
//! entries of the log may be pruned ([`crate::retention`]); a view whose applied head is behind
//! the pruned part (an instance that read nothing for that long) cannot catch up from the log:
//! its catch-up notices the gap (the first entry after its head is missing, or the ledger head
//! is ahead and nothing follows) and loads the newest snapshot instead.
//!
//! The engine carries the business clock ([`Engine::with_clock`], the system clock by default):
//! every part that works through an engine reads "now" from [`Engine::clock`] (see
//! [`crate::clock`]).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;
use sync_core::{
    Action, DocumentRef, Event, Exception, IdempotencyKey, Mappings, MemoryState, OrderRef, Plan,
    PlannedAction, plan, plan_order,
};
use tokio::sync::Mutex;

use crate::cadence::{Cadence, CadenceSettings};
use crate::clock::{self, SharedClock};
use crate::lifecycle;
use crate::store::{
    CommitOutcome, ExceptionQuery, NewAction, NewException, PlanCommit, StateSnapshot, Store,
    StoreError, WAITING_FOR_BATCH,
};

/// Errors from planning and recording.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The durable store failed; nothing of the plan was applied.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A value could not be serialised for the store, or a stored plan could not be read back.
    #[error("plan (de)serialisation failed: {0}")]
    Serde(#[from] serde_json::Error),
    /// Other instances committed before every one of this engine's attempts to commit its plan
    /// (each planned again on the caught-up view); nothing was written. Try again later.
    #[error(
        "planning contended: other instances committed first {attempts} times in a row; \
         nothing was written"
    )]
    Contended {
        /// Attempts made.
        attempts: u32,
    },
    /// The state log was pruned up to `horizon` and no snapshot of a format this version reads
    /// covers it: the view cannot be rebuilt.
    #[error(
        "the state log was pruned up to position {horizon} and no readable snapshot covers it \
         (newest snapshot: {newest})"
    )]
    MissingSnapshot {
        /// The highest position pruned.
        horizon: i64,
        /// The newest snapshot's position and format, or `none`.
        newest: String,
    },
    /// The newest snapshot could not be read back while the state log it covers is pruned.
    #[error("the snapshot at position {head} could not be read")]
    UnreadableSnapshot {
        /// The snapshot's position.
        head: i64,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// How many times [`Engine::ingest`] and [`Engine::replan_order`] plan an event again after
/// another instance committed first, before giving up with [`EngineError::Contended`].
///
/// Between attempts the engine pauses a random time (up to 1 ms at first, doubling to 32 ms):
/// without it, an engine that lost once tends to lose every time against one planning flat out
/// (its catch-up makes its cycle longer than the winner's, so the winner's next commit always
/// lands in its window). With the pause each attempt has a fair chance; measured on
/// PostgreSQL, 20 attempts without a pause were not enough under two engines planning flat
/// out, see `docs/decisions/cluster-planning.md`.
pub const MAX_PLAN_ATTEMPTS: u32 = 50;

/// State-log entries read per round trip when the view catches up.
const CATCH_UP_PAGE: usize = 1000;

/// What [`Engine::ingest`] did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// The event was seen before: nothing planned.
    Duplicate,
    /// The event is planned and durable.
    Planned {
        /// Actions enqueued in the outbox.
        actions: usize,
        /// Exceptions raised.
        exceptions: usize,
    },
    /// The event could not be planned completely (a retryable problem, see its exceptions);
    /// it must be ingested again later.
    Blocked {
        /// Exceptions raised.
        exceptions: usize,
    },
}

pub use crate::keys::{action_kind, document_key, document_label, event_key};

/// The version of the snapshots' serialised state this engine writes and reads.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// The store's form of a core exception.
pub fn stored_exception(exception: &Exception) -> Result<NewException, serde_json::Error> {
    Ok(NewException {
        key: exception.key.as_str().to_owned(),
        kind: exception.kind.code().to_owned(),
        owner: exception.owner.code().to_owned(),
        severity: exception.severity.code().to_owned(),
        document: exception.document.to_string(),
        message: exception.message.clone(),
        runbook: exception.runbook.clone(),
        payload: serde_json::to_value(exception)?,
    })
}

/// The engine's view and how far in the store it reaches.
struct View {
    state: MemoryState,
    /// The position in the state log of the last change reflected in `state`.
    applied_head: i64,
    /// How many state-log entries right after `applied_head` this engine committed itself and
    /// already applied: the next catch-up skips them instead of applying them twice.
    own_ahead: usize,
    /// The position in the exception audit trail read so far.
    audit_seen: i64,
    /// The ledger head as last reported by a stale commit: when the log after the applied head
    /// reads empty although this is ahead, the entries in between were pruned.
    known_head: i64,
}

/// Plans events and records the plans durably.
pub struct Engine {
    store: Arc<dyn Store>,
    mappings: Mappings,
    view: Mutex<View>,
    stale_commits: AtomicU64,
    cadence: CadenceSettings,
    clock: SharedClock,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens the engine on a store, rebuilding the view from the newest snapshot, the committed
    /// plans after it (read a page at a time) and the exceptions people resolved since, and
    /// recording the ledger head it reached.
    pub async fn open(store: Arc<dyn Store>, mappings: Mappings) -> Result<Self, EngineError> {
        let mut view = View {
            state: MemoryState::new(),
            applied_head: 0,
            own_ahead: 0,
            audit_seen: 0,
            known_head: 0,
        };
        // The trail's position first: a resolution recorded after this read is applied again
        // by the first catch-up, which is harmless.
        let audit_seen = store.audit_head().await?;
        load_snapshot(&*store, &mut view).await?;
        catch_up_log(&*store, &mut view).await?;
        apply_resolved(&*store, &mut view.state).await?;
        view.audit_seen = audit_seen;
        Ok(Engine {
            store,
            mappings,
            view: Mutex::new(view),
            stale_commits: AtomicU64::new(0),
            cadence: CadenceSettings::default(),
            clock: clock::system(),
        })
    }

    /// Sets the cadence per flow (immediate by default). With adjustments `Batched`, planned
    /// inventory adjustments wait in the outbox for a [`crate::batch::Batcher`] instead of
    /// running one by one; the other flows are unaffected (despatches and receipts are always
    /// posted as planned, stock moves too).
    ///
    /// ```no_run
    /// # async fn demo(store: std::sync::Arc<dyn sync_engine::store::Store>, mappings: sync_core::Mappings)
    /// # -> Result<(), sync_engine::engine::EngineError> {
    /// use sync_engine::config::{Cadence, CadenceSettings};
    /// use sync_engine::engine::Engine;
    ///
    /// let cadence = CadenceSettings {
    ///     adjustments: Cadence::Batched { every_secs: 300, max_lines: 200 },
    ///     ..CadenceSettings::default()
    /// };
    /// let engine = Engine::open(store, mappings).await?.with_cadence(cadence);
    /// # Ok(()) }
    /// ```
    pub fn with_cadence(mut self, cadence: CadenceSettings) -> Self {
        self.cadence = cadence;
        self
    }

    /// Sets the clock the engine and everything working through it read the time from (the
    /// system clock by default). Tests and simulations give a [`ManualClock`] and move it.
    ///
    /// [`ManualClock`]: crate::clock::ManualClock
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use sync_engine::clock::ManualClock;
    /// use sync_engine::engine::Engine;
    /// use sync_engine::store::{SqliteStore, Store};
    ///
    /// let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory()?);
    /// let clock = ManualClock::new("2026-03-01T09:00:00Z".parse()?);
    /// let mappings = sync_core::Mappings::new(sync_core::MappingTables::default())?;
    /// let engine = Engine::open(store, mappings)
    ///     .await?
    ///     .with_clock(clock.shared());
    /// clock.advance(Duration::from_secs(60));
    /// assert_eq!(engine.clock().now(), "2026-03-01T09:01:00Z".parse::<jiff::Timestamp>()?);
    /// # Ok(()) }
    /// ```
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The business clock: the time every part working through this engine plans, records and
    /// compares by.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The cadence per flow.
    pub fn cadence(&self) -> &CadenceSettings {
        &self.cadence
    }

    /// When a planned action may first run: now, or never by the outbox when its flow is
    /// batched (a batcher takes it).
    fn not_before(&self, action: &Action, now: Timestamp) -> Timestamp {
        match (action, self.cadence.adjustments) {
            (Action::PostInventoryAdjustment(_), Cadence::Batched { .. }) => WAITING_FOR_BATCH,
            _ => now,
        }
    }

    /// The store the engine records into.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The mapping tables.
    pub fn mappings(&self) -> &Mappings {
        &self.mappings
    }

    /// Plans one event and records the plan. Safe to call with a redelivered event.
    ///
    /// The view first catches up with what other instances committed; when one of them commits
    /// between the plan and its commit, the event is planned again (see the module's
    /// documentation).
    pub async fn ingest(
        &self,
        event: &Event,
        now: Timestamp,
    ) -> Result<IngestOutcome, EngineError> {
        let mut view = self.view.lock().await;
        let key = event_key(&event.source);
        let recorded = serde_json::to_value(event)?;
        for attempt in 1..=MAX_PLAN_ATTEMPTS {
            self.catch_up_in(&mut view).await?;
            let plan = plan(&view.state, &self.mappings, event, now);
            if plan.is_empty() && !plan.blocked {
                return Ok(IngestOutcome::Duplicate);
            }
            let document = plan
                .actions
                .first()
                .map(|a| document_key(&a.document))
                .unwrap_or_else(|| key.clone());
            let commit = Commit {
                event_key: key.clone(),
                document,
                owner: lifecycle::owner_key(event),
                event: recorded.clone(),
            };
            match self.commit(&mut view, &plan, commit, now).await? {
                CommitOutcome::Committed => return Ok(summarise(&plan)),
                CommitOutcome::Duplicate => return Ok(IngestOutcome::Duplicate),
                CommitOutcome::Stale { head } => {
                    view.known_head = head;
                    tracing::debug!(%key, attempt, head, "another instance committed first; planning again");
                    stale_pause(attempt).await;
                }
            }
        }
        Err(EngineError::Contended {
            attempts: MAX_PLAN_ATTEMPTS,
        })
    }

    /// Plans an order again (after its exception was retried or a mapping fixed), on a view
    /// caught up with every instance's commits, like [`Engine::ingest`].
    pub async fn replan_order(
        &self,
        order: &OrderRef,
        now: Timestamp,
    ) -> Result<IngestOutcome, EngineError> {
        let mut view = self.view.lock().await;
        let key = format!("replan:{order}:{}", now.as_millisecond());
        let document = document_key(&DocumentRef::Order {
            order: order.clone(),
        });
        for attempt in 1..=MAX_PLAN_ATTEMPTS {
            self.catch_up_in(&mut view).await?;
            let plan = plan_order(&view.state, &self.mappings, order, now);
            if plan.is_empty() {
                return Ok(IngestOutcome::Duplicate);
            }
            let commit = Commit {
                event_key: key.clone(),
                document: document.clone(),
                owner: Some(document.clone()),
                event: serde_json::json!({"replan": order.to_string()}),
            };
            match self.commit(&mut view, &plan, commit, now).await? {
                // A re-plan of the same order at the same millisecond was committed already.
                CommitOutcome::Duplicate => return Ok(IngestOutcome::Duplicate),
                CommitOutcome::Committed => return Ok(summarise(&plan)),
                CommitOutcome::Stale { head } => {
                    view.known_head = head;
                    tracing::debug!(%order, attempt, head, "another instance committed first; planning again");
                    stale_pause(attempt).await;
                }
            }
        }
        Err(EngineError::Contended {
            attempts: MAX_PLAN_ATTEMPTS,
        })
    }

    /// Marks an exception resolved by a person, in the store and in the view.
    pub async fn resolve_exception(
        &self,
        key: &str,
        note: &str,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        let mut view = self.view.lock().await;
        self.store.resolve_exception(key, note, now).await?;
        if let Ok(key) = IdempotencyKey::parse(key) {
            view.state.resolve_exception(&key);
        }
        Ok(())
    }

    /// Applies to the view a resolution already recorded in the store (by a person, from
    /// another process). Returns whether the exception was open in the view.
    ///
    /// Every catch-up ([`Engine::catch_up`], and so every [`Engine::ingest`]) applies such
    /// resolutions from the audit trail already, on every instance.
    pub async fn forget_exception(&self, key: &str) -> bool {
        let Ok(key) = IdempotencyKey::parse(key) else {
            return false;
        };
        self.view
            .lock()
            .await
            .state
            .resolve_exception(&key)
            .is_some()
    }

    /// Runs `f` with the current view (reports, drift: in-flight quantities), caught up with
    /// what other instances committed first. A catch-up that fails is logged and `f` sees the
    /// view as it was.
    pub async fn with_state<T>(&self, f: impl FnOnce(&MemoryState) -> T) -> T {
        let mut view = self.view.lock().await;
        if let Err(e) = self.catch_up_in(&mut view).await {
            tracing::warn!(error = %e, "the view could not catch up with the store; using it as it is");
        }
        f(&view.state)
    }

    /// Brings the view up to date with the store: the state changes other instances committed
    /// since it last read, and the resolutions people made since (the exception audit trail).
    /// Returns how many state changes were applied. [`Engine::ingest`] does this before
    /// planning; an instance that plans nothing for a while may call it to keep its view fresh.
    pub async fn catch_up(&self) -> Result<usize, EngineError> {
        let mut view = self.view.lock().await;
        self.catch_up_in(&mut view).await
    }

    /// How many plans this engine made again because another instance committed first (since
    /// it opened): how contended planning is.
    pub fn stale_commits(&self) -> u64 {
        self.stale_commits.load(Ordering::Relaxed)
    }

    /// The position in the state log of the last change the view reflects.
    pub async fn applied_head(&self) -> i64 {
        self.view.lock().await.applied_head
    }

    /// Saves the view, caught up with the store, as a snapshot at its applied head (see the
    /// module's documentation); returns that position, or `None` when the log is empty.
    ///
    /// Planning waits while the view is serialised (not while the store writes it).
    pub async fn save_snapshot(&self) -> Result<Option<i64>, EngineError> {
        let (head, state) = {
            let mut view = self.view.lock().await;
            self.catch_up_in(&mut view).await?;
            // Caught up, the view is exactly the log up to its applied head.
            if view.applied_head == 0 || view.own_ahead != 0 {
                return Ok(None);
            }
            (view.applied_head, serde_json::to_string(&view.state)?)
        };
        self.store
            .save_snapshot(StateSnapshot {
                head,
                format: SNAPSHOT_FORMAT,
                taken_at: self.clock.now(),
                state,
            })
            .await?;
        Ok(Some(head))
    }

    async fn catch_up_in(&self, view: &mut View) -> Result<usize, EngineError> {
        let applied = catch_up_log(&*self.store, view).await?;
        self.catch_up_resolutions(view).await?;
        Ok(applied)
    }

    /// Applies the resolutions recorded in the audit trail since the last read, for exceptions
    /// still resolved now (a resolution followed by a reopening is not applied: the view has
    /// the reopening from the state log, or will have it at the next catch-up).
    async fn catch_up_resolutions(&self, view: &mut View) -> Result<(), EngineError> {
        let entries = self.store.audit_since(view.audit_seen).await?;
        let Some(last) = entries.last().map(|e| e.seq) else {
            return Ok(());
        };
        let resolved: BTreeSet<&str> = entries
            .iter()
            .filter(|e| e.change == "resolved")
            .map(|e| e.key.as_str())
            .collect();
        if resolved.len() > RESOLUTIONS_READ_ONE_BY_ONE {
            let keys: Vec<String> = resolved.iter().map(|k| (*k).to_owned()).collect();
            for chunk in keys.chunks(RESOLVED_PAGE) {
                let filter = ExceptionQuery {
                    open: Some(false),
                    keys: chunk.to_vec(),
                    ..ExceptionQuery::default()
                };
                for e in self
                    .store
                    .exceptions_page(&filter, None, chunk.len())
                    .await?
                {
                    forget(&mut view.state, &e.exception.key);
                }
            }
        } else {
            for key in resolved {
                if let Some(e) = self.store.exception(key).await?
                    && e.resolved_at.is_some()
                {
                    forget(&mut view.state, key);
                }
            }
        }
        view.audit_seen = last;
        Ok(())
    }

    /// Commits a plan made on `view` at its applied head; once committed, applies it to the
    /// view and notes that the next state-log entry is this engine's own.
    async fn commit(
        &self,
        view: &mut View,
        plan: &Plan,
        commit: Commit,
        now: Timestamp,
    ) -> Result<CommitOutcome, EngineError> {
        let Commit {
            event_key,
            document,
            owner,
            event,
        } = commit;
        let mut actions = Vec::new();
        let mut exceptions = Vec::new();
        let mut resolved = Vec::new();
        for planned in &plan.actions {
            match &planned.action {
                Action::RaiseException(exception) => exceptions.push(stored_exception(exception)?),
                Action::ResolveException { exception, .. } => {
                    resolved.push(exception.as_str().to_owned())
                }
                _ => actions.push(outbox_action(
                    planned,
                    self.not_before(&planned.action, now),
                )?),
            }
        }
        let commit = PlanCommit {
            event_key,
            mark_seen: !plan.blocked,
            document,
            event,
            planned_at: now,
            changes: vec![serde_json::to_value(plan)?],
            actions,
            exceptions,
            resolved_exceptions: resolved,
            owner,
        };
        let written = commit.changes.len();
        let outcome = self.store.commit_plan_at(commit, view.applied_head).await?;
        if matches!(outcome, CommitOutcome::Stale { .. }) {
            self.stale_commits.fetch_add(1, Ordering::Relaxed);
        }
        if outcome == CommitOutcome::Committed {
            // The check held: the entries right after the applied head are this commit's.
            debug_assert_eq!(
                view.own_ahead, 0,
                "committed on a view that had not caught up"
            );
            view.state.apply(plan);
            view.own_ahead += written;
        }
        Ok(outcome)
    }
}

/// What a plan is committed under.
struct Commit {
    event_key: String,
    document: String,
    owner: Option<String>,
    event: serde_json::Value,
}

/// A random pause after the `attempt`-th stale commit: up to 1 ms, doubling per attempt to at
/// most 32 ms, so that competing engines fall out of step (see [`MAX_PLAN_ATTEMPTS`]).
async fn stale_pause(attempt: u32) {
    let max_micros = 1000u64 << attempt.saturating_sub(1).min(5);
    // No random crate for this: the clock's nanoseconds, mixed, are random enough here.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    let mixed = u64::from(nanos).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    tokio::time::sleep(std::time::Duration::from_micros(mixed % max_micros)).await;
}

/// Above this many resolutions in one read of the audit trail, the exception queue is read
/// once instead of one exception at a time (the first catch-up after a long time).
const RESOLUTIONS_READ_ONE_BY_ONE: usize = 16;

/// Resolved exceptions read per page.
const RESOLVED_PAGE: usize = 500;

fn forget(state: &mut MemoryState, key: &str) {
    if let Ok(key) = IdempotencyKey::parse(key) {
        state.resolve_exception(&key);
    }
}

/// Sets `view` to the newest snapshot (an empty state at position 0 when there is none and
/// nothing was pruned). A snapshot that cannot be read is ignored while the whole log is still
/// there (it is applied from the start instead), and an error otherwise.
async fn load_snapshot(store: &dyn Store, view: &mut View) -> Result<(), EngineError> {
    let horizon = store.state_log_horizon().await?;
    let snapshot = store.latest_snapshot().await?;
    let newest = snapshot
        .as_ref()
        .map(|s| format!("position {} in format {}", s.head, s.format))
        .unwrap_or_else(|| "none".to_owned());
    let loaded = match snapshot {
        Some(s) if s.format == SNAPSHOT_FORMAT => {
            match serde_json::from_str::<MemoryState>(&s.state) {
                Ok(state) => Some((state, s.head)),
                Err(source) if horizon > 0 => {
                    return Err(EngineError::UnreadableSnapshot {
                        head: s.head,
                        source,
                    });
                }
                Err(error) => {
                    tracing::warn!(head = s.head, %error, "the snapshot could not be read; applying the whole state log instead");
                    None
                }
            }
        }
        _ => None,
    };
    let (state, head) = match loaded {
        Some((state, head)) if head >= horizon => (state, head),
        _ if horizon == 0 => (MemoryState::new(), 0),
        _ => return Err(EngineError::MissingSnapshot { horizon, newest }),
    };
    view.state = state;
    view.applied_head = head;
    view.own_ahead = 0;
    Ok(())
}

/// Applies to `state` every resolution people recorded (exceptions resolved now).
async fn apply_resolved(store: &dyn Store, state: &mut MemoryState) -> Result<(), EngineError> {
    // Only the resolved ones, page by page: the open queue is not read.
    let filter = ExceptionQuery {
        open: Some(false),
        ..ExceptionQuery::default()
    };
    let mut after = None;
    loop {
        let page = store
            .exceptions_page(&filter, after.as_ref(), RESOLVED_PAGE)
            .await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some(last.cursor());
        for stored in &page {
            forget(state, &stored.exception.key);
        }
    }
}

/// Applies to `view` the state log after its applied head, skipping the entries this engine
/// committed and applied itself. Returns how many entries were applied.
///
/// When the entries right after the applied head are missing, they may have been pruned: if the
/// store's horizon is past the applied head, the view is loaded again from the newest snapshot
/// (with the resolutions recorded since) and the log after it applied.
async fn catch_up_log(store: &dyn Store, view: &mut View) -> Result<usize, EngineError> {
    let mut applied = 0;
    let mut first = true;
    loop {
        let page = store
            .state_log_since(view.applied_head, CATCH_UP_PAGE)
            .await?;
        if std::mem::take(&mut first) {
            let gap = match page.first() {
                Some((seq, _)) => *seq > view.applied_head + 1,
                None => view.known_head > view.applied_head,
            };
            if gap && store.state_log_horizon().await? > view.applied_head {
                tracing::info!(
                    applied_head = view.applied_head,
                    "the state log after the view was pruned; loading the newest snapshot"
                );
                load_snapshot(store, view).await?;
                apply_resolved(store, &mut view.state).await?;
                applied += 1;
                continue;
            }
        }
        let full = page.len() == CATCH_UP_PAGE;
        for (seq, entry) in page {
            if view.own_ahead > 0 {
                view.own_ahead -= 1;
            } else {
                let plan: Plan = serde_json::from_value(entry)?;
                view.state.apply(&plan);
                applied += 1;
            }
            view.applied_head = seq;
        }
        if !full {
            return Ok(applied);
        }
    }
}

fn outbox_action(
    planned: &PlannedAction,
    not_before: Timestamp,
) -> Result<NewAction, serde_json::Error> {
    Ok(NewAction {
        key: planned.key.as_str().to_owned(),
        document: document_key(&planned.document),
        kind: action_kind(&planned.action).to_owned(),
        payload: serde_json::to_value(planned)?,
        not_before,
    })
}

fn summarise(plan: &Plan) -> IngestOutcome {
    let exceptions = plan
        .actions
        .iter()
        .filter(|a| matches!(a.action, Action::RaiseException(_)))
        .count();
    if plan.blocked {
        IngestOutcome::Blocked { exceptions }
    } else {
        IngestOutcome::Planned {
            actions: plan.actions.len()
                - exceptions
                - plan
                    .actions
                    .iter()
                    .filter(|a| matches!(a.action, Action::ResolveException { .. }))
                    .count(),
            exceptions,
        }
    }
}
