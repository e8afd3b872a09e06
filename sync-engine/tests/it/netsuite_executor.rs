//! The NetSuite executor against the NetSuite simulator: fulfilments of chosen lines, partial
//! despatches, receipts into quarantine, adjustments, stock moves, and the look-up after a
//! commit whose reply was lost.

use rust_decimal::Decimal;
use serde_json::Value;
use sim::netsuite::{
    GOOD, InternalId, ItemKind, NetSuiteHandle, NewOrder, NewOrderLine, OrderKind, QUARANTINE,
    RecordType,
};
use sim::{Fault, LostReply};
use sync_core::{
    Action, DocumentRef, Fulfilment, IdempotencyKey, InventoryAdjustment, ItemReceipt, LineNo,
    LotNumber, LotQuantity, MappingTables, Mappings, OrderRef, Package, PlannedAction, PostedLine,
    ReceivedLine, SerialNumber, StatusMapping, StockCondition, StockMove, StockPlace, StockStatus,
    TrackingNumber,
};
use sync_engine::netsuite::{ExecutorConfig, NetSuiteExecutor};
use sync_engine::outbox::{ActionExecutor, ExecutionError};

use crate::support::netsuite as support;

fn d(n: i64) -> Decimal {
    Decimal::from(n)
}

fn now() -> jiff::Timestamp {
    "2026-11-27T09:30:00Z".parse().unwrap()
}

struct World {
    ns: sim::netsuite::RunningNetSuite,
    h: NetSuiteHandle,
    exec: NetSuiteExecutor,
    main: InternalId,
    quarantine: InternalId,
    mug: InternalId,
    plate: InternalId,
    lot_item: InternalId,
    serial_item: InternalId,
}

async fn world() -> World {
    let ns = support::start().await;
    let h = ns.handle();
    let main = h.add_location("Main", Some("WH-1")).unwrap();
    let quarantine = h.add_location("Quarantine", None).unwrap();
    let mug = support::item(&h, "MUG", ItemKind::Inventory);
    let plate = support::item(&h, "PLATE", ItemKind::Inventory);
    let lot_item = support::item(&h, "TEA-LOT", ItemKind::LotNumbered);
    let serial_item = support::item(&h, "KETTLE-SN", ItemKind::Serialized);
    h.set_on_hand(mug, main, GOOD, d(10));
    h.set_on_hand(plate, main, GOOD, d(5));
    h.set_lot_on_hand(lot_item, "L1", main, GOOD, d(4)).unwrap();
    h.set_lot_on_hand(serial_item, "SN-1", main, GOOD, d(1))
        .unwrap();
    // The account separates quarantined stock by inventory status at the main location, so
    // adjustments name the sellable status.
    let mappings = Mappings::new(MappingTables {
        stock_statuses: vec![StatusMapping {
            location: main.to_string().into(),
            sellable: StockPlace::Status {
                status: GOOD.to_string().into(),
            },
            quarantine: StockPlace::Status {
                status: QUARANTINE.to_string().into(),
            },
        }],
        ..MappingTables::default()
    })
    .unwrap();
    let exec = NetSuiteExecutor::new(
        support::client(&ns).await,
        ExecutorConfig {
            mappings: Some(mappings),
            ..ExecutorConfig::default()
        },
    );
    World {
        ns,
        h,
        exec,
        main,
        quarantine,
        mug,
        plate,
        lot_item,
        serial_item,
    }
}

impl World {
    fn order(&self, kind: OrderKind, lines: &[(InternalId, i64)]) -> InternalId {
        self.h
            .add_order(
                kind,
                NewOrder {
                    location: Some(self.main),
                    lines: lines
                        .iter()
                        .map(|(item, q)| NewOrderLine {
                            item: *item,
                            quantity: d(*q),
                            location: None,
                        })
                        .collect(),
                    ..NewOrder::default()
                },
            )
            .unwrap()
    }

    fn processed(&self, kind: OrderKind, order: InternalId) -> Vec<(u64, Decimal)> {
        self.h
            .order_lines(kind, order)
            .into_iter()
            .map(|l| (l.line, l.processed))
            .collect()
    }
}

fn planned(key: &str, order: OrderRef, action: Action) -> PlannedAction {
    PlannedAction {
        key: IdempotencyKey::parse(key).unwrap(),
        document: DocumentRef::Order { order },
        action,
    }
}

fn line(order_line: u64, item: InternalId, sku: &str, quantity: i64) -> PostedLine {
    PostedLine {
        order_line: LineNo(order_line),
        item: item.to_string().into(),
        sku: sku.into(),
        quantity: d(quantity),
        lots: vec![],
        serials: vec![],
    }
}

fn fulfil(key: &str, w: &World, so: InternalId, lines: Vec<PostedLine>) -> PlannedAction {
    planned(
        key,
        OrderRef::sales(so.to_string()),
        Action::FulfilSalesOrder(Fulfilment {
            order: so.to_string().into(),
            location: w.main.to_string().into(),
            ship_method: Some("900".into()),
            despatched_at: now(),
            lines,
            packages: vec![Package {
                tracking_number: Some(TrackingNumber::new("1Z999AA10123456784")),
                weight_kg: Some(Decimal::new(15, 1)),
            }],
        }),
    )
}

fn record(h: &NetSuiteHandle, t: RecordType, id: &str) -> Value {
    h.record(t, InternalId(id.parse().unwrap()))
        .expect("record")
}

fn lines_of(record: &Value) -> Vec<(u64, Decimal)> {
    record["item"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["orderLine"].as_u64().unwrap(),
                l["quantity"].to_string().trim_matches('"').parse().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn fulfils_chosen_lines_only_with_lots_packages_and_ship_method() {
    let w = world().await;
    let so = w.order(
        OrderKind::SalesOrder,
        &[(w.mug, 5), (w.plate, 3), (w.lot_item, 2)],
    );
    let mut tea = line(7, w.lot_item, "TEA-LOT", 2);
    tea.lots = vec![LotQuantity {
        lot: LotNumber::new("L1"),
        quantity: d(2),
    }];
    let action = fulfil(
        "CLR-DESP-acme-9-1",
        &w,
        so,
        vec![line(1, w.mug, "MUG", 2), tea],
    );
    let id = w.exec.execute(&action).await.unwrap().expect("an id");

    let f = record(&w.h, RecordType::ItemFulfillment, &id);
    assert_eq!(f["externalId"], "CLR-DESP-acme-9-1");
    assert_eq!(f["shipStatus"]["id"], "C");
    assert_eq!(f["shipMethod"]["id"], "900");
    assert_eq!(
        f["package"]["items"][0]["packageTrackingNumber"],
        "1Z999AA10123456784"
    );
    // Line 4 (the plates) was left out (only shipping lines are sent, with replace=item);
    // NetSuite line numbers kept.
    assert_eq!(lines_of(&f), vec![(1, d(2)), (7, d(2))]);
    assert_eq!(
        w.processed(OrderKind::SalesOrder, so),
        vec![(1, d(2)), (4, d(0)), (7, d(2))]
    );
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), d(8));
    assert_eq!(w.h.on_hand(w.plate, w.main, GOOD), d(5));
    assert_eq!(w.h.lot_on_hand(w.lot_item, "L1"), d(2));
    w.ns.shutdown().await;
}

#[tokio::test]
async fn partial_despatches_add_up_and_over_despatch_is_rejected() {
    let w = world().await;
    let so = w.order(OrderKind::SalesOrder, &[(w.mug, 5), (w.plate, 3)]);
    w.exec
        .execute(&fulfil(
            "CLR-DESP-acme-9-1",
            &w,
            so,
            vec![line(1, w.mug, "MUG", 2)],
        ))
        .await
        .unwrap();
    assert_eq!(
        w.h.order_status(OrderKind::SalesOrder, so).as_deref(),
        Some("E")
    );
    w.exec
        .execute(&fulfil(
            "CLR-DESP-acme-9-2",
            &w,
            so,
            vec![line(1, w.mug, "MUG", 3), line(4, w.plate, "PLATE", 3)],
        ))
        .await
        .unwrap();
    assert_eq!(
        w.processed(OrderKind::SalesOrder, so),
        vec![(1, d(5)), (4, d(3))]
    );
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), d(5));
    assert_eq!(w.h.on_hand(w.plate, w.main, GOOD), d(2));

    // Line 1 is complete: NetSuite refuses a third despatch of it, and the refusal (not about
    // the external id) is not followed by a look-up.
    let before = w.h.request_counts();
    let third = w
        .exec
        .execute(&fulfil(
            "CLR-DESP-acme-9-3",
            &w,
            so,
            vec![line(1, w.mug, "MUG", 1)],
        ))
        .await;
    match third {
        Err(ExecutionError::Rejected(m)) => assert!(m.contains("Line 1"), "{m}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(w.h.count(RecordType::ItemFulfillment), 2);
    assert_eq!(w.h.request_counts().total() - before.total(), 1);
    w.ns.shutdown().await;
}

#[tokio::test]
async fn a_lost_reply_is_ambiguous_and_the_record_is_found_not_duplicated() {
    let w = world().await;
    let so = w.order(OrderKind::SalesOrder, &[(w.mug, 5)]);
    for (n, lost) in [LostReply::DropConnection, LostReply::ServerError]
        .into_iter()
        .enumerate()
    {
        let key = format!("CLR-DESP-acme-9-{n}");
        let action = fulfil(&key, &w, so, vec![line(1, w.mug, "MUG", 1)]);
        assert_eq!(w.exec.find_applied(&action).await.unwrap(), None);
        w.h.inject_fault(Fault::CommitThenFail(lost));
        let first = w.exec.execute(&action).await;
        assert!(
            matches!(first, Err(ExecutionError::Ambiguous(_))),
            "{lost:?}: {first:?}"
        );
        // The write happened although the reply was lost.
        let stored =
            w.h.find_by_external_id(RecordType::ItemFulfillment, &key)
                .expect("committed");
        let found = w.exec.find_applied(&action).await.unwrap();
        assert_eq!(found, Some(stored.to_string()));
        // Sending again anyway is recognised as already applied: same id, no second record.
        let again = w.exec.execute(&action).await.unwrap();
        assert_eq!(again, Some(stored.to_string()));
        assert_eq!(w.h.count_transactions_with_external_id(&key), 1);
    }
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), d(8));

    // The lost fulfilment shipped everything that was left: sent again, its lines are no longer
    // open, and it is still recognised as posted rather than rejected.
    let all = fulfil(
        "CLR-DESP-acme-9-all",
        &w,
        so,
        vec![line(1, w.mug, "MUG", 3)],
    );
    w.h.inject_fault(Fault::CommitThenFail(LostReply::ServerError));
    assert!(matches!(
        w.exec.execute(&all).await,
        Err(ExecutionError::Ambiguous(_))
    ));
    let stored =
        w.h.find_by_external_id(RecordType::ItemFulfillment, "CLR-DESP-acme-9-all")
            .unwrap();
    assert_eq!(
        w.exec.execute(&all).await.unwrap(),
        Some(stored.to_string())
    );
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), d(5));
    assert!(w.h.duplicate_external_ids().is_empty());
    w.ns.shutdown().await;
}

#[tokio::test]
async fn returns_are_received_into_the_quarantine_status_and_purchases_by_lot() {
    let w = world().await;
    let ra = w.order(OrderKind::ReturnAuthorization, &[(w.mug, 2), (w.plate, 1)]);
    let action = planned(
        "CLR-RCPT-acme-4-1",
        OrderRef {
            kind: sync_core::OrderKind::Return,
            id: ra.to_string().into(),
        },
        Action::ReceiveReturnAuthorisation(ItemReceipt {
            order: OrderRef {
                kind: sync_core::OrderKind::Return,
                id: ra.to_string().into(),
            },
            location: w.main.to_string().into(),
            received_at: now(),
            lines: vec![ReceivedLine {
                line: line(1, w.mug, "MUG", 2),
                condition: StockCondition::Quarantine,
                place: Some(StockPlace::Status {
                    status: QUARANTINE.to_string().into(),
                }),
            }],
        }),
    );
    let id = w.exec.execute(&action).await.unwrap().unwrap();
    let r = record(&w.h, RecordType::ItemReceipt, &id);
    assert_eq!(r["externalId"], "CLR-RCPT-acme-4-1");
    assert_eq!(lines_of(&r), vec![(1, d(2))]);
    assert_eq!(w.h.on_hand(w.mug, w.main, QUARANTINE), d(2));
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), d(10));
    assert_eq!(
        w.processed(OrderKind::ReturnAuthorization, ra),
        vec![(1, d(2)), (4, d(0))]
    );

    // A purchase order line of a lot item into a quarantine location, by lot.
    let po = w.order(OrderKind::PurchaseOrder, &[(w.lot_item, 6)]);
    let mut tea = line(1, w.lot_item, "TEA-LOT", 6);
    tea.lots = vec![
        LotQuantity {
            lot: LotNumber::new("L7"),
            quantity: d(4),
        },
        LotQuantity {
            lot: LotNumber::new("L8"),
            quantity: d(2),
        },
    ];
    let po_ref = OrderRef {
        kind: sync_core::OrderKind::Purchase,
        id: po.to_string().into(),
    };
    let action = planned(
        "CLR-RCPT-acme-5-1",
        po_ref.clone(),
        Action::ReceivePurchaseOrder(ItemReceipt {
            order: po_ref,
            location: w.main.to_string().into(),
            received_at: now(),
            lines: vec![ReceivedLine {
                line: tea,
                condition: StockCondition::Quarantine,
                place: Some(StockPlace::Location {
                    location: w.quarantine.to_string().into(),
                }),
            }],
        }),
    );
    w.exec.execute(&action).await.unwrap().unwrap();
    assert_eq!(w.h.on_hand(w.lot_item, w.quarantine, GOOD), d(6));
    assert_eq!(w.h.lot_on_hand(w.lot_item, "L7"), d(4));
    assert_eq!(w.h.lot_on_hand(w.lot_item, "L8"), d(2));
    w.ns.shutdown().await;
}

fn movement_doc() -> DocumentRef {
    DocumentRef::Movement {
        tenant: "acme".into(),
        movement: sync_core::MovementId(31),
    }
}

#[tokio::test]
async fn adjustments_post_signed_quantities_with_lots_and_serials() {
    let w = world().await;
    let adjust = |key: &str, item: InternalId, quantity: i64| PlannedAction {
        key: IdempotencyKey::parse(key).unwrap(),
        document: movement_doc(),
        action: Action::PostInventoryAdjustment(InventoryAdjustment {
            location: w.main.to_string().into(),
            account: "500".into(),
            item: item.to_string().into(),
            sku: "ANY".into(),
            quantity: d(quantity),
            lots: vec![],
            serials: vec![],
            occurred_at: now(),
            memo: "Clarus ADJ".into(),
            inventory_status: Some("1".into()),
        }),
    };
    // Planned before the status was recorded in the action: the core's rule gives the
    // mapping's sellable status at posting.
    let mut legacy = adjust("CLR-ADJ-acme-31", w.mug, -3);
    if let Action::PostInventoryAdjustment(a) = &mut legacy.action {
        a.inventory_status = None;
    }
    let id = w.exec.execute(&legacy).await.unwrap().unwrap();
    let a = record(&w.h, RecordType::InventoryAdjustment, &id);
    assert_eq!(a["externalId"], "CLR-ADJ-acme-31");
    assert_eq!(a["account"]["id"], "500");
    assert_eq!(
        a["inventory"]["items"][0]["inventoryDetail"]["inventoryAssignment"]["items"][0]["inventoryStatus"]
            ["id"],
        "1"
    );
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), d(7));
    let id = w
        .exec
        .execute(&adjust("CLR-ADJ-acme-32", w.plate, 4))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w.h.on_hand(w.plate, w.main, GOOD), d(9));
    let a = record(&w.h, RecordType::InventoryAdjustment, &id);
    assert_eq!(
        a["inventory"]["items"][0]["inventoryDetail"]["inventoryAssignment"]["items"][0]["inventoryStatus"]
            ["id"],
        "1"
    );

    // Removing more than NetSuite holds is refused with NetSuite's code kept; it is retried
    // (the stock may be on its way in a movement not yet posted) until the outbox gives up.
    match w
        .exec
        .execute(&adjust("CLR-ADJ-acme-33", w.plate, -50))
        .await
    {
        Err(ExecutionError::Retryable(m)) => assert!(m.contains("USER_ERROR"), "{m}"),
        other => panic!("expected a retryable refusal, got {other:?}"),
    }

    // A lot issued (by inventory number id, looked up) and a serial received.
    let mut lot_out = adjust("CLR-ADJ-acme-34", w.lot_item, -1);
    if let Action::PostInventoryAdjustment(a) = &mut lot_out.action {
        a.lots = vec![LotQuantity {
            lot: LotNumber::new("L1"),
            quantity: d(1),
        }];
    }
    w.exec.execute(&lot_out).await.unwrap();
    assert_eq!(w.h.lot_on_hand(w.lot_item, "L1"), d(3));
    let mut serial_in = adjust("CLR-ADJ-acme-35", w.serial_item, 1);
    if let Action::PostInventoryAdjustment(a) = &mut serial_in.action {
        a.serials = vec![SerialNumber::new("SN-2")];
    }
    w.exec.execute(&serial_in).await.unwrap();
    assert_eq!(w.h.lot_on_hand(w.serial_item, "SN-2"), d(1));

    // An unknown lot cannot be issued: rejected before anything is sent.
    let mut unknown = adjust("CLR-ADJ-acme-36", w.lot_item, -1);
    if let Action::PostInventoryAdjustment(a) = &mut unknown.action {
        a.lots = vec![LotQuantity {
            lot: LotNumber::new("NOPE"),
            quantity: d(1),
        }];
    }
    match w.exec.execute(&unknown).await {
        Err(ExecutionError::Rejected(m)) => assert!(m.contains("NOPE"), "{m}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(w.h.count(RecordType::InventoryAdjustment), 4);
    w.ns.shutdown().await;
}

#[tokio::test]
async fn stock_moves_change_status_in_place_or_transfer_between_locations() {
    let w = world().await;
    let mv = |key: &str, from: StockPlace, to: StockPlace, quantity: i64| PlannedAction {
        key: IdempotencyKey::parse(key).unwrap(),
        document: movement_doc(),
        action: Action::MoveStock(StockMove {
            location: w.main.to_string().into(),
            item: w.mug.to_string().into(),
            sku: "MUG".into(),
            quantity: d(quantity),
            to_status: StockStatus::Held,
            from,
            to,
            lots: vec![],
            serials: vec![],
            occurred_at: now(),
        }),
    };
    let good = StockPlace::Status {
        status: GOOD.to_string().into(),
    };
    let held = StockPlace::Status {
        status: QUARANTINE.to_string().into(),
    };
    let hold = mv("CLR-HOLD-acme-1", good.clone(), held.clone(), 3);
    w.exec.execute(&hold).await.unwrap().unwrap();
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), d(7));
    assert_eq!(w.h.on_hand(w.mug, w.main, QUARANTINE), d(3));
    assert!(w.exec.find_applied(&hold).await.unwrap().is_some());
    assert_eq!(w.h.count(RecordType::InventoryStatusChange), 1);

    let away = StockPlace::Location {
        location: w.quarantine.to_string().into(),
    };
    let transfer = mv("CLR-HOLD-acme-2", good, away, 2);
    w.exec.execute(&transfer).await.unwrap().unwrap();
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), d(5));
    assert_eq!(w.h.on_hand(w.mug, w.quarantine, GOOD), d(2));
    assert!(w.exec.find_applied(&transfer).await.unwrap().is_some());
    assert_eq!(w.h.count(RecordType::InventoryTransfer), 1);

    match w
        .exec
        .execute(&mv("CLR-HOLD-acme-3", held.clone(), held, 1))
        .await
    {
        Err(ExecutionError::Rejected(m)) => assert!(m.contains("same place"), "{m}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    w.ns.shutdown().await;
}

#[tokio::test]
async fn missing_orders_and_clarus_actions_are_rejected() {
    let w = world().await;
    let action = fulfil(
        "CLR-DESP-acme-1-1",
        &w,
        InternalId(99_999),
        vec![line(1, w.mug, "MUG", 1)],
    );
    match w.exec.execute(&action).await {
        Err(ExecutionError::Rejected(m)) => assert!(m.contains("does not exist"), "{m}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    let clarus = planned(
        "NS-SO-1",
        OrderRef::sales("1"),
        Action::CancelGoodsOut {
            order: OrderRef::sales("1"),
            reference: "SO1".into(),
        },
    );
    assert!(matches!(
        w.exec.execute(&clarus).await,
        Err(ExecutionError::Rejected(_))
    ));
    w.ns.shutdown().await;
}
