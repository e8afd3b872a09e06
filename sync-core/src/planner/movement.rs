//! Adjustments: Clarus stock movements become NetSuite inventory adjustments (with the reason
//! mapped to an account) or moves between sellable and quarantine.

use super::{Context, tracking_problem};
use crate::action::{Action, InventoryAdjustment, StockMove};
use crate::document::DocumentRef;
use crate::exception::ExceptionKind;
use crate::item::Tracking;
use crate::key::{IdempotencyKey, KeyBuilder};
use crate::mapping::MappingTable;
use crate::state::StateView;
use crate::stock::{MovementKind, StockMovement, StockStatus};
use rust_decimal::Decimal;

/// The key of a movement's NetSuite posting: `CLR-MOV-<tenant>-<movement>`.
pub fn movement_key(movement: &StockMovement) -> IdempotencyKey {
    KeyBuilder::new("CLR-MOV")
        .text(movement.tenant.as_str())
        .number(movement.id.0)
        .finish()
}

const LOCATION: ExceptionKind = ExceptionKind::MissingMapping {
    table: MappingTable::LocationWarehouse,
};
const ACCOUNT: ExceptionKind = ExceptionKind::MissingMapping {
    table: MappingTable::AdjustmentAccount,
};
const STATUS: ExceptionKind = ExceptionKind::MissingMapping {
    table: MappingTable::StockStatus,
};

/// Clarus moved stock.
pub(super) fn plan_movement<V: StateView>(cx: &mut Context<'_, V>, movement: &StockMovement) {
    let key = movement_key(movement);
    if cx.view.is_planned(&key) {
        return;
    }
    let document = DocumentRef::Movement {
        tenant: movement.tenant.clone(),
        movement: movement.id,
    };
    let had_exceptions = cx.view.has_open_exceptions(&document);
    if movement.quantity <= Decimal::ZERO {
        cx.raise(
            ExceptionKind::InvalidEvent,
            &document,
            &[],
            format!(
                "stock movement {} has quantity {}; movements carry a positive quantity",
                movement.id, movement.quantity
            ),
        );
        return;
    }
    if movement.quantity > cx.mappings.movement_limit() {
        cx.raise(
            ExceptionKind::ImplausibleQuantity,
            &document,
            &[],
            format!(
                "stock movement {} moves {} × {}, more than the limit of {} per movement; \
                 nothing was posted. Check the movement in Clarus: if it is real, raise the \
                 limit and retry",
                movement.id,
                movement.quantity,
                movement.sku,
                cx.mappings.movement_limit()
            ),
        );
        return;
    }
    let Some(known) = cx.view.item(&movement.sku) else {
        cx.raise(
            ExceptionKind::UnknownSku,
            &document,
            &[],
            format!(
                "stock movement {} is for SKU {}, which the item master does not know",
                movement.id, movement.sku
            ),
        );
        cx.block();
        return;
    };
    let item = &known.item;
    let warehouse = movement.warehouse.to_string();
    let Some(location) = cx.mappings.location_for(movement.warehouse) else {
        cx.raise(
            LOCATION,
            &document,
            &[&warehouse],
            format!(
                "Clarus warehouse {} has no NetSuite location in the location mapping",
                movement.warehouse
            ),
        );
        cx.block();
        return;
    };
    let sign = movement.kind.on_hand_sign();
    let reason = movement.reason.map_or(String::new(), |r| r.to_string());
    let action = if sign != 0 {
        let Some(account) = cx.mappings.account_for(movement.kind, movement.reason) else {
            cx.raise(
                ACCOUNT,
                &document,
                &[movement.kind.code(), &reason],
                format!(
                    "no NetSuite account is mapped for {:?} with reason {}",
                    movement.kind,
                    if reason.is_empty() { "none" } else { &reason }
                ),
            );
            cx.block();
            return;
        };
        Action::PostInventoryAdjustment(InventoryAdjustment {
            location: location.clone(),
            account: account.clone(),
            item: item.netsuite_id.clone(),
            sku: item.sku.clone(),
            quantity: movement.quantity * Decimal::from(sign),
            lots: Vec::new(),
            serials: Vec::new(),
            occurred_at: movement.occurred_at,
            memo: format!("Clarus {} {}", movement.kind.code(), movement.id),
            inventory_status: cx.mappings.sellable_status(location).cloned(),
        })
    } else {
        let Some(places) = cx.mappings.places_for(location) else {
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
        };
        let (from, to, to_status) = match movement.kind {
            MovementKind::Hold => (
                places.sellable.clone(),
                places.quarantine.clone(),
                StockStatus::Held,
            ),
            _ => (
                places.quarantine.clone(),
                places.sellable.clone(),
                StockStatus::Available,
            ),
        };
        Action::MoveStock(StockMove {
            location: location.clone(),
            item: item.netsuite_id.clone(),
            sku: item.sku.clone(),
            quantity: movement.quantity,
            to_status,
            from,
            to,
            lots: Vec::new(),
            serials: Vec::new(),
            occurred_at: movement.occurred_at,
        })
    };
    if had_exceptions {
        cx.resolve(ExceptionKind::UnknownSku, &document, &[], "item known");
        cx.resolve(LOCATION, &document, &[&warehouse], "warehouse mapped");
        cx.resolve(
            ACCOUNT,
            &document,
            &[movement.kind.code(), &reason],
            "account mapped",
        );
        cx.resolve(STATUS, &document, &[location.as_str()], "statuses mapped");
    }
    if let Some(problem) = tracking_problem(
        item.tracking,
        movement.quantity,
        &movement.lots,
        &movement.serials,
    ) {
        cx.raise(
            ExceptionKind::MissingLotOrSerial,
            &document,
            &[],
            format!(
                "stock movement {} of {}: {problem}; nothing was posted",
                movement.id, movement.sku
            ),
        );
        return;
    }
    let action = with_tracking(action, item.tracking, movement);
    cx.act(key, document, action);
}

fn with_tracking(mut action: Action, tracking: Tracking, movement: &StockMovement) -> Action {
    let (lots, serials) = match &mut action {
        Action::PostInventoryAdjustment(a) => (&mut a.lots, &mut a.serials),
        Action::MoveStock(m) => (&mut m.lots, &mut m.serials),
        _ => return action,
    };
    match tracking {
        Tracking::Lot => lots.clone_from(&movement.lots),
        Tracking::Serial => serials.clone_from(&movement.serials),
        Tracking::None => {}
    }
    action
}
