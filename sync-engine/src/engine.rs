//! The planning half of the engine: events in, durable plans out.
//!
//! [`Engine::ingest`] asks `sync-core` what an event means against the engine's view of what is
//! known, commits the resulting plan to the [`Store`] in one transaction, and only then applies it
//! to the in-memory view. At start-up the view is rebuilt by replaying the committed plans, so
//! the view after a restart is exactly the one before it.
//!
//! The engine carries the business clock ([`Engine::with_clock`], the system clock by default):
//! every part that works through an engine reads "now" from [`Engine::clock`] (see
//! [`crate::clock`]).

use std::sync::Arc;

use jiff::Timestamp;
use sync_core::{
    Action, DocumentRef, Event, Exception, IdempotencyKey, Mappings, MemoryState, OrderRef, Plan,
    PlannedAction, SourceId, plan, plan_order,
};
use tokio::sync::Mutex;

use crate::clock::{self, SharedClock};
use crate::config::{Cadence, CadenceSettings};
use crate::store::{
    CommitOutcome, NewAction, NewException, PlanCommit, Store, StoreError, WAITING_FOR_BATCH,
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
}

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

/// Short, stable name of an action kind, for the outbox and reports.
pub fn action_kind(action: &Action) -> &'static str {
    match action {
        Action::CreateProduct(_) => "create_product",
        Action::UpdateProduct(_) => "update_product",
        Action::CreateGoodsOut(_) => "create_goods_out",
        Action::CancelGoodsOut { .. } => "cancel_goods_out",
        Action::CreateGoodsIn(_) => "create_goods_in",
        Action::FulfilSalesOrder(_) => "fulfil_sales_order",
        Action::ReceivePurchaseOrder(_) => "receive_purchase_order",
        Action::ReceiveReturnAuthorisation(_) => "receive_return_authorisation",
        Action::PostInventoryAdjustment(_) => "post_inventory_adjustment",
        Action::MoveStock(_) => "move_stock",
        Action::RaiseException(_) => "raise_exception",
        Action::ResolveException { .. } => "resolve_exception",
    }
}

/// The deterministic key of an event's source identity, used to recognise a redelivery.
pub fn event_key(source: &SourceId) -> String {
    // serde_json of the identity is unambiguous (every part quoted) and stable.
    serde_json::to_string(source).unwrap_or_else(|_| format!("{source:?}"))
}

/// The key under which a document's actions are ordered in the outbox.
pub fn document_key(document: &DocumentRef) -> String {
    serde_json::to_string(document).unwrap_or_else(|_| document.to_string())
}

/// A document key (see [`document_key`]) as people read it: `SO 1001`, `item 77`, ...
pub fn document_label(key: &str) -> String {
    serde_json::from_str::<DocumentRef>(key)
        .map(|d| d.to_string())
        .unwrap_or_else(|_| key.to_owned())
}

/// The store's form of a core exception.
pub fn stored_exception(exception: &Exception) -> Result<NewException, serde_json::Error> {
    Ok(NewException {
        key: exception.key.as_str().to_owned(),
        kind: exception.kind.code().to_owned(),
        owner: serde_json::to_value(exception.owner)?
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        severity: serde_json::to_value(exception.severity)?
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        document: exception.document.to_string(),
        message: exception.message.clone(),
        runbook: exception.runbook.clone(),
        payload: serde_json::to_value(exception)?,
    })
}

/// Plans events and records the plans durably.
pub struct Engine {
    store: Arc<dyn Store>,
    mappings: Mappings,
    state: Mutex<MemoryState>,
    cadence: CadenceSettings,
    clock: SharedClock,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens the engine on a store, rebuilding the view from the committed plans and the
    /// exceptions people resolved since.
    pub async fn open(store: Arc<dyn Store>, mappings: Mappings) -> Result<Self, EngineError> {
        let mut state = MemoryState::new();
        for entry in store.state_log().await? {
            let plan: Plan = serde_json::from_value(entry)?;
            state.apply(&plan);
        }
        for stored in store.exceptions().await? {
            if stored.resolved_at.is_some()
                && let Ok(key) = IdempotencyKey::parse(stored.exception.key.clone())
            {
                state.resolve_exception(&key);
            }
        }
        Ok(Engine {
            store,
            mappings,
            state: Mutex::new(state),
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
    pub async fn ingest(
        &self,
        event: &Event,
        now: Timestamp,
    ) -> Result<IngestOutcome, EngineError> {
        let mut state = self.state.lock().await;
        let plan = plan(&*state, &self.mappings, event, now);
        let key = event_key(&event.source);
        if plan.is_empty() && !plan.blocked {
            return Ok(IngestOutcome::Duplicate);
        }
        let document = plan
            .actions
            .first()
            .map(|a| document_key(&a.document))
            .unwrap_or_else(|| event_key(&event.source));
        let outcome = self
            .commit(&plan, key, document, serde_json::to_value(event)?, now)
            .await?;
        if outcome == CommitOutcome::Duplicate {
            return Ok(IngestOutcome::Duplicate);
        }
        state.apply(&plan);
        Ok(summarise(&plan))
    }

    /// Plans an order again (after its exception was retried or a mapping fixed).
    pub async fn replan_order(
        &self,
        order: &OrderRef,
        now: Timestamp,
    ) -> Result<IngestOutcome, EngineError> {
        let mut state = self.state.lock().await;
        let plan = plan_order(&*state, &self.mappings, order, now);
        if plan.is_empty() {
            return Ok(IngestOutcome::Duplicate);
        }
        let key = format!("replan:{order}:{}", now.as_millisecond());
        let document = document_key(&DocumentRef::Order {
            order: order.clone(),
        });
        self.commit(
            &plan,
            key,
            document,
            serde_json::json!({"replan": order.to_string()}),
            now,
        )
        .await?;
        state.apply(&plan);
        Ok(summarise(&plan))
    }

    /// Marks an exception resolved by a person, in the store and in the view.
    pub async fn resolve_exception(
        &self,
        key: &str,
        note: &str,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        let mut state = self.state.lock().await;
        self.store.resolve_exception(key, note, now).await?;
        if let Ok(key) = IdempotencyKey::parse(key) {
            state.resolve_exception(&key);
        }
        Ok(())
    }

    /// Applies to the view a resolution already recorded in the store (by a person, from
    /// another process). Returns whether the exception was open in the view.
    pub async fn forget_exception(&self, key: &str) -> bool {
        let Ok(key) = IdempotencyKey::parse(key) else {
            return false;
        };
        self.state.lock().await.resolve_exception(&key).is_some()
    }

    /// Runs `f` with the current view (reports, drift: in-flight quantities).
    pub async fn with_state<T>(&self, f: impl FnOnce(&MemoryState) -> T) -> T {
        f(&*self.state.lock().await)
    }

    async fn commit(
        &self,
        plan: &Plan,
        event_key: String,
        document: String,
        event: serde_json::Value,
        now: Timestamp,
    ) -> Result<CommitOutcome, EngineError> {
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
        };
        Ok(self.store.commit_plan(commit).await?)
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
