//! The engine's planning and outbox against a fake executor: exactly-once effects across
//! duplicates, ambiguous failures, rejections and restarts, and two engines planning into one
//! store (SQLite, and PostgreSQL with the `postgres` feature).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rust_decimal::Decimal;
use sync_core::*;
use sync_engine::clock::{Clock, ManualClock};
use sync_engine::engine::{Engine, IngestOutcome};
use sync_engine::monitor::{STUCK_KIND, StuckConfig, StuckDetector};
use sync_engine::outbox::{ActionExecutor, ExecutionError, Outbox, OutboxConfig, backoff};
use sync_engine::service::Scheduled;
use sync_engine::store::{ActionStatus, Store};

use crate::support::events::{self, at as now, item, mappings};
#[cfg(feature = "postgres")]
use crate::support::store as store_support;
use crate::support::store::{action_keys, action_kinds, actions_of_kind, sqlite};

fn order(id: &str, sku: &str, item_id: &str, quantity: i64) -> Event {
    events::sales_order(id, "1", 3, item_id, sku, quantity)
}

fn despatch(goods_out: u64, order: &str, sku: &str, quantity: i64) -> Event {
    events::despatch(goods_out, order, 3, sku, quantity, quantity)
}

/// A fake target system: applies actions by key, and can be told to fail in given ways.
#[derive(Default)]
struct FakeSystem {
    applied: Mutex<HashMap<String, u32>>,
    /// Keys whose next attempt commits and then loses the reply.
    commit_then_fail: Mutex<Vec<String>>,
    /// Keys always rejected.
    rejected: Mutex<Vec<String>>,
    /// Keys refused (retryable) this many more times.
    refuse: Mutex<HashMap<String, u32>>,
    lookups: Mutex<u32>,
}

#[async_trait]
impl ActionExecutor for FakeSystem {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        let key = action.key.as_str().to_owned();
        if self.rejected.lock().unwrap().contains(&key) {
            return Err(ExecutionError::Rejected("INVALID_FLD_VALUE".into()));
        }
        if let Some(left) = self.refuse.lock().unwrap().get_mut(&key)
            && *left > 0
        {
            *left -= 1;
            return Err(ExecutionError::Retryable(
                "429 CONCURRENCY_LIMIT_EXCEEDED".into(),
            ));
        }
        *self.applied.lock().unwrap().entry(key.clone()).or_default() += 1;
        let mut ctf = self.commit_then_fail.lock().unwrap();
        if let Some(pos) = ctf.iter().position(|k| *k == key) {
            ctf.remove(pos);
            return Err(ExecutionError::Ambiguous(
                "connection reset after send".into(),
            ));
        }
        Ok(Some(format!("id-{key}")))
    }

    async fn find_applied(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        *self.lookups.lock().unwrap() += 1;
        let key = action.key.as_str();
        Ok(self
            .applied
            .lock()
            .unwrap()
            .contains_key(key)
            .then(|| format!("id-{key}")))
    }
}

fn fast() -> OutboxConfig {
    OutboxConfig {
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(5),
        ..OutboxConfig::default()
    }
}

async fn drain(outbox: &Outbox) {
    for _ in 0..200 {
        outbox.run_due().await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn duplicates_and_restarts_plan_nothing_new() {
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings()).await.unwrap();
    engine.ingest(&item("77", "MUG"), now()).await.unwrap();
    let planned = engine
        .ingest(&order("501", "MUG", "77", 5), now())
        .await
        .unwrap();
    assert_eq!(
        planned,
        IngestOutcome::Planned {
            actions: 1,
            exceptions: 0
        }
    );
    let first = engine
        .ingest(&despatch(9, "501", "MUG", 2), now())
        .await
        .unwrap();
    assert_eq!(
        first,
        IngestOutcome::Planned {
            actions: 1,
            exceptions: 0
        }
    );
    assert_eq!(
        engine
            .ingest(&despatch(9, "501", "MUG", 2), now())
            .await
            .unwrap(),
        IngestOutcome::Duplicate
    );

    // A restarted engine rebuilds its view from the store: the redelivery is still a duplicate.
    drop(engine);
    let engine = Engine::open(store.clone(), mappings()).await.unwrap();
    assert_eq!(
        engine
            .ingest(&despatch(9, "501", "MUG", 2), now())
            .await
            .unwrap(),
        IngestOutcome::Duplicate
    );
    let kinds = action_kinds(store.as_ref()).await;
    assert_eq!(
        kinds,
        ["create_product", "create_goods_out", "fulfil_sales_order"]
    );
}

#[tokio::test]
async fn an_unknown_sku_holds_the_order_until_the_item_appears() {
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings()).await.unwrap();
    let held = engine
        .ingest(&order("600", "NEW", "88", 1), now())
        .await
        .unwrap();
    assert!(
        matches!(
            held,
            IngestOutcome::Planned {
                actions: 0,
                exceptions: 1
            }
        ),
        "{held:?}"
    );
    let open = store.exceptions().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].exception.owner, "item_master");
    assert!(open[0].exception.runbook.starts_with("operations.md#"));

    engine.ingest(&item("88", "NEW"), now()).await.unwrap();
    let kinds = action_kinds(store.as_ref()).await;
    assert!(kinds.contains(&"create_goods_out".to_string()), "{kinds:?}");
    let exceptions = store.exceptions().await.unwrap();
    assert!(
        exceptions.iter().all(|e| e.resolved_at.is_some()),
        "{exceptions:?}"
    );
}

#[tokio::test]
async fn ambiguous_failures_are_looked_up_and_applied_once() {
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings()).await.unwrap();
    engine.ingest(&item("77", "MUG"), now()).await.unwrap();
    engine
        .ingest(&order("501", "MUG", "77", 5), now())
        .await
        .unwrap();
    engine
        .ingest(&despatch(9, "501", "MUG", 2), now())
        .await
        .unwrap();
    let fulfil = actions_of_kind(store.as_ref(), "fulfil_sales_order")
        .await
        .remove(0);

    let system = Arc::new(FakeSystem::default());
    system
        .commit_then_fail
        .lock()
        .unwrap()
        .push(fulfil.action.key.clone());
    let outbox = Outbox::new(store.clone(), system.clone(), fast());
    drain(&outbox).await;

    assert_eq!(system.applied.lock().unwrap()[&fulfil.action.key], 1);
    assert!(*system.lookups.lock().unwrap() >= 1);
    let done = store.action(&fulfil.action.key).await.unwrap().unwrap();
    assert_eq!(done.status, ActionStatus::Done);
    assert_eq!(done.result_id, Some(format!("id-{}", fulfil.action.key)));
}

#[tokio::test]
async fn a_crash_during_an_attempt_leads_to_a_look_up_not_a_resend() {
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings()).await.unwrap();
    engine.ingest(&item("77", "MUG"), now()).await.unwrap();
    let product = store.actions().await.unwrap()[0].action.key.clone();

    // The process sent the request (and the system applied it), then died before recording.
    let system = Arc::new(FakeSystem::default());
    system.applied.lock().unwrap().insert(product.clone(), 1);
    store.begin_attempt(&product).await.unwrap();

    let outbox = Outbox::new(store.clone(), system.clone(), fast());
    drain(&outbox).await;
    assert_eq!(system.applied.lock().unwrap()[&product], 1);
    assert_eq!(*system.lookups.lock().unwrap(), 1);
    assert_eq!(
        store.action(&product).await.unwrap().unwrap().status,
        ActionStatus::Done
    );
}

#[tokio::test]
async fn a_rejected_action_raises_an_exception_and_never_blocks_other_documents() {
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings()).await.unwrap();
    engine.ingest(&item("77", "MUG"), now()).await.unwrap();
    engine.ingest(&item("78", "CUP"), now()).await.unwrap();
    let keys = action_keys(store.as_ref()).await;

    let system = Arc::new(FakeSystem::default());
    system.rejected.lock().unwrap().push(keys[0].clone());
    system.refuse.lock().unwrap().insert(keys[1].clone(), 3);
    let outbox = Outbox::new(store.clone(), system.clone(), fast());
    drain(&outbox).await;

    assert_eq!(
        store.action(&keys[0]).await.unwrap().unwrap().status,
        ActionStatus::Failed
    );
    let second = store.action(&keys[1]).await.unwrap().unwrap();
    assert_eq!(second.status, ActionStatus::Done);
    assert_eq!(second.attempts, 4);
    let exceptions = store.exceptions().await.unwrap();
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].exception.kind, "action-failed");
    assert_eq!(exceptions[0].exception.owner, "item_master");
}

#[tokio::test]
async fn the_running_outbox_drains_and_stops_on_shutdown() {
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings()).await.unwrap();
    for i in 0..20 {
        engine
            .ingest(&item(&format!("{}", 100 + i), &format!("SKU{i}")), now())
            .await
            .unwrap();
    }
    let system = Arc::new(FakeSystem::default());
    let outbox = Outbox::new(store.clone(), system.clone(), fast());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move { outbox.run(stopped).await });
    for _ in 0..200 {
        if system.applied.lock().unwrap().len() == 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    assert_eq!(system.applied.lock().unwrap().len(), 20);
    assert!(
        store
            .actions()
            .await
            .unwrap()
            .iter()
            .all(|a| a.status == ActionStatus::Done)
    );
}

/// The engine's parts read time from the injected clock: a retry an hour away becomes due the
/// moment the clock passes it, not a second before, and without anyone waiting for it.
#[tokio::test]
async fn an_outbox_retry_becomes_due_when_the_injected_clock_passes_its_backoff() {
    let clock = ManualClock::new(now());
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings())
        .await
        .unwrap()
        .with_clock(clock.shared());
    engine
        .ingest(&item("77", "MUG"), engine.clock().now())
        .await
        .unwrap();
    let product = store.actions().await.unwrap()[0].action.key.clone();

    let system = Arc::new(FakeSystem::default());
    system.refuse.lock().unwrap().insert(product.clone(), 1);
    let config = OutboxConfig {
        backoff_base: Duration::from_secs(30 * 60),
        backoff_max: Duration::from_secs(2 * 60 * 60),
        ..OutboxConfig::default()
    };
    let outbox =
        Outbox::new(store.clone(), system.clone(), config.clone()).with_clock(clock.shared());

    // Refused once: retried after its backoff (between 30 min and 1 h for the first retry).
    assert_eq!(outbox.run_due().await.unwrap(), 1);
    let refused = store.action(&product).await.unwrap().unwrap();
    assert_eq!(
        (refused.status, refused.attempts),
        (ActionStatus::Pending, 1)
    );
    let delay = backoff(&config, 1, &product);
    assert!(delay >= Duration::from_secs(30 * 60), "{delay:?}");

    // Not due however often the outbox looks, until the clock is moved past the backoff.
    assert_eq!(outbox.run_due().await.unwrap(), 0);
    clock.advance(delay - Duration::from_secs(1));
    assert_eq!(outbox.run_due().await.unwrap(), 0);
    assert!(system.applied.lock().unwrap().is_empty());
    clock.advance(Duration::from_secs(1));
    assert_eq!(outbox.run_due().await.unwrap(), 1);

    assert_eq!(system.applied.lock().unwrap()[&product], 1);
    assert_eq!(
        store.action(&product).await.unwrap().unwrap().status,
        ActionStatus::Done
    );
    // Recorded at the injected time, not the system's.
    let record = store
        .action_records()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.key == product)
        .unwrap();
    assert_eq!(record.created_at, now());
    assert_eq!(record.updated_at, clock.now());
}

/// A scheduled job reads the engine's clock: an order that never reaches Clarus is stuck only
/// once the clock passes the 15-minute threshold, and the exception is resolved when the order
/// moves on.
#[tokio::test]
async fn a_document_becomes_stuck_only_when_the_engine_clock_passes_the_threshold() {
    let clock = ManualClock::new(now());
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings())
        .await
        .unwrap()
        .with_clock(clock.shared());
    engine
        .ingest(&item("77", "MUG"), engine.clock().now())
        .await
        .unwrap();
    engine
        .ingest(&order("501", "MUG", "77", 5), engine.clock().now())
        .await
        .unwrap();
    let detector = StuckDetector::new(StuckConfig::default());
    let open_stuck = || async {
        store
            .open_exceptions()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.exception.kind == STUCK_KIND)
            .count()
    };

    clock.advance(Duration::from_secs(899));
    assert_eq!(detector.run_once(&engine).await.unwrap(), 0);
    assert_eq!(open_stuck().await, 0);

    clock.advance(Duration::from_secs(1));
    assert_eq!(detector.run_once(&engine).await.unwrap(), 1);
    assert_eq!(open_stuck().await, 1);

    // The goods out is created (at the injected time): the order left the stage.
    let outbox = Outbox::new(store.clone(), Arc::new(FakeSystem::default()), fast())
        .with_clock(clock.shared());
    while outbox.run_due().await.unwrap() > 0 {}
    assert_eq!(detector.run_once(&engine).await.unwrap(), 1, "resolved");
    assert_eq!(open_stuck().await, 0);
}

/// Hangs on its first request (longer than any attempt may take), answers the next at once.
#[derive(Default)]
struct HangsOnce {
    calls: Mutex<u32>,
    lookups: Mutex<u32>,
}

#[async_trait]
impl ActionExecutor for HangsOnce {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        let first = {
            let mut calls = self.calls.lock().unwrap();
            *calls += 1;
            *calls == 1
        };
        if first {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Ok(Some(format!("id-{}", action.key)))
    }
    async fn find_applied(&self, _: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        *self.lookups.lock().unwrap() += 1;
        Ok(None)
    }
}

/// An attempt is cut before its claim could run out (so no other instance may take the action
/// while it is in flight), recorded as ambiguous: the next attempt looks the record up first.
#[tokio::test]
async fn an_attempt_longer_than_its_claim_allows_is_cut_and_looked_up_next() {
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings()).await.unwrap();
    engine.ingest(&item("77", "MUG"), now()).await.unwrap();
    let product = store.actions().await.unwrap()[0].action.key.clone();
    let system = Arc::new(HangsOnce::default());
    let outbox = Outbox::new(store.clone(), system.clone(), fast())
        .with_claim_ttl(Duration::from_millis(200))
        .with_holder("a");
    assert_eq!(outbox.attempt_deadline(), Duration::from_millis(160));

    let started = std::time::Instant::now();
    assert_eq!(outbox.run_due().await.unwrap(), 1);
    assert!(started.elapsed() < Duration::from_secs(5));
    let cut = store.action(&product).await.unwrap().unwrap();
    assert_eq!((cut.status, cut.attempts), (ActionStatus::Ambiguous, 1));
    assert!(
        cut.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("cut"),
        "{cut:?}"
    );

    drain(&outbox).await;
    let done = store.action(&product).await.unwrap().unwrap();
    assert_eq!(done.status, ActionStatus::Done);
    assert_eq!(*system.lookups.lock().unwrap(), 1);
    assert_eq!(*system.calls.lock().unwrap(), 2);
}

/// What a view knows, in a form two views can be compared by: per order, what was posted on
/// line 3; the open exceptions' keys.
async fn view_summary(engine: &Engine) -> (Vec<(String, Decimal)>, Vec<String>) {
    engine
        .with_state(|state| {
            let mut orders: Vec<(String, Decimal)> = state
                .orders()
                .map(|o| (o.order.order.to_string(), o.posted(LineNo(3))))
                .collect();
            orders.sort();
            let mut open: Vec<String> = state
                .open_exceptions()
                .map(|e| e.key.as_str().to_owned())
                .collect();
            open.sort();
            (orders, open)
        })
        .await
}

fn kinds_of(actions: &[sync_engine::store::OutboxAction]) -> Vec<String> {
    actions.iter().map(|a| a.action.kind.clone()).collect()
}

/// Two engines on one store, as two instances of `sync run` on one database: each plans on a
/// view that includes what the other committed, whichever planned last.
async fn two_engines_plan_on_each_others_commits(store_a: Arc<dyn Store>, store_b: Arc<dyn Store>) {
    // Both open on the empty store: B's view knows nothing of what A plans next.
    let a = Engine::open(store_a.clone(), mappings()).await.unwrap();
    let b = Engine::open(store_b.clone(), mappings()).await.unwrap();
    a.ingest(&item("77", "MUG"), now()).await.unwrap();
    assert_eq!(
        a.ingest(&order("501", "MUG", "77", 5), now())
            .await
            .unwrap(),
        IngestOutcome::Planned {
            actions: 1,
            exceptions: 0
        }
    );

    // B plans a despatch of A's order: a fulfilment, not an unknown order.
    assert_eq!(
        b.ingest(&despatch(9, "501", "MUG", 2), now())
            .await
            .unwrap(),
        IngestOutcome::Planned {
            actions: 1,
            exceptions: 0
        }
    );
    // A learns of B's despatch before planning: its redelivery is a duplicate, and a despatch
    // of 4 more is above what is still open (3), which it could not know from its own plans.
    assert_eq!(
        a.ingest(&despatch(9, "501", "MUG", 2), now())
            .await
            .unwrap(),
        IngestOutcome::Duplicate
    );
    let over = a
        .ingest(&despatch(10, "501", "MUG", 4), now())
        .await
        .unwrap();
    let open = store_a.open_exceptions().await.unwrap();
    assert!(
        open.iter()
            .any(|e| e.exception.kind == ExceptionKind::QuantityAboveOpen.code()),
        "{over:?} {open:?}"
    );
    // The rest of the order, despatched through B again.
    assert_eq!(
        b.ingest(&despatch(11, "501", "MUG", 3), now())
            .await
            .unwrap(),
        IngestOutcome::Planned {
            actions: 1,
            exceptions: 0
        }
    );
    assert_eq!(
        b.ingest(&order("501", "MUG", "77", 5), now())
            .await
            .unwrap(),
        IngestOutcome::Duplicate
    );

    let actions = store_a.actions().await.unwrap();
    assert_eq!(
        kinds_of(&actions),
        [
            "create_product",
            "create_goods_out",
            "fulfil_sales_order",
            "fulfil_sales_order"
        ]
    );
    // Both views are the log's, and agree with a view rebuilt from scratch.
    a.catch_up().await.unwrap();
    b.catch_up().await.unwrap();
    let head = store_a.ledger_head().await.unwrap();
    assert_eq!(a.applied_head().await, head);
    assert_eq!(b.applied_head().await, head);
    let fresh = Engine::open(store_b.clone(), mappings()).await.unwrap();
    let summary = view_summary(&fresh).await;
    assert_eq!(summary.0.len(), 1, "{summary:?}");
    assert_eq!(summary.0[0].1, Decimal::from(5), "{summary:?}");
    assert_eq!(view_summary(&a).await, summary);
    assert_eq!(view_summary(&b).await, summary);
}

/// Two engines given every event at once, racing: each event is planned by exactly one of them
/// (the other finds it a duplicate, before or after a stale commit), every commit lands once,
/// and both views end as the log's.
async fn two_engines_racing_plan_each_event_once(store_a: Arc<dyn Store>, store_b: Arc<dyn Store>) {
    const N: usize = 12;
    let a = Arc::new(Engine::open(store_a.clone(), mappings()).await.unwrap());
    let b = Arc::new(Engine::open(store_b.clone(), mappings()).await.unwrap());
    let phases: [Vec<Event>; 3] = [
        (0..N)
            .map(|i| item(&format!("{}", 100 + i), &format!("SKU{i}")))
            .collect(),
        (0..N)
            .map(|i| {
                order(
                    &format!("{}", 500 + i),
                    &format!("SKU{i}"),
                    &format!("{}", 100 + i),
                    5,
                )
            })
            .collect(),
        (0..N)
            .map(|i| {
                despatch(
                    900 + i as u64,
                    &format!("{}", 500 + i),
                    &format!("SKU{i}"),
                    2,
                )
            })
            .collect(),
    ];
    for events in phases {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, event) in events.into_iter().enumerate() {
            // Both engines get every event; which one is asked first alternates.
            let pair = if i.is_multiple_of(2) {
                [a.clone(), b.clone()]
            } else {
                [b.clone(), a.clone()]
            };
            for engine in pair {
                let event = event.clone();
                tasks.spawn(async move { (i, engine.ingest(&event, now()).await.unwrap()) });
            }
        }
        let mut outcomes: HashMap<usize, Vec<IngestOutcome>> = HashMap::new();
        while let Some(done) = tasks.join_next().await {
            let (i, outcome) = done.unwrap();
            outcomes.entry(i).or_default().push(outcome);
        }
        assert_eq!(outcomes.len(), N);
        for (i, pair) in outcomes {
            let planned = pair
                .iter()
                .filter(|o| {
                    matches!(
                        o,
                        IngestOutcome::Planned {
                            actions: 1,
                            exceptions: 0
                        }
                    )
                })
                .count();
            let duplicate = pair
                .iter()
                .filter(|o| **o == IngestOutcome::Duplicate)
                .count();
            assert_eq!((planned, duplicate), (1, 1), "event {i}: {pair:?}");
        }
    }
    let actions = store_a.actions().await.unwrap();
    for kind in ["create_product", "create_goods_out", "fulfil_sales_order"] {
        assert_eq!(
            actions.iter().filter(|a| a.action.kind == kind).count(),
            N,
            "{kind}: {:?}",
            kinds_of(&actions)
        );
    }
    assert_eq!(store_a.recorded_events().await.unwrap().len(), 3 * N);
    assert_eq!(store_b.state_log().await.unwrap().len(), 3 * N);
    let fresh = Engine::open(store_b.clone(), mappings()).await.unwrap();
    let summary = view_summary(&fresh).await;
    assert_eq!(summary.0.len(), N);
    assert!(
        summary
            .0
            .iter()
            .all(|(_, posted)| *posted == Decimal::from(2))
    );
    assert_eq!(view_summary(&a).await, summary);
    assert_eq!(view_summary(&b).await, summary);
}

/// A resolution made through one instance reaches the other's view without the other running
/// anything but its own planning.
async fn a_resolution_on_one_instance_reaches_the_other(
    store_a: Arc<dyn Store>,
    store_b: Arc<dyn Store>,
) {
    let a = Engine::open(store_a.clone(), mappings()).await.unwrap();
    let b = Engine::open(store_b.clone(), mappings()).await.unwrap();
    // An order for an unknown SKU: held, with an exception, in both views.
    a.ingest(&order("600", "NEW", "88", 1), now())
        .await
        .unwrap();
    let open = store_a.open_exceptions().await.unwrap();
    assert_eq!(open.len(), 1);
    let key = open[0].exception.key.clone();
    assert_eq!(view_summary(&b).await.1, vec![key.clone()]);
    // Resolved by a person through A: B's view learns it at its next catch-up.
    a.resolve_exception(&key, "handled by hand", now())
        .await
        .unwrap();
    assert!(view_summary(&a).await.1.is_empty());
    b.catch_up().await.unwrap();
    assert!(view_summary(&b).await.1.is_empty());
}

#[tokio::test]
async fn two_engines_on_one_sqlite_store_plan_on_each_others_commits() {
    let store = sqlite();
    two_engines_plan_on_each_others_commits(store.clone(), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_racing_on_one_sqlite_store_plan_each_event_once() {
    let store = sqlite();
    two_engines_racing_plan_each_event_once(store.clone(), store).await;
}

#[tokio::test]
async fn a_resolution_on_one_sqlite_instance_reaches_the_other() {
    let store = sqlite();
    a_resolution_on_one_instance_reaches_the_other(store.clone(), store).await;
}

/// The same, each engine with its own connection pool on one fresh PostgreSQL schema.
#[cfg(feature = "postgres")]
mod postgres {
    use super::*;

    #[tokio::test]
    async fn two_engines_on_one_postgres_store_plan_on_each_others_commits() {
        store_support::on_postgres_reopen(|reopen| async move {
            let (a, b) = (reopen.open().await, reopen.open().await);
            two_engines_plan_on_each_others_commits(a, b).await;
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_engines_racing_on_one_postgres_store_plan_each_event_once() {
        store_support::on_postgres_reopen(|reopen| async move {
            let (a, b) = (reopen.open().await, reopen.open().await);
            two_engines_racing_plan_each_event_once(a, b).await;
        })
        .await;
    }

    /// The cost of the version check: events planned per second by one engine, then by two
    /// engines on one schema at once (each its own pool), each event a new item. Run by hand:
    /// `cargo test -p sync-engine --features postgres --release --test it -- --ignored
    /// --nocapture engine::postgres::planning_throughput`; figures in docs/decisions/cluster.md.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    #[ignore = "a measurement, not a check"]
    async fn planning_throughput_one_and_two_engines() {
        const EVENTS: usize = 400;
        let items = |from: usize, n: usize| -> Vec<Event> {
            (from..from + n)
                .map(|i| item(&format!("{}", 10_000 + i), &format!("P{i}")))
                .collect()
        };
        store_support::on_postgres_reopen(|reopen| async move {
            let one = Arc::new(Engine::open(reopen.open().await, mappings()).await.unwrap());
            let started = std::time::Instant::now();
            for event in items(0, EVENTS) {
                one.ingest(&event, now()).await.unwrap();
            }
            let alone = EVENTS as f64 / started.elapsed().as_secs_f64();

            let two = [
                Arc::new(Engine::open(reopen.open().await, mappings()).await.unwrap()),
                Arc::new(Engine::open(reopen.open().await, mappings()).await.unwrap()),
            ];
            let started = std::time::Instant::now();
            let mut tasks = tokio::task::JoinSet::new();
            for (n, engine) in two.iter().enumerate() {
                let (engine, events) = (engine.clone(), items(EVENTS + n * EVENTS, EVENTS));
                tasks.spawn(async move {
                    for event in events {
                        engine.ingest(&event, now()).await.unwrap();
                    }
                });
            }
            while let Some(done) = tasks.join_next().await {
                done.unwrap();
            }
            let together = (2 * EVENTS) as f64 / started.elapsed().as_secs_f64();
            let stale: u64 = two.iter().map(|e| e.stale_commits()).sum();
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!(
                    "planning on PostgreSQL: one engine {alone:.0} events/s; two engines at \
                     once {together:.0} events/s together, {stale} plans made again\n"
                )
                .as_bytes(),
            );
        })
        .await;
    }

    #[tokio::test]
    async fn a_resolution_on_one_postgres_instance_reaches_the_other() {
        store_support::on_postgres_reopen(|reopen| async move {
            let (a, b) = (reopen.open().await, reopen.open().await);
            a_resolution_on_one_instance_reaches_the_other(a, b).await;
        })
        .await;
    }
}
