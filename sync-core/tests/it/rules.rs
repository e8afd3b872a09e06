//! One test (or a few) per planning rule.

use crate::support::*;
use sync_core::*;

// ---- item master ----

#[test]
fn new_item_creates_a_clarus_product_once() {
    let m = mappings();
    let mut state = MemoryState::new();
    let plan = run(
        &mut state,
        &m,
        &item_event(item("11", "A", Tracking::Lot), 1),
    );
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(plan.actions[0].key.as_str(), "NS-ITEM-11");
    let Action::CreateProduct(spec) = &plan.actions[0].action else {
        panic!("expected CreateProduct, got {:?}", plan.actions[0].action)
    };
    assert_eq!(spec.sku.as_str(), "A");
    assert_eq!(spec.tracking, Tracking::Lot);
    // Same revision again under another event name: nothing new.
    let mut again = item_event(item("11", "A", Tracking::Lot), 1);
    again.source.event = "created".into();
    assert!(plan_of(&state, &m, &again).actions.is_empty());
}

fn plan_of(state: &MemoryState, m: &Mappings, e: &Event) -> Plan {
    plan(state, m, e, now())
}

#[test]
fn changed_item_updates_the_product_and_older_versions_change_nothing() {
    let m = mappings();
    let mut state = state_with_item();
    let mut changed = item("11", "A", Tracking::None);
    changed.description = "New name".into();
    let plan = run(&mut state, &m, &item_event(changed.clone(), 3));
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(plan.actions[0].key.as_str(), "NS-ITEM-11-S3");
    assert!(matches!(plan.actions[0].action, Action::UpdateProduct(_)));
    // An older revision arriving late must not undo the newer one.
    let plan = run(
        &mut state,
        &m,
        &item_event(item("11", "A", Tracking::None), 2),
    );
    assert!(plan.actions.is_empty());
    assert!(
        !plan
            .changes
            .iter()
            .any(|c| matches!(c, StateChange::ItemKnown(_)))
    );
    assert_eq!(
        state.item(&"A".into()).unwrap().item.description,
        "New name"
    );
}

#[test]
fn barcode_and_sku_disagreement_with_clarus_raise_item_master_exceptions() {
    let m = mappings();
    let mut state = state_with_item();
    let product = ClarusProduct {
        id: ProductId(5),
        sku: "A".into(),
        barcode: Some("OTHER".into()),
        netsuite_id: Some("11".into()),
    };
    let plan = run(
        &mut state,
        &m,
        &event(
            System::Clarus,
            "5",
            1,
            Payload::ClarusProduct(product.clone()),
        ),
    );
    let exceptions = raised(&plan);
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].kind, ExceptionKind::BarcodeMismatch);
    assert_eq!(exceptions[0].owner, Owner::ItemMaster);

    // Fixed in Clarus: the exception is resolved.
    let fixed = ClarusProduct {
        barcode: Some("BCA".into()),
        ..product.clone()
    };
    let plan = run(
        &mut state,
        &m,
        &event(System::Clarus, "5", 2, Payload::ClarusProduct(fixed)),
    );
    assert_eq!(resolved(&plan), vec![&exceptions[0].key]);

    // Product linked to item 11 but with another code.
    let renamed = ClarusProduct {
        sku: "A2".into(),
        barcode: None,
        ..product
    };
    let plan = run(
        &mut state,
        &m,
        &event(System::Clarus, "5", 3, Payload::ClarusProduct(renamed)),
    );
    let exceptions = raised(&plan);
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].kind, ExceptionKind::SkuMismatch);
    assert_eq!(exceptions[0].runbook, "operations.md#sku-mismatch");
}

// ---- order release, hold, cancel ----

#[test]
fn open_sales_order_creates_a_goods_out_with_open_lines() {
    let m = mappings();
    let mut state = state_with_a_and_b();
    let mut lines = vec![order_line(3, "11", "A", 5), order_line(9, "12", "B", 2)];
    lines[0].quantity_done = dec(1);
    lines[1].closed = true;
    let plan = run(
        &mut state,
        &m,
        &order_event(order(OrderKind::Sales, "501", OrderStatus::Open, lines), 1),
    );
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(plan.actions[0].key.as_str(), "NS-SO-501");
    let Action::CreateGoodsOut(goods_out) = &plan.actions[0].action else {
        panic!("expected CreateGoodsOut")
    };
    assert_eq!(goods_out.warehouse, WarehouseId(10));
    assert_eq!(goods_out.reference, "SO501");
    assert_eq!(
        goods_out.carrier,
        Some(CarrierService {
            carrier: CarrierId(3),
            service: None
        })
    );
    assert_eq!(goods_out.lines.len(), 1);
    assert_eq!(goods_out.lines[0].order_line, LineNo(3));
    assert_eq!(goods_out.lines[0].quantity, dec(4));
    // A later revision of the same open order does not create a second goods out.
    let again = sales_order_open_with(vec![order_line(3, "11", "A", 5)]);
    assert!(
        run(&mut state, &m, &order_event(again, 2))
            .actions
            .is_empty()
    );
}

fn sales_order_open_with(lines: Vec<OrderLine>) -> Order {
    order(OrderKind::Sales, "501", OrderStatus::Open, lines)
}

#[test]
fn pending_approval_orders_are_not_released() {
    let m = mappings();
    let mut state = state_with_item();
    let o = order(
        OrderKind::Sales,
        "501",
        OrderStatus::PendingApproval,
        vec![order_line(3, "11", "A", 5)],
    );
    assert!(run(&mut state, &m, &order_event(o, 1)).actions.is_empty());
}

#[test]
fn unknown_sku_holds_the_order_until_the_item_appears() {
    let m = mappings();
    let mut state = state_with_item();
    let o = sales_order_open_with(vec![
        order_line(3, "11", "A", 5),
        order_line(4, "99", "NEW", 1),
    ]);
    let plan = run(&mut state, &m, &order_event(o, 1));
    let exceptions = raised(&plan);
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].kind, ExceptionKind::UnknownSku);
    assert_eq!(exceptions[0].owner, Owner::ItemMaster);
    assert_eq!(exceptions[0].runbook, "operations.md#unknown-sku");
    assert!(exceptions[0].message.contains("NEW"));
    assert!(fulfilment_free(&plan));
    assert!(!plan.blocked, "a held order is not lost and needs no retry");
    let held = state.order(&OrderRef::sales("501")).unwrap();
    assert_eq!(held.held_for, vec![Sku::new("NEW")]);
    assert_eq!(
        state.orders_held_for(&"NEW".into()),
        vec![OrderRef::sales("501")]
    );

    // The item appears: product created, goods out created, exception resolved.
    let plan = run(
        &mut state,
        &m,
        &item_event(item("99", "NEW", Tracking::None), 1),
    );
    let keys: Vec<&str> = plan.actions.iter().map(|a| a.key.as_str()).collect();
    assert!(keys.contains(&"NS-ITEM-99"));
    assert!(keys.contains(&"NS-SO-501"));
    assert_eq!(resolved(&plan), vec![&exceptions[0].key]);
    assert!(
        state
            .order(&OrderRef::sales("501"))
            .unwrap()
            .held_for
            .is_empty()
    );
    assert!(state.orders_held_for(&"NEW".into()).is_empty());
    assert_eq!(state.open_exceptions().count(), 0);
}

fn fulfilment_free(plan: &Plan) -> bool {
    plan.actions.iter().all(|a| {
        !matches!(
            a.action,
            Action::CreateGoodsOut(_) | Action::FulfilSalesOrder(_)
        )
    })
}

#[test]
fn missing_location_mapping_blocks_the_order_until_retried() {
    let empty = Mappings::new(MappingTables::default()).unwrap();
    let mut state = state_with_items(&empty, &[item("11", "A", Tracking::None)]);
    let e = order_event(sales_order_open_with(vec![order_line(3, "11", "A", 5)]), 1);
    let plan = run(&mut state, &empty, &e);
    assert!(plan.blocked);
    let exceptions = raised(&plan);
    assert_eq!(exceptions.len(), 1);
    assert_eq!(
        exceptions[0].kind,
        ExceptionKind::MissingMapping {
            table: MappingTable::LocationWarehouse
        }
    );
    assert_eq!(exceptions[0].owner, Owner::Integration);
    assert!(!state.is_event_seen(&e.source));
    // Retried unchanged: nothing new, still blocked.
    let again = run(&mut state, &empty, &e);
    assert!(again.actions.is_empty() && again.blocked);
    // Mapping added, event retried: goods out and resolution.
    let plan = run(&mut state, &mappings(), &e);
    assert!(!plan.blocked);
    assert_eq!(resolved(&plan), vec![&exceptions[0].key]);
    assert!(plan.actions.iter().any(|a| a.key.as_str() == "NS-SO-501"));
    // plan_order is the retry without an event: nothing left to do.
    assert!(plan_order(&state, &mappings(), &OrderRef::sales("501"), now()).is_empty());
}

#[test]
fn held_order_released_while_unmapped_is_finished_by_plan_order() {
    let mut tables = tables();
    tables.locations.clear();
    let unmapped = Mappings::new(tables).unwrap();
    let mut state = MemoryState::new();
    let o = sales_order_open_with(vec![order_line(3, "99", "NEW", 2)]);
    let plan = run(&mut state, &unmapped, &order_event(o, 1));
    assert_eq!(raised(&plan)[0].kind, ExceptionKind::UnknownSku);
    // The item arrives, but the location has no warehouse: the item event still completes,
    // the order is no longer held, and the mapping problem is raised on the order.
    let item_event = item_event(item("99", "NEW", Tracking::None), 1);
    let plan = run(&mut state, &unmapped, &item_event);
    assert!(!plan.blocked);
    assert!(state.is_event_seen(&item_event.source));
    assert!(plan.actions.iter().all(|a| a.key.as_str() != "NS-SO-501"));
    let mapping_exception = raised(&plan)
        .into_iter()
        .find(|e| {
            e.kind
                == ExceptionKind::MissingMapping {
                    table: MappingTable::LocationWarehouse,
                }
        })
        .expect("missing location mapping raised")
        .key
        .clone();
    assert!(
        state
            .order(&OrderRef::sales("501"))
            .unwrap()
            .held_for
            .is_empty()
    );
    // Still unmapped: retrying the order is blocked and plans nothing new.
    let retry = plan_order(&state, &unmapped, &OrderRef::sales("501"), now());
    assert!(retry.blocked && retry.actions.is_empty());
    // Mapping fixed: retrying the order releases it and resolves the exception.
    let retry = plan_order(&state, &mappings(), &OrderRef::sales("501"), now());
    state.apply(&retry);
    assert!(!retry.blocked);
    assert!(retry.actions.iter().any(|a| a.key.as_str() == "NS-SO-501"));
    assert_eq!(resolved(&retry), vec![&mapping_exception]);
    assert_eq!(state.open_exceptions().count(), 0);
}

#[test]
fn cancelled_order_cancels_its_goods_out_once() {
    let m = mappings();
    let mut state = state_with_order();
    let plan = run(
        &mut state,
        &m,
        &order_event(sales_order(OrderStatus::Cancelled), 2),
    );
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(plan.actions[0].key.as_str(), "NS-SO-501-CANCEL");
    assert!(matches!(
        plan.actions[0].action,
        Action::CancelGoodsOut { .. }
    ));
    let plan = run(
        &mut state,
        &m,
        &order_event(sales_order(OrderStatus::Closed), 3),
    );
    assert!(plan.actions.is_empty());
}

#[test]
fn older_order_event_does_not_undo_newer_state() {
    let m = mappings();
    let mut state = state_with_order();
    run(
        &mut state,
        &m,
        &order_event(sales_order(OrderStatus::Cancelled), 5),
    );
    // Revision 4 (still open) arrives late.
    let plan = run(
        &mut state,
        &m,
        &order_event(sales_order(OrderStatus::Open), 4),
    );
    assert!(plan.actions.is_empty());
    let known = state.order(&OrderRef::sales("501")).unwrap();
    assert_eq!(known.order.status, OrderStatus::Cancelled);
    assert_eq!(known.revision, Revision::Sequence(5));
}

// ---- despatch → fulfilment ----

/// Despatch `id` of goods out 9, for sales order 501, with `lines`.
fn despatch_of_501(id: &str, lines: Vec<DespatchLine>) -> Event {
    despatch_event(despatch(9, id, "501", lines))
}

/// Plans (and applies to `state`) despatch `id` of goods out 9, for sales order 501.
fn run_despatch(state: &mut MemoryState, m: &Mappings, id: &str, lines: Vec<DespatchLine>) -> Plan {
    run(state, m, &despatch_of_501(id, lines))
}

#[test]
fn despatch_posts_one_fulfilment_with_carrier_and_tracking() {
    let m = mappings();
    let mut state = state_with_order();
    let e = despatch_of_501("1", vec![despatch_line(3, "A", 5, 5)]);
    let plan = run(&mut state, &m, &e);
    assert_eq!(plan.actions.len(), 1);
    let action = &plan.actions[0];
    assert_eq!(action.key.as_str(), "CLR-DESP-acme-9-1");
    let Action::FulfilSalesOrder(f) = &action.action else {
        panic!("expected a fulfilment")
    };
    assert_eq!(f.order.as_str(), "501");
    assert_eq!(f.location.as_str(), "1");
    assert_eq!(f.ship_method, Some("900".into()));
    assert_eq!(f.lines.len(), 1);
    assert_eq!(f.lines[0].order_line, LineNo(3));
    assert_eq!(f.lines[0].item.as_str(), "11");
    assert_eq!(f.lines[0].quantity, dec(5));
    assert_eq!(f.packages[0].tracking_number, Some("TRK1".into()));
    assert!(plan.changes.contains(&StateChange::Posted {
        order: OrderRef::sales("501"),
        lines: vec![LineQuantity {
            line: LineNo(3),
            quantity: dec(5)
        }],
    }));
    // The same webhook again: nothing at all.
    assert!(plan_of(&state, &m, &e).is_empty());
    // The same despatch seen by a sweep (another source identity): no second fulfilment.
    let mut sweep = e.clone();
    sweep.source.event = "sweep".into();
    assert!(plan_of(&state, &m, &sweep).actions.is_empty());
}

#[test]
fn several_despatches_of_one_order_are_several_fulfilments() {
    let m = mappings();
    let mut state = state_with_order();
    let first = run_despatch(&mut state, &m, "1", vec![despatch_line(3, "A", 2, 2)]);
    let second = run_despatch(&mut state, &m, "2", vec![despatch_line(3, "A", 3, 3)]);
    assert_eq!(fulfilments(&first).len(), 1);
    assert_eq!(fulfilments(&second).len(), 1);
    assert_ne!(first.actions[0].key, second.actions[0].key);
    assert_eq!(
        state
            .order(&OrderRef::sales("501"))
            .unwrap()
            .posted(LineNo(3)),
        dec(5)
    );
    // A third despatch of the now fully shipped line is refused.
    let third = run_despatch(&mut state, &m, "3", vec![despatch_line(3, "A", 1, 1)]);
    assert!(fulfilments(&third).is_empty());
    assert_eq!(raised(&third)[0].kind, ExceptionKind::QuantityAboveOpen);
}

#[test]
fn quantity_above_open_posts_nothing_for_that_line_only() {
    let m = mappings();
    let mut state = state_with_order();
    let mut lot_line = despatch_line(7, "L", 4, 4);
    lot_line.lots = vec![LotQuantity {
        lot: "LOT1".into(),
        quantity: dec(4),
    }];
    let plan = run_despatch(
        &mut state,
        &m,
        "1",
        vec![despatch_line(3, "A", 6, 6), lot_line],
    );
    let f = fulfilments(&plan);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].lines.len(), 1);
    assert_eq!(f[0].lines[0].order_line, LineNo(7));
    assert_eq!(f[0].lines[0].lots.len(), 1);
    let exceptions = raised(&plan);
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].kind, ExceptionKind::QuantityAboveOpen);
    assert_eq!(exceptions[0].owner, Owner::Operations);
    assert!(exceptions[0].message.contains("only 5 open"));
}

#[test]
fn netsuite_fulfilled_quantity_counts_as_not_open() {
    let m = mappings();
    let mut state = state_with_order();
    let mut o = sales_order(OrderStatus::Open);
    o.lines[0].quantity_done = dec(4); // fulfilled in NetSuite by hand
    run(&mut state, &m, &order_event(o, 2));
    let plan = run_despatch(&mut state, &m, "1", vec![despatch_line(3, "A", 2, 2)]);
    assert!(fulfilments(&plan).is_empty());
    assert_eq!(raised(&plan)[0].kind, ExceptionKind::QuantityAboveOpen);
}

#[test]
fn despatch_of_cancelled_or_closed_order_is_an_exception() {
    for status in [OrderStatus::Cancelled, OrderStatus::Closed] {
        let m = mappings();
        let mut state = state_with_order();
        run(&mut state, &m, &order_event(sales_order(status), 2));
        let plan = run_despatch(&mut state, &m, "1", vec![despatch_line(3, "A", 1, 1)]);
        assert!(fulfilments(&plan).is_empty());
        let exceptions = raised(&plan);
        assert_eq!(exceptions.len(), 1);
        assert_eq!(exceptions[0].kind, ExceptionKind::OrderCancelledOrClosed);
        assert_eq!(exceptions[0].owner, Owner::Operations);
        assert!(!plan.blocked);
    }
}

#[test]
fn tracked_items_need_matching_lots_or_serials() {
    let m = mappings();
    let mut state = state_with_order();
    let mut wrong_lots = despatch_line(7, "L", 2, 2);
    wrong_lots.lots = vec![LotQuantity {
        lot: "LOT1".into(),
        quantity: dec(1),
    }];
    let mut one_serial = despatch_line(12, "S", 2, 2);
    one_serial.serials = vec!["SN1".into()];
    let plan = run_despatch(
        &mut state,
        &m,
        "1",
        vec![despatch_line(7, "L", 1, 1), wrong_lots, one_serial],
    );
    assert!(fulfilments(&plan).is_empty());
    let exceptions = raised(&plan);
    // Lines 7 (twice, one key) and 12.
    assert_eq!(exceptions.len(), 2);
    assert!(
        exceptions
            .iter()
            .all(|e| e.kind == ExceptionKind::MissingLotOrSerial)
    );
    // With serials: posted, and serials carried.
    let mut serials = despatch_line(12, "S", 2, 2);
    serials.serials = vec!["SN1".into(), "SN2".into()];
    let plan = run_despatch(&mut state, &m, "2", vec![serials]);
    assert_eq!(fulfilments(&plan)[0].lines[0].serials.len(), 2);
}

#[test]
fn short_pick_posts_only_what_left_and_warns_operations() {
    let m = mappings();
    let mut state = state_with_order();
    let plan = run_despatch(&mut state, &m, "1", vec![despatch_line(3, "A", 5, 3)]);
    assert_eq!(fulfilments(&plan)[0].lines[0].quantity, dec(3));
    let exceptions = raised(&plan);
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].kind, ExceptionKind::ShortDespatch);
    assert_eq!(exceptions[0].severity, Severity::Warning);
    // A failed pick (nothing left) posts no fulfilment at all.
    let plan = run_despatch(&mut state, &m, "2", vec![despatch_line(3, "A", 2, 0)]);
    assert!(fulfilments(&plan).is_empty());
    assert_eq!(raised(&plan)[0].kind, ExceptionKind::ShortDespatch);
}

#[test]
fn despatch_before_its_order_is_blocked_then_posted_on_retry() {
    let m = mappings();
    let mut state = state_with_item();
    let e = despatch_of_501("1", vec![despatch_line(3, "A", 1, 1)]);
    let plan = run(&mut state, &m, &e);
    assert!(plan.blocked);
    assert_eq!(raised(&plan)[0].kind, ExceptionKind::UnknownOrder);
    run(
        &mut state,
        &m,
        &order_event(sales_order_open_with(vec![order_line(3, "11", "A", 5)]), 1),
    );
    let plan = run(&mut state, &m, &e);
    assert_eq!(fulfilments(&plan).len(), 1);
    assert_eq!(resolved(&plan).len(), 1);
    assert!(state.is_event_seen(&e.source));
}

// ---- warehouse progress ----

fn progress_event(goods_out: u64, order: &str, milestone: GoodsOutMilestone) -> Event {
    let progress = GoodsOutProgress {
        tenant: "acme".into(),
        goods_out: GoodsOutId(goods_out),
        order: order.into(),
        milestone,
    };
    Event {
        source: progress.source_id(),
        occurred_at: now(),
        payload: Payload::GoodsOutProgress(progress),
    }
}

#[test]
fn progress_of_a_known_order_is_recorded_once_and_plans_no_action() {
    let m = mappings();
    let mut state = state_with_order();
    let before = state.order(&OrderRef::sales("501")).cloned();
    let e = progress_event(9, "501", GoodsOutMilestone::Acknowledged);
    let plan = run(&mut state, &m, &e);
    assert!(plan.actions.is_empty());
    assert!(!plan.blocked);
    assert_eq!(plan.changes, vec![StateChange::EventSeen(e.source.clone())]);
    // The order itself is untouched: progress is informational.
    assert_eq!(state.order(&OrderRef::sales("501")).cloned(), before);
    // A redelivery plans nothing.
    assert!(plan_of(&state, &m, &e).is_empty());
    // The next milestone is another identity, recorded in its turn.
    let picking = progress_event(9, "501", GoodsOutMilestone::Picking);
    assert_ne!(picking.source, e.source);
    assert_eq!(
        run(&mut state, &m, &picking).changes,
        vec![StateChange::EventSeen(picking.source.clone())]
    );
}

#[test]
fn every_report_of_one_milestone_shares_one_identity() {
    // A goods out `processed` webhook and a pick list `created` webhook both report the
    // acknowledgement of goods out 9: the second plans nothing.
    let a = progress_event(9, "501", GoodsOutMilestone::Acknowledged);
    let b = progress_event(9, "501", GoodsOutMilestone::Acknowledged);
    assert_eq!(a.source, b.source);
    assert_eq!(a.source.event.as_str(), "acknowledged");
    // Never the identity of the despatch of the same goods out.
    let despatch = despatch_of_501("1", vec![despatch_line(3, "A", 1, 1)]);
    assert_ne!(a.source.event, despatch.source.event);
    assert_ne!(
        progress_event(10, "501", GoodsOutMilestone::Acknowledged).source,
        a.source
    );
}

#[test]
fn progress_of_an_unknown_order_records_nothing_and_raises_nothing() {
    let m = mappings();
    let state = state_with_order();
    let plan = plan_of(
        &state,
        &m,
        &progress_event(9, "777", GoodsOutMilestone::Picking),
    );
    assert!(plan.is_empty());
    assert!(!plan.blocked);
    // A purchase order with the same internal id is not the sales order.
    let inbound = inbound_state(OrderKind::Purchase);
    let plan = plan_of(
        &inbound,
        &m,
        &progress_event(9, "700", GoodsOutMilestone::Picking),
    );
    assert!(plan.is_empty());
}

#[test]
fn progress_does_not_disturb_the_despatch_that_follows() {
    let m = mappings();
    let mut state = state_with_order();
    run(
        &mut state,
        &m,
        &progress_event(9, "501", GoodsOutMilestone::Acknowledged),
    );
    run(
        &mut state,
        &m,
        &progress_event(9, "501", GoodsOutMilestone::Picking),
    );
    let plan = run_despatch(&mut state, &m, "1", vec![despatch_line(3, "A", 5, 5)]);
    assert_eq!(fulfilments(&plan).len(), 1);
}

#[test]
fn unmapped_carrier_or_warehouse_blocks_the_despatch() {
    let m = mappings();
    let mut state = state_with_order();
    let mut d = despatch(9, "1", "501", vec![despatch_line(3, "A", 1, 1)]);
    d.carrier = Some(CarrierId(4));
    let plan = run(&mut state, &m, &despatch_event(d.clone()));
    assert!(plan.blocked && fulfilments(&plan).is_empty());
    assert_eq!(
        raised(&plan)[0].kind,
        ExceptionKind::MissingMapping {
            table: MappingTable::ShipMethod
        }
    );
    d.carrier = Some(CarrierId(3));
    d.warehouse = WarehouseId(11);
    let plan = run(&mut state, &m, &despatch_event(d));
    assert!(plan.blocked && fulfilments(&plan).is_empty());
    assert_eq!(
        raised(&plan)[0].kind,
        ExceptionKind::MissingMapping {
            table: MappingTable::LocationWarehouse
        }
    );
}

#[test]
fn despatch_lines_must_match_the_order_line() {
    let m = mappings();
    let mut state = state_with_order();
    let plan = run_despatch(
        &mut state,
        &m,
        "1",
        vec![despatch_line(4, "A", 1, 1), despatch_line(7, "A", 1, 1)],
    );
    assert!(fulfilments(&plan).is_empty());
    let exceptions = raised(&plan);
    assert_eq!(exceptions.len(), 2);
    assert!(
        exceptions
            .iter()
            .all(|e| e.kind == ExceptionKind::UnknownOrderLine)
    );
}

// ---- receipts ----

fn receipt(order: OrderRef, lines: Vec<ReceiptLine>) -> Receipt {
    Receipt {
        tenant: "acme".into(),
        goods_in: GoodsInId(40),
        receipt: "1".into(),
        order,
        warehouse: WarehouseId(10),
        received_at: now(),
        lines,
    }
}

fn receipt_line(line: u64, sku: &str, quantity: i64, condition: StockCondition) -> ReceiptLine {
    ReceiptLine {
        order_line: LineNo(line),
        sku: sku.into(),
        quantity: dec(quantity),
        condition,
        lots: vec![],
        serials: vec![],
    }
}

fn inbound_state(kind: OrderKind) -> MemoryState {
    let m = mappings();
    let mut state = state_with_item();
    let plan = run(
        &mut state,
        &m,
        &order_event(
            order(
                kind,
                "700",
                OrderStatus::Open,
                vec![order_line(2, "11", "A", 10)],
            ),
            1,
        ),
    );
    assert!(matches!(plan.actions[0].action, Action::CreateGoodsIn(_)));
    state
}

#[test]
fn purchase_order_receipt_posts_an_item_receipt() {
    let m = mappings();
    let mut state = inbound_state(OrderKind::Purchase);
    let po = OrderRef {
        kind: OrderKind::Purchase,
        id: "700".into(),
    };
    let r = receipt(po, vec![receipt_line(2, "A", 6, StockCondition::Sellable)]);
    let plan = run(
        &mut state,
        &m,
        &event(System::Clarus, "40/1", 1, Payload::Receipt(r)),
    );
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(plan.actions[0].key.as_str(), "CLR-GIN-acme-40-1");
    let Action::ReceivePurchaseOrder(ir) = &plan.actions[0].action else {
        panic!("expected ReceivePurchaseOrder")
    };
    assert_eq!(ir.lines[0].line.quantity, dec(6));
    assert_eq!(
        ir.lines[0].place,
        Some(StockPlace::Status { status: "1".into() })
    );
}

#[test]
fn return_receipt_keeps_quarantine_apart() {
    let m = mappings();
    let mut state = inbound_state(OrderKind::Return);
    let ra = OrderRef {
        kind: OrderKind::Return,
        id: "700".into(),
    };
    let r = receipt(
        ra,
        vec![
            receipt_line(2, "A", 3, StockCondition::Sellable),
            receipt_line(2, "A", 2, StockCondition::Quarantine),
        ],
    );
    let e = event(System::Clarus, "40/1", 1, Payload::Receipt(r));
    let plan = run(&mut state, &m, &e);
    let Action::ReceiveReturnAuthorisation(ir) = &plan.actions[0].action else {
        panic!("expected ReceiveReturnAuthorisation")
    };
    let places: Vec<_> = ir
        .lines
        .iter()
        .map(|l| (l.line.quantity, l.place.clone()))
        .collect();
    assert_eq!(
        places,
        vec![
            (dec(3), Some(StockPlace::Status { status: "1".into() })),
            (dec(2), Some(StockPlace::Status { status: "2".into() })),
        ]
    );

    // Without a status mapping, quarantined returns are blocked, not posted as sellable.
    let mut tables = tables();
    tables.stock_statuses.clear();
    let unmapped = Mappings::new(tables).unwrap();
    let mut state = inbound_state(OrderKind::Return);
    let plan = run(&mut state, &unmapped, &e);
    assert!(plan.blocked);
    assert_eq!(
        raised(&plan)[0].kind,
        ExceptionKind::MissingMapping {
            table: MappingTable::StockStatus
        }
    );
}

#[test]
fn over_receipt_is_an_exception() {
    let m = mappings();
    let mut state = inbound_state(OrderKind::Purchase);
    let po = OrderRef {
        kind: OrderKind::Purchase,
        id: "700".into(),
    };
    let r = receipt(po, vec![receipt_line(2, "A", 11, StockCondition::Sellable)]);
    let plan = run(
        &mut state,
        &m,
        &event(System::Clarus, "40/1", 1, Payload::Receipt(r)),
    );
    assert_eq!(raised(&plan)[0].kind, ExceptionKind::QuantityAboveOpen);
    assert!(
        !plan
            .actions
            .iter()
            .any(|a| matches!(a.action, Action::ReceivePurchaseOrder(_)))
    );
}

// ---- stock movements ----

fn movement(id: u64, kind: MovementKind, quantity: i64, reason: Option<u64>) -> Event {
    event(
        System::Clarus,
        &id.to_string(),
        1,
        Payload::StockMovement(StockMovement {
            tenant: "acme".into(),
            id: MovementId(id),
            kind,
            warehouse: WarehouseId(10),
            sku: "A".into(),
            quantity: dec(quantity),
            reason: reason.map(ReasonCodeId),
            lots: vec![],
            serials: vec![],
            occurred_at: now(),
        }),
    )
}

#[test]
fn adjustments_post_with_the_mapped_account_and_sign() {
    let m = mappings();
    let mut state = state_with_order();
    let plan = run(
        &mut state,
        &m,
        &movement(1, MovementKind::NegativeAdjustment, 2, Some(7)),
    );
    assert_eq!(plan.actions[0].key.as_str(), "CLR-MOV-acme-1");
    let Action::PostInventoryAdjustment(adj) = &plan.actions[0].action else {
        panic!("expected an adjustment")
    };
    assert_eq!(adj.account.as_str(), "501");
    assert_eq!(adj.quantity, dec(-2));
    assert_eq!(adj.item.as_str(), "11");
    // The location keeps sellable stock by status: the adjustment records it.
    assert_eq!(adj.inventory_status, Some("1".into()));
    let plan = run(
        &mut state,
        &m,
        &movement(2, MovementKind::PositiveAdjustment, 3, None),
    );
    let Action::PostInventoryAdjustment(adj) = &plan.actions[0].action else {
        panic!("expected an adjustment")
    };
    assert_eq!((adj.account.as_str(), adj.quantity), ("510", dec(3)));
}

#[test]
fn unmapped_adjustment_reason_goes_to_finance() {
    let m = mappings();
    let mut state = state_with_order();
    let plan = run(
        &mut state,
        &m,
        &movement(3, MovementKind::Breakage, 1, None),
    );
    assert!(plan.blocked);
    let exceptions = raised(&plan);
    assert_eq!(exceptions[0].owner, Owner::Finance);
    assert_eq!(
        exceptions[0].runbook,
        "operations.md#missing-account-mapping"
    );
}

#[test]
fn hold_and_release_move_stock_between_sellable_and_quarantine() {
    let m = mappings();
    let mut state = state_with_order();
    let plan = run(&mut state, &m, &movement(4, MovementKind::Hold, 2, None));
    let Action::MoveStock(mv) = &plan.actions[0].action else {
        panic!("expected a stock move")
    };
    assert_eq!(mv.from, StockPlace::Status { status: "1".into() });
    assert_eq!(mv.to, StockPlace::Status { status: "2".into() });
    let plan = run(&mut state, &m, &movement(5, MovementKind::Release, 2, None));
    let Action::MoveStock(mv) = &plan.actions[0].action else {
        panic!("expected a stock move")
    };
    assert_eq!(mv.from, StockPlace::Status { status: "2".into() });
    assert_eq!(mv.quantity, dec(2));
}

#[test]
fn invalid_movement_quantity_is_reported_not_posted() {
    let m = mappings();
    let mut state = state_with_order();
    let plan = run(
        &mut state,
        &m,
        &movement(6, MovementKind::NegativeAdjustment, 0, None),
    );
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(raised(&plan)[0].kind, ExceptionKind::InvalidEvent);
}

// ---- plans are data ----

#[test]
fn plans_round_trip_through_json() {
    let m = mappings();
    let mut state = state_with_order();
    let plan = run_despatch(&mut state, &m, "1", vec![despatch_line(3, "A", 5, 4)]);
    let json = serde_json::to_string(&plan).unwrap();
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, plan);
}

// ---- in-flight stock of pending actions ----

#[test]
fn pending_actions_explain_the_stock_difference_they_cause() {
    let m = mappings();
    let mut state = state_with_order();
    let fulfilment = run_despatch(&mut state, &m, "1", vec![despatch_line(3, "A", 5, 5)]);
    let hold = run(&mut state, &m, &movement(4, MovementKind::Hold, 2, None));
    let adjustment = run(
        &mut state,
        &m,
        &movement(5, MovementKind::NegativeAdjustment, 1, None),
    );
    let available = StockKey {
        sku: "A".into(),
        location: "1".into(),
        status: StockStatus::Available,
    };
    let held = StockKey {
        status: StockStatus::Held,
        ..available.clone()
    };
    // Clarus already shows all three; NetSuite none of them.
    let mut calc = DriftCalculator::new();
    calc.add_netsuite(available.clone(), dec(20));
    calc.add_clarus(available.clone(), dec(20 - 5 - 2 - 1));
    calc.add_clarus(held.clone(), dec(2));
    for plan in [&fulfilment, &hold, &adjustment] {
        for action in &plan.actions {
            for row in action.action.on_hand_changes() {
                calc.add_in_flight(row.key, row.quantity);
            }
        }
    }
    let report = calc.finish(Thresholds::default());
    assert_eq!(report.summary.drift, 0, "{:?}", report.rows);
    assert_eq!(report.summary.explained_by_in_flight, 2);
    let in_flight: Vec<(StockStatus, rust_decimal::Decimal)> = report
        .rows
        .iter()
        .map(|r| (r.key.status, r.in_flight))
        .collect();
    assert_eq!(
        in_flight,
        vec![
            (StockStatus::Available, dec(-5 - 2 - 1)),
            (StockStatus::Held, dec(2))
        ]
    );
}

#[test]
fn a_state_loaded_from_storage_answers_like_the_one_that_planned() {
    let m = mappings();
    let mut planned_here = state_with_order();
    let e = despatch_of_501("1", vec![despatch_line(3, "A", 2, 2)]);
    let plan = run(&mut planned_here, &m, &e);

    // Rebuild from what an engine stores: the known records, planned keys and seen events.
    let mut loaded = MemoryState::new();
    for (id, sku, tracking) in [
        ("11", "A", Tracking::None),
        ("12", "L", Tracking::Lot),
        ("13", "S", Tracking::Serial),
    ] {
        loaded.apply_change(&StateChange::ItemKnown(KnownItem {
            item: item(id, sku, tracking),
            revision: Revision::Sequence(1),
        }));
    }
    loaded.apply_change(&StateChange::OrderKnown {
        order: sales_order(OrderStatus::Open),
        revision: Revision::Sequence(1),
    });
    loaded.apply_change(&StateChange::Posted {
        order: OrderRef::sales("501"),
        lines: vec![LineQuantity {
            line: LineNo(3),
            quantity: dec(2),
        }],
    });
    for action in &plan.actions {
        loaded.record_planned(action.key.clone());
    }
    loaded.record_seen(e.source.clone());

    assert!(plan_of(&loaded, &m, &e).is_empty());
    let next = despatch_of_501("2", vec![despatch_line(3, "A", 4, 4)]);
    assert_eq!(
        plan_of(&loaded, &m, &next),
        plan_of(&planned_here, &m, &next)
    );
    assert_eq!(
        raised(&plan_of(&loaded, &m, &next))[0].kind,
        ExceptionKind::QuantityAboveOpen
    );
}
