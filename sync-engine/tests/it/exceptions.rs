//! The exception queue worked from outside the engine: retry requests carried out by the
//! running engine, resolutions reaching its view, and the audit trail of every step.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rust_decimal::Decimal;
use sync_core::*;
use sync_engine::engine::Engine;
use sync_engine::exceptions::{RequestHandler, RetryError, RetryWay, request_retry};
use sync_engine::outbox::{ActionExecutor, ExecutionError, Outbox, OutboxConfig};
use sync_engine::reconcile::{ReconcileSettings, reconcile};
use sync_engine::service::{JobError, Scheduled};
use sync_engine::store::{ActionStatus, NewException, Store};

use crate::support::events::{self, at as now, item};
use crate::support::store::sqlite;

/// Order `id` at `location`: 2 of `sku` on line 1.
fn order(id: &str, location: &str, sku: &str, item_id: &str) -> Event {
    events::sales_order(id, location, 1, item_id, sku, 2)
}

fn mappings(locations: &[&str]) -> Mappings {
    Mappings::new(MappingTables {
        locations: locations
            .iter()
            .zip(10..)
            .map(|(l, warehouse)| LocationMapping {
                location: (*l).into(),
                warehouse: WarehouseId(warehouse),
            })
            .collect(),
        ..MappingTables::default()
    })
    .unwrap()
}

/// Applies every action, except the keys it is told to reject.
#[derive(Default)]
struct Target {
    rejected: Mutex<HashSet<String>>,
}

#[async_trait]
impl ActionExecutor for Target {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        if self.rejected.lock().unwrap().contains(action.key.as_str()) {
            return Err(ExecutionError::Rejected("INVALID_FLD_VALUE".into()));
        }
        Ok(Some(format!("id-{}", action.key.as_str())))
    }

    async fn find_applied(&self, _: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        Ok(None)
    }
}

async fn drain(outbox: &Outbox) {
    for _ in 0..20 {
        outbox.run_due().await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Whether the exception `key` is resolved.
async fn resolved(store: &dyn Store, key: &str) -> bool {
    store
        .exception(key)
        .await
        .unwrap()
        .expect("the exception")
        .resolved_at
        .is_some()
}

fn changes(trail: &[sync_engine::store::AuditEntry]) -> Vec<&str> {
    trail.iter().map(|e| e.change.as_str()).collect()
}

/// An engine whose one action (item 77's product) the target rejected, raising an
/// `action-failed` exception.
struct Failed {
    store: Arc<dyn Store>,
    engine: Engine,
    system: Arc<Target>,
    outbox: Outbox,
    /// The failed action's key.
    action: String,
    /// Its exception's key.
    key: String,
}

async fn failed_action() -> Failed {
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings(&["1"])).await.unwrap();
    engine.ingest(&item("77", "MUG"), now()).await.unwrap();
    let action = store.actions().await.unwrap()[0].action.key.clone();
    let system = Arc::new(Target::default());
    system.rejected.lock().unwrap().insert(action.clone());
    let outbox = Outbox::new(store.clone(), system.clone(), OutboxConfig::default());
    drain(&outbox).await;
    let exception = store.exceptions().await.unwrap().remove(0);
    assert_eq!(exception.exception.kind, "action-failed");
    Failed {
        store,
        engine,
        system,
        outbox,
        action,
        key: exception.exception.key,
    }
}

#[tokio::test]
async fn a_retried_action_runs_again_and_the_trail_keeps_every_step() {
    let Failed {
        store,
        engine,
        system,
        outbox,
        action,
        key,
    } = failed_action().await;

    let way = request_retry(store.as_ref(), &key, Some("field fixed"), now())
        .await
        .unwrap();
    assert_eq!(
        way,
        RetryWay::RequeueAction {
            action: action.clone()
        }
    );
    assert_eq!(store.open_requests().await.unwrap().len(), 1);
    // Nothing happens until the engine handles the request.
    assert_eq!(
        store.action(&action).await.unwrap().unwrap().status,
        ActionStatus::Failed
    );

    system.rejected.lock().unwrap().clear();
    let handler = RequestHandler::new(None, Duration::from_secs(1));
    let done = handler.handle(&engine).await.unwrap();
    assert_eq!(done.retries.len(), 1);
    assert!(done.retries[0].1.contains("back in the outbox"), "{done:?}");
    assert!(store.open_requests().await.unwrap().is_empty());
    let requests = store.requests_for(&key).await.unwrap();
    assert!(requests[0].handled_at.is_some());
    assert_eq!(requests[0].note.as_deref(), Some("field fixed"));

    drain(&outbox).await;
    let after = store.action(&action).await.unwrap().unwrap();
    assert_eq!(after.status, ActionStatus::Done);
    assert!(resolved(store.as_ref(), &key).await);
    assert_eq!(
        changes(&store.exception_audit(&key).await.unwrap()),
        ["raised", "retry-requested", "resolved", "retried"]
    );
}

#[tokio::test]
async fn a_retry_that_fails_again_reopens_the_exception() {
    let Failed {
        store,
        engine,
        outbox,
        action,
        key,
        ..
    } = failed_action().await;

    request_retry(store.as_ref(), &key, None, now())
        .await
        .unwrap();
    RequestHandler::new(None, Duration::from_secs(1))
        .handle(&engine)
        .await
        .unwrap();
    drain(&outbox).await;

    assert!(
        !resolved(store.as_ref(), &key).await,
        "a second failure reopens it"
    );
    assert_eq!(
        changes(&store.exception_audit(&key).await.unwrap()),
        [
            "raised",
            "retry-requested",
            "resolved",
            "retried",
            "reopened"
        ]
    );
    assert_eq!(
        store.action(&action).await.unwrap().unwrap().status,
        ActionStatus::Failed
    );
}

#[tokio::test]
async fn retries_are_refused_for_unknown_resolved_and_unretryable_exceptions() {
    let store = sqlite();
    let invalid = NewException {
        key: "EX-NS-INVALID-salesOrder-7".into(),
        kind: "invalid-record".into(),
        owner: "integration".into(),
        severity: "error".into(),
        document: "NetSuite salesOrder 7".into(),
        message: "cannot be read".into(),
        runbook: "operations.md#invalid-record".into(),
        payload: serde_json::json!({}),
    };
    store.raise_exception(invalid.clone(), now()).await.unwrap();
    let resolved = NewException {
        key: "EX-DELIVERY-4".into(),
        kind: "invalid-delivery".into(),
        ..invalid
    };
    store.raise_exception(resolved, now()).await.unwrap();
    store
        .resolve_exception("EX-DELIVERY-4", "not needed", now())
        .await
        .unwrap();

    let s = store.as_ref();
    assert!(matches!(
        request_retry(s, "EX-NOPE", None, now()).await,
        Err(RetryError::NotFound(_))
    ));
    assert!(matches!(
        request_retry(s, "EX-DELIVERY-4", None, now()).await,
        Err(RetryError::Resolved(_))
    ));
    let refusal = request_retry(s, "EX-NS-INVALID-salesOrder-7", None, now())
        .await
        .unwrap_err();
    assert!(matches!(refusal, RetryError::NotRetryable { .. }));
    assert!(
        refusal
            .to_string()
            .contains("correct the record in NetSuite")
    );
    assert!(store.open_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_held_order_is_planned_again_once_its_mapping_is_fixed() {
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings(&["1"])).await.unwrap();
    engine.ingest(&item("77", "MUG"), now()).await.unwrap();
    engine
        .ingest(&order("500", "2", "MUG", "77"), now())
        .await
        .unwrap();
    let held = store.exceptions().await.unwrap();
    let exception = held
        .iter()
        .find(|e| e.exception.kind == "missing-location-mapping")
        .expect("the order is held for its location");
    let key = exception.exception.key.clone();
    assert!(
        !store
            .actions()
            .await
            .unwrap()
            .iter()
            .any(|a| a.action.kind == "create_goods_out")
    );

    // The mapping is added to the configuration and the engine restarted.
    drop(engine);
    let engine = Engine::open(store.clone(), mappings(&["1", "2"]))
        .await
        .unwrap();
    let way = request_retry(store.as_ref(), &key, None, now())
        .await
        .unwrap();
    assert!(matches!(way, RetryWay::ReplayDocument { .. }));
    let done = RequestHandler::new(None, Duration::from_secs(1))
        .handle(&engine)
        .await
        .unwrap();
    assert!(done.retries[0].1.contains("planned again"), "{done:?}");
    assert!(done.retries[0].1.ends_with("resolved"), "{done:?}");
    assert!(
        store
            .actions()
            .await
            .unwrap()
            .iter()
            .any(|a| a.action.kind == "create_goods_out")
    );
    assert!(resolved(store.as_ref(), &key).await);
}

#[tokio::test]
async fn a_resolution_made_from_outside_reaches_the_running_engine() {
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings(&["1"])).await.unwrap();
    engine
        .ingest(&order("500", "1", "GHOST", "99"), now())
        .await
        .unwrap();
    let open = engine.with_state(|s| s.open_exceptions().count()).await;
    assert_eq!(open, 1, "the order waits for an unknown SKU");
    let key = store.exceptions().await.unwrap()[0].exception.key.clone();

    // `sync exceptions resolve` writes to the store from another process.
    store
        .resolve_exception(&key, "item will not be stocked", now())
        .await
        .unwrap();
    let handler = RequestHandler::new(None, Duration::from_secs(1));
    let done = handler.handle(&engine).await.unwrap();
    assert_eq!(done.resolutions_applied, 1);
    assert_eq!(engine.with_state(|s| s.open_exceptions().count()).await, 0);
    // Seen once: the next pass applies nothing.
    assert_eq!(
        handler.handle(&engine).await.unwrap().resolutions_applied,
        0
    );
}

/// The reconciliation as the schedule runs it, against snapshots the test changes.
struct Snapshots {
    store: Arc<dyn Store>,
    clarus: Mutex<Decimal>,
    netsuite: Mutex<Decimal>,
    reads: Mutex<u32>,
}

impl Snapshots {
    fn row(quantity: Decimal) -> StockRow {
        StockRow {
            key: StockKey {
                sku: "MUG".into(),
                location: "1".into(),
                status: StockStatus::Available,
            },
            quantity,
        }
    }
}

#[async_trait]
impl Scheduled for Snapshots {
    fn name(&self) -> &str {
        "reconcile"
    }
    fn interval(&self) -> Duration {
        Duration::from_secs(60)
    }
    async fn run_once(&self, _: &Engine) -> Result<usize, JobError> {
        *self.reads.lock().unwrap() += 1;
        let clarus = vec![Self::row(*self.clarus.lock().unwrap())];
        let netsuite = vec![Self::row(*self.netsuite.lock().unwrap())];
        let settings = ReconcileSettings {
            thresholds: Thresholds {
                units: Decimal::ZERO,
                percent: Decimal::ZERO,
            },
            ..ReconcileSettings::default()
        };
        let run = reconcile(
            self.store.as_ref(),
            clarus,
            netsuite,
            None,
            &settings,
            now(),
        )
        .await
        .map_err(JobError::of)?;
        Ok(run.report.summary.positions)
    }
}

#[tokio::test]
async fn a_drift_retry_reads_stock_again_instead_of_replaying_old_figures() {
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings(&["1"])).await.unwrap();
    let snapshots = Arc::new(Snapshots {
        store: store.clone(),
        clarus: Mutex::new(Decimal::from(10)),
        netsuite: Mutex::new(Decimal::from(7)),
        reads: Mutex::new(0),
    });
    snapshots.run_once(&engine).await.unwrap();
    let first = store.exceptions().await.unwrap().remove(0);
    assert_eq!(first.exception.kind, "stock-drift");
    let key = first.exception.key.clone();

    // NetSuite moved on since: the retry must show today's figures.
    *snapshots.netsuite.lock().unwrap() = Decimal::from(9);
    let handler = RequestHandler::new(Some(snapshots.clone()), Duration::from_secs(1));
    request_retry(store.as_ref(), &key, None, now())
        .await
        .unwrap();
    let done = handler.handle(&engine).await.unwrap();
    assert!(done.retries[0].1.contains("still drifting"), "{done:?}");
    let second = store.exception(&key).await.unwrap().unwrap();
    assert!(second.resolved_at.is_none());
    assert_ne!(second.exception.message, first.exception.message);
    assert!(done.retries[0].1.contains(&second.exception.message));

    // Back in step: the retry closes it. Two requests in one pass read stock once.
    *snapshots.netsuite.lock().unwrap() = Decimal::from(10);
    request_retry(store.as_ref(), &key, None, now())
        .await
        .unwrap();
    request_retry(store.as_ref(), &key, None, now())
        .await
        .unwrap();
    let reads_before = *snapshots.reads.lock().unwrap();
    let done = handler.handle(&engine).await.unwrap();
    assert_eq!(*snapshots.reads.lock().unwrap(), reads_before + 1);
    assert!(done.retries[0].1.contains("back in step"), "{done:?}");
    assert!(
        done.retries[1].1.contains("resolved before the retry ran"),
        "{done:?}"
    );
    assert!(resolved(store.as_ref(), &key).await);
    let trail = changes(&store.exception_audit(&key).await.unwrap()).join(",");
    assert!(
        trail.starts_with("raised,retry-requested,updated,retried"),
        "{trail}"
    );
}
