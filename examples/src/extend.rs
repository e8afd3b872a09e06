//! Compiled samples of the guide's "Extend" section (`docs/guide.md`, section 5): a mapping
//! loaded from your own source, a rule checked by a unit test, an executor wrapped with an
//! approval step, a decoder and a scheduled job for another source, and the store the
//! configuration names handed to the engine.
//!
//! Each sample sits between `// ANCHOR: name` and `// ANCHOR_END: name` lines; the guide shows
//! every region verbatim, and a test of this crate (`tests/it/guide_samples.rs`) fails when the
//! guide and this file differ.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::json;
use sync_core::{
    Action, Despatch, DespatchLine, Event, GoodsOutId, IdempotencyKey, Item, LineNo, MappingError,
    MappingTables, Mappings, MemoryState, MovementId, MovementKind, Order, OrderLine, OrderRef,
    OrderStatus, Payload, Plan, PlannedAction, Revision, SourceId, StockMovement, System, Tracking,
    WarehouseId, plan,
};
use sync_engine::engine::{Engine, EngineError};
use sync_engine::job::{JobError, Scheduled};
use sync_engine::outbox::{ActionExecutor, ExecutionError};
use sync_engine::processor::{DecodeError, DeliveryDecoder};
use sync_engine::router::Router;
use sync_engine::store::{Delivery, NewDelivery, SqliteStore, Store, StoreError};
use sync_engine::store_location::{
    OpenStoreError, StoreLocation, StoreLocationError, StoreOptions, open_store,
};

// ANCHOR: mappings
/// Why mapping tables from your own source cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingSourceError {
    /// The document is not the JSON form of `MappingTables`.
    #[error("the mapping document cannot be read: {0}")]
    Unreadable(#[from] serde_json::Error),
    /// The tables contradict themselves (a location mapped twice, ...).
    #[error("the mapping tables are refused: {0}")]
    Refused(#[from] MappingError),
}

/// Mapping tables exported by your master-data service as JSON (the serde form of
/// [`MappingTables`]; a table left out is empty), validated by [`Mappings::new`].
pub fn mappings_from_json(document: &str) -> Result<Mappings, MappingSourceError> {
    let tables: MappingTables = serde_json::from_str(document)?;
    Ok(Mappings::new(tables)?)
}
// ANCHOR_END: mappings

// ANCHOR: rule
/// A NetSuite-side event at `now`: revision 1 of record `id`.
fn netsuite_event(id: &str, payload: Payload, now: Timestamp) -> Event {
    Event {
        source: SourceId {
            system: System::NetSuite,
            resource: "record".into(),
            id: id.into(),
            event: "updated".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: now,
        payload,
    }
}

/// The plan of a Clarus despatch of `despatched` red mugs against sales order 501 (5 ordered on
/// line 3), after the item and the order were planned: the starting point of a rule's test.
pub fn plan_despatch(mappings: &Mappings, despatched: Decimal, now: Timestamp) -> Plan {
    let mut state = MemoryState::new();
    let item = Item {
        netsuite_id: "77".into(),
        sku: "MUG-RED".into(),
        barcode: None,
        description: "Red mug".into(),
        tracking: Tracking::None,
        inactive: false,
    };
    let order = Order {
        order: OrderRef::sales("501"),
        tran_id: "SO1001".into(),
        status: OrderStatus::Open,
        location: "1".into(),
        ship_method: None,
        expected_date: None,
        lines: vec![OrderLine {
            line: LineNo(3),
            item: "77".into(),
            sku: "MUG-RED".into(),
            quantity: Decimal::from(5),
            quantity_done: Decimal::ZERO,
            closed: false,
        }],
    };
    for (id, payload) in [("77", Payload::Item(item)), ("501", Payload::Order(order))] {
        let known = plan(&state, mappings, &netsuite_event(id, payload, now), now);
        state.apply(&known);
    }
    let despatch = Event {
        source: SourceId {
            system: System::Clarus,
            resource: "goods_out".into(),
            id: "9".into(),
            event: "completed".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: now,
        payload: Payload::Despatch(Despatch {
            tenant: "acme".into(),
            goods_out: GoodsOutId(9),
            despatch: "1".into(),
            order: "501".into(),
            warehouse: WarehouseId(10),
            carrier: None,
            service: None,
            despatched_at: now,
            lines: vec![DespatchLine {
                order_line: LineNo(3),
                sku: "MUG-RED".into(),
                requested: despatched,
                quantity: despatched,
                lots: vec![],
                serials: vec![],
            }],
            packages: vec![],
        }),
    };
    plan(&state, mappings, &despatch, now)
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[test]
    fn a_despatch_fulfils_the_sales_order_once() {
        let mappings = mappings_from_json(r#"{"locations": [{"location": "1", "warehouse": 10}]}"#)
            .expect("valid tables");
        let now: Timestamp = "2026-11-27T09:00:00Z".parse().unwrap();
        let plan = plan_despatch(&mappings, Decimal::from(2), now);
        assert_eq!(plan.actions.len(), 1);
        assert_eq!(plan.actions[0].key.as_str(), "CLR-DESP-acme-9-1");
        let Action::FulfilSalesOrder(fulfilment) = &plan.actions[0].action else {
            panic!("expected a fulfilment, got {:?}", plan.actions[0].action);
        };
        assert_eq!(fulfilment.lines[0].quantity, Decimal::from(2));
    }
}
// ANCHOR_END: rule

// ANCHOR: approval
/// Holds NetSuite postings that move more than a limit until someone approves them; everything
/// else goes straight to the wrapped executor.
///
/// A held action answers [`ExecutionError::Retryable`], so the outbox keeps it and tries again
/// with its backoff. Each try counts as an attempt: an action still unapproved after
/// `OutboxConfig::max_attempts` raises the `action-failed` exception, and retrying that
/// exception after the approval sends it.
pub struct ApprovalGate {
    inner: Arc<dyn ActionExecutor>,
    limit: Decimal,
    approved: Mutex<HashSet<IdempotencyKey>>,
}

impl ApprovalGate {
    /// Wraps `inner`, holding postings of more than `limit` units.
    pub fn new(inner: Arc<dyn ActionExecutor>, limit: Decimal) -> Self {
        ApprovalGate {
            inner,
            limit,
            approved: Mutex::new(HashSet::new()),
        }
    }

    /// Lets the action with this idempotency key through on its next attempt.
    pub fn approve(&self, key: &IdempotencyKey) {
        self.approved
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key.clone());
    }

    fn is_approved(&self, key: &IdempotencyKey) -> bool {
        self.approved
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(key)
    }
}

/// The units a NetSuite posting moves; `None` for actions that post no stock.
pub fn posted_quantity(action: &Action) -> Option<Decimal> {
    match action {
        Action::FulfilSalesOrder(f) => Some(f.lines.iter().map(|l| l.quantity).sum()),
        Action::ReceivePurchaseOrder(r) | Action::ReceiveReturnAuthorisation(r) => {
            Some(r.lines.iter().map(|l| l.line.quantity).sum())
        }
        Action::PostInventoryAdjustment(a) => Some(a.quantity.abs()),
        Action::MoveStock(m) => Some(m.quantity),
        _ => None,
    }
}

#[async_trait]
impl ActionExecutor for ApprovalGate {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        if let Some(quantity) = posted_quantity(&action.action)
            && quantity > self.limit
            && !self.is_approved(&action.key)
        {
            return Err(ExecutionError::Retryable(
                format!(
                    "awaiting approval: {} moves {quantity}, above {}",
                    action.key.as_str(),
                    self.limit
                )
                .into(),
            ));
        }
        self.inner.execute(action).await
    }

    async fn find_applied(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        // A look-up follows an attempt that was sent, so it was approved: never held.
        self.inner.find_applied(action).await
    }
}

/// The outbox's executor with the gate in front of NetSuite: Clarus actions are not held.
pub fn gated_router(
    clarus: Arc<dyn ActionExecutor>,
    netsuite: Arc<dyn ActionExecutor>,
    limit: Decimal,
) -> (Router, Arc<ApprovalGate>) {
    let gate = Arc::new(ApprovalGate::new(netsuite, limit));
    (Router::new(clarus, gate.clone()), gate)
}
// ANCHOR_END: approval

// ANCHOR: source
/// The delivery source of count files.
pub const COUNT_FILE_SOURCE: &str = "count-file";

/// Decodes count files from a handheld counting app: one line per counted SKU,
/// `count_id,warehouse,sku,difference` (a signed difference from the expected quantity), read
/// as Clarus stock-check gains and losses. Deliveries from other sources go to `inner` (the
/// Clarus decoder in the assembled engine).
pub struct CountFileDecoder {
    /// The Clarus tenant the counts belong to.
    pub tenant: String,
    /// The decoder of every other source.
    pub inner: Arc<dyn DeliveryDecoder>,
}

#[async_trait]
impl DeliveryDecoder for CountFileDecoder {
    async fn decode(&self, delivery: &Delivery) -> Result<Vec<Event>, DecodeError> {
        if delivery.delivery.source != COUNT_FILE_SOURCE {
            return self.inner.decode(delivery).await;
        }
        let text = std::str::from_utf8(&delivery.delivery.body)
            .map_err(|_| DecodeError::Invalid("the count file is not UTF-8".into()))?;
        let mut events = Vec::new();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let bad = |what: &str| DecodeError::Invalid(format!("line {}: {what}", n + 1).into());
            let [id, warehouse, sku, difference] =
                line.split(',').map(str::trim).collect::<Vec<_>>()[..]
            else {
                return Err(bad("expected count_id,warehouse,sku,difference"));
            };
            let id: u64 = id.parse().map_err(|_| bad("count_id is not a number"))?;
            let warehouse: u64 = warehouse
                .parse()
                .map_err(|_| bad("warehouse is not a number"))?;
            let difference: Decimal = difference
                .parse()
                .map_err(|_| bad("difference is not a decimal"))?;
            if difference.is_zero() {
                continue;
            }
            let (kind, event) = if difference > Decimal::ZERO {
                (MovementKind::StockCheckGain, "stock_check_gain")
            } else {
                (MovementKind::StockCheckLoss, "stock_check_loss")
            };
            events.push(Event {
                source: SourceId {
                    system: System::Clarus,
                    resource: "stock_count".into(),
                    id: id.to_string().as_str().into(),
                    event: event.into(),
                    revision: Revision::Sequence(1),
                },
                occurred_at: delivery.delivery.received_at,
                payload: Payload::StockMovement(StockMovement {
                    tenant: self.tenant.as_str().into(),
                    id: MovementId(id),
                    kind,
                    warehouse: WarehouseId(warehouse),
                    sku: sku.into(),
                    quantity: difference.abs(),
                    reason: None,
                    lots: vec![],
                    serials: vec![],
                    occurred_at: delivery.delivery.received_at,
                }),
            });
        }
        Ok(events)
    }
}

/// Polls a drop folder for count files (`*.csv`), keeps each as a delivery for the processor
/// and moves it to `done/`. Runs on the cluster's leader only (the default).
pub struct CountFilePoll {
    /// The folder the counting app writes to.
    pub folder: PathBuf,
    /// How long to wait between looks.
    pub every: Duration,
}

#[async_trait]
impl Scheduled for CountFilePoll {
    fn name(&self) -> &str {
        "count-file-poll"
    }

    fn interval(&self) -> Duration {
        self.every
    }

    async fn run_once(&self, engine: &Engine) -> Result<usize, JobError> {
        let folder_error = |e: std::io::Error| JobError::context("count folder", e);
        let done = self.folder.join("done");
        std::fs::create_dir_all(&done).map_err(folder_error)?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.folder)
            .map_err(folder_error)?
            .filter_map(|entry| Some(entry.ok()?.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "csv"))
            .collect();
        files.sort();
        for path in &files {
            let body = std::fs::read(path).map_err(folder_error)?;
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let delivery = NewDelivery {
                source: COUNT_FILE_SOURCE.into(),
                received_at: engine.clock().now(),
                headers: json!({ "file": name }),
                body,
            };
            engine
                .store()
                .record_delivery(delivery)
                .await
                .map_err(|e| JobError::context(&format!("keeping {name}"), e))?;
            // Kept before it is moved: a crash in between records the file again, and the
            // ledger plans its events once.
            std::fs::rename(path, done.join(&name)).map_err(folder_error)?;
        }
        Ok(files.len())
    }
}
// ANCHOR_END: source

// ANCHOR: store
/// Why the configured store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenEngineError {
    /// The `store` value is neither a path nor a valid `postgres://` URL.
    #[error(transparent)]
    Location(#[from] StoreLocationError),
    /// The store could not be opened or migrated.
    #[error(transparent)]
    Open(#[from] OpenStoreError),
    /// A store failed (in-memory SQLite).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine could not rebuild its view from the store.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Opens the store the configuration's `store = "..."` names (a SQLite file, or a
/// `postgres://` URL when `sync-engine` is built with its `postgres` feature) and the engine
/// on it.
pub async fn open_engine(store: &str, mappings: Mappings) -> Result<Engine, OpenEngineError> {
    let location = StoreLocation::parse(store)?;
    let store = open_store(&location, &StoreOptions::default()).await?;
    Ok(Engine::open(store, mappings).await?)
}

/// The engine on a private in-memory SQLite store: for tests and dry runs. Any type
/// implementing [`Store`] is handed over the same way.
pub async fn in_memory_engine(mappings: Mappings) -> Result<Engine, OpenEngineError> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory()?);
    Ok(Engine::open(store, mappings).await?)
}
// ANCHOR_END: store
