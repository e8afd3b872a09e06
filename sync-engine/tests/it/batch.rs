//! Batched cadence against the NetSuite simulator: stock adjustments wait in the outbox, the
//! batcher posts them per location as one inventory adjustment of at most `max_lines` lines,
//! looks a batch up after a lost reply instead of posting it twice, resumes a batch persisted
//! before a restart with the same members, and fails a rejected batch with one exception.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use sim::netsuite::{
    GOOD, InternalId, ItemKind, NetSuiteHandle, QUARANTINE, RecordType, RunningNetSuite,
};
use sim::{Fault, LostReply};
use sync_core::{
    AccountMapping, Event, MappingTables, Mappings, MovementId, MovementKind, Payload, Revision,
    SourceId, StatusMapping, StockMovement, StockPlace, System, WarehouseId,
};
use sync_core::{Action, InventoryAdjustment, PlannedAction};
use sync_engine::batch::{ADJUSTMENT_KIND, BatchConfig, Batcher};
use sync_engine::config::{Cadence, CadenceSettings};
use sync_engine::engine::{Engine, IngestOutcome};
use sync_engine::netsuite::{ExecutorConfig, NetSuiteExecutor, NetSuitePoller, PollerConfig};
use sync_engine::outbox::{Outbox, OutboxConfig};
use sync_engine::router::Router;
use sync_engine::store::{ActionStatus, SqliteStore, Store};

use crate::support::netsuite as support;
use crate::support::store::sqlite;

const ACCOUNT: &str = "500";

struct World {
    ns: RunningNetSuite,
    h: NetSuiteHandle,
    main: InternalId,
    north: InternalId,
    mug: InternalId,
    plate: InternalId,
    mappings: Mappings,
    executor: NetSuiteExecutor,
}

async fn world() -> World {
    let ns = support::start().await;
    let h = ns.handle();
    let main = h.add_location("Main", None).unwrap();
    let north = h.add_location("North", None).unwrap();
    let mug = support::item(&h, "MUG", ItemKind::Inventory);
    let plate = support::item(&h, "PLATE", ItemKind::Inventory);
    for location in [main, north] {
        h.set_on_hand(mug, location, GOOD, Decimal::from(100));
        h.set_on_hand(plate, location, GOOD, Decimal::from(100));
    }
    let mappings = Mappings::new(MappingTables {
        locations: support::locations(&[(main, 10), (north, 20)]),
        adjustment_accounts: [MovementKind::PositiveAdjustment, MovementKind::Breakage]
            .into_iter()
            .map(|kind| AccountMapping {
                kind,
                reason: None,
                account: ACCOUNT.into(),
            })
            .collect(),
        // Adjustments name the sellable status (the account uses inventory statuses).
        stock_statuses: [main, north]
            .into_iter()
            .map(|location| StatusMapping {
                location: location.to_string().into(),
                sellable: StockPlace::Status {
                    status: GOOD.to_string().into(),
                },
                quarantine: StockPlace::Status {
                    status: QUARANTINE.to_string().into(),
                },
            })
            .collect(),
        ..MappingTables::default()
    })
    .unwrap();
    let client = support::client(&ns).await;
    let executor = NetSuiteExecutor::new(
        client,
        ExecutorConfig {
            mappings: Some(mappings.clone()),
            ..ExecutorConfig::default()
        },
    );
    World {
        ns,
        h,
        main,
        north,
        mug,
        plate,
        mappings,
        executor,
    }
}

fn batched(max_lines: usize) -> CadenceSettings {
    CadenceSettings {
        adjustments: Cadence::Batched {
            every_secs: 60,
            max_lines,
        },
        ..CadenceSettings::default()
    }
}

impl World {
    /// An engine on `store` that knows the simulator's items.
    async fn engine(&self, store: Arc<dyn Store>, cadence: CadenceSettings) -> Arc<Engine> {
        let engine = Arc::new(
            Engine::open(store, self.mappings.clone())
                .await
                .unwrap()
                .with_cadence(cadence),
        );
        NetSuitePoller::new(
            self.executor.client().clone(),
            engine.clone(),
            PollerConfig::default(),
        )
        .poll_once()
        .await
        .unwrap();
        // The items' Clarus products are created first, so that only adjustments are left.
        self.outbox(engine.store().clone()).run_due().await.unwrap();
        engine
    }

    fn batcher(&self, store: Arc<dyn Store>, max_lines: usize) -> Batcher {
        let mut config = BatchConfig::new(Duration::from_secs(60), max_lines);
        config.backoff_base = Duration::from_millis(1);
        config.backoff_max = Duration::from_millis(5);
        Batcher::new(store, Arc::new(self.executor.clone()), config)
    }

    fn outbox(&self, store: Arc<dyn Store>) -> Outbox {
        let router = Router::new(
            Arc::new(support::ClarusAccepts),
            Arc::new(self.executor.clone()),
        );
        Outbox::new(store, Arc::new(router), OutboxConfig::default())
    }

    fn adjustment_lines(&self) -> Vec<usize> {
        self.h
            .records(RecordType::InventoryAdjustment)
            .iter()
            .map(|r| r["inventory"]["items"].as_array().map_or(0, Vec::len))
            .collect()
    }
}

/// Clarus movement `id`: `quantity` units of `sku` in `warehouse`, added when positive, broken
/// when negative.
fn movement(id: u64, warehouse: u64, sku: &str, quantity: i64) -> Event {
    let now = Timestamp::now();
    Event {
        source: SourceId {
            system: System::Clarus,
            resource: "stock".into(),
            id: sync_core::Name::new(id.to_string()),
            event: "adjusted".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: now,
        payload: Payload::StockMovement(StockMovement {
            tenant: "acme".into(),
            id: MovementId(id),
            kind: if quantity > 0 {
                MovementKind::PositiveAdjustment
            } else {
                MovementKind::Breakage
            },
            warehouse: WarehouseId(warehouse),
            sku: sku.into(),
            quantity: Decimal::from(quantity.abs()),
            reason: None,
            lots: vec![],
            serials: vec![],
            occurred_at: now,
        }),
    }
}

async fn ingest(engine: &Engine, event: &Event) {
    let outcome = engine.ingest(event, Timestamp::now()).await.unwrap();
    assert!(
        matches!(outcome, IngestOutcome::Planned { actions: 1, .. }),
        "{outcome:?}"
    );
}

/// A decimal written as a JSON string or number.
fn dec(value: &serde_json::Value) -> Decimal {
    match value {
        serde_json::Value::String(s) => s.parse().unwrap_or_else(|e| panic!("{value}: {e}")),
        other => other
            .to_string()
            .parse()
            .unwrap_or_else(|e| panic!("{value}: {e}")),
    }
}

fn temp_db() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!(
        "sync-engine-batch-{}-{nanos}.sqlite",
        std::process::id()
    ))
}

#[tokio::test]
async fn twenty_five_adjustments_at_one_location_post_as_three_transactions_of_ten_ten_and_five() {
    let w = world().await;
    let store = sqlite();
    let engine = w.engine(store.clone(), batched(10)).await;
    let mut expected_mug = Decimal::from(100);
    let mut expected_plate = Decimal::from(100);
    for id in 1..=25u64 {
        let quantity = if id % 3 == 0 { -(id as i64) } else { id as i64 };
        let sku = if id % 2 == 0 { "MUG" } else { "PLATE" };
        if sku == "MUG" {
            expected_mug += Decimal::from(quantity);
        } else {
            expected_plate += Decimal::from(quantity);
        }
        ingest(&engine, &movement(id, 10, sku, quantity)).await;
    }
    // One adjustment at the other location goes into a transaction of its own.
    ingest(&engine, &movement(100, 20, "MUG", -4)).await;

    // The outbox leaves waiting adjustments alone.
    assert_eq!(w.outbox(store.clone()).run_due().await.unwrap(), 0);
    assert_eq!(w.h.count(RecordType::InventoryAdjustment), 0);
    assert_eq!(
        store
            .waiting_for_batch(ADJUSTMENT_KIND, 100)
            .await
            .unwrap()
            .len(),
        26
    );

    let run = w
        .batcher(store.clone(), 10)
        .run(Timestamp::now())
        .await
        .unwrap();
    assert_eq!(run.formed, 4, "{run:?}");
    assert_eq!(run.completed, 4, "{run:?}");
    assert_eq!(w.adjustment_lines(), vec![10, 10, 5, 1]);
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), expected_mug);
    assert_eq!(w.h.on_hand(w.plate, w.main, GOOD), expected_plate);
    assert_eq!(w.h.on_hand(w.mug, w.north, GOOD), Decimal::from(96));
    assert!(w.h.duplicate_external_ids().is_empty());

    // Every member is done with its batch's record, and traces back to its source event.
    let batches = store.batches().await.unwrap();
    assert_eq!(batches.len(), 4);
    let mut seen = 0;
    for batch in &batches {
        assert_eq!(batch.status, ActionStatus::Done);
        let id =
            w.h.find_by_external_id(RecordType::InventoryAdjustment, &batch.batch.key)
                .expect("the batch's record carries its key as external id");
        assert_eq!(batch.result_id, Some(id.to_string()));
        let record = w.h.record(RecordType::InventoryAdjustment, id).unwrap();
        assert_eq!(record["account"]["id"], ACCOUNT);
        let members = store.batch_members(&batch.batch.key).await.unwrap();
        assert_eq!(members.len(), batch.batch.members.len());
        for (line, member) in members.iter().enumerate() {
            assert_eq!(member.action.status, ActionStatus::Done);
            assert_eq!(member.action.result_id, Some(id.to_string()));
            let event = member.event.as_ref().expect("source event in the ledger");
            let movement = &event["payload"]["data"];
            assert_eq!(event["payload"]["type"], "stock_movement", "{event}");
            let mut quantity = dec(&movement["quantity"]);
            if movement["kind"] == "breakage" {
                quantity = -quantity;
            }
            let line_item = &record["inventory"]["items"][line];
            assert_eq!(
                dec(&line_item["adjustQtyBy"]),
                quantity,
                "line {line} of {} is member {}",
                batch.batch.key,
                member.action.action.key
            );
            assert_eq!(
                line_item["item"]["id"],
                if movement["sku"] == "MUG" {
                    w.mug
                } else {
                    w.plate
                }
                .to_string()
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 26);
    let actions = store.actions().await.unwrap();
    assert!(actions.iter().all(|a| a.status == ActionStatus::Done));

    // Nothing is left: a second window posts nothing.
    let again = w
        .batcher(store.clone(), 10)
        .run(Timestamp::now())
        .await
        .unwrap();
    assert_eq!((again.formed, again.completed), (0, 0));
    assert_eq!(w.h.count(RecordType::InventoryAdjustment), 4);
    w.ns.shutdown().await;
}

#[tokio::test]
async fn immediate_cadence_posts_each_adjustment_on_its_own() {
    let w = world().await;
    let store = sqlite();
    let engine = w.engine(store.clone(), CadenceSettings::default()).await;
    for id in 1..=3 {
        ingest(&engine, &movement(id, 10, "MUG", 2)).await;
    }
    assert!(
        store
            .waiting_for_batch(ADJUSTMENT_KIND, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let run = w
        .batcher(store.clone(), 10)
        .run(Timestamp::now())
        .await
        .unwrap();
    assert_eq!(run.formed, 0);
    // Adjustments of one item and location run one after another (one stock lane).
    assert_eq!(drain(&w.outbox(store.clone())).await, 3);
    assert_eq!(w.adjustment_lines(), vec![1, 1, 1]);
    let actions = store.actions().await.unwrap();
    let adjustments: Vec<_> = actions
        .iter()
        .filter(|a| a.action.kind == ADJUSTMENT_KIND)
        .collect();
    assert_eq!(adjustments.len(), 3);
    for action in adjustments {
        assert_eq!(action.status, ActionStatus::Done);
        assert!(
            w.h.find_by_external_id(RecordType::InventoryAdjustment, &action.action.key)
                .is_some()
        );
    }
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), Decimal::from(106));
    w.ns.shutdown().await;
}

#[tokio::test]
async fn switching_back_to_immediate_releases_waiting_adjustments_and_finishes_open_batches() {
    let w = world().await;
    let store = sqlite();
    let engine = w.engine(store.clone(), batched(10)).await;
    for id in 1..=3 {
        ingest(&engine, &movement(id, 10, "MUG", 1)).await;
    }
    let (formed, _) = w
        .batcher(store.clone(), 10)
        .form(Timestamp::now())
        .await
        .unwrap();
    ingest(&engine, &movement(4, 10, "MUG", 2)).await;
    ingest(&engine, &movement(5, 10, "MUG", -1)).await;
    assert_eq!(w.outbox(store.clone()).run_due().await.unwrap(), 0);

    // Restarted with immediate adjustments.
    let batcher = Batcher::for_cadence(
        store.clone(),
        Arc::new(w.executor.clone()),
        Cadence::Immediate,
    )
    .await
    .unwrap()
    .expect("a batcher to finish the open batch");
    assert!(
        store
            .waiting_for_batch(ADJUSTMENT_KIND, 100)
            .await
            .unwrap()
            .is_empty()
    );
    // The two adjustments not in a batch are posted on their own by the outbox...
    assert_eq!(drain(&w.outbox(store.clone())).await, 2);
    assert_eq!(w.adjustment_lines(), vec![1, 1]);
    // ...and the batch formed before is finished with its members.
    let run = batcher.run(Timestamp::now()).await.unwrap();
    assert_eq!((run.formed, run.completed), (0, 1), "{run:?}");
    assert_eq!(w.adjustment_lines(), vec![1, 1, 3]);
    assert!(
        w.h.find_by_external_id(RecordType::InventoryAdjustment, &formed[0])
            .is_some()
    );
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), Decimal::from(104));
    // With nothing open, immediate cadence needs no batcher.
    assert!(
        Batcher::for_cadence(
            store.clone(),
            Arc::new(w.executor.clone()),
            Cadence::Immediate
        )
        .await
        .unwrap()
        .is_none()
    );
    w.ns.shutdown().await;
}

#[tokio::test]
async fn a_batch_posted_just_before_a_crash_is_found_after_the_restart() {
    let w = world().await;
    let store = sqlite();
    let engine = w.engine(store.clone(), batched(10)).await;
    for id in 1..=2 {
        ingest(&engine, &movement(id, 10, "PLATE", 2)).await;
    }
    let batcher = w.batcher(store.clone(), 10);
    let (formed, _) = batcher.form(Timestamp::now()).await.unwrap();
    let key = formed[0].clone();
    // The attempt is recorded, the post reaches NetSuite, and the process dies before the
    // answer is recorded.
    store
        .begin_batch_attempt(&key, Timestamp::now())
        .await
        .unwrap();
    let adjustments: Vec<InventoryAdjustment> = store
        .batch_members(&key)
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            let planned: PlannedAction = serde_json::from_value(m.action.action.payload).unwrap();
            match planned.action {
                Action::PostInventoryAdjustment(a) => a,
                other => panic!("{other:?}"),
            }
        })
        .collect();
    let posted = w
        .executor
        .post_adjustments(&key, "posted before the crash", &adjustments)
        .await
        .unwrap()
        .unwrap();

    let run = w
        .batcher(store.clone(), 10)
        .run(Timestamp::now())
        .await
        .unwrap();
    assert_eq!((run.formed, run.completed), (0, 1), "{run:?}");
    assert_eq!(w.h.count(RecordType::InventoryAdjustment), 1);
    let batch = store.batch(&key).await.unwrap().unwrap();
    assert_eq!(batch.status, ActionStatus::Done);
    assert_eq!(batch.result_id, Some(posted));
    assert_eq!(w.h.on_hand(w.plate, w.main, GOOD), Decimal::from(104));
    w.ns.shutdown().await;
}

#[tokio::test]
async fn a_batch_whose_reply_is_lost_is_looked_up_not_posted_twice() {
    let w = world().await;
    let store = sqlite();
    let engine = w.engine(store.clone(), batched(10)).await;
    for id in 1..=4 {
        ingest(&engine, &movement(id, 10, "PLATE", -3)).await;
    }
    let batcher = w.batcher(store.clone(), 10);
    w.h.inject_fault(Fault::CommitThenFail(LostReply::DropConnection));
    let first = batcher.run(Timestamp::now()).await.unwrap();
    assert_eq!(
        (first.formed, first.completed, first.retrying),
        (1, 0, 1),
        "{first:?}"
    );
    let key = store.batches().await.unwrap()[0].batch.key.clone();
    let batch = store.batch(&key).await.unwrap().unwrap();
    assert_eq!(batch.status, ActionStatus::Ambiguous, "{batch:?}");
    // NetSuite has the record; the engine does not know it yet.
    assert_eq!(w.h.count(RecordType::InventoryAdjustment), 1);

    let later = Timestamp::now() + SignedDuration::from_secs(60);
    let second = batcher.run(later).await.unwrap();
    assert_eq!((second.formed, second.completed), (0, 1), "{second:?}");
    assert_eq!(w.h.count(RecordType::InventoryAdjustment), 1);
    assert_eq!(w.h.stats().commits_then_failed, 1);
    let id =
        w.h.find_by_external_id(RecordType::InventoryAdjustment, &key)
            .unwrap();
    let batch = store.batch(&key).await.unwrap().unwrap();
    assert_eq!(batch.status, ActionStatus::Done);
    assert_eq!(batch.result_id, Some(id.to_string()));
    for member in store.batch_members(&key).await.unwrap() {
        assert_eq!(member.action.status, ActionStatus::Done);
        assert_eq!(member.action.result_id, Some(id.to_string()));
    }
    assert_eq!(w.h.on_hand(w.plate, w.main, GOOD), Decimal::from(88));
    w.ns.shutdown().await;
}

#[tokio::test]
async fn a_batch_persisted_before_a_restart_is_resumed_with_the_same_members() {
    let w = world().await;
    let path = temp_db();
    let first_key;
    let first_members;
    {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        let engine = w.engine(store.clone(), batched(10)).await;
        for id in 1..=3 {
            ingest(&engine, &movement(id, 10, "MUG", 1)).await;
        }
        // Membership is persisted, then the process stops before posting.
        let (formed, rejected) = w
            .batcher(store.clone(), 10)
            .form(Timestamp::now())
            .await
            .unwrap();
        assert_eq!((formed.len(), rejected), (1, 0));
        first_key = formed[0].clone();
        first_members = store
            .batch(&first_key)
            .await
            .unwrap()
            .unwrap()
            .batch
            .members;
        assert_eq!(first_members.len(), 3);
        assert_eq!(w.h.count(RecordType::InventoryAdjustment), 0);
    }

    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let engine = w.engine(store.clone(), batched(10)).await;
    // More adjustments arrive after the restart; they do not join the persisted batch.
    ingest(&engine, &movement(4, 10, "MUG", 1)).await;
    ingest(&engine, &movement(5, 10, "MUG", 1)).await;
    let run = w
        .batcher(store.clone(), 10)
        .run(Timestamp::now())
        .await
        .unwrap();
    assert_eq!((run.formed, run.completed), (1, 2), "{run:?}");

    let resumed = store.batch(&first_key).await.unwrap().unwrap();
    assert_eq!(resumed.status, ActionStatus::Done);
    assert_eq!(resumed.batch.members, first_members);
    let id =
        w.h.find_by_external_id(RecordType::InventoryAdjustment, &first_key)
            .expect("the resumed batch was posted under its persisted key");
    let record = w.h.record(RecordType::InventoryAdjustment, id).unwrap();
    assert_eq!(record["inventory"]["items"].as_array().unwrap().len(), 3);
    assert_eq!(w.adjustment_lines(), vec![3, 2]);
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), Decimal::from(105));
    drop(engine);
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    w.ns.shutdown().await;
}

#[tokio::test]
async fn a_rejected_batch_fails_every_member_with_one_exception_naming_them() {
    let w = world().await;
    let store = sqlite();
    let engine = w.engine(store.clone(), batched(10)).await;
    ingest(&engine, &movement(1, 10, "MUG", 5)).await;
    // Breaks more plates than NetSuite holds: NetSuite refuses the whole transaction.
    ingest(&engine, &movement(2, 10, "PLATE", -500)).await;
    let run = w
        .batcher(store.clone(), 10)
        .run(Timestamp::now())
        .await
        .unwrap();
    assert_eq!((run.formed, run.failed), (1, 1), "{run:?}");
    assert_eq!(w.h.count(RecordType::InventoryAdjustment), 0);
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), Decimal::from(100));

    let batch = &store.batches().await.unwrap()[0];
    assert_eq!(batch.status, ActionStatus::Failed);
    let members = store.batch_members(&batch.batch.key).await.unwrap();
    assert!(
        members
            .iter()
            .all(|m| m.action.status == ActionStatus::Failed)
    );
    let exceptions = store.exceptions().await.unwrap();
    assert_eq!(exceptions.len(), 1, "{exceptions:?}");
    let e = &exceptions[0].exception;
    assert_eq!(e.kind, "action-failed");
    assert_eq!(e.owner, "finance");
    assert_eq!(e.runbook, "operations.md#action-failed");
    for member in &members {
        assert!(
            e.message.contains(&member.action.action.key),
            "{}",
            e.message
        );
    }
    assert!(e.message.contains("USER_ERROR"), "{}", e.message);
    // A failed batch is not posted again.
    let again = w
        .batcher(store.clone(), 10)
        .run(Timestamp::now())
        .await
        .unwrap();
    assert_eq!((again.formed, again.completed, again.failed), (0, 0, 0));
    w.ns.shutdown().await;
}

/// Runs the outbox until nothing is due; answers how many actions ran.
async fn drain(outbox: &Outbox) -> usize {
    let mut ran = 0;
    loop {
        let now = outbox.run_due().await.unwrap();
        if now == 0 {
            return ran;
        }
        ran += now;
    }
}
