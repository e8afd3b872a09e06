//! Order to cash: a Clarus despatch becomes one NetSuite item fulfilment, exactly once.

use super::{Context, tracking_problem};
use crate::action::{Action, Fulfilment, PostedLine};
use crate::despatch::Despatch;
use crate::document::DocumentRef;
use crate::exception::ExceptionKind;
use crate::item::Tracking;
use crate::key::{IdempotencyKey, KeyBuilder};
use crate::mapping::MappingTable;
use crate::order::OrderRef;
use crate::state::{LineQuantity, StateChange, StateView};
use rust_decimal::Decimal;

/// The key of a despatch's fulfilment: `CLR-DESP-<tenant>-<goods out>-<despatch>`.
pub fn despatch_key(despatch: &Despatch) -> IdempotencyKey {
    KeyBuilder::new("CLR-DESP")
        .text(despatch.tenant.as_str())
        .number(despatch.goods_out.0)
        .text(despatch.despatch.as_str())
        .finish()
}

const LOCATION: ExceptionKind = ExceptionKind::MissingMapping {
    table: MappingTable::LocationWarehouse,
};
const SHIP_METHOD: ExceptionKind = ExceptionKind::MissingMapping {
    table: MappingTable::ShipMethod,
};

/// Clarus despatched (part of) a goods out.
pub(super) fn plan_despatch<V: StateView>(cx: &mut Context<'_, V>, despatch: &Despatch) {
    let key = despatch_key(despatch);
    if cx.view.is_planned(&key) {
        return;
    }
    let document = DocumentRef::Despatch {
        tenant: despatch.tenant.clone(),
        goods_out: despatch.goods_out,
        despatch: despatch.despatch.clone(),
    };
    let had_exceptions = cx.view.has_open_exceptions(&document);
    let order = OrderRef::sales(despatch.order.clone());
    // Exception details, built only when an exception is raised or resolved.
    let warehouse = || despatch.warehouse.to_string();
    let carrier = || {
        despatch
            .carrier
            .map(|c| format!("{c}/{}", despatch.service.map_or(0, |s| s.0)))
            .unwrap_or_default()
    };

    let Some(state) = cx.view.order(&order) else {
        cx.raise(
            ExceptionKind::UnknownOrder,
            &document,
            &[],
            format!(
                "goods out {} was despatched for sales order {}, which is not known",
                despatch.goods_out, despatch.order
            ),
        );
        cx.block();
        return;
    };
    if state.order.status.is_cancelled_or_closed() {
        cx.raise(
            ExceptionKind::OrderCancelledOrClosed,
            &document,
            &[],
            format!(
                "goods out {} was despatched, but sales order {} is {:?} in NetSuite; nothing was posted",
                despatch.goods_out, state.order.tran_id, state.order.status
            ),
        );
        return;
    }
    let Some(location) = cx.mappings.location_for(despatch.warehouse) else {
        cx.raise(
            LOCATION,
            &document,
            &[&warehouse()],
            format!(
                "Clarus warehouse {} has no NetSuite location in the location mapping",
                despatch.warehouse
            ),
        );
        cx.block();
        return;
    };
    let ship_method = match despatch.carrier {
        None => None,
        Some(carrier_id) => match cx.mappings.ship_method_for(carrier_id, despatch.service) {
            Some(method) => Some(method.clone()),
            None => {
                cx.raise(
                    SHIP_METHOD,
                    &document,
                    &[&carrier()],
                    format!(
                        "Clarus carrier {carrier_id} service {:?} has no NetSuite ship method in the mapping",
                        despatch.service.map(|s| s.0)
                    ),
                );
                cx.block();
                return;
            }
        },
    };
    if had_exceptions {
        cx.resolve(ExceptionKind::UnknownOrder, &document, &[], "order known");
        cx.resolve(LOCATION, &document, &[&warehouse()], "warehouse mapped");
        cx.resolve(SHIP_METHOD, &document, &[&carrier()], "carrier mapped");
    }

    let mut lines: Vec<PostedLine> = Vec::with_capacity(despatch.lines.len());
    let mut posted: Vec<LineQuantity> = Vec::with_capacity(despatch.lines.len());
    let mut short: Vec<String> = Vec::new();
    for line in &despatch.lines {
        if line.quantity < Decimal::ZERO || line.requested < Decimal::ZERO {
            cx.raise(
                ExceptionKind::InvalidEvent,
                &document,
                &[&line.order_line.to_string()],
                format!("line {} has a negative quantity", line.order_line),
            );
            continue;
        }
        if line.short_quantity() > Decimal::ZERO {
            short.push(format!(
                "line {} ({}): {} of {}",
                line.order_line, line.sku, line.quantity, line.requested
            ));
        }
        if line.quantity.is_zero() {
            continue;
        }
        let Some(order_line) = state.order.line(line.order_line) else {
            cx.raise(
                ExceptionKind::UnknownOrderLine,
                &document,
                &[&line.order_line.to_string()],
                format!(
                    "line {} ({}) is not on sales order {}; nothing was posted for it",
                    line.order_line, line.sku, state.order.tran_id
                ),
            );
            continue;
        };
        if order_line.sku != line.sku {
            cx.raise(
                ExceptionKind::UnknownOrderLine,
                &document,
                &[&line.order_line.to_string()],
                format!(
                    "line {} shipped {} but sales order {} has {} on that line; nothing was posted for it",
                    line.order_line, line.sku, state.order.tran_id, order_line.sku
                ),
            );
            continue;
        }
        let tracking = cx
            .view
            .item(&order_line.sku)
            .map_or(Tracking::None, |known| known.item.tracking);
        if let Some(problem) = tracking_problem(tracking, line.quantity, &line.lots, &line.serials)
        {
            cx.raise(
                ExceptionKind::MissingLotOrSerial,
                &document,
                &[&line.order_line.to_string()],
                format!(
                    "line {} ({}): {problem}; nothing was posted for it",
                    line.order_line, line.sku
                ),
            );
            continue;
        }
        let in_this_despatch: Decimal = posted
            .iter()
            .filter(|p| p.line == line.order_line)
            .map(|p| p.quantity)
            .sum();
        let open = state.open_quantity(line.order_line).unwrap_or_default() - in_this_despatch;
        if line.quantity > open {
            cx.raise(
                ExceptionKind::QuantityAboveOpen,
                &document,
                &[&line.order_line.to_string()],
                format!(
                    "line {} ({}): {} despatched but only {} open on sales order {}; nothing was posted for it",
                    line.order_line,
                    line.sku,
                    line.quantity,
                    open.max(Decimal::ZERO),
                    state.order.tran_id
                ),
            );
            continue;
        }
        posted.push(LineQuantity {
            line: line.order_line,
            quantity: line.quantity,
        });
        lines.push(PostedLine {
            order_line: line.order_line,
            item: order_line.item.clone(),
            sku: order_line.sku.clone(),
            quantity: line.quantity,
            lots: match tracking {
                Tracking::Lot => line.lots.clone(),
                _ => Vec::new(),
            },
            serials: match tracking {
                Tracking::Serial => line.serials.clone(),
                _ => Vec::new(),
            },
        });
    }
    if !short.is_empty() {
        cx.raise(
            ExceptionKind::ShortDespatch,
            &document,
            &[],
            format!(
                "short despatch of sales order {}: {}; no fulfilment is posted for the missing quantity",
                state.order.tran_id,
                short.join("; ")
            ),
        );
    }
    if lines.is_empty() {
        return;
    }
    cx.change(StateChange::Posted {
        order: order.clone(),
        lines: posted,
    });
    cx.act(
        key,
        document,
        Action::FulfilSalesOrder(Fulfilment {
            order: despatch.order.clone(),
            location: location.clone(),
            ship_method,
            despatched_at: despatch.despatched_at,
            lines,
            packages: despatch.packages.clone(),
        }),
    );
}
