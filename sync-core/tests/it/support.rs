//! Fixtures shared by the planner tests.

use jiff::Timestamp;
use rust_decimal::Decimal;
use sync_core::*;

pub fn now() -> Timestamp {
    "2026-11-27T09:00:00Z".parse().unwrap()
}

pub fn dec(n: i64) -> Decimal {
    Decimal::from(n)
}

/// Location "1" ↔ warehouse 10 with statuses; carrier 3 → ship method 900; accounts for
/// negative adjustments (default 500, reason 7 → 501) and positive adjustments (510).
pub fn tables() -> MappingTables {
    MappingTables {
        locations: vec![LocationMapping {
            location: "1".into(),
            warehouse: WarehouseId(10),
        }],
        adjustment_accounts: vec![
            AccountMapping {
                kind: MovementKind::NegativeAdjustment,
                reason: None,
                account: "500".into(),
            },
            AccountMapping {
                kind: MovementKind::NegativeAdjustment,
                reason: Some(ReasonCodeId(7)),
                account: "501".into(),
            },
            AccountMapping {
                kind: MovementKind::PositiveAdjustment,
                reason: None,
                account: "510".into(),
            },
        ],
        stock_statuses: vec![StatusMapping {
            location: "1".into(),
            sellable: StockPlace::Status { status: "1".into() },
            quarantine: StockPlace::Status { status: "2".into() },
        }],
        ship_methods: vec![ShipMethodMapping {
            carrier: CarrierId(3),
            service: None,
            ship_method: "900".into(),
        }],
    }
}

pub fn mappings() -> Mappings {
    Mappings::new(tables()).unwrap()
}

pub fn item(id: &str, sku: &str, tracking: Tracking) -> Item {
    Item {
        netsuite_id: id.into(),
        sku: sku.into(),
        barcode: Some(format!("BC{sku}").into()),
        description: format!("Item {sku}"),
        tracking,
        inactive: false,
    }
}

pub fn order_line(line: u64, item: &str, sku: &str, quantity: i64) -> OrderLine {
    OrderLine {
        line: LineNo(line),
        item: item.into(),
        sku: sku.into(),
        quantity: dec(quantity),
        quantity_done: Decimal::ZERO,
        closed: false,
    }
}

pub fn order(kind: OrderKind, id: &str, status: OrderStatus, lines: Vec<OrderLine>) -> Order {
    Order {
        order: OrderRef {
            kind,
            id: id.into(),
        },
        tran_id: format!("{}{id}", kind.code()),
        status,
        location: "1".into(),
        ship_method: Some("900".into()),
        expected_date: None,
        lines,
    }
}

pub fn despatch_line(line: u64, sku: &str, requested: i64, quantity: i64) -> DespatchLine {
    DespatchLine {
        order_line: LineNo(line),
        sku: sku.into(),
        requested: dec(requested),
        quantity: dec(quantity),
        lots: vec![],
        serials: vec![],
    }
}

pub fn despatch(goods_out: u64, id: &str, order: &str, lines: Vec<DespatchLine>) -> Despatch {
    Despatch {
        tenant: "acme".into(),
        goods_out: GoodsOutId(goods_out),
        despatch: id.into(),
        order: order.into(),
        warehouse: WarehouseId(10),
        carrier: Some(CarrierId(3)),
        service: None,
        despatched_at: now(),
        lines,
        packages: vec![Package {
            tracking_number: Some("TRK1".into()),
            weight_kg: Some(Decimal::new(15, 1)),
        }],
    }
}

pub fn event(system: System, id: &str, revision: u64, payload: Payload) -> Event {
    let resource = match &payload {
        Payload::Item(_) => "item",
        Payload::ClarusProduct(_) => "product",
        Payload::Order(_) => "order",
        Payload::Despatch(_) => "goods_out",
        Payload::Receipt(_) => "goods_in",
        Payload::StockMovement(_) => "stock",
        Payload::GoodsOutProgress(_) => "goods_out",
    };
    Event {
        source: SourceId {
            system,
            resource: resource.into(),
            id: id.into(),
            event: "updated".into(),
            revision: Revision::Sequence(revision),
        },
        occurred_at: now(),
        payload,
    }
}

pub fn item_event(item: Item, revision: u64) -> Event {
    let id = item.netsuite_id.to_string();
    event(System::NetSuite, &id, revision, Payload::Item(item))
}

pub fn order_event(order: Order, revision: u64) -> Event {
    let id = order.order.id.to_string();
    event(System::NetSuite, &id, revision, Payload::Order(order))
}

pub fn despatch_event(despatch: Despatch) -> Event {
    let id = format!("{}/{}", despatch.goods_out, despatch.despatch);
    event(System::Clarus, &id, 1, Payload::Despatch(despatch))
}

/// Plans an event and records the plan.
pub fn run(state: &mut MemoryState, mappings: &Mappings, event: &Event) -> Plan {
    let plan = plan(state, mappings, event, now());
    state.apply(&plan);
    plan
}

pub fn raised(plan: &Plan) -> Vec<&Exception> {
    plan.actions
        .iter()
        .filter_map(|a| match &a.action {
            Action::RaiseException(e) => Some(e),
            _ => None,
        })
        .collect()
}

pub fn resolved(plan: &Plan) -> Vec<&IdempotencyKey> {
    plan.actions
        .iter()
        .filter_map(|a| match &a.action {
            Action::ResolveException { exception, .. } => Some(exception),
            _ => None,
        })
        .collect()
}

pub fn fulfilments(plan: &Plan) -> Vec<&Fulfilment> {
    plan.actions
        .iter()
        .filter_map(|a| match &a.action {
            Action::FulfilSalesOrder(f) => Some(f),
            _ => None,
        })
        .collect()
}

/// A fresh state that knows `items` (each read at revision 1), as planned with `mappings`.
pub fn state_with_items(mappings: &Mappings, items: &[Item]) -> MemoryState {
    let mut state = MemoryState::new();
    for item in items {
        run(&mut state, mappings, &item_event(item.clone(), 1));
    }
    state
}

/// A state that knows item 11 (SKU `A`, barcode `BCA`, untracked).
pub fn state_with_item() -> MemoryState {
    state_with_items(&mappings(), &[item("11", "A", Tracking::None)])
}

/// A state that knows the untracked items A (id 11) and B (id 12).
pub fn state_with_a_and_b() -> MemoryState {
    state_with_items(
        &mappings(),
        &[
            item("11", "A", Tracking::None),
            item("12", "B", Tracking::None),
        ],
    )
}

/// A state that knows items A (untracked, id 11), L (lot, id 12), S (serial, id 13) and an open
/// sales order 501 with lines 3 (A × 5), 7 (L × 4), 12 (S × 2), released to the warehouse.
pub fn state_with_order() -> MemoryState {
    let m = mappings();
    let mut state = state_with_items(
        &m,
        &[
            item("11", "A", Tracking::None),
            item("12", "L", Tracking::Lot),
            item("13", "S", Tracking::Serial),
        ],
    );
    run(
        &mut state,
        &m,
        &order_event(sales_order(OrderStatus::Open), 1),
    );
    state
}

pub fn sales_order(status: OrderStatus) -> Order {
    order(
        OrderKind::Sales,
        "501",
        status,
        vec![
            order_line(3, "11", "A", 5),
            order_line(7, "12", "L", 4),
            order_line(12, "13", "S", 2),
        ],
    )
}
