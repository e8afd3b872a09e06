//! What a posting costs and carries, against the strict NetSuite simulator: one request per
//! posted transaction, a return line split between sellable and quarantine as ONE receipt line
//! with an assignment per inventory status, OneWorld subsidiaries (and department, class) per
//! location, and open quantities read from the field that fits the order.

use netsuite_client::RecordKey;
use netsuite_client::records::{PurchaseOrder, SalesOrder};
use rust_decimal::Decimal;
use serde_json::json;
use sim::netsuite::{
    GOOD, InternalId, ItemKind, NetSuiteConfig, NetSuiteHandle, NetSuiteSim, NewOrder,
    NewOrderLine, OrderKind, QUARANTINE, RecordType, RunningNetSuite,
};
use sync_core::{
    Action, DocumentRef, Fulfilment, IdempotencyKey, InventoryAdjustment, ItemReceipt, LineNo,
    OrderRef, PlannedAction, PostedLine, ReceivedLine, StockCondition, StockMove, StockPlace,
    StockStatus,
};
use sync_engine::netsuite::convert::{self, SkuIndex};
use sync_engine::netsuite::{ExecutorConfig, LocationSegments, NetSuiteExecutor, Segments};
use sync_engine::outbox::{ActionExecutor, ExecutionError};

use crate::support::netsuite as support;

fn d(n: i64) -> Decimal {
    Decimal::from(n)
}

fn now() -> jiff::Timestamp {
    "2026-11-27T09:30:00Z".parse().unwrap()
}

struct World {
    ns: RunningNetSuite,
    h: NetSuiteHandle,
    exec: NetSuiteExecutor,
    main: InternalId,
    overflow: InternalId,
    mug: InternalId,
}

async fn world(config: NetSuiteConfig, segments: LocationSegments) -> World {
    let ns = NetSuiteSim::start(config).await.expect("simulator starts");
    let h = ns.handle();
    let main = h.add_location("Main", Some("WH-1")).unwrap();
    let overflow = h.add_location("Overflow", None).unwrap();
    let mug = support::item(&h, "MUG", ItemKind::Inventory);
    h.set_on_hand(mug, main, GOOD, d(10));
    let exec = NetSuiteExecutor::new(support::client(&ns).await, ExecutorConfig::default())
        .with_location_segments(segments);
    World {
        ns,
        h,
        exec,
        main,
        overflow,
        mug,
    }
}

impl World {
    fn order(&self, kind: OrderKind, quantities: &[i64]) -> InternalId {
        let lines = quantities
            .iter()
            .map(|q| NewOrderLine {
                item: self.mug,
                quantity: d(*q),
                location: None,
            })
            .collect();
        self.h
            .add_order(
                kind,
                NewOrder {
                    location: Some(self.main),
                    lines,
                    ..NewOrder::default()
                },
            )
            .unwrap()
    }

    fn line(&self, order_line: u64, quantity: i64) -> PostedLine {
        PostedLine {
            order_line: LineNo(order_line),
            item: self.mug.to_string().into(),
            sku: "MUG".into(),
            quantity: d(quantity),
            lots: vec![],
            serials: vec![],
        }
    }

    fn adjustment(&self, key: &str, quantity: i64) -> PlannedAction {
        planned(
            key,
            Action::PostInventoryAdjustment(InventoryAdjustment {
                location: self.main.to_string().into(),
                account: "90".into(),
                item: self.mug.to_string().into(),
                sku: "MUG".into(),
                quantity: d(quantity),
                lots: vec![],
                serials: vec![],
                memo: "breakage".into(),
                occurred_at: now(),
                inventory_status: Some(GOOD.to_string().into()),
            }),
        )
    }

    fn stock_move(&self, key: &str, to: StockPlace) -> PlannedAction {
        planned(
            key,
            Action::MoveStock(StockMove {
                location: self.main.to_string().into(),
                item: self.mug.to_string().into(),
                sku: "MUG".into(),
                quantity: d(1),
                to_status: StockStatus::Held,
                from: StockPlace::Status {
                    status: GOOD.to_string().into(),
                },
                to,
                lots: vec![],
                serials: vec![],
                occurred_at: now(),
            }),
        )
    }
}

fn planned(key: &str, action: Action) -> PlannedAction {
    PlannedAction {
        key: IdempotencyKey::parse(key).unwrap(),
        document: DocumentRef::Order {
            order: OrderRef::sales("1"),
        },
        action,
    }
}

fn return_receipt(w: &World, ra: InternalId, lines: Vec<ReceivedLine>) -> PlannedAction {
    let order = OrderRef {
        kind: sync_core::OrderKind::Return,
        id: ra.to_string().into(),
    };
    planned(
        "CLR-GIN-acme-4-1",
        Action::ReceiveReturnAuthorisation(ItemReceipt {
            order,
            location: w.main.to_string().into(),
            received_at: now(),
            lines,
        }),
    )
}

fn received(line: PostedLine, condition: StockCondition, place: StockPlace) -> ReceivedLine {
    ReceivedLine {
        line,
        condition,
        place: Some(place),
    }
}

fn status(id: InternalId) -> StockPlace {
    StockPlace::Status {
        status: id.to_string().into(),
    }
}

/// Requests the simulator saw while `f` ran.
async fn requests_during<F: std::future::Future>(h: &NetSuiteHandle, f: F) -> (F::Output, u64) {
    let before = h.request_counts().total();
    let out = f.await;
    (out, h.request_counts().total() - before)
}

#[tokio::test]
async fn each_posting_is_one_request_on_a_fault_free_day() {
    let w = world(NetSuiteConfig::default(), LocationSegments::new()).await;
    let so = w.order(OrderKind::SalesOrder, &[5, 3]);
    let fulfil = planned(
        "CLR-DESP-acme-1-1",
        Action::FulfilSalesOrder(Fulfilment {
            order: so.to_string().into(),
            location: w.main.to_string().into(),
            ship_method: None,
            despatched_at: now(),
            lines: vec![w.line(4, 2)],
            packages: vec![],
        }),
    );
    let (id, n) = requests_during(&w.h, w.exec.execute(&fulfil)).await;
    assert!(id.unwrap().is_some());
    assert_eq!(n, 1, "{:?}", w.h.request_counts().by_label());

    let po = w.order(OrderKind::PurchaseOrder, &[4]);
    let po_ref = OrderRef {
        kind: sync_core::OrderKind::Purchase,
        id: po.to_string().into(),
    };
    let receive = planned(
        "CLR-GIN-acme-2-1",
        Action::ReceivePurchaseOrder(ItemReceipt {
            order: po_ref,
            location: w.main.to_string().into(),
            received_at: now(),
            lines: vec![ReceivedLine {
                line: w.line(1, 4),
                condition: StockCondition::Sellable,
                place: None,
            }],
        }),
    );
    let (id, n) = requests_during(&w.h, w.exec.execute(&receive)).await;
    assert!(id.unwrap().is_some());
    assert_eq!(n, 1);

    let (id, n) = requests_during(&w.h, w.exec.execute(&w.adjustment("CLR-ADJ-acme-3", -1))).await;
    assert!(id.unwrap().is_some());
    assert_eq!(n, 1);
    let (id, n) = requests_during(
        &w.h,
        w.exec
            .execute(&w.stock_move("CLR-MOV-acme-4", status(QUARANTINE))),
    )
    .await;
    assert!(id.unwrap().is_some());
    assert_eq!(n, 1);

    // A refusal that is not about the external id is not followed by a look-up.
    let (refused, n) =
        requests_during(&w.h, w.exec.execute(&w.adjustment("CLR-ADJ-acme-5", -100))).await;
    assert!(
        matches!(refused, Err(ExecutionError::Retryable(_))),
        "{refused:?}"
    );
    assert_eq!(n, 1);
    // A create refused because its external id is taken is looked up once and found.
    let (again, n) =
        requests_during(&w.h, w.exec.execute(&w.adjustment("CLR-ADJ-acme-3", -1))).await;
    assert!(again.unwrap().is_some());
    assert_eq!(n, 2);
    assert_eq!(w.h.count(RecordType::InventoryAdjustment), 1);
    w.ns.shutdown().await;
}

#[tokio::test]
async fn a_return_line_split_between_sellable_and_quarantine_is_one_receipt_line() {
    let w = world(NetSuiteConfig::default(), LocationSegments::new()).await;
    let ra = w.order(OrderKind::ReturnAuthorization, &[5, 2]);
    let action = return_receipt(
        &w,
        ra,
        vec![
            received(w.line(1, 3), StockCondition::Sellable, status(GOOD)),
            received(w.line(4, 2), StockCondition::Sellable, status(GOOD)),
            received(w.line(1, 1), StockCondition::Quarantine, status(QUARANTINE)),
        ],
    );
    let (id, n) = requests_during(&w.h, w.exec.execute(&action)).await;
    let id = id.unwrap().expect("an id");
    assert_eq!(n, 1);
    let receipt =
        w.h.record(RecordType::ItemReceipt, InternalId(id.parse().unwrap()))
            .unwrap();
    let lines = receipt["item"]["items"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{receipt}");
    assert_eq!(lines[0]["orderLine"], json!(1));
    assert_eq!(lines[0]["quantity"], json!(4));
    let assignments = lines[0]["inventoryDetail"]["inventoryAssignment"]["items"]
        .as_array()
        .unwrap();
    let by_status: Vec<(String, String)> = assignments
        .iter()
        .map(|a| {
            (
                a["inventoryStatus"]["id"].as_str().unwrap().to_owned(),
                a["quantity"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        by_status,
        vec![
            (GOOD.to_string(), "3".to_owned()),
            (QUARANTINE.to_string(), "1".to_owned())
        ]
    );
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), d(15));
    assert_eq!(w.h.on_hand(w.mug, w.main, QUARANTINE), d(1));
    let processed: Vec<Decimal> =
        w.h.order_lines(OrderKind::ReturnAuthorization, ra)
            .iter()
            .map(|l| l.processed)
            .collect();
    assert_eq!(processed, vec![d(4), d(2)]);

    // Quarantine mapped to a location of its own cannot share the receipt line: a clear
    // rejection, nothing sent.
    let ra = w.order(OrderKind::ReturnAuthorization, &[2]);
    let split = return_receipt(
        &w,
        ra,
        vec![
            received(w.line(1, 1), StockCondition::Sellable, status(GOOD)),
            received(
                w.line(1, 1),
                StockCondition::Quarantine,
                StockPlace::Location {
                    location: w.overflow.to_string().into(),
                },
            ),
        ],
    );
    let (refused, n) = requests_during(&w.h, w.exec.execute(&split)).await;
    match refused {
        Err(ExecutionError::Rejected(m)) => assert!(m.contains("one location"), "{m}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(n, 0);
    w.ns.shutdown().await;
}

#[tokio::test]
async fn one_world_postings_name_the_subsidiary_department_and_class_of_their_location() {
    let one_world = NetSuiteConfig {
        one_world: true,
        ..NetSuiteConfig::default()
    };
    // Without segments a OneWorld account refuses the adjustment.
    let bare = world(one_world.clone(), LocationSegments::new()).await;
    match bare
        .exec
        .execute(&bare.adjustment("CLR-ADJ-acme-1", -1))
        .await
    {
        Err(ExecutionError::Rejected(m)) => assert!(m.contains("Subsidiary"), "{m}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    bare.ns.shutdown().await;

    let mut w = world(one_world, LocationSegments::new()).await;
    let segments: LocationSegments = [(
        w.main.to_string().into(),
        Segments {
            subsidiary: Some("3".into()),
            department: Some("8".into()),
            class: Some("9".into()),
        },
    )]
    .into_iter()
    .collect();
    w.exec = NetSuiteExecutor::new(support::client(&w.ns).await, ExecutorConfig::default())
        .with_location_segments(segments);
    // The location belongs to that subsidiary (the simulator checks it).
    w.h.update_record(
        RecordType::Location,
        w.main,
        json!({"subsidiary": {"id": "3"}}),
    )
    .unwrap();
    for action in [
        w.adjustment("CLR-ADJ-acme-2", -1),
        w.stock_move("CLR-MOV-acme-3", status(QUARANTINE)),
        w.stock_move(
            "CLR-MOV-acme-4",
            StockPlace::Location {
                location: w.overflow.to_string().into(),
            },
        ),
    ] {
        let id = w.exec.execute(&action).await.unwrap();
        assert!(id.is_some(), "{action:?}");
    }
    for record in [
        RecordType::InventoryAdjustment,
        RecordType::InventoryStatusChange,
        RecordType::InventoryTransfer,
    ] {
        let stored = &w.h.records(record)[0];
        assert_eq!(stored["subsidiary"]["id"], json!("3"), "{record}");
        assert_eq!(stored["department"]["id"], json!("8"), "{record}");
        assert_eq!(stored["class"]["id"], json!("9"), "{record}");
    }
    assert_eq!(w.h.on_hand(w.mug, w.main, GOOD), d(7));
    assert_eq!(w.h.on_hand(w.mug, w.main, QUARANTINE), d(1));
    assert_eq!(w.h.on_hand(w.mug, w.overflow, GOOD), d(1));
    w.ns.shutdown().await;
}

#[tokio::test]
async fn open_quantities_come_from_the_field_that_fits_the_order() {
    let w = world(NetSuiteConfig::default(), LocationSegments::new()).await;
    let client = support::client(&w.ns).await;
    let mut skus = SkuIndex::new();
    skus.insert(w.mug.to_string().into(), "MUG".into());

    // A purchase order received 3 of 5: its lines carry quantityFulfilled 0 as well.
    let po = w.order(OrderKind::PurchaseOrder, &[5]);
    let po_ref = OrderRef {
        kind: sync_core::OrderKind::Purchase,
        id: po.to_string().into(),
    };
    let receive = planned(
        "CLR-GIN-acme-7-1",
        Action::ReceivePurchaseOrder(ItemReceipt {
            order: po_ref,
            location: w.main.to_string().into(),
            received_at: now(),
            lines: vec![ReceivedLine {
                line: w.line(1, 3),
                condition: StockCondition::Sellable,
                place: None,
            }],
        }),
    );
    w.exec.execute(&receive).await.unwrap();
    let record: PurchaseOrder = client
        .get(RecordKey::Id(po.to_string().parse().unwrap()))
        .expand_sub_resources(true)
        .send()
        .await
        .unwrap();
    let order = convert::purchase_order(&record, &skus).unwrap();
    assert_eq!(order.lines[0].quantity_done, d(3));
    assert_eq!(order.lines[0].open_quantity(), d(2));

    // A sales order fulfilled 2 of 4: its lines carry quantityReceived 0 as well.
    let so = w.order(OrderKind::SalesOrder, &[4]);
    let fulfil = planned(
        "CLR-DESP-acme-8-1",
        Action::FulfilSalesOrder(Fulfilment {
            order: so.to_string().into(),
            location: w.main.to_string().into(),
            ship_method: None,
            despatched_at: now(),
            lines: vec![w.line(1, 2)],
            packages: vec![],
        }),
    );
    w.exec.execute(&fulfil).await.unwrap();
    let record: SalesOrder = client
        .get(RecordKey::Id(so.to_string().parse().unwrap()))
        .expand_sub_resources(true)
        .send()
        .await
        .unwrap();
    let order = convert::sales_order(&record, &skus).unwrap();
    assert_eq!(order.lines[0].quantity_done, d(2));
    assert_eq!(order.lines[0].open_quantity(), d(2));
    w.ns.shutdown().await;
}
