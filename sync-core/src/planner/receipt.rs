//! Inbound and returns: a Clarus goods-in receipt becomes one NetSuite item receipt of the
//! purchase order or return authorisation, with sellable and quarantined stock kept apart.

use super::{Context, tracking_problem};
use crate::action::{Action, ItemReceipt, PostedLine, ReceivedLine};
use crate::document::DocumentRef;
use crate::exception::ExceptionKind;
use crate::item::Tracking;
use crate::key::{IdempotencyKey, KeyBuilder};
use crate::mapping::MappingTable;
use crate::order::OrderKind;
use crate::receipt::{Receipt, StockCondition};
use crate::state::{LineQuantity, StateChange, StateView};
use rust_decimal::Decimal;

/// The key of a receipt's item receipt: `CLR-GIN-<tenant>-<goods in>-<receipt>`.
pub fn receipt_key(receipt: &Receipt) -> IdempotencyKey {
    KeyBuilder::new("CLR-GIN")
        .text(receipt.tenant.as_str())
        .number(receipt.goods_in.0)
        .text(receipt.receipt.as_str())
        .finish()
}

const LOCATION: ExceptionKind = ExceptionKind::MissingMapping {
    table: MappingTable::LocationWarehouse,
};
const STATUS: ExceptionKind = ExceptionKind::MissingMapping {
    table: MappingTable::StockStatus,
};

/// Clarus received (part of) a goods-in receipt.
pub(super) fn plan_receipt<V: StateView>(cx: &mut Context<'_, V>, receipt: &Receipt) {
    let key = receipt_key(receipt);
    if cx.view.is_planned(&key) {
        return;
    }
    let document = DocumentRef::Receipt {
        tenant: receipt.tenant.clone(),
        goods_in: receipt.goods_in,
        receipt: receipt.receipt.clone(),
    };
    let had_exceptions = cx.view.has_open_exceptions(&document);
    if !receipt.order.kind.is_inbound() {
        cx.raise(
            ExceptionKind::InvalidEvent,
            &document,
            &[],
            format!("goods in {} names a sales order", receipt.goods_in),
        );
        return;
    }
    let Some(state) = cx.view.order(&receipt.order) else {
        cx.raise(
            ExceptionKind::UnknownOrder,
            &document,
            &[],
            format!(
                "goods in {} was received for {}, which is not known",
                receipt.goods_in, receipt.order
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
                "goods in {} was received, but {} {} is {:?} in NetSuite; nothing was posted",
                receipt.goods_in, receipt.order, state.order.tran_id, state.order.status
            ),
        );
        return;
    }
    let warehouse = receipt.warehouse.to_string();
    let Some(location) = cx.mappings.location_for(receipt.warehouse) else {
        cx.raise(
            LOCATION,
            &document,
            &[&warehouse],
            format!(
                "Clarus warehouse {} has no NetSuite location in the location mapping",
                receipt.warehouse
            ),
        );
        cx.block();
        return;
    };
    let places = cx.mappings.places_for(location);
    let quarantined = receipt
        .lines
        .iter()
        .any(|l| l.condition == StockCondition::Quarantine);
    if quarantined && places.is_none() {
        cx.raise(
            STATUS,
            &document,
            &[location.as_str()],
            format!(
                "NetSuite location {location} has no quarantine status or location in the stock status mapping"
            ),
        );
        cx.block();
        return;
    }
    if had_exceptions {
        cx.resolve(ExceptionKind::UnknownOrder, &document, &[], "order known");
        cx.resolve(LOCATION, &document, &[&warehouse], "warehouse mapped");
        cx.resolve(STATUS, &document, &[location.as_str()], "statuses mapped");
    }

    let mut lines: Vec<ReceivedLine> = Vec::with_capacity(receipt.lines.len());
    let mut posted: Vec<LineQuantity> = Vec::with_capacity(receipt.lines.len());
    for line in &receipt.lines {
        let line_no = line.order_line.to_string();
        if line.quantity < Decimal::ZERO {
            cx.raise(
                ExceptionKind::InvalidEvent,
                &document,
                &[&line_no],
                format!("line {} has a negative quantity", line.order_line),
            );
            continue;
        }
        if line.quantity.is_zero() {
            continue;
        }
        let Some(order_line) = state.order.line(line.order_line) else {
            cx.raise(
                ExceptionKind::UnknownOrderLine,
                &document,
                &[&line_no],
                format!(
                    "line {} ({}) is not on {} {}; nothing was posted for it",
                    line.order_line, line.sku, receipt.order, state.order.tran_id
                ),
            );
            continue;
        };
        if order_line.sku != line.sku {
            cx.raise(
                ExceptionKind::UnknownOrderLine,
                &document,
                &[&line_no],
                format!(
                    "line {} received {} but {} has {} on that line; nothing was posted for it",
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
                &[&line_no],
                format!(
                    "line {} ({}): {problem}; nothing was posted for it",
                    line.order_line, line.sku
                ),
            );
            continue;
        }
        let in_this_receipt: Decimal = posted
            .iter()
            .filter(|p| p.line == line.order_line)
            .map(|p| p.quantity)
            .sum();
        let open = state.open_quantity(line.order_line).unwrap_or_default() - in_this_receipt;
        if line.quantity > open {
            cx.raise(
                ExceptionKind::QuantityAboveOpen,
                &document,
                &[&line_no],
                format!(
                    "line {} ({}): {} received but only {} open on {}; nothing was posted for it",
                    line.order_line,
                    line.sku,
                    line.quantity,
                    open.max(Decimal::ZERO),
                    state.order.tran_id
                ),
            );
            continue;
        }
        let place = match line.condition {
            StockCondition::Sellable => places.map(|p| p.sellable.clone()),
            StockCondition::Quarantine => places.map(|p| p.quarantine.clone()),
        };
        posted.push(LineQuantity {
            line: line.order_line,
            quantity: line.quantity,
        });
        lines.push(ReceivedLine {
            line: PostedLine {
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
            },
            place,
            condition: line.condition,
        });
    }
    if lines.is_empty() {
        return;
    }
    cx.change(StateChange::Posted {
        order: receipt.order.clone(),
        lines: posted,
    });
    let posting = ItemReceipt {
        order: receipt.order.clone(),
        location: location.clone(),
        received_at: receipt.received_at,
        lines,
    };
    let action = match receipt.order.kind {
        OrderKind::Purchase => Action::ReceivePurchaseOrder(posting),
        OrderKind::Return | OrderKind::Sales => Action::ReceiveReturnAuthorisation(posting),
    };
    cx.act(key, document, action);
}
