//! Monitoring against the real engine and store with a fake executor: lifecycle stages with
//! their timestamps, stuck documents raised and resolved.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use sync_core::*;
use sync_engine::close::{CloseCategory, ClosePeriod, CloseRules, close_report};
use sync_engine::monitor::{
    Flow, Posting, STUCK_KIND, STUCK_RUNBOOK, Stage, StuckConfig, StuckDetector, lifecycles,
    stage_counts,
};

use crate::support::events::{self, at as business_time, item, netsuite_event};
use crate::support::fakes::{self, Setup, drain};

fn mappings() -> Mappings {
    Mappings::new(MappingTables {
        adjustment_accounts: vec![AccountMapping {
            kind: MovementKind::Breakage,
            reason: None,
            account: "541".into(),
        }],
        ..events::one_location()
    })
    .unwrap()
}

/// An order of 5 of `sku` on line 3.
fn order(id: &str, sku: &str, item_id: &str) -> Event {
    events::sales_order(id, "1", 3, item_id, sku, 5)
}

fn despatch(goods_out: u64, order: &str, sku: &str) -> Event {
    despatch_of(goods_out, order, sku, 5)
}

fn despatch_of(goods_out: u64, order: &str, sku: &str, quantity: i64) -> Event {
    events::despatch(goods_out, order, 3, sku, quantity, quantity)
}

fn progress(goods_out: u64, order: &str, milestone: GoodsOutMilestone) -> Event {
    let progress = GoodsOutProgress {
        tenant: "acme".into(),
        goods_out: GoodsOutId(goods_out),
        order: order.into(),
        milestone,
    };
    Event {
        source: progress.source_id(),
        occurred_at: business_time(),
        payload: Payload::GoodsOutProgress(progress),
    }
}

async fn setup() -> Setup {
    fakes::setup(mappings()).await
}

/// Now, to the millisecond the store keeps.
fn now_ms() -> Timestamp {
    Timestamp::from_millisecond(Timestamp::now().as_millisecond()).unwrap()
}

fn millis(n: i64) -> SignedDuration {
    SignedDuration::from_millis(n)
}

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

#[tokio::test]
async fn an_order_to_cash_records_every_stage_with_its_time() {
    let s = setup().await;
    let imported_at = now_ms() - minutes(30);
    s.engine
        .ingest(&item("77", "MUG"), imported_at)
        .await
        .unwrap();
    s.engine
        .ingest(&order("501", "MUG", "77"), imported_at)
        .await
        .unwrap();

    let l = lifecycles(s.store.as_ref()).await.unwrap();
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].flow, Flow::SalesOrder);
    assert_eq!(l[0].stage(), Some(Stage::Imported));
    assert_eq!(l[0].reached(Stage::Imported), Some(imported_at));
    assert_eq!(l[0].waiting.map(|w| w.stage), Some(Stage::Imported));

    drain(&s.outbox).await;
    let l = lifecycles(s.store.as_ref()).await.unwrap();
    assert_eq!(l[0].stage(), Some(Stage::SentToClarus));
    let sent_at = l[0].reached(Stage::SentToClarus).unwrap();
    assert!(sent_at > imported_at);

    // Milliseconds apart, so the despatch's fulfilment is due when the outbox runs.
    let acknowledged_at = sent_at + millis(1);
    s.engine
        .ingest(
            &progress(9, "501", GoodsOutMilestone::Acknowledged),
            acknowledged_at,
        )
        .await
        .unwrap();
    let l = lifecycles(s.store.as_ref()).await.unwrap();
    assert_eq!(l[0].stage(), Some(Stage::Acknowledged));
    assert_eq!(l[0].reached(Stage::Acknowledged), Some(acknowledged_at));
    assert_eq!(
        l[0].waiting.map(|w| (w.stage, w.at)),
        Some((Stage::Acknowledged, acknowledged_at))
    );
    // The same milestone reported again (a pick list `created` after goods out `processed`)
    // changes nothing.
    s.engine
        .ingest(
            &progress(9, "501", GoodsOutMilestone::Acknowledged),
            acknowledged_at + millis(1),
        )
        .await
        .unwrap();
    let picking_at = acknowledged_at + millis(2);
    s.engine
        .ingest(&progress(9, "501", GoodsOutMilestone::Picking), picking_at)
        .await
        .unwrap();
    let l = lifecycles(s.store.as_ref()).await.unwrap();
    assert_eq!(l[0].reached(Stage::Acknowledged), Some(acknowledged_at));
    assert_eq!(l[0].stage(), Some(Stage::Picking));
    assert_eq!(
        l[0].waiting.map(|w| (w.stage, w.at)),
        Some((Stage::Picking, picking_at))
    );

    let despatched_at = picking_at + millis(3);
    s.engine
        .ingest(&despatch(9, "501", "MUG"), despatched_at)
        .await
        .unwrap();
    let l = lifecycles(s.store.as_ref()).await.unwrap();
    assert_eq!(l[0].stage(), Some(Stage::Despatched));
    assert_eq!(l[0].reached(Stage::Despatched), Some(despatched_at));
    assert_eq!(l[0].activity.len(), 1);
    assert_eq!(l[0].activity[0].posting, Posting::Queued);
    assert_eq!(l[0].activity[0].occurred_at, business_time());
    let waiting = l[0].waiting.unwrap();
    assert_eq!(
        (waiting.stage, waiting.at),
        (Stage::Despatched, despatched_at)
    );

    // Past the planned times, so the fulfilment is due and posted after them.
    tokio::time::sleep(Duration::from_millis(10)).await;
    drain(&s.outbox).await;
    let l = lifecycles(s.store.as_ref()).await.unwrap();
    let stages: Vec<Stage> = l[0].stages.iter().map(|m| m.stage).collect();
    assert_eq!(
        stages,
        [
            Stage::Imported,
            Stage::SentToClarus,
            Stage::Acknowledged,
            Stage::Picking,
            Stage::Despatched,
            Stage::FulfilmentPosted
        ]
    );
    assert_eq!(stages, Flow::SalesOrder.stages());
    let times: Vec<Timestamp> = l[0].stages.iter().map(|m| m.at).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert_eq!(
        &times[..5],
        [
            imported_at,
            sent_at,
            acknowledged_at,
            picking_at,
            despatched_at
        ]
    );
    assert!(matches!(l[0].activity[0].posting, Posting::Posted { .. }));
    assert_eq!(l[0].waiting, None);

    let counts = stage_counts(&l);
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0].stage, Some(Stage::FulfilmentPosted));
    assert_eq!(counts[0].count, 1);
}

#[tokio::test]
async fn milestones_whose_webhooks_were_lost_are_reached_with_the_next_one() {
    let s = setup().await;
    let start = now_ms() - minutes(30);
    s.engine.ingest(&item("77", "MUG"), start).await.unwrap();
    for id in ["501", "502"] {
        s.engine
            .ingest(&order(id, "MUG", "77"), start)
            .await
            .unwrap();
    }
    drain(&s.outbox).await;
    let sent_at = lifecycles(s.store.as_ref()).await.unwrap()[0]
        .reached(Stage::SentToClarus)
        .unwrap();

    // 501: no progress webhook arrived at all, then the despatch.
    let despatched_at = sent_at + minutes(10);
    s.engine
        .ingest(&despatch(9, "501", "MUG"), despatched_at)
        .await
        .unwrap();
    // 502: only the picking webhook arrived, then the acknowledgement late (out of order).
    let picking_at = sent_at + minutes(5);
    s.engine
        .ingest(&progress(10, "502", GoodsOutMilestone::Picking), picking_at)
        .await
        .unwrap();
    s.engine
        .ingest(
            &progress(10, "502", GoodsOutMilestone::Acknowledged),
            picking_at + minutes(1),
        )
        .await
        .unwrap();
    // Progress for a goods out of an order the integration does not know is not recorded.
    let unknown = s
        .engine
        .ingest(&progress(11, "999", GoodsOutMilestone::Picking), picking_at)
        .await
        .unwrap();
    assert_eq!(unknown, sync_engine::engine::IngestOutcome::Duplicate);

    let l = lifecycles(s.store.as_ref()).await.unwrap();
    assert_eq!(l.len(), 2, "{l:?}");
    let of = |id: &str| {
        l.iter()
            .find(|d| {
                d.document
                    == DocumentRef::Order {
                        order: OrderRef::sales(id),
                    }
            })
            .unwrap()
    };
    let first = of("501");
    assert_eq!(first.reached(Stage::Acknowledged), Some(despatched_at));
    assert_eq!(first.reached(Stage::Picking), Some(despatched_at));
    assert_eq!(first.reached(Stage::Despatched), Some(despatched_at));
    let second = of("502");
    assert_eq!(second.stage(), Some(Stage::Picking));
    assert_eq!(second.reached(Stage::Acknowledged), Some(picking_at));
    assert_eq!(second.reached(Stage::Picking), Some(picking_at));
    assert_eq!(
        second.waiting.map(|w| (w.stage, w.at)),
        Some((Stage::Picking, picking_at))
    );
    for document in [first, second] {
        let times: Vec<Timestamp> = document.stages.iter().map(|m| m.at).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    }
}

#[tokio::test]
async fn an_order_sitting_in_a_warehouse_stage_is_stuck_only_when_configured() {
    let s = setup().await;
    let start = now_ms();
    s.engine.ingest(&item("77", "MUG"), start).await.unwrap();
    s.engine
        .ingest(&order("501", "MUG", "77"), start)
        .await
        .unwrap();
    drain(&s.outbox).await;
    let acknowledged_at = now_ms();
    s.engine
        .ingest(
            &progress(9, "501", GoodsOutMilestone::Acknowledged),
            acknowledged_at,
        )
        .await
        .unwrap();

    // By default the warehouse's pace is never stuck.
    let later = acknowledged_at + minutes(600);
    let report = StuckDetector::new(StuckConfig::default())
        .check(s.store.as_ref(), later)
        .await
        .unwrap();
    assert!(report.stuck.is_empty(), "{report:?}");

    // With a threshold on `acknowledged`, an order not picked within it is stuck, for
    // operations, and resolved once picking is reported.
    let config: StuckConfig = toml_config("every_secs = 60\n[after_secs]\nacknowledged = 3600\n");
    let detector = StuckDetector::new(config);
    let report = detector.check(s.store.as_ref(), later).await.unwrap();
    assert_eq!(report.stuck.len(), 1, "{report:?}");
    let stuck = &report.stuck[0];
    assert_eq!(
        (stuck.stage, stuck.awaiting, stuck.owner),
        (Stage::Acknowledged, Stage::Picking, Owner::Operations)
    );
    assert_eq!(stuck.since, acknowledged_at);
    s.engine
        .ingest(&progress(9, "501", GoodsOutMilestone::Picking), later)
        .await
        .unwrap();
    let report = detector
        .check(s.store.as_ref(), later + minutes(1))
        .await
        .unwrap();
    assert!(report.stuck.is_empty(), "{report:?}");
    assert_eq!(report.resolved.len(), 1, "{report:?}");
}

fn toml_config(text: &str) -> StuckConfig {
    toml::from_str(text).unwrap()
}

#[tokio::test]
async fn a_despatch_without_its_fulfilment_is_stuck_until_the_fulfilment_is_done() {
    let s = setup().await;
    let start = now_ms();
    s.engine.ingest(&item("77", "MUG"), start).await.unwrap();
    s.engine
        .ingest(&order("501", "MUG", "77"), start)
        .await
        .unwrap();
    // A second order sent to Clarus and never despatched: waiting in the warehouse is not
    // stuck by default.
    s.engine
        .ingest(&order("502", "MUG", "77"), start)
        .await
        .unwrap();
    drain(&s.outbox).await;
    s.system.hold("fulfil_sales_order");
    s.engine
        .ingest(&despatch(9, "501", "MUG"), start)
        .await
        .unwrap();
    drain(&s.outbox).await;

    let detector = StuckDetector::new(StuckConfig::default());
    let early = detector
        .check(s.store.as_ref(), start + minutes(10))
        .await
        .unwrap();
    assert!(early.stuck.is_empty(), "{early:?}");
    assert!(s.store.exceptions().await.unwrap().is_empty());

    let late = start + minutes(16);
    let report = detector.check(s.store.as_ref(), late).await.unwrap();
    assert_eq!(report.stuck.len(), 1, "{report:?}");
    let stuck = &report.stuck[0];
    assert_eq!(stuck.stage, Stage::Despatched);
    assert_eq!(stuck.awaiting, Stage::FulfilmentPosted);
    assert_eq!(
        stuck.document,
        DocumentRef::Order {
            order: OrderRef::sales("501")
        }
    );
    // Checking again keeps one open exception.
    detector
        .check(s.store.as_ref(), late + minutes(1))
        .await
        .unwrap();
    let exceptions = s.store.exceptions().await.unwrap();
    assert_eq!(exceptions.len(), 1, "{exceptions:?}");
    let e = &exceptions[0];
    assert_eq!(e.exception.kind, STUCK_KIND);
    assert_eq!(
        e.exception.owner, "operations",
        "a despatch without its fulfilment"
    );
    assert_eq!(e.exception.runbook, STUCK_RUNBOOK);
    assert_eq!(e.raised_at, late);
    assert!(e.resolved_at.is_none());
    assert!(
        e.exception.message.contains("16 min"),
        "{}",
        e.exception.message
    );

    // NetSuite takes the fulfilment; the next check resolves the exception.
    s.system.release();
    tokio::time::sleep(Duration::from_millis(5)).await;
    drain(&s.outbox).await;
    let report = detector
        .check(s.store.as_ref(), late + minutes(2))
        .await
        .unwrap();
    assert!(report.stuck.is_empty(), "{report:?}");
    assert_eq!(report.resolved, vec![e.exception.key.clone()]);
    let exceptions = s.store.exceptions().await.unwrap();
    assert_eq!(exceptions[0].resolved_at, Some(late + minutes(2)));

    // With a threshold for the warehouse stage, the undespatched order becomes stuck for
    // operations.
    let mut config = StuckConfig::default();
    config.after_secs.insert(Stage::SentToClarus, 3600);
    let report = StuckDetector::new(config)
        .check(s.store.as_ref(), start + minutes(61))
        .await
        .unwrap();
    assert_eq!(report.stuck.len(), 1, "{report:?}");
    assert_eq!(report.stuck[0].stage, Stage::SentToClarus);
    assert_eq!(report.stuck[0].owner, Owner::Operations);
}

fn breakage(id: u64) -> Event {
    Event {
        source: SourceId {
            system: System::Clarus,
            resource: "stock_transaction".into(),
            id: id.to_string().as_str().into(),
            event: "breakage".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: business_time(),
        payload: Payload::StockMovement(StockMovement {
            tenant: "acme".into(),
            id: MovementId(id),
            kind: MovementKind::Breakage,
            warehouse: WarehouseId(10),
            sku: "MUG".into(),
            quantity: Decimal::ONE,
            reason: None,
            lots: vec![],
            serials: vec![],
            occurred_at: business_time(),
        }),
    }
}

#[tokio::test]
async fn an_adjustment_is_seen_then_posted() {
    let s = setup().await;
    let seen_at = now_ms();
    s.engine.ingest(&item("77", "MUG"), seen_at).await.unwrap();
    s.engine.ingest(&breakage(4401), seen_at).await.unwrap();
    let l = lifecycles(s.store.as_ref()).await.unwrap();
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0].flow, Flow::Adjustment);
    assert_eq!(l[0].stage(), Some(Stage::Seen));
    assert_eq!(l[0].reached(Stage::Seen), Some(seen_at));
    let stuck = StuckDetector::new(StuckConfig::default())
        .check(s.store.as_ref(), seen_at + minutes(20))
        .await
        .unwrap();
    assert_eq!(stuck.stuck.len(), 1);
    assert_eq!(stuck.stuck[0].owner, Owner::Finance);

    drain(&s.outbox).await;
    let l = lifecycles(s.store.as_ref()).await.unwrap();
    assert_eq!(l[0].stage(), Some(Stage::Posted));
    assert!(l[0].reached(Stage::Posted).unwrap() >= seen_at);
}

#[tokio::test]
async fn a_despatch_held_by_an_exception_blocks_until_a_person_resolves_it() {
    let s = setup().await;
    let start = now_ms();
    s.engine.ingest(&item("77", "MUG"), start).await.unwrap();
    s.engine
        .ingest(&order("501", "MUG", "77"), start)
        .await
        .unwrap();
    drain(&s.outbox).await;
    // Nine despatched against five ordered: nothing is posted, an exception holds it.
    s.engine
        .ingest(&despatch_of(9, "501", "MUG", 9), start)
        .await
        .unwrap();
    drain(&s.outbox).await;

    let l = lifecycles(s.store.as_ref()).await.unwrap();
    assert_eq!(l[0].activity[0].posting, Posting::Withheld);
    assert_eq!(l[0].stage(), Some(Stage::Despatched));
    let detector = StuckDetector::new(StuckConfig::default());
    let report = detector
        .check(s.store.as_ref(), start + minutes(20))
        .await
        .unwrap();
    assert_eq!(report.stuck.len(), 1);
    let november: ClosePeriod = "2026-11".parse().unwrap();
    let rules = CloseRules::default();
    let check = close_report(s.store.as_ref(), &november, &rules, None, start)
        .await
        .unwrap();
    // The withheld despatch blocks the close.
    let blockers: Vec<_> = check.blockers().collect();
    assert_eq!(blockers.len(), 1, "{check:?}");
    assert_eq!(blockers[0].category, CloseCategory::UnpostedDocument);
    assert_eq!(
        blockers[0].posting,
        Some(sync_core::close::PostingState::Withheld)
    );
    // The stuck-document exception awaits the despatch's fulfilment: operations', shown
    // beside the document it concerns.
    let stuck = check
        .non_blocking()
        .find(|i| i.kind.as_deref() == Some(STUCK_KIND))
        .expect("the stuck document is listed");
    assert_eq!(stuck.owner.as_deref(), Some("operations"));
    assert_eq!(stuck.category, CloseCategory::OtherException);

    // Operations decide the extra units were a counting error and resolve the exception.
    for e in s.store.exceptions().await.unwrap() {
        if e.exception.kind != STUCK_KIND {
            s.engine
                .resolve_exception(&e.exception.key, "counted wrong; 5 left", start)
                .await
                .unwrap();
        }
    }
    let l = lifecycles(s.store.as_ref()).await.unwrap();
    assert_eq!(l[0].activity[0].posting, Posting::NothingToPost);
    assert_eq!(l[0].waiting, None);
    let report = detector
        .check(s.store.as_ref(), start + minutes(21))
        .await
        .unwrap();
    assert!(report.stuck.is_empty());
    assert_eq!(report.resolved.len(), 1);
    let check = close_report(s.store.as_ref(), &november, &rules, None, start)
        .await
        .unwrap();
    assert!(!check.blocking, "{check:?}");
}

fn purchase_order(id: &str) -> Event {
    let order = events::purchase_order(id, 1, "77", "MUG", 10);
    netsuite_event(id, Payload::Order(order))
}

fn receipt(goods_in: u64, order: &str) -> Event {
    Event {
        source: SourceId {
            system: System::Clarus,
            resource: "goods_in".into(),
            id: goods_in.to_string().as_str().into(),
            event: "received".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: business_time(),
        payload: Payload::Receipt(Receipt {
            tenant: "acme".into(),
            goods_in: GoodsInId(goods_in),
            receipt: "1".into(),
            order: OrderRef {
                kind: OrderKind::Purchase,
                id: order.into(),
            },
            warehouse: WarehouseId(10),
            received_at: business_time(),
            lines: vec![ReceiptLine {
                order_line: LineNo(1),
                sku: "MUG".into(),
                quantity: Decimal::from(10),
                condition: StockCondition::Sellable,
                lots: vec![],
                serials: vec![],
            }],
        }),
    }
}

#[tokio::test]
async fn a_purchase_order_goes_from_imported_to_receipt_posted() {
    let s = setup().await;
    let start = now_ms();
    s.engine.ingest(&item("77", "MUG"), start).await.unwrap();
    s.engine
        .ingest(&purchase_order("700"), start)
        .await
        .unwrap();
    drain(&s.outbox).await;
    let received_at = now_ms();
    s.engine
        .ingest(&receipt(31, "700"), received_at)
        .await
        .unwrap();
    let l = lifecycles(s.store.as_ref()).await.unwrap();
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0].flow, Flow::PurchaseOrder);
    assert_eq!(l[0].stage(), Some(Stage::Received));
    assert_eq!(l[0].reached(Stage::Imported), Some(start));
    assert_eq!(l[0].reached(Stage::Received), Some(received_at));
    assert_eq!(l[0].waiting.map(|w| w.stage), Some(Stage::Received));

    drain(&s.outbox).await;
    let l = lifecycles(s.store.as_ref()).await.unwrap();
    let stages: Vec<Stage> = l[0].stages.iter().map(|m| m.stage).collect();
    assert_eq!(
        stages,
        [
            Stage::Imported,
            Stage::SentToClarus,
            Stage::Received,
            Stage::ReceiptPosted
        ]
    );
}
