//! The stock-movement sweep against the Clarus simulator: a movement whose webhook was lost is
//! caught, and one seen through both its webhook and the sweep is planned once, with the same
//! identity and the same posting.

use std::collections::BTreeMap;
use std::sync::Arc;

use clarus_client::webhook::{StockEvent, StockRecord};
use jiff::Timestamp;
use serde_json::Value;
use sim::clarus::{ClarusId, MAIN_WAREHOUSE, StockStatus as SimStatus, WebhookBehaviour};
use support::*;
use sync_core::*;
use sync_engine::clarus::{
    MOVEMENT_REBUILT, MOVEMENT_SWEEP_WATERMARK, MovementSweep, movement_from_webhook,
};
use sync_engine::engine::{Engine, event_key};
use sync_engine::processor::Processor;
use sync_engine::store::{SqliteStore, Store};

use crate::support::clarus as support;

fn mappings() -> Mappings {
    Mappings::new(MappingTables {
        adjustment_accounts: [
            MovementKind::PositiveAdjustment,
            MovementKind::NegativeAdjustment,
            MovementKind::Breakage,
            MovementKind::StockCheckGain,
            MovementKind::StockCheckLoss,
        ]
        .into_iter()
        .map(|kind| AccountMapping {
            kind,
            reason: None,
            account: "540".into(),
        })
        .collect(),
        ..main_warehouse()
    })
    .unwrap()
}

/// An engine that knows item 77 (`MUG-RED`).
async fn engine_knowing_item(store: Arc<dyn Store>) -> Engine {
    let engine = Engine::open(store, mappings()).await.unwrap();
    let item = Item {
        netsuite_id: "77".into(),
        sku: "MUG-RED".into(),
        barcode: None,
        description: "Red mug".into(),
        tracking: Tracking::None,
        inactive: false,
    };
    let event = netsuite_event("77", Payload::Item(item));
    engine.ingest(&event, Timestamp::now()).await.unwrap();
    engine
}

/// The movement sweep of the rig, reading back `overlap` before its watermark.
fn sweep(rig: &Rig, overlap: std::time::Duration) -> MovementSweep {
    let mut sweep = MovementSweep::new(rig.client.clone(), TENANT.into(), rig.store.clone());
    sweep.overlap = overlap;
    sweep
}

/// A rig whose `MUG-RED` saw one of each movement ([`move_stock`]), its webhooks fired as
/// `behaviour` says; the events they decode to, by movement id.
async fn moved_stock(behaviour: WebhookBehaviour) -> (Rig, BTreeMap<String, Event>) {
    let rig = Rig::start().await;
    let product = stocked_product(&rig, "77", "MUG-RED").await;
    rig.sim.handle().set_webhook_behaviour(behaviour);
    move_stock(&rig, product);
    let events = webhook_events(&rig).await;
    (rig, events)
}

/// One of each movement: found stock, breakage, hold, release, a stock-check loss.
fn move_stock(rig: &Rig, product: ClarusId) {
    let handle = rig.sim.handle();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    let warehouse = rig.sim.warehouse();
    warehouse
        .adjust(product, location, dec(3), "found")
        .unwrap();
    warehouse.breakage(product, location, dec(1)).unwrap();
    warehouse
        .hold(product, MAIN_WAREHOUSE, dec(2), "damaged packaging")
        .unwrap();
    warehouse
        .release(product, MAIN_WAREHOUSE, dec(1), "inspected")
        .unwrap();
    let available = handle.on_hand(product, MAIN_WAREHOUSE, SimStatus::Available);
    assert_eq!(
        warehouse
            .stock_check(product, location, available - dec(2))
            .unwrap(),
        dec(-2)
    );
}

/// The events the fired `stock` webhooks decode to (lost or not), by movement id.
async fn webhook_events(rig: &Rig) -> BTreeMap<String, Event> {
    assert!(
        rig.sim
            .handle()
            .wait_for_webhooks(std::time::Duration::from_secs(5))
            .await
    );
    let mut events = BTreeMap::new();
    for fired in rig.sim.handle().webhook_log() {
        if fired.resource != "stock" {
            continue;
        }
        let event = StockEvent::parse(&fired.event).unwrap();
        let raw = fired.payload.get("data").cloned().unwrap_or(Value::Null);
        let record: StockRecord = serde_json::from_value(raw.clone()).unwrap();
        let decoded = movement_from_webhook(&TENANT.into(), event, &record, &raw).unwrap();
        if let Some(decoded) = decoded {
            events.insert(decoded.source.id.as_str().to_owned(), decoded);
        }
    }
    events
}

/// The NetSuite postings in a store, by key.
async fn postings(store: &dyn Store) -> BTreeMap<String, (String, Value)> {
    store
        .actions()
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action.key.starts_with("CLR-MOV-"))
        .map(|a| (a.action.key, (a.action.kind, a.action.payload)))
        .collect()
}

#[tokio::test]
async fn lost_movement_webhooks_are_caught_with_the_webhooks_identity_and_posting() {
    let (rig, lost) = moved_stock(WebhookBehaviour {
        loss_rate: 1.0,
        ..WebhookBehaviour::default()
    })
    .await;
    assert_eq!(lost.len(), 5, "{lost:?}");
    assert!(
        rig.sim
            .handle()
            .webhook_log()
            .iter()
            .filter(|w| w.resource == "stock")
            .all(|w| w.lost)
    );

    let engine = engine_knowing_item(rig.store.clone()).await;
    let sweep = sweep(&rig, std::time::Duration::ZERO);
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!(report.scanned, 5, "{report:?}");
    assert_eq!(report.planned, 5, "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    // Every lost webhook's identity is now known: its late redelivery would be a duplicate.
    for event in lost.values() {
        assert!(
            rig.store
                .event_seen(&event_key(&event.source))
                .await
                .unwrap(),
            "{:?} not seen",
            event.source
        );
    }
    // The postings are those the webhooks would have planned, one per movement, except that a
    // transaction carries no reason: adjustments go to their kind's default account, and each
    // raises a warning for finance (holds and releases move no value and raise none).
    let reference: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let webhook_engine = engine_knowing_item(reference.clone()).await;
    for event in lost.values() {
        webhook_engine
            .ingest(event, Timestamp::now())
            .await
            .unwrap();
    }
    let swept = postings(rig.store.as_ref()).await;
    assert_eq!(swept.len(), 5);
    let by_kind = |postings: &BTreeMap<String, (String, Value)>| {
        postings
            .iter()
            .map(|(key, (kind, _))| (key.clone(), kind.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by_kind(&swept),
        by_kind(&postings(reference.as_ref()).await)
    );
    let kinds: Vec<&str> = swept.values().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "post_inventory_adjustment")
            .count(),
        3,
        "{kinds:?}"
    );
    assert_eq!(kinds.iter().filter(|k| **k == "move_stock").count(), 2);
    let rebuilt: Vec<_> = rig
        .store
        .open_exceptions()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.exception.kind == MOVEMENT_REBUILT)
        .collect();
    assert_eq!(rebuilt.len(), 3, "{rebuilt:#?}");
    assert!(
        rebuilt
            .iter()
            .all(|e| e.exception.owner == "finance" && e.exception.severity == "warning")
    );

    // The watermark moved to the newest movement.
    let watermark = rig
        .store
        .watermark(MOVEMENT_SWEEP_WATERMARK)
        .await
        .unwrap()
        .expect("a watermark");
    let newest = lost.values().map(|e| e.occurred_at).max().unwrap();
    assert_eq!(watermark.parse::<Timestamp>().unwrap(), newest);
    // With no overlap the bound alone is read again (it is inclusive).
    let again = sweep.run(&engine).await.unwrap();
    assert_eq!((again.planned, again.duplicates), (0, 1), "{again:?}");
    assert_eq!(postings(rig.store.as_ref()).await.len(), 5);
}

#[tokio::test]
async fn a_movement_seen_by_the_webhook_and_the_sweep_is_posted_once() {
    let (rig, fired) = moved_stock(WebhookBehaviour {
        duplicate_rate: 1.0,
        ..WebhookBehaviour::default()
    })
    .await;
    assert_eq!(fired.len(), 5);

    let engine = Arc::new(engine_knowing_item(rig.store.clone()).await);
    let processor = Processor::new(rig.store.clone(), engine.clone(), Arc::new(decoder(&rig)));
    let stats = processor.process_due(100).await.unwrap();
    assert_eq!(stats.planned, 5, "{stats:?}");
    let through_webhooks = postings(rig.store.as_ref()).await;
    assert_eq!(through_webhooks.len(), 5);

    let sweep = sweep(&rig, std::time::Duration::ZERO);
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!(report.scanned, 5, "{report:?}");
    assert_eq!((report.planned, report.duplicates), (0, 5), "{report:?}");
    // One posting per movement, unchanged by the sweep.
    assert_eq!(postings(rig.store.as_ref()).await, through_webhooks);
    let keys: Vec<String> = fired
        .keys()
        .map(|id| format!("CLR-MOV-{TENANT}-{id}"))
        .collect();
    assert_eq!(through_webhooks.keys().cloned().collect::<Vec<_>>(), keys);
}

/// A webhook waiting in the intake is not lost: the sweep leaves its movement to it, however
/// old the movement, so the posting keeps the webhook's reason and no warning is raised.
#[tokio::test]
async fn a_movement_whose_webhook_waits_in_the_intake_is_left_to_the_webhook() {
    let (rig, fired) = moved_stock(WebhookBehaviour::default()).await;
    assert_eq!(fired.len(), 5);
    assert!(rig.store.unprocessed_count().await.unwrap() >= 5);

    let engine = Arc::new(engine_knowing_item(rig.store.clone()).await);
    // Older than the overlap by the clock, but their webhooks have not been processed.
    let sweep = sweep(&rig, std::time::Duration::from_millis(500));
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!(report.scanned, 5, "{report:?}");
    assert_eq!((report.planned, report.waiting), (0, 5), "{report:?}");
    assert!(postings(rig.store.as_ref()).await.is_empty());

    // The intake catches up: the webhooks plan the movements, the sweep finds them known.
    let processor = Processor::new(rig.store.clone(), engine.clone(), Arc::new(decoder(&rig)));
    assert_eq!(processor.process_due(100).await.unwrap().planned, 5);
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!((report.planned, report.duplicates), (0, 5), "{report:?}");
    let rebuilt = rig
        .store
        .open_exceptions()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.exception.kind == MOVEMENT_REBUILT)
        .count();
    assert_eq!(rebuilt, 0);
}

#[tokio::test]
async fn a_movement_for_an_unknown_sku_is_swept_again_until_it_can_be_planned() {
    let rig = Rig::start().await;
    let product = stocked_product(&rig, "77", "MUG-RED").await;
    rig.sim.handle().set_webhook_behaviour(WebhookBehaviour {
        loss_rate: 1.0,
        ..WebhookBehaviour::default()
    });
    let location = rig.sim.handle().default_location(MAIN_WAREHOUSE).unwrap();
    rig.sim
        .warehouse()
        .adjust(product, location, dec(4), "found")
        .unwrap();
    webhook_events(&rig).await;

    // The item master does not know MUG-RED yet: the movement is blocked, the watermark holds.
    let engine = Engine::open(rig.store.clone(), mappings()).await.unwrap();
    let sweep = sweep(&rig, std::time::Duration::ZERO);
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!((report.planned, report.blocked), (0, 1), "{report:?}");
    assert!(postings(rig.store.as_ref()).await.is_empty());
    drop(engine);

    let engine = engine_knowing_item(rig.store.clone()).await;
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!((report.planned, report.blocked), (1, 0), "{report:?}");
    assert_eq!(postings(rig.store.as_ref()).await.len(), 1);
}
