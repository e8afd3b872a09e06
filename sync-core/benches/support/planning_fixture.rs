//! Fixtures for the planning benchmarks: 300 items and 10,000 open sales orders of 3 lines, and
//! one despatch of 3 lines (one lot-tracked) per order.

use jiff::Timestamp;
use rust_decimal::Decimal;
use sync_core::*;

pub const ORDERS: usize = 10_000;

pub fn now() -> Timestamp {
    "2026-11-27T09:00:00Z".parse().unwrap()
}

pub fn mappings() -> Mappings {
    Mappings::new(MappingTables {
        locations: vec![LocationMapping {
            location: "1".into(),
            warehouse: WarehouseId(10),
        }],
        ship_methods: vec![ShipMethodMapping {
            carrier: CarrierId(3),
            service: None,
            ship_method: "900".into(),
        }],
        ..MappingTables::default()
    })
    .unwrap()
}

fn source(system: System, resource: &str, id: &str) -> SourceId {
    SourceId {
        system,
        resource: resource.into(),
        id: id.into(),
        event: "updated".into(),
        revision: Revision::Sequence(1),
    }
}

/// Items SKU-0..SKU-299 (every third lot-tracked) and 10,000 open orders of 3 lines.
pub fn state(m: &Mappings) -> MemoryState {
    let mut state = MemoryState::new();
    let apply = |state: &mut MemoryState, e: Event| {
        let p = plan(state, m, &e, now());
        state.apply(&p);
    };
    for i in 0..300 {
        let item = Item {
            netsuite_id: format!("{}", 1000 + i).into(),
            sku: format!("SKU-{i}").into(),
            barcode: None,
            description: format!("Item {i}"),
            tracking: if i % 3 == 2 {
                Tracking::Lot
            } else {
                Tracking::None
            },
            inactive: false,
        };
        apply(
            &mut state,
            Event {
                source: source(System::NetSuite, "item", &i.to_string()),
                occurred_at: now(),
                payload: Payload::Item(item),
            },
        );
    }
    for o in 0..ORDERS {
        let lines = (0..3)
            .map(|l| {
                let sku = (o * 3 + l) % 300;
                OrderLine {
                    line: LineNo(l as u64 * 3 + 1),
                    item: format!("{}", 1000 + sku).into(),
                    sku: format!("SKU-{sku}").into(),
                    quantity: Decimal::from(10),
                    quantity_done: Decimal::ZERO,
                    closed: false,
                }
            })
            .collect();
        let order = Order {
            order: OrderRef::sales(format!("{}", 500_000 + o)),
            tran_id: format!("SO{o}"),
            status: OrderStatus::Open,
            location: "1".into(),
            ship_method: Some("900".into()),
            expected_date: None,
            lines,
        };
        apply(
            &mut state,
            Event {
                source: source(System::NetSuite, "salesOrder", &o.to_string()),
                occurred_at: now(),
                payload: Payload::Order(order),
            },
        );
    }
    state
}

pub fn despatches() -> Vec<Event> {
    (0..ORDERS)
        .map(|o| {
            let lines = (0..3)
                .map(|l| {
                    let sku = (o * 3 + l) % 300;
                    DespatchLine {
                        order_line: LineNo(l as u64 * 3 + 1),
                        sku: format!("SKU-{sku}").into(),
                        requested: Decimal::from(4),
                        quantity: Decimal::from(4),
                        lots: if sku % 3 == 2 {
                            vec![LotQuantity {
                                lot: format!("LOT-{o}").into(),
                                quantity: Decimal::from(4),
                            }]
                        } else {
                            vec![]
                        },
                        serials: vec![],
                    }
                })
                .collect();
            Event {
                source: source(System::Clarus, "goods_out", &o.to_string()),
                occurred_at: now(),
                payload: Payload::Despatch(Despatch {
                    tenant: "acme-warehouse".into(),
                    goods_out: GoodsOutId(800_000 + o as u64),
                    despatch: "1".into(),
                    order: format!("{}", 500_000 + o).into(),
                    warehouse: WarehouseId(10),
                    carrier: Some(CarrierId(3)),
                    service: None,
                    despatched_at: now(),
                    lines,
                    packages: vec![Package {
                        tracking_number: Some(format!("1Z999AA1{o:010}").into()),
                        weight_kg: Some(Decimal::new(25, 1)),
                    }],
                }),
            }
        })
        .collect()
}
