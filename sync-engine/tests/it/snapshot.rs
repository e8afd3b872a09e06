//! Snapshots and history retention through the engine: a view loaded from a snapshot and the
//! log after it is the view a full replay gives (and the view of the engine that planned it
//! all), on random days of items, orders, despatches, held orders and resolutions; pruning the
//! state log and the events leaves start-up and a lagging instance's catch-up exact.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use rust_decimal::Decimal;
use sync_core::*;
use sync_engine::engine::{Engine, EngineError};
use sync_engine::retention::prune_history;
use sync_engine::store::{SqliteStore, StateSnapshot, Store};

use crate::support::events::{at as now, mappings};
#[cfg(feature = "postgres")]
use crate::support::store as store_support;
use crate::support::store::sqlite;

fn source(system: System, resource: &str, id: &str, revision: u64) -> SourceId {
    SourceId {
        system,
        resource: resource.into(),
        id: id.into(),
        event: "updated".into(),
        revision: Revision::Sequence(revision),
    }
}

fn item(n: u64, revision: u64) -> Event {
    Event {
        source: source(System::NetSuite, "item", &format!("{}", 100 + n), revision),
        occurred_at: now(),
        payload: Payload::Item(Item {
            netsuite_id: format!("{}", 100 + n).as_str().into(),
            sku: format!("SKU{n}").as_str().into(),
            barcode: None,
            description: format!("item {n} rev {revision}"),
            tracking: Tracking::None,
            inactive: false,
        }),
    }
}

fn order(n: u64, sku: u64, quantity: i64) -> Event {
    let id = format!("{}", 500 + n);
    Event {
        source: source(System::NetSuite, "salesorder", &id, 1),
        occurred_at: now(),
        payload: Payload::Order(Order {
            order: OrderRef::sales(id.as_str()),
            tran_id: format!("SO{id}"),
            status: OrderStatus::Open,
            location: "1".into(),
            ship_method: None,
            expected_date: None,
            lines: vec![OrderLine {
                line: LineNo(1),
                item: format!("{}", 100 + sku).as_str().into(),
                sku: format!("SKU{sku}").as_str().into(),
                quantity: Decimal::from(quantity),
                quantity_done: Decimal::ZERO,
                closed: false,
            }],
        }),
    }
}

fn despatch(goods_out: u64, n: u64, sku: u64, quantity: i64) -> Event {
    Event {
        source: source(System::Clarus, "goods_out", &goods_out.to_string(), 1),
        occurred_at: now(),
        payload: Payload::Despatch(Despatch {
            tenant: "acme".into(),
            goods_out: GoodsOutId(goods_out),
            despatch: "1".into(),
            order: format!("{}", 500 + n).as_str().into(),
            warehouse: WarehouseId(10),
            carrier: None,
            service: None,
            despatched_at: now(),
            lines: vec![DespatchLine {
                order_line: LineNo(1),
                sku: format!("SKU{sku}").as_str().into(),
                requested: Decimal::from(quantity),
                quantity: Decimal::from(quantity),
                lots: vec![],
                serials: vec![],
            }],
            packages: vec![],
        }),
    }
}

/// A small deterministic generator (no dependency for it).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// One step of a random day: a new or revised item, an order (sometimes for an item not known
/// yet: held, an exception raised), a despatch of an earlier order (sometimes more than is
/// open: an exception), a redelivery, or a person resolving an open exception.
async fn random_step(engine: &Engine, rng: &mut Lcg, step: u64, at: Timestamp) {
    let event = match rng.below(6) {
        0 => item(rng.below(12), 1 + rng.below(3)),
        1 | 2 => order(step, rng.below(14), 1 + rng.below(9) as i64),
        3 | 4 => {
            let n = rng.below(step.max(1));
            despatch(1_000 + step, n, rng.below(14), 1 + rng.below(6) as i64)
        }
        _ => {
            let open = engine.store().open_exceptions().await.unwrap();
            if let Some(e) = open.get(rng.below(open.len().max(1) as u64) as usize) {
                engine
                    .resolve_exception(&e.exception.key, "handled", at)
                    .await
                    .unwrap();
                return;
            }
            item(0, 1)
        }
    };
    engine.ingest(&event, at).await.unwrap();
}

async fn state(engine: &Engine) -> MemoryState {
    engine.with_state(MemoryState::clone).await
}

/// A random day on `store` with a snapshot taken at a random point: the engine that planned it
/// all, an engine that caught up from the log alone (opened on the empty store), and an engine
/// opened from the snapshot and the log after it hold the same state.
async fn a_restart_from_a_snapshot_gives_the_full_replays_state(store: Arc<dyn Store>, seed: u64) {
    let mut rng = Lcg(seed);
    let replaying = Engine::open(store.clone(), mappings()).await.unwrap();
    let live = Engine::open(store.clone(), mappings()).await.unwrap();
    let steps = 60 + rng.below(60);
    let snapshot_at = rng.below(steps);
    for step in 0..steps {
        if step == snapshot_at {
            assert!(live.save_snapshot().await.unwrap().is_some());
        }
        random_step(&live, &mut rng, step, now()).await;
    }
    replaying.catch_up().await.unwrap();
    let reference = state(&live).await;
    assert_eq!(state(&replaying).await, reference, "seed {seed}");
    let head = store.snapshot_head().await.unwrap().unwrap();
    assert!(head <= store.ledger_head().await.unwrap());
    let restarted = Engine::open(store.clone(), mappings()).await.unwrap();
    assert_eq!(state(&restarted).await, reference, "seed {seed}");
    assert_eq!(
        restarted.applied_head().await,
        store.ledger_head().await.unwrap()
    );
}

#[tokio::test]
async fn a_restart_from_a_snapshot_gives_the_full_replays_state_on_random_days() {
    for seed in 1..=12 {
        let store = sqlite();
        a_restart_from_a_snapshot_gives_the_full_replays_state(store, seed).await;
    }
}

/// A day, a snapshot, a later day; history older than the retention pruned: the engine still
/// opens to the same state, an engine whose view lags behind the pruned log catches up through
/// the snapshot, and both plan on.
async fn pruning_keeps_what_start_up_and_catch_up_need(store: Arc<dyn Store>) {
    let mut rng = Lcg(7);
    let day = |d: u64| now() + Duration::from_secs(d * 86_400);
    let live = Engine::open(store.clone(), mappings()).await.unwrap();
    // Opened on the empty store and left behind.
    let lagging = Engine::open(store.clone(), mappings()).await.unwrap();
    for step in 0..80 {
        random_step(&live, &mut rng, step, day(0)).await;
    }
    // Nothing goes without a snapshot.
    let keep = Duration::from_secs(90 * 86_400);
    let pruned = prune_history(&*store, keep, day(200)).await.unwrap();
    assert_eq!(pruned.state_log, 0);
    let covered = live.save_snapshot().await.unwrap().unwrap();
    for step in 80..120 {
        random_step(&live, &mut rng, step, day(100)).await;
    }
    let reference = state(&live).await;

    let pruned = prune_history(&*store, keep, day(100)).await.unwrap();
    assert_eq!(
        pruned.state_log as i64, covered,
        "the whole prefix the snapshot covers"
    );
    assert_eq!(store.state_log_horizon().await.unwrap(), covered);
    assert!(
        store
            .state_log_since(0, 1)
            .await
            .unwrap()
            .first()
            .is_some_and(|(seq, _)| *seq > covered)
    );

    let restarted = Engine::open(store.clone(), mappings()).await.unwrap();
    assert_eq!(state(&restarted).await, reference);
    assert!(lagging.catch_up().await.unwrap() > 0);
    assert_eq!(state(&lagging).await, reference);

    // Everyone plans on: a new order through the lagging one, seen by the others.
    lagging.ingest(&order(9_000, 0, 1), day(101)).await.unwrap();
    live.catch_up().await.unwrap();
    restarted.catch_up().await.unwrap();
    let after = state(&lagging).await;
    assert_eq!(state(&live).await, after);
    assert_eq!(state(&restarted).await, after);
}

#[tokio::test]
async fn pruning_keeps_what_start_up_and_catch_up_need_on_sqlite() {
    pruning_keeps_what_start_up_and_catch_up_need(Arc::new(SqliteStore::open_in_memory().unwrap()))
        .await;
}

/// An engine whose view is behind a pruned log and whose next catch-up finds nothing after its
/// head (everything up to the ledger head pruned): its stale commit tells it the head moved,
/// and it reloads from the snapshot rather than planning on an old view.
async fn a_lagging_engine_recovers_when_the_whole_log_was_pruned(store: Arc<dyn Store>) {
    let day = |d: u64| now() + Duration::from_secs(d * 86_400);
    let live = Engine::open(store.clone(), mappings()).await.unwrap();
    let lagging = Engine::open(store.clone(), mappings()).await.unwrap();
    live.ingest(&item(1, 1), day(0)).await.unwrap();
    live.ingest(&order(1, 1, 4), day(0)).await.unwrap();
    live.save_snapshot().await.unwrap().unwrap();
    prune_history(&*store, Duration::from_secs(86_400), day(10))
        .await
        .unwrap();
    assert!(store.state_log_since(0, 10).await.unwrap().is_empty());
    // The redelivered order is a duplicate for the lagging engine too, once it catches up.
    assert_eq!(
        lagging.ingest(&order(1, 1, 4), day(10)).await.unwrap(),
        sync_engine::engine::IngestOutcome::Duplicate
    );
    assert_eq!(state(&lagging).await, state(&live).await);
}

#[tokio::test]
async fn a_lagging_engine_recovers_when_the_whole_log_was_pruned_on_sqlite() {
    a_lagging_engine_recovers_when_the_whole_log_was_pruned(Arc::new(
        SqliteStore::open_in_memory().unwrap(),
    ))
    .await;
}

/// A pruned log without a snapshot this version can read is an error at start-up, not an empty
/// view; an unreadable snapshot while the whole log is there is ignored.
#[tokio::test]
async fn a_pruned_log_needs_a_readable_snapshot() {
    let store = sqlite();
    let day = |d: u64| now() + Duration::from_secs(d * 86_400);
    let live = Engine::open(store.clone(), mappings()).await.unwrap();
    live.ingest(&item(1, 1), day(0)).await.unwrap();
    live.ingest(&item(2, 1), day(0)).await.unwrap();
    let head = store.ledger_head().await.unwrap();
    let garbled = |format| StateSnapshot {
        head,
        format,
        taken_at: day(0),
        state: "{\"not\": \"a state\"}".into(),
    };
    store.save_snapshot(garbled(1)).await.unwrap();
    let reopened = Engine::open(store.clone(), mappings()).await.unwrap();
    assert_eq!(state(&reopened).await, state(&live).await);

    prune_history(&*store, Duration::from_secs(86_400), day(10))
        .await
        .unwrap();
    assert!(matches!(
        Engine::open(store.clone(), mappings()).await,
        Err(EngineError::UnreadableSnapshot { .. })
    ));
    store.save_snapshot(garbled(99)).await.unwrap();
    assert!(matches!(
        Engine::open(store.clone(), mappings()).await,
        Err(EngineError::MissingSnapshot { horizon, .. }) if horizon == head
    ));
}

/// The same on PostgreSQL, each in a fresh schema.
#[cfg(feature = "postgres")]
mod postgres {
    use super::*;

    #[tokio::test]
    async fn a_restart_from_a_snapshot_gives_the_full_replays_state_on_postgres() {
        store_support::on_postgres(|store| async move {
            a_restart_from_a_snapshot_gives_the_full_replays_state(store, 3).await;
        })
        .await;
    }

    #[tokio::test]
    async fn pruning_keeps_what_start_up_and_catch_up_need_on_postgres() {
        store_support::on_postgres(pruning_keeps_what_start_up_and_catch_up_need).await;
    }

    #[tokio::test]
    async fn a_lagging_engine_recovers_when_the_whole_log_was_pruned_on_postgres() {
        store_support::on_postgres(a_lagging_engine_recovers_when_the_whole_log_was_pruned).await;
    }
}
