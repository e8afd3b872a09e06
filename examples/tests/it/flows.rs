//! End-to-end tests of every flow: both simulators and the whole engine (intake, processor,
//! outbox, NetSuite poller, Clarus sweep) on a store in a temporary directory. Each test seeds
//! the systems through their own handles, plays the warehouse, and asserts the NetSuite records
//! and the stock of both systems that result.

use std::sync::Arc;

use crate::support::flow::*;
use examples::harness::SystemsOptions;
use jiff::Timestamp;
use netsuite_client::RecordId;
use netsuite_client::records::SalesOrder;
use serde_json::Value;
use sim::clarus::{ClarusId, GoodsOutStatus, Parcel, StockStatus, WebhookBehaviour};
use sim::netsuite::{GOOD, InternalId, ItemKind, NewItem, OrderKind, QUARANTINE, RecordType};
use sync_core::{NetSuiteId, Sku};
use sync_engine::engine::{Engine, IngestOutcome};
use sync_engine::exceptions::request_retry;
use sync_engine::monitor::{self, DocumentLifecycle, Stage, lifecycles};
use sync_engine::netsuite::convert::{SkuIndex, sales_order_event};
use sync_engine::store::{SqliteStore, Store, StoredException};

/// The engine's exceptions of one kind (`short-despatch`, `unknown-sku`, ...).
async fn exceptions_of(flow: &Flow, kind: &str) -> Vec<StoredException> {
    flow.exceptions()
        .await
        .into_iter()
        .filter(|e| e.exception.kind == kind)
        .collect()
}

/// Open exceptions of any kind, as `kind: message` lines for assertion messages.
async fn open_exceptions(flow: &Flow) -> Vec<String> {
    flow.exceptions()
        .await
        .into_iter()
        .filter(|e| e.resolved_at.is_none())
        .map(|e| format!("{}: {}", e.exception.kind, e.exception.message))
        .collect()
}

/// `(item id, orderLine, quantity)` of each line of a fulfilment or receipt.
fn lines_of(record: &Value) -> Vec<(String, u64, rust_decimal::Decimal)> {
    let mut lines: Vec<_> = sublist(record, "item")
        .iter()
        .map(|l| {
            (
                ref_id(l, "item").expect("line item"),
                l.get("orderLine")
                    .and_then(Value::as_u64)
                    .expect("orderLine"),
                dec(l, "quantity"),
            )
        })
        .collect();
    lines.sort();
    lines
}

/// The line of a record for one item.
fn line_for<'a>(record: &'a Value, item: &SeededItem) -> &'a Value {
    sublist(record, "item")
        .iter()
        .find(|l| ref_id(l, "item").as_deref() == Some(item.item.0.to_string().as_str()))
        .unwrap_or_else(|| panic!("no line for {} in {record:#}", item.sku))
}

/// `(number, quantity)` of each inventory assignment of a line, the number read from the
/// issued or received inventory number's `refName` or id.
fn assignments(line: &Value) -> Vec<(String, rust_decimal::Decimal, Option<String>)> {
    let rows = line
        .get("inventoryDetail")
        .and_then(|d| d.get("inventoryAssignment"))
        .and_then(|a| a.get("items"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out: Vec<_> = rows
        .iter()
        .map(|a| {
            let number = ["issueInventoryNumber", "receiptInventoryNumber"]
                .iter()
                .find_map(|f| {
                    let n = a.get(*f)?;
                    n.get("refName")
                        .or_else(|| n.get("id"))
                        .and_then(Value::as_str)
                        .or_else(|| n.as_str())
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            (number, dec(a, "quantity"), ref_id(a, "inventoryStatus"))
        })
        .collect();
    out.sort();
    out
}

/// The one fulfilment of a sales order, once the engine has settled.
async fn only_fulfilment(flow: &Flow, order: InternalId) -> Value {
    flow.wait_for("a fulfilment", || {
        flow.created_from(RecordType::ItemFulfillment, order)
            .into_iter()
            .next()
    })
    .await;
    flow.settle().await;
    let fulfilments = flow.created_from(RecordType::ItemFulfillment, order);
    assert_eq!(fulfilments.len(), 1, "{fulfilments:#?}");
    fulfilments.into_iter().next().expect("one")
}

/// The one receipt of a purchase order or return, once the engine has settled.
async fn only_receipt(flow: &Flow, order: InternalId) -> Value {
    flow.wait_for("a receipt", || {
        flow.created_from(RecordType::ItemReceipt, order)
            .into_iter()
            .next()
    })
    .await;
    flow.settle().await;
    let receipts = flow.created_from(RecordType::ItemReceipt, order);
    assert_eq!(receipts.len(), 1, "{receipts:#?}");
    receipts.into_iter().next().expect("one")
}

fn processed(flow: &Flow, kind: OrderKind, order: InternalId) -> Vec<(u64, rust_decimal::Decimal)> {
    flow.ns()
        .order_lines(kind, order)
        .iter()
        .map(|l| (l.line, l.processed))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Order to cash
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_despatch_posts_one_shipped_fulfilment_with_carrier_tracking_and_lines() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-RED", ItemKind::Inventory, 10).await;
    let tea = flow.item("TEA-EARL", ItemKind::Inventory, 5).await;
    let so = flow.order(OrderKind::SalesOrder, "SO-FULL", &[(&mug, 3), (&tea, 2)]);

    let out = flow.goods_out("SO-FULL").await;
    let goods_out = flow.cl().goods_out(out).expect("goods out");
    assert_eq!(goods_out["external_system_reference1"], so.0.to_string());
    assert_eq!(goods_out["warehouse_id"], flow.systems.warehouse.0);
    flow.pick_and_despatch(out, &["TRK-1", "TRK-2"]);

    let f = only_fulfilment(&flow, so).await;
    assert_eq!(ref_id(&f, "shipStatus").as_deref(), Some("C"), "{f:#}");
    assert_eq!(ref_id(&f, "shipMethod").as_deref(), Some("92"), "{f:#}");
    assert_eq!(
        ref_id(&f, "location"),
        Some(flow.systems.location.0.to_string())
    );
    assert!(
        f["externalId"]
            .as_str()
            .is_some_and(|e| e.starts_with("CLR-DESP-acme-")),
        "{f:#}"
    );
    let tracking: Vec<&str> = sublist(&f, "package")
        .iter()
        .filter_map(|p| p["packageTrackingNumber"].as_str())
        .collect();
    assert_eq!(tracking, ["TRK-1", "TRK-2"]);
    // NetSuite numbers the order lines 1, 4, 7, ...: the fulfilment names them, not 1..n.
    assert_eq!(
        lines_of(&f),
        [
            (mug.item.0.to_string(), 1, d(3)),
            (tea.item.0.to_string(), 4, d(2))
        ]
    );
    assert_eq!(
        processed(&flow, OrderKind::SalesOrder, so),
        [(1, d(3)), (4, d(2))]
    );
    assert_eq!(flow.on_hand(&mug)[0], (d(7), d(7)));
    assert_eq!(flow.on_hand(&tea)[0], (d(3), d(3)));
    flow.assert_stock_agrees(&[&mug, &tea]);
    flow.assert_no_duplicate_transactions();
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "limitation: Clarus documents no weight on GraphQL packages (only id, tracking_number, \
            shipment, storage_unit_type), so the despatch reader does not ask for one and \
            fulfilment packages carry no packageWeight; asking for an undocumented field could \
            make every despatch read fail on a real tenant"]
async fn parcel_weights_reach_the_fulfilment_packages() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-WEIGHT", ItemKind::Inventory, 10).await;
    let so = flow.order(OrderKind::SalesOrder, "SO-WEIGHT", &[(&mug, 1)]);
    let out = flow.goods_out("SO-WEIGHT").await;
    // Every parcel weighs 1.2 kg.
    flow.pick_and_despatch(out, &["TRK-W1", "TRK-W2"]);
    let f = only_fulfilment(&flow, so).await;
    let weights: Vec<_> = sublist(&f, "package")
        .iter()
        .map(|p| dec(p, "packageWeight"))
        .collect();
    assert_eq!(weights, [rust_decimal::Decimal::new(12, 1); 2], "{f:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_pick_fulfils_only_what_was_picked_and_raises_a_short_despatch_for_operations() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-BLUE", ItemKind::Inventory, 10).await;
    let tea = flow.item("TEA-GREEN", ItemKind::Inventory, 10).await;
    let so = flow.order(OrderKind::SalesOrder, "SO-SHORT", &[(&mug, 4), (&tea, 2)]);
    let out = flow.goods_out("SO-SHORT").await;
    let wh = flow.wh();
    assert_eq!(
        wh.allocate(out).expect("allocate"),
        GoodsOutStatus::Allocated
    );
    // The picker finds only one mug.
    wh.short_pick(out, &[(mug.product, d(1))])
        .expect("short pick");
    flow.despatch(out, &["TRK-S1"]);

    let f = only_fulfilment(&flow, so).await;
    assert_eq!(
        lines_of(&f),
        [
            (mug.item.0.to_string(), 1, d(1)),
            (tea.item.0.to_string(), 4, d(2))
        ]
    );
    assert_eq!(
        processed(&flow, OrderKind::SalesOrder, so),
        [(1, d(1)), (4, d(2))]
    );
    assert_eq!(flow.on_hand(&mug)[0], (d(9), d(9)));
    flow.assert_stock_agrees(&[&mug, &tea]);

    let short = exceptions_of(&flow, "short-despatch").await;
    assert_eq!(short.len(), 1, "{short:#?}");
    assert_eq!(short[0].exception.owner, "operations");
    assert!(
        short[0].exception.message.contains("MUG-BLUE"),
        "{}",
        short[0].exception.message
    );
    assert!(short[0].resolved_at.is_none());
    flow.assert_no_duplicate_transactions();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_allocation_despatches_what_was_in_stock() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-GREEN", ItemKind::Inventory, 10).await;
    let lamp = flow.item("LAMP-1", ItemKind::Inventory, 1).await;
    let so = flow.order(OrderKind::SalesOrder, "SO-PART", &[(&mug, 2), (&lamp, 3)]);
    let out = flow.goods_out("SO-PART").await;
    let wh = flow.wh();
    // Only one lamp is in stock: the order is part-allocated, the rest shorted.
    assert_eq!(
        wh.allocate(out).expect("allocate"),
        GoodsOutStatus::PartAllocated
    );
    wh.short_order_lines(out).expect("short the rest");
    assert_eq!(
        flow.cl().goods_out_status(out),
        Some(GoodsOutStatus::Allocated)
    );
    wh.pick(out).expect("pick");
    flow.despatch(out, &["TRK-P1"]);

    let f = only_fulfilment(&flow, so).await;
    assert_eq!(
        lines_of(&f),
        [
            (mug.item.0.to_string(), 1, d(2)),
            (lamp.item.0.to_string(), 4, d(1))
        ]
    );
    assert_eq!(
        processed(&flow, OrderKind::SalesOrder, so),
        [(1, d(2)), (4, d(1))]
    );
    assert_eq!(flow.on_hand(&lamp)[0], (d(0), d(0)));
    flow.assert_stock_agrees(&[&mug, &lamp]);
    let short = exceptions_of(&flow, "short-despatch").await;
    assert_eq!(short.len(), 1, "{short:#?}");
    assert_eq!(short[0].exception.owner, "operations");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goods_out_shipped_in_two_shipments_is_fulfilled_per_shipment_as_each_leaves() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-PART", ItemKind::Inventory, 10).await;
    let tea = flow.item("TEA-PART", ItemKind::Inventory, 10).await;
    let so = flow.order(OrderKind::SalesOrder, "SO-PART", &[(&mug, 5), (&tea, 2)]);
    let out = flow.goods_out("SO-PART").await;
    let wh = flow.wh();
    assert_eq!(
        wh.allocate(out).expect("allocate"),
        GoodsOutStatus::Allocated
    );
    wh.pick(out).expect("pick");
    // The first shipment leaves with 3 mugs; the goods out stays open for the rest.
    wh.despatch_part(
        out,
        flow.systems.carrier,
        &[(mug.product, d(3))],
        &[Parcel {
            tracking_number: "TRK-PART-1".into(),
            weight_kg: None,
        }],
    )
    .expect("part despatch");
    let first = flow
        .wait_for("the first shipment's fulfilment", || {
            flow.created_from(RecordType::ItemFulfillment, so)
                .into_iter()
                .next()
        })
        .await;
    assert_eq!(flow.cl().goods_out_status(out), Some(GoodsOutStatus::Pick));
    let items = |record: &Value| -> Vec<(String, rust_decimal::Decimal)> {
        lines_of(record)
            .into_iter()
            .map(|(item, _, quantity)| (item, quantity))
            .collect()
    };
    assert_eq!(items(&first), vec![(mug.item.0.to_string(), d(3))]);
    assert!(first.to_string().contains("TRK-PART-1"), "{first}");

    // The second shipment completes the goods out: only what it carried is fulfilled.
    flow.despatch(out, &["TRK-PART-2"]);
    flow.wait_for("the second shipment's fulfilment", || {
        (flow.created_from(RecordType::ItemFulfillment, so).len() == 2).then_some(())
    })
    .await;
    flow.settle().await;
    let fulfilments = flow.created_from(RecordType::ItemFulfillment, so);
    assert_eq!(fulfilments.len(), 2, "{fulfilments:#?}");
    let second = fulfilments
        .iter()
        .find(|f| f.to_string().contains("TRK-PART-2"))
        .expect("the second fulfilment carries the second parcel");
    let mut expected = vec![
        (mug.item.0.to_string(), d(2)),
        (tea.item.0.to_string(), d(2)),
    ];
    expected.sort();
    assert_eq!(items(second), expected);
    flow.assert_no_duplicate_transactions();
    let done: Vec<rust_decimal::Decimal> = processed(&flow, OrderKind::SalesOrder, so)
        .into_iter()
        .map(|(_, quantity)| quantity)
        .collect();
    assert_eq!(done, [d(5), d(2)]);
    flow.assert_stock_agrees(&[&mug, &tea]);
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_despatched_in_two_goods_outs_is_fulfilled_twice_for_what_each_shipped() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-SPLIT", ItemKind::Inventory, 10).await;
    let tea = flow.item("TEA-SPLIT", ItemKind::Inventory, 10).await;
    let so = flow.order(OrderKind::SalesOrder, "SO-SPLIT", &[(&mug, 5), (&tea, 2)]);
    let first = flow.goods_out("SO-SPLIT").await;
    let wh = flow.wh();
    assert_eq!(
        wh.allocate(first).expect("allocate"),
        GoodsOutStatus::Allocated
    );
    wh.short_pick(first, &[(mug.product, d(3))])
        .expect("short pick");
    flow.despatch(first, &["TRK-SPLIT-1"]);
    flow.wait_for("the first fulfilment", || {
        flow.created_from(RecordType::ItemFulfillment, so)
            .into_iter()
            .next()
    })
    .await;

    // The warehouse raises a back order for the two mugs it could not pick, with the same
    // NetSuite references as the first goods out (order id, order line number).
    let mut back_order = clarus_client::rest::goods_out::GoodsOut::sales_order(
        clarus_client::ClarusId::new(flow.systems.account.0 as i64),
        "SO-SPLIT-B",
        Timestamp::now(),
    );
    back_order.warehouse_id = Some(clarus_client::ClarusId::new(
        flow.systems.warehouse.0 as i64,
    ));
    back_order.generic = clarus_client::rest::common::GenericFields {
        external_system_reference1: Some(so.0.to_string()),
        external_system_reference2: Some(format!("NS-SO-{}-B", so.0)),
        ..Default::default()
    };
    let mut line = clarus_client::rest::goods_out::GoodsOutLine::new(
        clarus_client::ClarusId::new(mug.product.0 as i64),
        d(2),
    );
    line.alt_line_number = Some("1".into());
    line.generic = clarus_client::rest::common::GenericFields::with_external_reference("1");
    back_order.lines_changes = vec![clarus_client::rest::common::Change::Add(line)];
    let created = flow
        .systems
        .clarus_client()
        .expect("client")
        .create_goods_out(&back_order)
        .await
        .expect("back order");
    let second = ClarusId(created.id.to_string().parse().expect("id"));
    flow.pick_and_despatch(second, &["TRK-SPLIT-2"]);

    flow.wait_for("the second fulfilment", || {
        (flow.created_from(RecordType::ItemFulfillment, so).len() == 2).then_some(())
    })
    .await;
    flow.settle().await;
    let fulfilments = flow.created_from(RecordType::ItemFulfillment, so);
    assert_eq!(fulfilments.len(), 2, "{fulfilments:#?}");
    assert_eq!(
        lines_of(&fulfilments[0]),
        [
            (mug.item.0.to_string(), 1, d(3)),
            (tea.item.0.to_string(), 4, d(2))
        ]
    );
    assert_eq!(
        lines_of(&fulfilments[1]),
        [(mug.item.0.to_string(), 1, d(2))]
    );
    let tracking: Vec<Vec<&str>> = fulfilments
        .iter()
        .map(|f| {
            sublist(f, "package")
                .iter()
                .filter_map(|p| p["packageTrackingNumber"].as_str())
                .collect()
        })
        .collect();
    assert_eq!(tracking, [["TRK-SPLIT-1"], ["TRK-SPLIT-2"]]);
    assert_eq!(
        processed(&flow, OrderKind::SalesOrder, so),
        [(1, d(5)), (4, d(2))]
    );
    assert_eq!(flow.on_hand(&mug)[0], (d(5), d(5)));
    flow.assert_stock_agrees(&[&mug, &tea]);
    flow.assert_no_duplicate_transactions();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sales_order_cancelled_after_release_cancels_the_goods_out_and_fulfils_nothing() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-CANCEL", ItemKind::Inventory, 10).await;
    let so = flow.order(OrderKind::SalesOrder, "SO-CANCEL", &[(&mug, 3)]);
    let out = flow.goods_out("SO-CANCEL").await;
    assert_eq!(
        flow.wh().allocate(out).expect("allocate"),
        GoodsOutStatus::Allocated
    );
    // The customer cancels a while later (NetSuite's modification times have whole seconds;
    // see `a_change_in_the_same_second_as_the_version_polled_is_not_lost`).
    next_second().await;

    flow.ns()
        .cancel_order(OrderKind::SalesOrder, so)
        .expect("cancel in NetSuite");
    let cl = flow.cl();
    flow.wait_for("the goods out to be cancelled", || {
        (cl.goods_out_status(out) == Some(GoodsOutStatus::Cancelled)).then_some(())
    })
    .await;
    flow.settle().await;

    assert!(
        flow.created_from(RecordType::ItemFulfillment, so)
            .is_empty()
    );
    // The allocation is released: all ten mugs are free again, in both systems.
    assert_eq!(flow.on_hand(&mug)[0], (d(10), d(10)));
    assert!(
        flow.wh()
            .adjust(mug.product, flow.systems.bin, d(-10), "check")
            .is_ok(),
        "the cancelled order still holds stock"
    );
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

/// The lifecycle of sales order `so` once it has reached `stage`.
async fn sales_order_reaching(flow: &Flow, so: InternalId, stage: Stage) -> DocumentLifecycle {
    let document = sync_core::DocumentRef::Order {
        order: sync_core::OrderRef::sales(so.0.to_string()),
    };
    let started = std::time::Instant::now();
    loop {
        let found = lifecycles(flow.engine().store.as_ref())
            .await
            .expect("lifecycles")
            .into_iter()
            .find(|l| l.document == document);
        if let Some(l) = found.filter(|l| l.reached(stage).is_some()) {
            return l;
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            panic!("{so:?} never reached {stage}\n{}", dump(flow).await);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_despatched_order_goes_through_every_sales_order_stage_in_time_order() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-STAGES", ItemKind::Inventory, 10).await;
    let so = flow.order(OrderKind::SalesOrder, "SO-STAGES", &[(&mug, 2)]);
    let out = flow.goods_out("SO-STAGES").await;
    sales_order_reaching(&flow, so, Stage::SentToClarus).await;

    // Processing picks: goods out `processed` and pick list `created`.
    assert_eq!(
        flow.wh().allocate(out).expect("allocate"),
        GoodsOutStatus::Allocated
    );
    let l = sales_order_reaching(&flow, so, Stage::Acknowledged).await;
    assert_eq!(l.stage(), Some(Stage::Acknowledged));
    assert_eq!(l.waiting.map(|w| w.stage), Some(Stage::Acknowledged));
    // Picking: pick list `picked`.
    flow.wh().pick(out).expect("pick");
    let l = sales_order_reaching(&flow, so, Stage::Picking).await;
    assert_eq!(l.stage(), Some(Stage::Picking));
    flow.despatch(out, &["TRK-ST"]);
    only_fulfilment(&flow, so).await;
    let l = sales_order_reaching(&flow, so, Stage::FulfilmentPosted).await;
    flow.settle().await;

    let stages: Vec<Stage> = l.stages.iter().map(|m| m.stage).collect();
    assert_eq!(stages, monitor::Flow::SalesOrder.stages());
    assert_eq!(stages.len(), 6);
    let times: Vec<Timestamp> = l.stages.iter().map(|m| m.at).collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "each stage after the one before: {:?}",
        l.stages
    );
    assert_eq!(l.waiting, None);
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());

    // Another order whose progress webhooks are all lost: despatched, it has necessarily been
    // acknowledged and picked, at the time of its despatch.
    let so2 = flow.order(OrderKind::SalesOrder, "SO-STAGES-2", &[(&mug, 1)]);
    let out2 = flow.goods_out("SO-STAGES-2").await;
    sales_order_reaching(&flow, so2, Stage::SentToClarus).await;
    let calm = SystemsOptions::calm(11).webhooks;
    flow.cl().set_webhook_behaviour(WebhookBehaviour {
        loss_rate: 1.0,
        ..calm
    });
    flow.wh().allocate(out2).expect("allocate");
    flow.wh().pick(out2).expect("pick");
    flow.cl().set_webhook_behaviour(calm);
    let before_despatch = Timestamp::now();
    flow.despatch(out2, &["TRK-ST2"]);
    let l = sales_order_reaching(&flow, so2, Stage::FulfilmentPosted).await;
    let despatched = l.reached(Stage::Despatched).expect("despatched");
    // Both come from the despatch's evidence (the goods out, or the pick list completed with
    // it, whichever the engine recorded first), never later than the despatch.
    for stage in [Stage::Acknowledged, Stage::Picking] {
        let at = l.reached(stage).expect("backfilled");
        assert!(
            before_despatch <= at && at <= despatched,
            "{stage:?} at {at}, despatch started {before_despatch}, despatched {despatched}"
        );
    }
    let times: Vec<Timestamp> = l.stages.iter().map(|m| m.at).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{:?}", l.stages);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_in_the_same_second_as_the_version_polled_is_not_lost() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-SAME-SECOND", ItemKind::Inventory, 10).await;
    next_second().await;
    let so = flow.order(OrderKind::SalesOrder, "SO-SAME-SECOND", &[(&mug, 3)]);
    // The goods out is created within a few hundred milliseconds; the cancellation follows in
    // the same second as the order's creation.
    let out = flow.goods_out("SO-SAME-SECOND").await;
    flow.ns()
        .cancel_order(OrderKind::SalesOrder, so)
        .expect("cancel in NetSuite");
    let cl = flow.cl();
    // Clarus deletes a cancelled goods out that was still pending, and keeps an allocated one
    // as cancelled.
    flow.wait_for("the goods out to be cancelled", || {
        matches!(
            cl.goods_out_status(out),
            None | Some(GoodsOutStatus::Cancelled)
        )
        .then_some(())
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Item master
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_for_an_unknown_sku_is_held_then_released_when_the_item_appears() {
    let mut flow = Flow::without_engine(SystemsOptions::calm(5)).await;
    let ns = flow.ns();
    let item = ns
        .add_item(NewItem::new("KETTLE-NEW", ItemKind::Inventory))
        .expect("item");
    let kettle = SeededItem {
        sku: "KETTLE-NEW".into(),
        item,
        product: ClarusId(0),
    };
    let so = flow.order(OrderKind::SalesOrder, "SO-HELD", &[(&kettle, 2)]);

    // The order pass reaches the order before the item pass has read its item (the item was
    // created between the two). Reproduced without timing luck: the order is read and ingested
    // as the poller does, on the engine's store, before the engine runs.
    {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&flow.options.store_path).expect("store"));
        let engine = Engine::open(store.clone(), flow.systems.mappings.clone())
            .await
            .expect("engine");
        let client = flow.systems.netsuite_client().expect("client");
        let record: SalesOrder = client
            .get_as::<SalesOrder>(
                netsuite_client::RecordType::from_static("salesOrder"),
                RecordId::new(so.0.to_string()).expect("id"),
            )
            .expand_sub_resources(true)
            .send()
            .await
            .expect("sales order");
        let mut skus = SkuIndex::new();
        skus.insert(NetSuiteId::new(item.0.to_string()), Sku::new("KETTLE-NEW"));
        let event = sales_order_event(&record, &skus).expect("converts");
        let outcome = engine
            .ingest(&event, Timestamp::now())
            .await
            .expect("ingest");
        assert!(
            !matches!(outcome, IngestOutcome::Duplicate),
            "the order was planned: {outcome:?}"
        );
        let held: Vec<_> = store
            .exceptions()
            .await
            .expect("exceptions")
            .into_iter()
            .filter(|e| e.exception.kind == "unknown-sku")
            .collect();
        assert_eq!(held.len(), 1, "{held:#?}");
        assert_eq!(held[0].exception.owner, "item_master");
        assert!(held[0].exception.message.contains("KETTLE-NEW"));
        assert!(held[0].resolved_at.is_none());
        let actions = store.actions().await.expect("actions");
        assert!(
            actions.iter().all(|a| a.action.kind != "create_goods_out"),
            "a held order must not reach the warehouse: {actions:#?}"
        );
    }

    // The engine runs: its item pass reads the item, creates the product and releases the order.
    flow.restart().await;
    let product = flow.product("KETTLE-NEW").await;
    let out = flow.goods_out("SO-HELD").await;
    flow.settle().await;
    let goods_out = flow.cl().goods_out(out).expect("goods out");
    let lines = goods_out["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["product_id"], product.0);
    assert_eq!(dec(&lines[0], "order_quantity"), d(2));
    assert_eq!(flow.cl().find_goods_outs("SO-HELD").len(), 1);

    let held = exceptions_of(&flow, "unknown-sku").await;
    assert_eq!(held.len(), 1, "{held:#?}");
    assert!(held[0].resolved_at.is_some(), "{held:#?}");
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());

    // And the released order runs to cash like any other.
    let kettle = flow.stock(&SeededItem { product, ..kettle }, ItemKind::Inventory, 4);
    flow.pick_and_despatch(out, &["TRK-K1"]);
    let f = only_fulfilment(&flow, so).await;
    assert_eq!(lines_of(&f), [(item.0.to_string(), 1, d(2))]);
    flow.assert_stock_agrees(&[&kettle]);
}

// ---------------------------------------------------------------------------------------------
// Lots and serial numbers
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lot_numbered_item_is_fulfilled_from_the_lot_that_was_picked() {
    let flow = Flow::calm().await;
    let milk = flow.item("MILK-LOT", ItemKind::LotNumbered, 10).await;
    let so = flow.order(OrderKind::SalesOrder, "SO-LOT", &[(&milk, 3)]);
    let out = flow.goods_out("SO-LOT").await;
    flow.pick_and_despatch(out, &["TRK-L1"]);

    let f = only_fulfilment(&flow, so).await;
    let line = line_for(&f, &milk);
    assert_eq!(dec(line, "quantity"), d(3));
    let lots: Vec<_> = assignments(line)
        .into_iter()
        .map(|(n, q, _)| (n, q))
        .collect();
    assert_eq!(lots, [("MILK-LOT-LOT1".to_owned(), d(3))], "{line:#}");
    assert_eq!(flow.ns().lot_on_hand(milk.item, "MILK-LOT-LOT1"), d(7));
    flow.assert_stock_agrees(&[&milk]);
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serialized_item_is_fulfilled_with_the_serial_numbers_that_were_picked() {
    let flow = Flow::calm().await;
    let phone = flow.item("PHONE-SN", ItemKind::Serialized, 3).await;
    let so = flow.order(OrderKind::SalesOrder, "SO-SERIAL", &[(&phone, 2)]);
    let out = flow.goods_out("SO-SERIAL").await;
    flow.pick_and_despatch(out, &["TRK-N1"]);

    let f = only_fulfilment(&flow, so).await;
    let line = line_for(&f, &phone);
    assert_eq!(dec(line, "quantity"), d(2));
    let serials: Vec<String> = assignments(line)
        .into_iter()
        .map(|(n, q, _)| {
            assert_eq!(q, d(1));
            n
        })
        .collect();
    assert_eq!(serials.len(), 2, "{line:#}");
    // The serial numbers NetSuite issued are the ones that left the warehouse.
    let left: Vec<String> = (1..=3)
        .map(|n| format!("PHONE-SN-SN{n}"))
        .filter(|s| {
            !flow
                .cl()
                .stocks(phone.product)
                .iter()
                .any(|st| st["serial_number"].as_str() == Some(s))
        })
        .collect();
    assert_eq!(serials, left);
    for n in 1..=3 {
        let serial = format!("PHONE-SN-SN{n}");
        let expected = if serials.contains(&serial) { 0 } else { 1 };
        assert_eq!(flow.ns().lot_on_hand(phone.item, &serial), d(expected));
    }
    flow.assert_stock_agrees(&[&phone]);
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lot_item_despatched_without_a_lot_raises_missing_lot_and_posts_nothing_for_it() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-PLAIN", ItemKind::Inventory, 5).await;
    let milk = flow.item("MILK-NOLOT", ItemKind::LotNumbered, 0).await;
    // The warehouse holds the lot item without a batch number.
    flow.cl()
        .seed_stock(
            milk.product,
            flow.systems.bin,
            d(4),
            StockStatus::Available,
            None,
        )
        .expect("stock");
    flow.ns()
        .set_lot_on_hand(
            milk.item,
            "MILK-NOLOT-LOT1",
            flow.systems.location,
            GOOD,
            d(4),
        )
        .expect("lot");
    let so = flow.order(OrderKind::SalesOrder, "SO-NOLOT", &[(&mug, 1), (&milk, 2)]);
    let out = flow.goods_out("SO-NOLOT").await;
    flow.pick_and_despatch(out, &["TRK-X1"]);

    let f = only_fulfilment(&flow, so).await;
    assert_eq!(lines_of(&f), [(mug.item.0.to_string(), 1, d(1))]);
    assert_eq!(
        processed(&flow, OrderKind::SalesOrder, so),
        [(1, d(1)), (4, d(0))]
    );
    let missing = exceptions_of(&flow, "missing-lot-or-serial").await;
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert_eq!(missing[0].exception.owner, "operations");
    assert!(missing[0].resolved_at.is_none());
    assert!(missing[0].exception.message.contains("MILK-NOLOT"));
    // NetSuite still holds the lot the warehouse shipped: the exception is the difference.
    assert_eq!(flow.ns().lot_on_hand(milk.item, "MILK-NOLOT-LOT1"), d(4));
    flow.assert_no_duplicate_transactions();
}

// ---------------------------------------------------------------------------------------------
// Inbound and returns
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_receipt_posts_what_arrived_before_the_rest_comes() {
    let flow = Flow::calm().await;
    let tea = flow.item("TEA-PART-IN", ItemKind::Inventory, 0).await;
    let po = flow.order(OrderKind::PurchaseOrder, "PO-PART", &[(&tea, 5)]);
    let gin = flow.goods_in("PO-PART").await;
    // Two arrive; the receipt stays open (`goods_in.moved_to_part`).
    flow.wh()
        .receive(
            gin,
            &[sim::clarus::ReceivedLine {
                product: tea.product,
                quantity: d(2),
                batch: None,
                serial_numbers: Vec::new(),
            }],
            StockStatus::Available,
            false,
        )
        .expect("part receipt");
    let first = flow
        .wait_for("the part receipt", || {
            flow.created_from(RecordType::ItemReceipt, po)
                .into_iter()
                .next()
        })
        .await;
    assert_eq!(lines_of(&first)[0].2, d(2));
    // The rest arrives and completes it: a second receipt of only what arrived since.
    flow.receive(gin, &[(&tea, 3)], StockStatus::Available);
    flow.wait_for("the second receipt", || {
        (flow.created_from(RecordType::ItemReceipt, po).len() == 2).then_some(())
    })
    .await;
    flow.settle().await;
    let mut quantities: Vec<_> = flow
        .created_from(RecordType::ItemReceipt, po)
        .iter()
        .map(|r| lines_of(r)[0].2)
        .collect();
    quantities.sort();
    assert_eq!(quantities, [d(2), d(3)]);
    assert_eq!(processed(&flow, OrderKind::PurchaseOrder, po)[0].1, d(5));
    flow.assert_stock_agrees(&[&tea]);
    flow.assert_no_duplicate_transactions();
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_order_received_in_the_warehouse_posts_a_receipt_of_what_arrived() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-PO", ItemKind::Inventory, 4).await;
    let tea = flow.item("TEA-PO", ItemKind::Inventory, 0).await;
    let po = flow.order(OrderKind::PurchaseOrder, "PO-1", &[(&mug, 20), (&tea, 6)]);
    let gin = flow.goods_in("PO-1").await;
    let receipt = flow.cl().goods_in(gin).expect("goods in");
    assert_eq!(receipt["lines"].as_array().map(Vec::len), Some(2));

    // Everything on the first line arrived, half of the second.
    flow.receive(gin, &[(&mug, 20), (&tea, 3)], StockStatus::Available);

    let r = only_receipt(&flow, po).await;
    assert_eq!(
        lines_of(&r),
        [
            (mug.item.0.to_string(), 1, d(20)),
            (tea.item.0.to_string(), 4, d(3))
        ]
    );
    assert_eq!(
        processed(&flow, OrderKind::PurchaseOrder, po),
        [(1, d(20)), (4, d(3))]
    );
    assert_eq!(flow.on_hand(&mug)[0], (d(24), d(24)));
    assert_eq!(flow.on_hand(&tea)[0], (d(3), d(3)));
    flow.assert_stock_agrees(&[&mug, &tea]);
    flow.assert_no_duplicate_transactions();
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lot_and_serial_items_are_received_with_the_lots_and_serials_the_warehouse_booked() {
    let flow = Flow::calm().await;
    let milk = flow.item("MILK-IN", ItemKind::LotNumbered, 0).await;
    let phone = flow.item("PHONE-IN", ItemKind::Serialized, 0).await;
    let po = flow.order(
        OrderKind::PurchaseOrder,
        "PO-TRACKED",
        &[(&milk, 6), (&phone, 2)],
    );
    let gin = flow.goods_in("PO-TRACKED").await;
    flow.wh()
        .receive(
            gin,
            &[
                sim::clarus::ReceivedLine {
                    product: milk.product,
                    quantity: d(6),
                    batch: Some("B-2026-11".into()),
                    serial_numbers: Vec::new(),
                },
                sim::clarus::ReceivedLine {
                    product: phone.product,
                    quantity: d(2),
                    batch: None,
                    serial_numbers: vec!["IMEI-1".into(), "IMEI-2".into()],
                },
            ],
            StockStatus::Available,
            true,
        )
        .expect("receive");

    let r = only_receipt(&flow, po).await;
    let lots: Vec<_> = assignments(line_for(&r, &milk))
        .into_iter()
        .map(|(n, q, _)| (n, q))
        .collect();
    assert_eq!(lots, [("B-2026-11".to_owned(), d(6))], "{r:#}");
    let serials: Vec<_> = assignments(line_for(&r, &phone))
        .into_iter()
        .map(|(n, q, _)| (n, q))
        .collect();
    assert_eq!(
        serials,
        [("IMEI-1".to_owned(), d(1)), ("IMEI-2".to_owned(), d(1))],
        "{r:#}"
    );
    let ns = flow.ns();
    assert_eq!(ns.lot_on_hand(milk.item, "B-2026-11"), d(6));
    assert_eq!(ns.lot_on_hand(phone.item, "IMEI-1"), d(1));
    assert_eq!(ns.lot_on_hand(phone.item, "IMEI-2"), d(1));
    flow.assert_stock_agrees(&[&milk, &phone]);
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_received_into_quarantine_is_received_into_the_quarantine_status() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-RA", ItemKind::Inventory, 10).await;
    let ra = flow.order(OrderKind::ReturnAuthorization, "RA-Q", &[(&mug, 2)]);
    let gin = flow.goods_in("RA-Q").await;
    flow.receive(gin, &[(&mug, 2)], StockStatus::Held);

    let r = only_receipt(&flow, ra).await;
    let line = line_for(&r, &mug);
    assert_eq!(dec(line, "quantity"), d(2));
    let statuses: Vec<_> = assignments(line)
        .into_iter()
        .map(|(_, q, s)| (q, s))
        .collect();
    assert_eq!(
        statuses,
        [(d(2), Some(QUARANTINE.0.to_string()))],
        "{line:#}"
    );
    assert_eq!(flow.on_hand(&mug), [(d(10), d(10)), (d(2), d(2))]);
    flow.assert_stock_agrees(&[&mug]);
    assert_eq!(
        processed(&flow, OrderKind::ReturnAuthorization, ra),
        [(1, d(2))]
    );
    flow.assert_no_duplicate_transactions();
    // Clarus put the received stock on hold, with its own `stock.placed_on_hold` webhook: the
    // receipt posted that quarantine, so the hold posts nothing.
    assert!(
        flow.cl()
            .webhook_log()
            .iter()
            .any(|w| w.resource == "stock" && w.event == "placed_on_hold")
    );
    assert_eq!(flow.ns().count(RecordType::InventoryStatusChange), 0);
    assert_eq!(flow.ns().count(RecordType::InventoryTransfer), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_line_received_part_held_part_sellable_posts_one_receipt_line_split_by_status() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-RA-SPLIT", ItemKind::Inventory, 10).await;
    let ra = flow.order(OrderKind::ReturnAuthorization, "RA-SPLIT", &[(&mug, 3)]);
    let gin = flow.goods_in("RA-SPLIT").await;
    // One unit arrives damaged (on hold); its webhooks are lost, so the completion reports both
    // receivings in one receipt.
    flow.cl().set_webhook_behaviour(WebhookBehaviour {
        loss_rate: 1.0,
        ..WebhookBehaviour::default()
    });
    flow.wh()
        .receive(
            gin,
            &[sim::clarus::ReceivedLine {
                product: mug.product,
                quantity: d(1),
                batch: None,
                serial_numbers: Vec::new(),
            }],
            StockStatus::Held,
            false,
        )
        .expect("part receipt");
    flow.cl().set_webhook_behaviour(WebhookBehaviour::default());
    flow.receive(gin, &[(&mug, 2)], StockStatus::Available);

    let r = only_receipt(&flow, ra).await;
    // One receipt line for the order line, with the split as assignments in their statuses.
    assert_eq!(sublist(&r, "item").len(), 1, "{r:#}");
    let line = line_for(&r, &mug);
    assert_eq!(dec(line, "quantity"), d(3));
    let mut statuses: Vec<_> = assignments(line)
        .into_iter()
        .map(|(_, q, s)| (q, s))
        .collect();
    statuses.sort();
    let mut expected = vec![
        (d(1), Some(QUARANTINE.0.to_string())),
        (d(2), Some(GOOD.0.to_string())),
    ];
    expected.sort();
    assert_eq!(statuses, expected, "{line:#}");
    flow.settle().await;
    assert_eq!(flow.on_hand(&mug), [(d(12), d(12)), (d(1), d(1))]);
    flow.assert_stock_agrees(&[&mug]);
    flow.assert_no_duplicate_transactions();
    assert_eq!(flow.ns().count(RecordType::InventoryStatusChange), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_received_sellable_goes_back_into_sellable_stock() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-RA-OK", ItemKind::Inventory, 10).await;
    let ra = flow.order(OrderKind::ReturnAuthorization, "RA-OK", &[(&mug, 3)]);
    let gin = flow.goods_in("RA-OK").await;
    flow.receive(gin, &[(&mug, 3)], StockStatus::Available);

    let r = only_receipt(&flow, ra).await;
    assert_eq!(lines_of(&r), [(mug.item.0.to_string(), 1, d(3))]);
    assert_eq!(flow.on_hand(&mug), [(d(13), d(13)), (d(0), d(0))]);
    flow.assert_stock_agrees(&[&mug]);
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// Adjustments
// ---------------------------------------------------------------------------------------------

/// Waits until NetSuite shows `[(sellable), (quarantine)]` for an item in both systems.
async fn both_show(flow: &Flow, item: &SeededItem, sellable: i64, quarantine: i64) {
    let want = [(d(sellable), d(sellable)), (d(quarantine), d(quarantine))];
    let started = std::time::Instant::now();
    while flow.on_hand(item) != want {
        assert!(
            started.elapsed() < WAIT,
            "{}: (NetSuite, Clarus) on-hand {:?}, expected {want:?}\n{}",
            item.sku,
            flow.on_hand(item),
            dump(flow).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The sum of `adjustQtyBy` over the NetSuite inventory adjustment lines of an item.
fn adjusted(flow: &Flow, item: &SeededItem) -> rust_decimal::Decimal {
    flow.ns()
        .records(RecordType::InventoryAdjustment)
        .iter()
        .flat_map(|a| sublist(a, "inventory").to_vec())
        .filter(|l| ref_id(l, "item") == Some(item.item.0.to_string()))
        .map(|l| dec(&l, "adjustQtyBy"))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_movements_in_the_warehouse_leave_netsuite_equal_to_clarus() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-ADJ", ItemKind::Inventory, 20).await;
    let tea = flow.item("TEA-ADJ", ItemKind::Inventory, 20).await;
    let (wh, bin, warehouse) = (flow.wh(), flow.systems.bin, flow.systems.warehouse);

    // A day of movements, each reaching NetSuite before the next one touches the same stock.
    wh.adjust(mug.product, bin, d(5), "found")
        .expect("positive");
    both_show(&flow, &mug, 25, 0).await;
    assert_eq!(adjusted(&flow, &mug), d(5));

    wh.adjust(tea.product, bin, d(-3), "lost")
        .expect("negative");
    both_show(&flow, &tea, 17, 0).await;
    assert_eq!(adjusted(&flow, &tea), d(-3));

    wh.breakage(mug.product, bin, d(2)).expect("breakage");
    both_show(&flow, &mug, 23, 0).await;
    assert_eq!(adjusted(&flow, &mug), d(3));

    wh.hold(tea.product, warehouse, d(4), "damaged packaging")
        .expect("hold");
    both_show(&flow, &tea, 13, 4).await;
    wh.release(tea.product, warehouse, d(1), "repacked")
        .expect("release");
    both_show(&flow, &tea, 14, 3).await;
    assert_eq!(
        adjusted(&flow, &tea),
        d(-3),
        "status changes adjust nothing"
    );
    assert_eq!(flow.ns().count(RecordType::InventoryStatusChange), 2);

    let difference = wh.stock_check(mug.product, bin, d(21)).expect("count");
    assert_eq!(difference, d(-2));
    both_show(&flow, &mug, 21, 0).await;
    assert_eq!(adjusted(&flow, &mug), d(1));

    flow.settle().await;
    let adjustments = flow.ns().records(RecordType::InventoryAdjustment);
    // Four adjustments (found, lost, breakage, count) to the mapped account, at the location.
    assert_eq!(adjustments.len(), 4, "{adjustments:#?}");
    for a in &adjustments {
        assert_eq!(ref_id(a, "account").as_deref(), Some("540"), "{a:#}");
        for line in sublist(a, "inventory") {
            assert_eq!(
                ref_id(line, "location"),
                Some(flow.systems.location.0.to_string()),
                "{a:#}"
            );
        }
    }
    assert_eq!(flow.on_hand(&mug), [(d(21), d(21)), (d(0), d(0))]);
    assert_eq!(flow.on_hand(&tea), [(d(14), d(14)), (d(3), d(3))]);
    flow.assert_stock_agrees(&[&mug, &tea]);
    flow.assert_no_duplicate_transactions();
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_and_its_release_back_to_back_leave_netsuite_equal_to_clarus() {
    // Webhooks may arrive out of order (Clarus does not promise an order): up to 100 ms apart.
    let mut options = SystemsOptions::calm(23);
    options.webhooks.reorder_window = std::time::Duration::from_millis(100);
    let flow = Flow::start(options).await;
    let (wh, warehouse) = (flow.wh(), flow.systems.warehouse);
    let mut items = Vec::new();
    for n in 1..=4 {
        let tea = flow
            .item(&format!("TEA-HOLD-{n}"), ItemKind::Inventory, 20)
            .await;
        wh.hold(tea.product, warehouse, d(4), "damaged packaging")
            .expect("hold");
        wh.release(tea.product, warehouse, d(1), "repacked")
            .expect("release");
        items.push(tea);
    }
    for tea in &items {
        both_show(&flow, tea, 17, 3).await;
    }
    flow.settle().await;
    flow.assert_stock_agrees(&items.iter().collect::<Vec<_>>());
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// Duplicates and restarts
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_webhook_delivered_twice_creates_no_duplicate_transaction() {
    let mut options = SystemsOptions::calm(17);
    options.webhooks = WebhookBehaviour {
        duplicate_rate: 1.0,
        ..options.webhooks
    };
    let flow = Flow::start(options).await;
    let mug = flow.item("MUG-DUP", ItemKind::Inventory, 10).await;
    let tea = flow.item("TEA-DUP", ItemKind::Inventory, 10).await;
    let so = flow.order(OrderKind::SalesOrder, "SO-DUP", &[(&mug, 2), (&tea, 1)]);
    let po = flow.order(OrderKind::PurchaseOrder, "PO-DUP", &[(&tea, 5)]);
    let ra = flow.order(OrderKind::ReturnAuthorization, "RA-DUP", &[(&mug, 1)]);
    let out = flow.goods_out("SO-DUP").await;
    flow.pick_and_despatch(out, &["TRK-D1"]);
    let gin = flow.goods_in("PO-DUP").await;
    flow.receive(gin, &[(&tea, 5)], StockStatus::Available);
    let rin = flow.goods_in("RA-DUP").await;
    flow.receive(rin, &[(&mug, 1)], StockStatus::Held);
    flow.wh()
        .adjust(mug.product, flow.systems.bin, d(2), "found")
        .expect("adjust");

    only_fulfilment(&flow, so).await;
    only_receipt(&flow, po).await;
    only_receipt(&flow, ra).await;
    flow.settle().await;

    let log = flow.cl().webhook_log();
    assert!(!log.is_empty());
    assert!(
        log.iter().all(|w| w.copies.len() == 2),
        "every webhook is sent twice"
    );
    flow.assert_no_duplicate_transactions();
    assert_eq!(flow.ns().count(RecordType::ItemFulfillment), 1);
    assert_eq!(flow.ns().count(RecordType::ItemReceipt), 2);
    assert_eq!(
        processed(&flow, OrderKind::SalesOrder, so),
        [(1, d(2)), (4, d(1))]
    );
    // 10 − 2 despatched + 2 found; 1 returned into quarantine.
    assert_eq!(flow.on_hand(&mug), [(d(10), d(10)), (d(1), d(1))]);
    assert_eq!(flow.on_hand(&tea)[0], (d(14), d(14)));
    flow.assert_stock_agrees(&[&mug, &tea]);
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fulfilment_whose_reply_is_lost_is_looked_up_not_posted_again() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-LOST-REPLY", ItemKind::Inventory, 10).await;
    let tea = flow.item("TEA-LOST-REPLY", ItemKind::Inventory, 10).await;
    let so = flow.order(OrderKind::SalesOrder, "SO-LOST-1", &[(&mug, 2)]);
    let po = flow.order(OrderKind::PurchaseOrder, "PO-LOST-1", &[(&tea, 4)]);
    let out = flow.goods_out("SO-LOST-1").await;
    let gin = flow.goods_in("PO-LOST-1").await;

    // NetSuite commits the fulfilment, then the connection drops before the reply.
    flow.ns()
        .inject_fault(sim::Fault::CommitThenFail(sim::LostReply::DropConnection));
    flow.pick_and_despatch(out, &["TRK-LOST-1"]);
    let f = only_fulfilment(&flow, so).await;
    assert_eq!(lines_of(&f), [(mug.item.0.to_string(), 1, d(2))]);

    // Then a receipt whose commit is answered with a 500.
    flow.ns()
        .inject_fault(sim::Fault::CommitThenFail(sim::LostReply::ServerError));
    flow.receive(gin, &[(&tea, 4)], StockStatus::Available);
    let r = only_receipt(&flow, po).await;
    assert_eq!(lines_of(&r), [(tea.item.0.to_string(), 1, d(4))]);

    assert_eq!(flow.ns().stats().commits_then_failed, 2);
    assert_eq!(flow.ns().count(RecordType::ItemFulfillment), 1);
    assert_eq!(flow.ns().count(RecordType::ItemReceipt), 1);
    flow.assert_no_duplicate_transactions();
    assert_eq!(flow.on_hand(&mug)[0], (d(8), d(8)));
    assert_eq!(flow.on_hand(&tea)[0], (d(14), d(14)));
    flow.assert_stock_agrees(&[&mug, &tea]);
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fulfilment_refused_by_netsuite_posts_once_when_retried_after_the_fix() {
    let flow = Flow::calm().await;
    let mug = flow.item("MUG-REFUSED", ItemKind::Inventory, 10).await;
    let so = flow.order(OrderKind::SalesOrder, "SO-REFUSED-1", &[(&mug, 2)]);
    let out = flow.goods_out("SO-REFUSED-1").await;

    // NetSuite refuses the fulfilment (a closed period): the outbox gives up and says why.
    flow.ns().inject_fault(sim::Fault::Refuse);
    flow.pick_and_despatch(out, &["TRK-REFUSED-1"]);
    flow.settle().await;
    let failed = exceptions_of(&flow, "action-failed").await;
    assert_eq!(failed.len(), 1, "{}", dump(&flow).await);
    let failed = &failed[0];
    assert_eq!(
        failed.exception.owner, "operations",
        "the despatch is the warehouse flow's"
    );
    assert!(failed.exception.message.contains("period"), "{failed:?}");
    assert!(failed.exception.document.contains("despatch"), "{failed:?}");
    assert_eq!(flow.ns().count(RecordType::ItemFulfillment), 0);

    // Finance reopens the period and operations retry from the command line; the running engine
    // carries the retry out.
    let store = flow.engine().store.clone();
    let key = failed.exception.key.clone();
    request_retry(
        store.as_ref(),
        &key,
        Some("period reopened"),
        Timestamp::now(),
    )
    .await
    .expect("retry queued");
    let f = only_fulfilment(&flow, so).await;
    assert_eq!(lines_of(&f), [(mug.item.0.to_string(), 1, d(2))]);

    let after = store.exception(&key).await.unwrap().unwrap();
    assert!(after.resolved_at.is_some(), "{after:?}");
    let trail: Vec<String> = store
        .exception_audit(&key)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.change)
        .collect();
    assert_eq!(trail, ["raised", "retry-requested", "resolved", "retried"]);
    assert_eq!(flow.ns().stats().refused, 1);
    flow.assert_no_duplicate_transactions();
    assert_eq!(flow.on_hand(&mug)[0], (d(8), d(8)));
    flow.assert_stock_agrees(&[&mug]);
    assert_eq!(open_exceptions(&flow).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_killed_mid_day_and_restarted_completes_the_day_once() {
    let mut flow = Flow::calm().await;
    let mug = flow.item("MUG-RESTART", ItemKind::Inventory, 50).await;
    let tea = flow.item("TEA-RESTART", ItemKind::Inventory, 50).await;
    let orders: Vec<(String, InternalId)> = (1..=6)
        .map(|n| {
            let tran_id = format!("SO-R{n}");
            let so = flow.order(OrderKind::SalesOrder, &tran_id, &[(&mug, n), (&tea, 1)]);
            (tran_id, so)
        })
        .collect();
    let po = flow.order(OrderKind::PurchaseOrder, "PO-R", &[(&mug, 10)]);
    let mut outs = Vec::new();
    for (tran_id, _) in &orders {
        outs.push(flow.goods_out(tran_id).await);
    }
    let gin = flow.goods_in("PO-R").await;

    // Morning: half the orders go out while the engine runs.
    for out in &outs[..3] {
        flow.pick_and_despatch(*out, &["TRK-AM"]);
    }
    // The engine dies in the middle of it; the warehouse goes on working.
    flow.kill().await;
    for out in &outs[3..] {
        flow.pick_and_despatch(*out, &["TRK-PM"]);
    }
    flow.receive(gin, &[(&mug, 10)], StockStatus::Available);
    flow.wh()
        .adjust(tea.product, flow.systems.bin, d(-2), "lost")
        .expect("adjust");

    // Restarted on the same store, it finishes the day: despatches and stock movements whose
    // webhooks were missed are found by the sweeps.
    flow.restart().await;
    for (_, so) in &orders {
        only_fulfilment(&flow, *so).await;
    }
    // A receipt cannot be read back from Clarus (no documented read of its lines): the sweep
    // raises the gap for operations, who re-send the webhook; the receipt posts and the gap
    // closes by itself.
    let started = std::time::Instant::now();
    let gap = loop {
        let open = open_exceptions(&flow).await;
        if let Some(gap) = open
            .into_iter()
            .find(|e| e.starts_with("receipt-not-reported"))
        {
            break gap;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no receipt gap raised"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(gap.contains("PO-R"), "{gap}");
    assert_eq!(flow.cl().resend_undelivered("goods_in", "completed"), 1);
    only_receipt(&flow, po).await;
    flow.wait_for("the adjustment to reach NetSuite", || {
        (flow.on_hand(&tea)[0].0 == flow.on_hand(&tea)[0].1).then_some(())
    })
    .await;
    flow.settle().await;

    flow.assert_no_duplicate_transactions();
    assert_eq!(flow.ns().count(RecordType::ItemFulfillment), 6);
    assert_eq!(flow.ns().count(RecordType::ItemReceipt), 1);
    for (n, (_, so)) in orders.iter().enumerate() {
        assert_eq!(
            processed(&flow, OrderKind::SalesOrder, *so),
            [(1, d(n as i64 + 1)), (4, d(1))]
        );
    }
    // 50 − (1+…+6) + 10 = 39 mugs; 50 − 6 − 2 = 42 teas.
    assert_eq!(flow.on_hand(&mug)[0], (d(39), d(39)));
    assert_eq!(flow.on_hand(&tea)[0], (d(42), d(42)));
    flow.assert_stock_agrees(&[&mug, &tea]);
    // The adjustment reached NetSuite through the sweep, without its reason: finance checks
    // the account.
    let open = open_exceptions(&flow).await;
    assert_eq!(open.len(), 1, "{open:#?}");
    assert!(open[0].starts_with("movement-rebuilt"), "{open:#?}");
}
