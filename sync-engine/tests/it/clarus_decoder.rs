//! Clarus webhooks, delivered by the simulator to the engine's intake, decoded into core events;
//! the GraphQL sweep; the stock snapshot.

use std::sync::Arc;

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::json;
use sim::clarus::{
    ClarusId, DPD, MAIN_WAREHOUSE, Parcel, ReceivedLine, StockStatus as SimStatus, WebhookBehaviour,
};
use support::*;
use sync_core::*;
use sync_engine::clarus::{ClarusSweep, DespatchReader, StockSnapshotReader};
use sync_engine::engine::{Engine, IngestOutcome};
use sync_engine::outbox::ActionExecutor;
use sync_engine::processor::{DecodeError, DeliveryDecoder, Processor};
use sync_engine::store::{Delivery, NewDelivery};

use crate::support::clarus as support;
use crate::support::events;
use crate::support::store::actions_of_kind;

fn id_of(result: Option<String>) -> ClarusId {
    ClarusId(result.expect("an id").parse().expect("numeric id"))
}

/// A goods out for NetSuite order `id` line 3, allocated and picked (at most `picked`).
async fn picked_order(
    rig: &Rig,
    id: &str,
    sku: &str,
    quantity: i64,
    picked: Option<(ClarusId, i64)>,
) -> ClarusId {
    let goods_out = id_of(
        rig.executor()
            .execute(&create_goods_out(
                id,
                &format!("SO{id}"),
                &[(3, sku, quantity)],
            ))
            .await
            .unwrap(),
    );
    let warehouse = rig.sim.warehouse();
    warehouse.allocate(goods_out).unwrap();
    match picked {
        Some((product, q)) => warehouse
            .short_pick(goods_out, &[(product, dec(q))])
            .unwrap(),
        None => warehouse.pick(goods_out).unwrap(),
    }
    goods_out
}

fn parcels(numbers: &[&str]) -> Vec<Parcel> {
    numbers
        .iter()
        .map(|n| Parcel {
            tracking_number: (*n).into(),
            weight_kg: Some(dec(2)),
        })
        .collect()
}

fn despatch_of(event: &Event) -> &Despatch {
    match &event.payload {
        Payload::Despatch(d) => d,
        other => panic!("not a despatch: {other:?}"),
    }
}

fn fake_delivery(
    resource: &str,
    event: &str,
    subdomain: &str,
    body: serde_json::Value,
) -> Delivery {
    Delivery {
        id: 9999,
        delivery: NewDelivery {
            source: "clarus-webhook".into(),
            received_at: Timestamp::now(),
            headers: json!({"resource_name": resource, "event": event, "x-claruswms-subdomain": subdomain}),
            body: serde_json::to_vec(&body).unwrap(),
        },
    }
}

#[tokio::test]
async fn a_despatch_webhook_is_re_read_into_a_despatch_with_tracking() {
    let rig = Rig::start().await;
    let product = stocked_product(&rig, "77", "MUG-RED").await;
    let _ = product;
    let goods_out = picked_order(&rig, "501", "MUG-RED", 3, None).await;
    rig.sim
        .warehouse()
        .despatch(goods_out, DPD, &parcels(&["TRK-1", "TRK-2"]))
        .unwrap();

    let deliveries = rig.deliveries("goods_out", "completed").await;
    assert_eq!(deliveries.len(), 1);
    let events = decoder(&rig).decode(&deliveries[0]).await.unwrap();
    assert_eq!(events.len(), 1);
    let despatch = despatch_of(&events[0]);
    assert_eq!(despatch.tenant.as_str(), TENANT);
    assert_eq!(despatch.goods_out, GoodsOutId(goods_out.0));
    assert_eq!(despatch.order.as_str(), "501");
    assert_eq!(despatch.warehouse, WarehouseId(1));
    assert_eq!(despatch.carrier, Some(CarrierId(DPD.0)));
    assert_eq!(despatch.lines.len(), 1);
    let line = &despatch.lines[0];
    assert_eq!(line.order_line, LineNo(3));
    assert_eq!(line.sku.as_str(), "MUG-RED");
    assert_eq!((line.requested, line.quantity), (dec(3), dec(3)));
    let tracking: Vec<&str> = despatch
        .packages
        .iter()
        .filter_map(|p| p.tracking_number.as_ref().map(|t| t.as_str()))
        .collect();
    assert_eq!(tracking, ["TRK-1", "TRK-2"]);
    // The despatch is the goods out's one shipment: named after it, with an identity that does
    // not depend on a date.
    let source = &events[0].source;
    assert_eq!(source.system, System::Clarus);
    assert_eq!(source.resource.as_str(), "shipment");
    assert_eq!(source.id.as_str(), despatch.despatch.as_str());
    assert_ne!(despatch.despatch.as_str(), goods_out.to_string());
    assert_eq!(source.event.as_str(), "dispatched");
    assert_eq!(source.revision, Revision::Sequence(1));
}

#[tokio::test]
async fn a_short_pick_despatches_less_than_requested() {
    let rig = Rig::start().await;
    let product = stocked_product(&rig, "77", "MUG-RED").await;
    let goods_out = picked_order(&rig, "501", "MUG-RED", 3, Some((product, 1))).await;
    rig.sim
        .warehouse()
        .despatch(goods_out, DPD, &parcels(&["TRK-9"]))
        .unwrap();
    let deliveries = rig.deliveries("goods_out", "completed").await;
    let events = decoder(&rig).decode(&deliveries[0]).await.unwrap();
    let line = &despatch_of(&events[0]).lines[0];
    assert_eq!(line.requested, dec(3));
    assert_eq!(line.quantity, dec(1));
    assert_eq!(line.short_quantity(), dec(2));
}

#[tokio::test]
async fn webhook_bodies_are_not_trusted() {
    let rig = Rig::start().await;
    let product = stocked_product(&rig, "77", "MUG-RED").await;
    let _ = product;
    let pending = id_of(
        rig.executor()
            .execute(&create_goods_out("601", "SO601", &[(3, "MUG-RED", 2)]))
            .await
            .unwrap(),
    );
    let decoder = decoder(&rig);
    // A forged "completed" for an order still pending in Clarus.
    let forged = fake_delivery(
        "goods_out",
        "completed",
        SUBDOMAIN,
        json!({"data": {"id": pending.0, "external_system_reference1": "601",
            "lines": [{"id": 1, "dispatch_quantity": 2, "external_system_reference1": "3"}]}}),
    );
    assert!(matches!(
        decoder.decode(&forged).await,
        Err(DecodeError::Invalid(m)) if m.contains("PENDING")
    ));
    // A goods out that does not exist.
    let missing = fake_delivery(
        "goods_out",
        "completed",
        SUBDOMAIN,
        json!({"data": {"id": 424242}}),
    );
    assert!(matches!(
        decoder.decode(&missing).await,
        Err(DecodeError::Invalid(_))
    ));
    // Another tenant's delivery.
    let other = fake_delivery(
        "goods_out",
        "completed",
        "someone-else",
        json!({"data": {"id": pending.0}}),
    );
    assert!(matches!(
        decoder.decode(&other).await,
        Err(DecodeError::Invalid(_))
    ));
    // Not JSON.
    let mut garbage = fake_delivery("goods_out", "completed", SUBDOMAIN, json!({}));
    garbage.delivery.body = b"<xml/>".to_vec();
    assert!(matches!(
        decoder.decode(&garbage).await,
        Err(DecodeError::Invalid(_))
    ));
    // A body naming another sales order than the one the goods out was created for.
    let goods_out = picked_order(&rig, "603", "MUG-RED", 1, None).await;
    rig.sim
        .warehouse()
        .despatch(goods_out, DPD, &parcels(&["TRK-6"]))
        .unwrap();
    let misdirected = fake_delivery(
        "goods_out",
        "completed",
        SUBDOMAIN,
        json!({"data": {"id": goods_out.0, "reference": "SO603", "external_system_reference1": "999"}}),
    );
    assert!(matches!(
        decoder.decode(&misdirected).await,
        Err(DecodeError::Invalid(m)) if m.contains("999")
    ));
    // Events the integration does not act on decode to nothing.
    let created = fake_delivery(
        "goods_out",
        "created",
        SUBDOMAIN,
        json!({"data": {"id": pending.0}}),
    );
    assert_eq!(decoder.decode(&created).await.unwrap(), vec![]);

    // A completed order whose body claims more than was despatched: the re-read wins.
    let goods_out = picked_order(&rig, "602", "MUG-RED", 3, None).await;
    rig.sim
        .warehouse()
        .despatch(goods_out, DPD, &parcels(&["TRK-5"]))
        .unwrap();
    let inflated = fake_delivery(
        "goods_out",
        "completed",
        SUBDOMAIN,
        json!({"data": {"id": goods_out.0, "lines": [{"dispatch_quantity": 300}]}}),
    );
    let events = decoder.decode(&inflated).await.unwrap();
    assert_eq!(despatch_of(&events[0]).lines[0].quantity, dec(3));
}

#[tokio::test]
async fn a_receipt_into_quarantine_then_a_sellable_one() {
    let rig = Rig::start().await;
    let product = stocked_product(&rig, "77", "MUG-RED").await;
    let goods_in = id_of(
        rig.executor()
            .execute(&create_goods_in(
                OrderKind::Purchase,
                "700",
                "PO700",
                &[(1, "MUG-RED", 6)],
            ))
            .await
            .unwrap(),
    );
    let received = |quantity| ReceivedLine {
        product,
        quantity: dec(quantity),
        batch: None,
        serial_numbers: vec![],
    };
    let warehouse = rig.sim.warehouse();
    warehouse
        .receive(goods_in, &[received(4)], SimStatus::Held, false)
        .unwrap();
    let part = rig.deliveries("goods_in", "moved_to_part").await;
    assert_eq!(part.len(), 1);
    let decoder = decoder(&rig);
    let first = decoder.decode(&part[0]).await.unwrap();
    assert_eq!(first.len(), 1);
    let Payload::Receipt(receipt) = &first[0].payload else {
        panic!("{first:?}")
    };
    assert_eq!(
        receipt.order,
        OrderRef {
            kind: OrderKind::Purchase,
            id: "700".into()
        }
    );
    assert_eq!(receipt.goods_in, GoodsInId(goods_in.0));
    assert_eq!(receipt.lines.len(), 1);
    assert_eq!(receipt.lines[0].order_line, LineNo(1));
    assert_eq!(receipt.lines[0].quantity, dec(4));
    assert_eq!(receipt.lines[0].condition, StockCondition::Quarantine);

    warehouse
        .receive(goods_in, &[received(2)], SimStatus::Available, true)
        .unwrap();
    let done = rig.deliveries("goods_in", "completed").await;
    let second = decoder.decode(&done[0]).await.unwrap();
    let Payload::Receipt(rest) = &second[0].payload else {
        panic!("{second:?}")
    };
    assert_ne!(rest.receipt, receipt.receipt);
    assert_eq!(
        rest.lines.len(),
        1,
        "only what arrived since the first receipt"
    );
    assert_eq!(rest.lines[0].quantity, dec(2));
    assert_eq!(rest.lines[0].condition, StockCondition::Sellable);

    // Decoding a delivery again gives the same event (a retry after a deferral).
    assert_eq!(decoder.decode(&part[0]).await.unwrap(), first);
    assert_eq!(decoder.decode(&done[0]).await.unwrap(), second);
}

/// Returns of one product into quarantine land in one Clarus stock record (Clarus adds to the
/// record of the same product, location, status and batch). Each receipt's own hold is left to
/// its receipt, whether its webhook comes before or after the receipt's, and a person's hold in
/// that record afterwards is a movement of its own.
#[tokio::test]
async fn holds_of_two_receipts_into_one_stock_record_are_the_receipts() {
    let rig = Rig::start().await;
    let product = stocked_product(&rig, "77", "MUG-RED").await;
    let executor = rig.executor();
    let mut goods_ins = Vec::new();
    for (id, reference) in [("901", "RMA901"), ("902", "RMA902")] {
        goods_ins.push(id_of(
            executor
                .execute(&create_goods_in(
                    OrderKind::Return,
                    id,
                    reference,
                    &[(1, "MUG-RED", 2)],
                ))
                .await
                .unwrap(),
        ));
    }
    let two = ReceivedLine {
        product,
        quantity: dec(2),
        batch: None,
        serial_numbers: vec![],
    };
    let warehouse = rig.sim.warehouse();
    let decoder = decoder(&rig);
    let mut seen = std::collections::BTreeSet::new();
    let mut fresh = |deliveries: Vec<Delivery>| -> Vec<Delivery> {
        deliveries
            .into_iter()
            .filter(|d| seen.insert(d.id))
            .collect()
    };
    let quarantined = |events: &[Event]| match &events[0].payload {
        Payload::Receipt(r) => r.lines[0].condition == StockCondition::Quarantine,
        other => panic!("{other:?}"),
    };

    // The first: its receipt, then its hold.
    warehouse
        .receive(
            goods_ins[0],
            std::slice::from_ref(&two),
            SimStatus::Held,
            true,
        )
        .unwrap();
    let receipt = fresh(rig.deliveries("goods_in", "completed").await);
    assert!(quarantined(&decoder.decode(&receipt[0]).await.unwrap()));
    let hold = fresh(rig.deliveries("stock", "placed_on_hold").await);
    assert_eq!(hold.len(), 1);
    assert_eq!(decoder.decode(&hold[0]).await.unwrap(), vec![]);

    // The second, into the same stock record: its hold is decoded before its receipt.
    warehouse
        .receive(
            goods_ins[1],
            std::slice::from_ref(&two),
            SimStatus::Held,
            true,
        )
        .unwrap();
    let hold = fresh(rig.deliveries("stock", "placed_on_hold").await);
    assert_eq!(hold.len(), 1);
    let second_hold = decoder.decode(&hold[0]).await.unwrap();
    assert_eq!(
        second_hold,
        vec![],
        "the second receipt's hold is the receipt's"
    );
    let receipt = fresh(rig.deliveries("goods_in", "completed").await);
    assert!(quarantined(&decoder.decode(&receipt[0]).await.unwrap()));
    // Copies of either hold's webhook stay the receipts'.
    for copy in rig.deliveries("stock", "placed_on_hold").await {
        assert_eq!(decoder.decode(&copy).await.unwrap(), vec![]);
    }

    // A person puts 2 more on hold in that record, later than a receipt's own hold comes.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    warehouse
        .hold(product, MAIN_WAREHOUSE, dec(2), "damaged")
        .unwrap();
    let hold = fresh(rig.deliveries("stock", "placed_on_hold").await);
    assert_eq!(hold.len(), 1);
    let events = decoder.decode(&hold[0]).await.unwrap();
    let Payload::StockMovement(movement) = &events[0].payload else {
        panic!("{events:?}")
    };
    assert_eq!(movement.kind, MovementKind::Hold);
    assert_eq!(movement.quantity, dec(2));
}

#[tokio::test]
async fn a_late_part_receipt_is_covered_by_the_later_one() {
    let rig = Rig::start().await;
    let product = stocked_product(&rig, "77", "MUG-RED").await;
    let goods_in = id_of(
        rig.executor()
            .execute(&create_goods_in(
                OrderKind::Return,
                "900",
                "RMA9",
                &[(2, "MUG-RED", 6)],
            ))
            .await
            .unwrap(),
    );
    let line = |quantity| ReceivedLine {
        product,
        quantity: dec(quantity),
        batch: Some("LOT-1".into()),
        serial_numbers: vec![],
    };
    let warehouse = rig.sim.warehouse();
    warehouse
        .receive(goods_in, &[line(1)], SimStatus::Held, false)
        .unwrap();
    warehouse
        .receive(goods_in, &[line(3)], SimStatus::Available, true)
        .unwrap();
    let part = rig.deliveries("goods_in", "moved_to_part").await;
    let done = rig.deliveries("goods_in", "completed").await;
    let decoder = decoder(&rig);
    // The completion is processed first: it reports everything received.
    let events = decoder.decode(&done[0]).await.unwrap();
    let Payload::Receipt(receipt) = &events[0].payload else {
        panic!("{events:?}")
    };
    assert_eq!(receipt.order.kind, OrderKind::Return);
    let by_condition: Vec<(StockCondition, Decimal)> = receipt
        .lines
        .iter()
        .map(|l| (l.condition, l.quantity))
        .collect();
    assert_eq!(
        by_condition,
        [
            (StockCondition::Sellable, dec(3)),
            (StockCondition::Quarantine, dec(1))
        ]
    );
    assert_eq!(receipt.lines[0].lots[0].lot.as_str(), "LOT-1");
    // The earlier part receipt arriving late adds nothing.
    assert_eq!(decoder.decode(&part[0]).await.unwrap(), vec![]);
}

#[tokio::test]
async fn adjustments_holds_and_breakages_become_stock_movements() {
    let rig = Rig::start().await;
    let product = stocked_product(&rig, "77", "MUG-RED").await;
    let handle = rig.sim.handle();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    let warehouse = rig.sim.warehouse();
    warehouse
        .adjust(product, location, dec(5), "found")
        .unwrap();
    warehouse.breakage(product, location, dec(2)).unwrap();
    warehouse
        .hold(product, MAIN_WAREHOUSE, dec(1), "damaged")
        .unwrap();
    let decoder = decoder(&rig);
    let mut seen = Vec::new();
    for (event, kind) in [
        ("positively_adjusted", MovementKind::PositiveAdjustment),
        ("negatively_adjusted", MovementKind::Breakage),
        ("placed_on_hold", MovementKind::Hold),
    ] {
        let deliveries = rig.deliveries("stock", event).await;
        assert_eq!(deliveries.len(), 1, "{event}");
        let events = decoder.decode(&deliveries[0]).await.unwrap();
        let Payload::StockMovement(movement) = &events[0].payload else {
            panic!("{events:?}")
        };
        assert_eq!(movement.kind, kind);
        assert_eq!(movement.sku.as_str(), "MUG-RED");
        assert_eq!(movement.warehouse, WarehouseId(1));
        assert_eq!(events[0].source.event.as_str(), event);
        seen.push(movement.quantity);
    }
    assert_eq!(seen, [dec(5), dec(2), dec(1)]);
}

#[tokio::test]
async fn forged_stock_movements_are_refused() {
    let rig = Rig::start().await;
    let product = stocked_product(&rig, "77", "MUG-RED").await;
    let handle = rig.sim.handle();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    rig.sim
        .warehouse()
        .adjust(product, location, dec(5), "found")
        .unwrap();
    let decoder = decoder(&rig);
    let real = rig.deliveries("stock", "positively_adjusted").await;
    assert_eq!(decoder.decode(&real[0]).await.unwrap().len(), 1);

    let record: serde_json::Value = serde_json::from_slice(&real[0].delivery.body).unwrap();
    let record = record.get("data").cloned().unwrap_or(record);
    let an_hour_ago = (Timestamp::now() - jiff::SignedDuration::from_hours(1)).to_string();
    let forge = |changes: serde_json::Value| {
        let mut body = record.clone();
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        fake_delivery(
            "stock",
            "positively_adjusted",
            SUBDOMAIN,
            json!({"data": body}),
        )
    };
    // A movement id Clarus never had.
    let made_up = forge(json!({"id": 987654, "quantity": 250, "created_at": an_hour_ago}));
    assert!(matches!(
        decoder.decode(&made_up).await,
        Err(DecodeError::Invalid(m)) if m.contains("987654")
    ));
    // The real movement with another quantity.
    let inflated = forge(json!({"quantity": "79000000000000000000000000000"}));
    assert!(matches!(
        decoder.decode(&inflated).await,
        Err(DecodeError::Invalid(_))
    ));
    // A made-up movement that claims to have just happened waits for Clarus to list it.
    let fresh = forge(json!({"id": 987655, "created_at": Timestamp::now().to_string()}));
    assert!(matches!(
        decoder.decode(&fresh).await,
        Err(DecodeError::Retryable(_))
    ));
}

/// The item and open sales orders the engine needs to plan despatches.
async fn seed_netsuite(engine: &Engine, orders: &[&str]) {
    let item = Item {
        netsuite_id: "77".into(),
        sku: "MUG-RED".into(),
        barcode: None,
        description: "Red mug".into(),
        tracking: Tracking::None,
        inactive: false,
    };
    engine
        .ingest(&netsuite_event("77", Payload::Item(item)), Timestamp::now())
        .await
        .unwrap();
    for id in orders {
        let order = events::open_order(OrderRef::sales(*id), "1", 3, "77", "MUG-RED", 3);
        engine
            .ingest(&netsuite_event(id, Payload::Order(order)), Timestamp::now())
            .await
            .unwrap();
    }
}

/// Open purchase orders for item 77, 6 on line 1, received at location 1.
async fn seed_purchase_orders(engine: &Engine, orders: &[&str]) {
    for id in orders {
        let order = events::purchase_order(id, 1, "77", "MUG-RED", 6);
        let outcome = engine
            .ingest(&netsuite_event(id, Payload::Order(order)), Timestamp::now())
            .await
            .unwrap();
        assert!(
            matches!(outcome, IngestOutcome::Planned { .. }),
            "{outcome:?}"
        );
    }
}

#[tokio::test]
async fn the_sweep_catches_lost_despatch_webhooks_and_ignores_seen_ones() {
    let rig = Rig::start().await;
    let engine = Engine::open(rig.store.clone(), mappings()).await.unwrap();
    seed_netsuite(&engine, &["501", "502"]).await;
    stocked_product(&rig, "77", "MUG-RED").await;
    let decoder = decoder(&rig);

    // The first despatch arrives by webhook and is planned.
    let first = picked_order(&rig, "501", "MUG-RED", 3, None).await;
    rig.sim
        .warehouse()
        .despatch(first, DPD, &parcels(&["TRK-1"]))
        .unwrap();
    let deliveries = rig.deliveries("goods_out", "completed").await;
    let from_webhook = decoder.decode(&deliveries[0]).await.unwrap().remove(0);
    let outcome = engine
        .ingest(&from_webhook, Timestamp::now())
        .await
        .unwrap();
    assert!(
        matches!(outcome, IngestOutcome::Planned { actions: 1, .. }),
        "{outcome:?} {:#?}",
        rig.store.exceptions().await.unwrap()
    );
    let reader =
        DespatchReader::new(rig.client.clone(), TENANT.into()).with_store(rig.store.clone());
    // Read without a body, from the engine's record of the goods out and documented reads.
    let from_sweep = reader
        .read(clarus_client::ClarusId::new(first.0 as i64), None, true)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(from_sweep.source, from_webhook.source);
    let (swept, hooked) = (despatch_of(&from_sweep), despatch_of(&from_webhook));
    assert_eq!(
        (&swept.order, &swept.lines, &swept.packages, swept.carrier),
        (
            &hooked.order,
            &hooked.lines,
            &hooked.packages,
            hooked.carrier
        )
    );

    let mut sweep = ClarusSweep::new(rig.client.clone(), reader, rig.store.clone());
    sweep.overlap = std::time::Duration::ZERO;
    // Order 501 is fulfilled in full: only 502 is still awaited, and Clarus has no goods out
    // for it yet.
    rig.caught_up().await;
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!(
        (report.orders_asked, report.scanned, report.planned),
        (1, 0, 0),
        "{report:?}"
    );
    assert!(report.failed.is_empty(), "{:?}", report.failed);

    // The second despatch's webhook is lost: the sweep plans it.
    rig.sim.handle().set_webhook_behaviour(WebhookBehaviour {
        loss_rate: 1.0,
        ..WebhookBehaviour::default()
    });
    let second = picked_order(&rig, "502", "MUG-RED", 3, None).await;
    rig.sim
        .warehouse()
        .despatch(second, DPD, &parcels(&["TRK-2"]))
        .unwrap();
    assert!(
        rig.deliveries("goods_out", "completed").await.is_empty(),
        "the second despatch's webhook is lost"
    );
    rig.caught_up().await;
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!(report.planned, 1, "{report:?}");
    let prefix = format!("CLR-DESP-{TENANT}-{second}-");
    let action = rig
        .store
        .actions()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.action.key.starts_with(&prefix))
        .expect("fulfilment planned");
    assert_eq!(action.action.kind, "fulfil_sales_order");
    let payload = action.action.payload.to_string();
    assert!(payload.contains("TRK-2"), "{payload}");

    // Sweeping again plans nothing new.
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!(report.planned, 0);
}

#[tokio::test]
async fn the_snapshot_counts_picked_stock_of_the_mapped_warehouses() {
    let rig = Rig::start().await;
    let product = stocked_product(&rig, "77", "MUG-RED").await;
    let handle = rig.sim.handle();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    handle
        .seed_stock(product, location, dec(2), SimStatus::Held, None)
        .unwrap();
    // 3 picked but not despatched: still on hand.
    picked_order(&rig, "501", "MUG-RED", 3, None).await;
    let other = handle.add_warehouse("WH2", "Overflow");
    let other_location = handle.default_location(other).unwrap();
    handle
        .seed_stock(product, other_location, dec(4), SimStatus::Available, None)
        .unwrap();

    let reader = StockSnapshotReader::new(rig.client.clone(), mappings());
    let (rows, summary) = reader.read().await.unwrap();
    let found: Vec<(StockStatus, Decimal)> = rows
        .iter()
        .map(|r| {
            assert_eq!(r.key.sku.as_str(), "MUG-RED");
            assert_eq!(r.key.location.as_str(), "1");
            (r.key.status, r.quantity)
        })
        .collect();
    assert_eq!(
        found,
        [
            (StockStatus::Available, dec(10)),
            (StockStatus::Held, dec(2))
        ]
    );
    // Clarus documents no warehouse field on stock: each mapped warehouse is read by the
    // `warehouse_id` filter, and the unmapped one is not read at all.
    assert!(summary.skipped.is_empty(), "{summary:?}");
    assert_eq!(summary.stock_records, 2, "{summary:?}");
    let mut drift = DriftCalculator::new();
    let summary = reader.read_into(&mut drift).await.unwrap();
    assert_eq!(summary.positions, 2);
}

#[tokio::test]
async fn a_lost_receipt_completion_raises_a_gap_that_the_resent_webhook_closes() {
    let rig = Rig::start().await;
    let engine = Engine::open(rig.store.clone(), mappings()).await.unwrap();
    seed_netsuite(&engine, &[]).await;
    seed_purchase_orders(&engine, &["700", "701"]).await;
    let product = stocked_product(&rig, "77", "MUG-RED").await;
    let executor = rig.executor();
    let received = |quantity| ReceivedLine {
        product,
        quantity: dec(quantity),
        batch: None,
        serial_numbers: vec![],
    };
    let decoder = decoder(&rig);
    let mut sweep = ClarusSweep::new(
        rig.client.clone(),
        DespatchReader::new(rig.client.clone(), TENANT.into()).with_store(rig.store.clone()),
        rig.store.clone(),
    );
    sweep.overlap = std::time::Duration::ZERO;
    let warehouse = rig.sim.warehouse();

    // Every webhook arrives: the sweep finds only what is known.
    let complete = id_of(
        executor
            .execute(&create_goods_in(
                OrderKind::Purchase,
                "700",
                "PO700",
                &[(1, "MUG-RED", 3)],
            ))
            .await
            .unwrap(),
    );
    warehouse
        .receive(complete, &[received(3)], SimStatus::Available, true)
        .unwrap();
    for delivery in rig.deliveries("goods_in", "completed").await {
        for event in decoder.decode(&delivery).await.unwrap() {
            let outcome = engine.ingest(&event, Timestamp::now()).await.unwrap();
            assert!(
                matches!(outcome, IngestOutcome::Planned { .. }),
                "{outcome:?}"
            );
        }
    }
    rig.caught_up().await;
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!(report.receipts_scanned, 1, "{report:?}");
    assert!(
        report.gaps.is_empty() && report.failed.is_empty(),
        "{report:?}"
    );

    // The part receipt (quarantine) arrives; the completion's webhook is lost.
    let partial = id_of(
        executor
            .execute(&create_goods_in(
                OrderKind::Purchase,
                "701",
                "PO701",
                &[(1, "MUG-RED", 6)],
            ))
            .await
            .unwrap(),
    );
    warehouse
        .receive(partial, &[received(4)], SimStatus::Held, false)
        .unwrap();
    for delivery in rig.deliveries("goods_in", "moved_to_part").await {
        for event in decoder.decode(&delivery).await.unwrap() {
            engine.ingest(&event, Timestamp::now()).await.unwrap();
        }
    }
    rig.sim.handle().set_webhook_behaviour(WebhookBehaviour {
        loss_rate: 1.0,
        ..WebhookBehaviour::default()
    });
    warehouse
        .receive(partial, &[received(2)], SimStatus::Available, true)
        .unwrap();
    // Clarus documents no read of receipt lines: the sweep cannot rebuild the receipt, so it
    // raises the gap for operations.
    rig.caught_up().await;
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!(report.planned, 0, "{report:?}");
    assert_eq!(report.gaps.len(), 1, "{report:?}");
    assert_eq!(report.gaps[0].goods_in.get(), partial.0 as i64);
    assert_eq!(report.gaps[0].reported, dec(4));
    let key = format!("EX-CLARUS-RECEIPT-GAP-{partial}");
    let gap = rig.store.exception(&key).await.unwrap().expect("raised");
    assert_eq!(
        (gap.exception.kind.as_str(), gap.exception.owner.as_str()),
        ("receipt-not-reported", "operations")
    );
    assert!(gap.resolved_at.is_none());

    // Operations re-sends the webhook from Clarus: the rest is posted and the gap closes.
    let lost = rig
        .sim
        .handle()
        .webhook_log()
        .into_iter()
        .rev()
        .find(|w| w.resource == "goods_in" && w.event == "completed")
        .expect("fired");
    assert!(lost.lost);
    let resent = fake_delivery("goods_in", "completed", SUBDOMAIN, lost.payload.clone());
    for event in decoder.decode(&resent).await.unwrap() {
        engine.ingest(&event, Timestamp::now()).await.unwrap();
    }
    let gap = rig.store.exception(&key).await.unwrap().expect("kept");
    assert!(gap.resolved_at.is_some(), "{gap:?}");
    // Only the sellable 2 received since the quarantine receipt, under the stage's own key.
    let key = format!("CLR-GIN-{TENANT}-{partial}-2");
    let action = rig
        .store
        .action(&key)
        .await
        .unwrap()
        .expect("receipt planned");
    assert_eq!(action.action.kind, "receive_purchase_order");
    let posted: ItemReceipt = match serde_json::from_value::<PlannedAction>(action.action.payload)
        .unwrap()
        .action
    {
        Action::ReceivePurchaseOrder(receipt) => receipt,
        other => panic!("{other:?}"),
    };
    assert_eq!(posted.lines.len(), 1);
    assert_eq!(posted.lines[0].line.quantity, dec(2));
    assert_eq!(
        posted.lines[0].place,
        Some(StockPlace::Status { status: "1".into() })
    );

    // Sweeping again raises nothing new.
    rig.caught_up().await;
    let report = sweep.run(&engine).await.unwrap();
    assert!(report.gaps.is_empty(), "{report:?}");
}

#[tokio::test]
async fn duplicated_webhooks_through_the_processor_plan_one_fulfilment() {
    let rig = Rig::start().await;
    rig.sim.handle().set_webhook_behaviour(WebhookBehaviour {
        duplicate_rate: 1.0,
        ..WebhookBehaviour::default()
    });
    let engine = Arc::new(Engine::open(rig.store.clone(), mappings()).await.unwrap());
    seed_netsuite(&engine, &["501"]).await;
    stocked_product(&rig, "77", "MUG-RED").await;
    let goods_out = picked_order(&rig, "501", "MUG-RED", 3, None).await;
    rig.sim
        .warehouse()
        .despatch(goods_out, DPD, &parcels(&["TRK-1"]))
        .unwrap();
    assert_eq!(rig.deliveries("goods_out", "completed").await.len(), 2);

    let processor = Processor::new(rig.store.clone(), engine.clone(), Arc::new(decoder(&rig)));
    let stats = processor.process_due(100).await.unwrap();
    // Planned once each: the despatch, and the goods out's acknowledgement and picking
    // (reported by goods out `processed` and pick list `created`, then pick list `picked` and
    // `completed`). Every other copy of those ten webhooks is a duplicate.
    assert_eq!(stats.planned, 3, "{stats:?}");
    assert_eq!(stats.duplicates, 7, "{stats:?}");
    assert_eq!(stats.invalid, 0, "{stats:?}");
    assert_eq!(stats.deferred, 0, "{stats:?}");
    let fulfilments = actions_of_kind(rig.store.as_ref(), "fulfil_sales_order").await;
    assert_eq!(fulfilments.len(), 1);
    assert!(
        fulfilments[0]
            .action
            .key
            .starts_with(&format!("CLR-DESP-{TENANT}-{goods_out}-")),
        "{}",
        fulfilments[0].action.key
    );
}

#[tokio::test]
async fn lines_without_references_are_matched_by_the_recorded_line_order() {
    use clarus_client::rest::common::{Change, GenericFields};
    use clarus_client::rest::goods_out::{GoodsOut, GoodsOutLine};

    let rig = Rig::start().await;
    let product = stocked_product(&rig, "77", "MUG-RED").await;
    // A goods out whose lines carry no NetSuite line reference (created by another tool).
    let mut body = GoodsOut::sales_order(
        clarus_client::ClarusId::new(1),
        "SO801",
        "2026-11-30T00:00:00Z".parse().unwrap(),
    );
    body.warehouse_id = Some(clarus_client::ClarusId::new(1));
    body.generic = GenericFields::with_external_reference("801");
    body.lines_changes = vec![Change::Add(GoodsOutLine::new(
        clarus_client::ClarusId::new(product.0 as i64),
        dec(3),
    ))];
    let created = rig.client.create_goods_out(&body).await.unwrap();
    let goods_out = ClarusId(created.id.get() as u64);
    let reader =
        DespatchReader::new(rig.client.clone(), TENANT.into()).with_store(rig.store.clone());
    let warehouse = rig.sim.warehouse();
    warehouse.allocate(goods_out).unwrap();
    warehouse.pick(goods_out).unwrap();
    warehouse
        .despatch(goods_out, DPD, &parcels(&["TRK-8"]))
        .unwrap();

    // Without a line order the despatch cannot name its order line.
    let body = json!({"reference": "SO801", "external_system_reference1": "801"});
    assert!(matches!(
        reader.read(created.id, Some(&body), true).await,
        Err(DecodeError::Invalid(m)) if m.contains("names no NetSuite order line")
    ));
    // The executor's look-up of the planned create records the order's lines for it.
    let action = create_goods_out("801", "SO801", &[(5, "MUG-RED", 3)]);
    let found = rig.executor().find_applied(&action).await.unwrap();
    assert_eq!(found, Some(created.id.to_string()));
    let event = reader.read(created.id, None, true).await.unwrap().remove(0);
    let line = &despatch_of(&event).lines[0];
    assert_eq!((line.order_line, line.quantity), (LineNo(5), dec(3)));
}

#[tokio::test]
async fn despatched_lots_come_from_the_webhook_and_are_not_guessed_without_it() {
    let rig = Rig::start().await;
    let product = id_of(
        rig.executor()
            .execute(&create_product("88", "WINE-RED"))
            .await
            .unwrap(),
    );
    let handle = rig.sim.handle();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    for lot in ["LOT-A", "LOT-B"] {
        handle
            .seed_stock(product, location, dec(2), SimStatus::Available, Some(lot))
            .unwrap();
    }
    let goods_out = picked_order(&rig, "801", "WINE-RED", 3, None).await;
    rig.sim
        .warehouse()
        .despatch(goods_out, DPD, &parcels(&["TRK-3"]))
        .unwrap();
    let deliveries = rig.deliveries("goods_out", "completed").await;
    let from_webhook = decoder(&rig)
        .decode(&deliveries[0])
        .await
        .unwrap()
        .remove(0);
    let lots: Vec<(String, Decimal)> = despatch_of(&from_webhook).lines[0]
        .lots
        .iter()
        .map(|l| (l.lot.as_str().to_owned(), l.quantity))
        .collect();
    assert_eq!(
        lots,
        [("LOT-A".to_owned(), dec(2)), ("LOT-B".to_owned(), dec(1))]
    );
    // Without the body (a lost webhook), Clarus documents no read of lots: the despatch has
    // none, and the core raises missing-lot-or-serial for a lot item rather than guess.
    let reader =
        DespatchReader::new(rig.client.clone(), TENANT.into()).with_store(rig.store.clone());
    let from_sweep = reader
        .read(clarus_client::ClarusId::new(goods_out.0 as i64), None, true)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(from_sweep.source, from_webhook.source);
    assert!(despatch_of(&from_sweep).lines[0].lots.is_empty());
    assert_eq!(
        despatch_of(&from_sweep).lines[0].quantity,
        despatch_of(&from_webhook).lines[0].quantity
    );
}

#[tokio::test]
async fn an_unreachable_clarus_makes_re_reads_and_creates_retryable() {
    let rig = Rig::start().await;
    stocked_product(&rig, "77", "MUG-RED").await;
    let goods_out = picked_order(&rig, "501", "MUG-RED", 3, None).await;
    rig.sim
        .warehouse()
        .despatch(goods_out, DPD, &parcels(&["TRK-1"]))
        .unwrap();
    let deliveries = rig.deliveries("goods_out", "completed").await;
    let decoder = decoder(&rig);
    let executor = rig.executor();
    let Rig { sim, .. } = rig;
    sim.shutdown().await;

    match decoder.decode(&deliveries[0]).await {
        Err(DecodeError::Retryable(message)) => {
            assert!(message.contains("re-reading"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // Nothing can have been sent: retry, no look-up needed.
    match executor
        .execute(&create_goods_out("502", "SO502", &[(3, "MUG-RED", 1)]))
        .await
    {
        Err(sync_engine::outbox::ExecutionError::Retryable(_)) => {}
        other => panic!("{other:?}"),
    }
}

fn progress_of(event: &Event) -> &GoodsOutProgress {
    match &event.payload {
        Payload::GoodsOutProgress(p) => p,
        other => panic!("not progress: {other:?}"),
    }
}

#[tokio::test]
async fn processing_and_pick_list_webhooks_become_warehouse_progress() {
    let rig = Rig::start().await;
    stocked_product(&rig, "77", "MUG-RED").await;
    let goods_out = picked_order(&rig, "501", "MUG-RED", 3, None).await;
    let decoder = decoder(&rig);

    let processed = rig.deliveries("goods_out", "processed").await;
    assert_eq!(processed.len(), 1);
    let events = decoder.decode(&processed[0]).await.unwrap();
    assert_eq!(events.len(), 1);
    let acknowledged = progress_of(&events[0]);
    assert_eq!(acknowledged.milestone, GoodsOutMilestone::Acknowledged);
    assert_eq!(acknowledged.goods_out, GoodsOutId(goods_out.0));
    assert_eq!(acknowledged.order.as_str(), "501");
    assert_eq!(acknowledged.tenant.as_str(), TENANT);
    assert_eq!(events[0].source, acknowledged.source_id());

    // The pick list names only goods-out ids: the order comes from re-reading the goods out.
    let created = rig.deliveries("goods_out_pick_list", "created").await;
    assert_eq!(created.len(), 1);
    let from_list = decoder.decode(&created[0]).await.unwrap();
    assert_eq!(from_list.len(), 1);
    assert_eq!(progress_of(&from_list[0]), acknowledged);
    assert_eq!(
        from_list[0].source, events[0].source,
        "one identity per milestone"
    );

    let picked = rig.deliveries("goods_out_pick_list", "picked").await;
    assert_eq!(picked.len(), 1);
    let events = decoder.decode(&picked[0]).await.unwrap();
    assert_eq!(events.len(), 1);
    let picking = progress_of(&events[0]);
    assert_eq!(picking.milestone, GoodsOutMilestone::Picking);
    assert_eq!(picking.order.as_str(), "501");
    assert_ne!(events[0].source, from_list[0].source);
}

#[tokio::test]
async fn a_consolidated_pick_list_gives_progress_for_each_goods_out_it_names() {
    let rig = Rig::start().await;
    stocked_product(&rig, "77", "MUG-RED").await;
    let first = picked_order(&rig, "501", "MUG-RED", 2, None).await;
    let second = picked_order(&rig, "502", "MUG-RED", 2, None).await;
    // A goods out keyed by hand in Clarus names no NetSuite order: no progress for it.
    let manual = clarus_client::rest::goods_out::GoodsOut::sales_order(
        clarus_client::ClarusId::new(1),
        "MANUAL-1",
        "2026-11-30T00:00:00Z".parse().unwrap(),
    );
    let foreign = rig.client.create_goods_out(&manual).await.unwrap().id;
    let foreign = ClarusId(foreign.get() as u64);
    let body = json!({"data": {"id": 77001, "reference": "PL-BATCH",
        "goods_out_ids": [first.0, second.0, foreign.0, 999_999],
        "updated_at": "2026-11-27T10:15:00Z"}});
    let delivery = fake_delivery("goods_out_pick_list", "picked", SUBDOMAIN, body);
    let events = decoder(&rig).decode(&delivery).await.unwrap();
    let got: Vec<(GoodsOutId, &str, GoodsOutMilestone)> = events
        .iter()
        .map(progress_of)
        .map(|p| (p.goods_out, p.order.as_str(), p.milestone))
        .collect();
    assert_eq!(
        got,
        [
            (GoodsOutId(first.0), "501", GoodsOutMilestone::Picking),
            (GoodsOutId(second.0), "502", GoodsOutMilestone::Picking),
        ]
    );
    assert_eq!(
        events[0].occurred_at,
        "2026-11-27T10:15:00Z".parse::<Timestamp>().unwrap()
    );
}

#[tokio::test]
async fn progress_webhooks_that_name_nothing_usable_give_no_event() {
    let rig = Rig::start().await;
    let decoder = decoder(&rig);
    // A pick list in a shape that names no goods out, and a cancelled pick list.
    for (event, body) in [
        ("picked", json!({"data": {"id": 5, "reference": "PL-5"}})),
        (
            "cancelled",
            json!({"data": {"id": 6, "goods_out_ids": [1]}}),
        ),
    ] {
        let delivery = fake_delivery("goods_out_pick_list", event, SUBDOMAIN, body);
        assert_eq!(decoder.decode(&delivery).await.unwrap(), vec![]);
    }
    // A processed goods out of another sales channel: no NetSuite order in the body, and
    // none on re-reading (it does not exist in the simulator either).
    let delivery = fake_delivery(
        "goods_out",
        "processed",
        SUBDOMAIN,
        json!({"data": {"id": 424242, "reference": "WEB-1"}}),
    );
    assert_eq!(decoder.decode(&delivery).await.unwrap(), vec![]);
    // Without a record id the body is malformed.
    let delivery = fake_delivery(
        "goods_out",
        "processed",
        SUBDOMAIN,
        json!({"data": {"reference": "SO1"}}),
    );
    assert!(matches!(
        decoder.decode(&delivery).await,
        Err(DecodeError::Invalid(_))
    ));
}

/// A read the tenant's GraphQL refuses (a field it does not offer, as after a schema change)
/// raises `job-failing` for integration within the one run that met it, and readiness fails.
#[tokio::test]
async fn a_query_the_tenant_refuses_raises_job_failing_within_one_run() {
    use clarus_client::graphql::{ListQuery, Node};
    use futures_util::TryStreamExt;
    use sync_engine::health::{Connection, Health};
    use sync_engine::service::JobError;

    #[derive(Debug, serde::Deserialize)]
    struct Refused {
        #[allow(dead_code)]
        id: clarus_client::ClarusId,
    }
    impl Node for Refused {
        const ROOT: &'static str = "goods_outs";
        const FILTER_TYPE: &'static str = "GoodsOutsFilterType";
        const FIELDS: &'static str = "id updated_at";
    }

    let rig = Rig::start().await;
    let error = rig
        .client
        .list_all::<Refused>(ListQuery::new(clarus_client::graphql::Filter::new(), 10))
        .try_collect::<Vec<_>>()
        .await
        .expect_err("the documented tenant has no updated_at on goods outs");
    // As the sweep job reports it: its error's text, classified by the Clarus error.
    let swept = sync_engine::clarus::SweepError::Clarus(error);
    let failure = JobError::clarus(swept);
    assert!(failure.is_persistent(), "{failure:?}");

    let health = Health::default();
    health.register(
        "clarus-sweep",
        std::time::Duration::from_secs(60),
        &[Connection::Clarus],
    );
    health
        .record(rig.store.as_ref(), "clarus-sweep", &Err(failure))
        .await
        .unwrap();
    let open = rig.store.open_exceptions().await.unwrap();
    assert_eq!(open.len(), 1, "{open:#?}");
    let raised = &open[0].exception;
    assert_eq!(
        (raised.kind.as_str(), raised.owner.as_str()),
        ("job-failing", "integration")
    );
    assert!(raised.message.contains("updated_at"), "{}", raised.message);
    assert!(!health.readiness().ready);
}
