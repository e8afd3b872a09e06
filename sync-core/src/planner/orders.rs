//! Orders: release open orders to the warehouse (goods out or goods in), hold orders with
//! unknown SKUs, cancel the goods out of cancelled or closed sales orders.

use super::Context;
use crate::action::{Action, WarehouseOrder, WarehouseOrderLine};
use crate::document::DocumentRef;
use crate::event::SourceId;
use crate::exception::ExceptionKind;
use crate::ids::Sku;
use crate::key::{IdempotencyKey, KeyBuilder};
use crate::mapping::MappingTable;
use crate::order::{Order, OrderKind, OrderStatus};
use crate::state::{OrderState, StateChange, StateView};
use rust_decimal::Decimal;

/// A NetSuite order was created or changed.
pub(super) fn plan_order_event<V: StateView>(
    cx: &mut Context<'_, V>,
    source: &SourceId,
    order: &Order,
) {
    let known = cx.view.order(&order.order);
    if known.is_some_and(|s| source.revision < s.revision) {
        // An older version than the one recorded: it must not undo the newer one.
        return;
    }
    // NetSuite times have whole seconds: a version saved in the same second as the one known,
    // with other content, is the newer one.
    if known.is_none_or(|s| {
        source.revision > s.revision || (source.revision == s.revision && s.order != *order)
    }) {
        cx.change(StateChange::OrderKnown {
            order: order.clone(),
            revision: source.revision,
        });
    }
    if evaluate(cx, order, known, None) {
        cx.block();
    }
}

/// The key of the Clarus goods out or goods in created for an order: `NS-SO-<id>`,
/// `NS-PO-<id>`, `NS-RA-<id>`.
pub fn release_key(order: &crate::order::OrderRef) -> IdempotencyKey {
    KeyBuilder::new(prefix(order.kind))
        .text(order.id.as_str())
        .finish()
}

/// The key of the cancellation of a sales order's goods out: `NS-SO-<id>-CANCEL`.
pub fn cancel_key(order: &crate::order::OrderRef) -> IdempotencyKey {
    KeyBuilder::new(prefix(order.kind))
        .text(order.id.as_str())
        .text("CANCEL")
        .finish()
}

fn prefix(kind: OrderKind) -> &'static str {
    match kind {
        OrderKind::Sales => "NS-SO",
        OrderKind::Purchase => "NS-PO",
        OrderKind::Return => "NS-RA",
    }
}

/// Decides what an order needs now. `newly_known` is a SKU that becomes known in the same plan.
/// Returns whether a retryable problem stopped the release.
pub(super) fn evaluate<V: StateView>(
    cx: &mut Context<'_, V>,
    order: &Order,
    state: Option<&OrderState>,
    newly_known: Option<&Sku>,
) -> bool {
    let document = DocumentRef::Order {
        order: order.order.clone(),
    };
    let held_for: &[Sku] = state.map_or(&[], |s| &s.held_for);
    match order.status {
        OrderStatus::Cancelled | OrderStatus::Closed => {
            end_hold(
                cx,
                order,
                &document,
                !held_for.is_empty(),
                "order cancelled or closed",
            );
            cx.resolve(
                location_mapping(),
                &document,
                &[order.location.as_str()],
                "order cancelled or closed",
            );
            let released = cx.view.is_planned(&release_key(&order.order));
            if order.order.kind == OrderKind::Sales && released {
                cx.act(
                    cancel_key(&order.order),
                    document,
                    Action::CancelGoodsOut {
                        order: order.order.clone(),
                        reference: order.tran_id.clone(),
                    },
                );
            }
            false
        }
        OrderStatus::Open => release(cx, order, document, held_for, newly_known),
        OrderStatus::PendingApproval | OrderStatus::Done => false,
    }
}

/// Ends an order's wait for unknown SKUs: releases the hold when the order is `held` and
/// resolves its unknown-SKU exception with `note`.
fn end_hold<V: StateView>(
    cx: &mut Context<'_, V>,
    order: &Order,
    document: &DocumentRef,
    held: bool,
    note: &str,
) {
    if held {
        cx.change(StateChange::OrderReleased {
            order: order.order.clone(),
        });
    }
    cx.resolve(ExceptionKind::UnknownSku, document, &[], note);
}

fn location_mapping() -> ExceptionKind {
    ExceptionKind::MissingMapping {
        table: MappingTable::LocationWarehouse,
    }
}

fn release<V: StateView>(
    cx: &mut Context<'_, V>,
    order: &Order,
    document: DocumentRef,
    held_for: &[Sku],
    newly_known: Option<&Sku>,
) -> bool {
    let key = release_key(&order.order);
    if cx.view.is_planned(&key) {
        return false;
    }
    let open_lines = || {
        order
            .lines
            .iter()
            .filter(|l| l.open_quantity() > Decimal::ZERO)
    };
    let mut missing: Vec<Sku> = open_lines()
        .filter(|l| Some(&l.sku) != newly_known && cx.view.item(&l.sku).is_none())
        .map(|l| l.sku.clone())
        .collect();
    missing.sort();
    missing.dedup();
    if !missing.is_empty() {
        if missing.as_slice() != held_for {
            cx.change(StateChange::OrderHeld {
                order: order.order.clone(),
                missing: missing.clone(),
            });
        }
        let list: Vec<&str> = missing.iter().map(Sku::as_str).collect();
        cx.raise(
            ExceptionKind::UnknownSku,
            &document,
            &[],
            format!(
                "{} {} names SKUs the item master does not know: {}; the order is held and is \
                 released to the warehouse when the items appear",
                order.order,
                order.tran_id,
                list.join(", ")
            ),
        );
        return false;
    }
    if !held_for.is_empty() {
        end_hold(
            cx,
            order,
            &document,
            true,
            "all items are known; order released",
        );
    }
    let Some(warehouse) = cx.mappings.warehouse_for(&order.location) else {
        cx.raise(
            location_mapping(),
            &document,
            &[order.location.as_str()],
            format!(
                "NetSuite location {} of {} {} has no Clarus warehouse in the location mapping",
                order.location, order.order, order.tran_id
            ),
        );
        return true;
    };
    cx.resolve(
        location_mapping(),
        &document,
        &[order.location.as_str()],
        "location mapped",
    );
    let lines: Vec<WarehouseOrderLine> = open_lines()
        .map(|l| WarehouseOrderLine {
            order_line: l.line,
            sku: l.sku.clone(),
            quantity: l.open_quantity(),
        })
        .collect();
    if lines.is_empty() {
        return false;
    }
    let carrier = match order.order.kind {
        OrderKind::Sales => order
            .ship_method
            .as_ref()
            .and_then(|m| cx.mappings.carrier_for(m)),
        OrderKind::Purchase | OrderKind::Return => None,
    };
    let spec = WarehouseOrder {
        order: order.order.clone(),
        reference: order.tran_id.clone(),
        warehouse,
        carrier,
        expected_date: order.expected_date,
        lines,
    };
    let action = match order.order.kind {
        OrderKind::Sales => Action::CreateGoodsOut(spec),
        OrderKind::Purchase | OrderKind::Return => Action::CreateGoodsIn(spec),
    };
    cx.act(key, document, action);
    false
}
