//! The core events the engine tests feed it, all happening at [`at`]: NetSuite items and sales
//! orders, Clarus despatches, and the one-location mappings they plan with.

use rust_decimal::Decimal;
use sync_core::*;

use jiff::Timestamp;

/// When things happened in Clarus and NetSuite (the posting dates): 2026-11-27 09:00 UTC.
pub fn at() -> Timestamp {
    "2026-11-27T09:00:00Z".parse().unwrap()
}

/// The mappings of one location: NetSuite location `1` is Clarus warehouse 10.
pub fn one_location() -> MappingTables {
    MappingTables {
        locations: vec![LocationMapping {
            location: "1".into(),
            warehouse: WarehouseId(10),
        }],
        ..MappingTables::default()
    }
}

/// [`one_location`], checked.
pub fn mappings() -> Mappings {
    Mappings::new(one_location()).unwrap()
}

/// A NetSuite record `id` updated (revision 1) at [`at`].
pub fn netsuite_event(id: &str, payload: Payload) -> Event {
    netsuite_event_at(id, payload, at())
}

/// A NetSuite record `id` updated (revision 1) at `occurred_at`.
pub fn netsuite_event_at(id: &str, payload: Payload, occurred_at: Timestamp) -> Event {
    Event {
        source: SourceId {
            system: System::NetSuite,
            resource: "record".into(),
            id: id.into(),
            event: "updated".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at,
        payload,
    }
}

/// The active, untracked item `id` with SKU `sku`, described as `"{sku} description"`.
pub fn item(id: &str, sku: &str) -> Event {
    netsuite_event(
        id,
        Payload::Item(Item {
            netsuite_id: id.into(),
            sku: sku.into(),
            barcode: None,
            description: format!("{sku} description"),
            tracking: Tracking::None,
            inactive: false,
        }),
    )
}

/// The open sales order `id` (`SO{id}`) at `location`: one line `line` of `quantity` of item
/// `item_id` (`sku`), none of it done.
pub fn sales_order(
    id: &str,
    location: &str,
    line: u64,
    item_id: &str,
    sku: &str,
    quantity: i64,
) -> Event {
    let order = open_order(OrderRef::sales(id), location, line, item_id, sku, quantity);
    netsuite_event(id, Payload::Order(order))
}

/// The open purchase order `id` (`PO{id}`), received at location `1`: one line `line` of
/// `quantity` of item `item_id` (`sku`), none of it received.
pub fn purchase_order(id: &str, line: u64, item_id: &str, sku: &str, quantity: i64) -> Order {
    let order = OrderRef {
        kind: OrderKind::Purchase,
        id: id.into(),
    };
    open_order(order, "1", line, item_id, sku, quantity)
}

/// The open order `order` (its transaction id the kind's code and the id: `SO501`, `PO7`) at
/// `location`: one line
/// `line` of `quantity` of item `item_id` (`sku`), none of it done.
pub fn open_order(
    order: OrderRef,
    location: &str,
    line: u64,
    item_id: &str,
    sku: &str,
    quantity: i64,
) -> Order {
    Order {
        tran_id: format!("{}{}", order.kind.code(), order.id.as_str()),
        order,
        status: OrderStatus::Open,
        location: location.into(),
        ship_method: None,
        expected_date: None,
        lines: vec![OrderLine {
            line: LineNo(line),
            item: item_id.into(),
            sku: sku.into(),
            quantity: Decimal::from(quantity),
            quantity_done: Decimal::ZERO,
            closed: false,
        }],
    }
}

/// Clarus goods out `goods_out` of order `order` completed at [`at`] from warehouse 10: one line
/// for order line `line`, `quantity` of `sku` despatched of the `requested`.
pub fn despatch(
    goods_out: u64,
    order: &str,
    line: u64,
    sku: &str,
    requested: i64,
    quantity: i64,
) -> Event {
    Event {
        source: SourceId {
            system: System::Clarus,
            resource: "goods_out".into(),
            id: goods_out.to_string().as_str().into(),
            event: "completed".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: at(),
        payload: Payload::Despatch(Despatch {
            tenant: "acme".into(),
            goods_out: GoodsOutId(goods_out),
            despatch: "1".into(),
            order: order.into(),
            warehouse: WarehouseId(10),
            carrier: None,
            service: None,
            despatched_at: at(),
            lines: vec![DespatchLine {
                order_line: LineNo(line),
                sku: sku.into(),
                requested: Decimal::from(requested),
                quantity: Decimal::from(quantity),
                lots: vec![],
                serials: vec![],
            }],
            packages: vec![],
        }),
    }
}
