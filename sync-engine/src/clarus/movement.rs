//! Stock movements: `stock` webhooks (adjustments, holds, releases, stock-check differences) as
//! core [`StockMovement`] events.

use clarus_client::webhook::{StockEvent, StockRecord};
use jiff::Timestamp;
use serde_json::Value;
use sync_core::{
    Event, LotQuantity, MovementId, MovementKind, Name, Payload, ReasonCodeId, Revision,
    SerialNumber, Sku, SourceId, StockMovement, System, Tenant, WarehouseId,
};

use super::despatch::{id_u64, lots_and_serials, non_empty};
use crate::processor::DecodeError;

/// The movement kind of a stock event and its reason: a negative adjustment for `breakage` is
/// a breakage; adjustments made by a stock check (`stock_check`) are stock-check gains or losses.
fn kind(event: StockEvent, reason: Option<&str>) -> Option<MovementKind> {
    let reason = reason.map(str::to_ascii_lowercase);
    let reason = reason.as_deref();
    Some(match event {
        StockEvent::PositivelyAdjusted if reason == Some("stock_check") => {
            MovementKind::StockCheckGain
        }
        StockEvent::PositivelyAdjusted => MovementKind::PositiveAdjustment,
        StockEvent::NegativelyAdjusted if reason == Some("stock_check") => {
            MovementKind::StockCheckLoss
        }
        StockEvent::NegativelyAdjusted if reason == Some("breakage") => MovementKind::Breakage,
        StockEvent::NegativelyAdjusted => MovementKind::NegativeAdjustment,
        StockEvent::PlacedOnHold => MovementKind::Hold,
        StockEvent::ReleasedFromHold => MovementKind::Release,
        _ => return None,
    })
}

/// The movement a `stock` webhook reports, or `None` for stock events the integration does not
/// act on (received, picked and dispatched stock is posted by the receipt and despatch flows).
///
/// The identity is `(Clarus, stock, <movement id>, <event>, ModifiedAt(created_at))`.
pub fn movement_from_webhook(
    tenant: &Tenant,
    event: StockEvent,
    record: &StockRecord,
    raw: &Value,
) -> Result<Option<Event>, DecodeError> {
    let reason_text = non_empty(
        raw.get("reason")
            .and_then(Value::as_str)
            .or_else(|| record.reason_code.as_ref().and_then(|r| r.code.as_deref())),
    );
    let Some(kind) = kind(event, reason_text) else {
        return Ok(None);
    };
    let id = record.id.ok_or_else(|| {
        DecodeError::Invalid(format!("stock {} webhook without an id", event.as_str()))
    })?;
    let sku = record
        .product
        .as_ref()
        .and_then(|p| p.code.as_deref())
        .or_else(|| raw.get("product_code").and_then(Value::as_str))
        .ok_or_else(|| {
            DecodeError::Invalid(format!("stock movement {id} names no product code"))
        })?;
    let warehouse = record
        .warehouse_id
        .or_else(|| record.warehouse.as_ref().and_then(|w| w.id))
        .ok_or_else(|| DecodeError::Invalid(format!("stock movement {id} names no warehouse")))?;
    let quantity = record
        .quantity
        .map(|q| q.abs())
        .filter(|q| !q.is_zero())
        .ok_or_else(|| DecodeError::Invalid(format!("stock movement {id} has no quantity")))?;
    let occurred_at = record
        .created_at
        .as_deref()
        .and_then(|t| t.parse::<Timestamp>().ok())
        .ok_or_else(|| DecodeError::Invalid(format!("stock movement {id} has no created_at")))?;
    let reason = record
        .reason_code
        .as_ref()
        .and_then(|r| r.id)
        .or_else(|| raw.get("reason_code_id").and_then(super::despatch::json_id))
        .map(id_u64)
        .transpose()?
        .map(ReasonCodeId);
    // The stock record's batch or serial applies to the whole quantity moved.
    let entry = serde_json::json!({
        "quantity": quantity,
        "batch": raw.get("batch").or_else(|| raw.get("string1")).cloned().unwrap_or(Value::Null),
        "serial_number": raw.get("serial_number").cloned().unwrap_or(Value::Null),
    });
    let (lots, serials, _): (Vec<LotQuantity>, Vec<SerialNumber>, _) = lots_and_serials(&[entry]);
    let movement = StockMovement {
        tenant: tenant.clone(),
        id: MovementId(id_u64(id)?),
        kind,
        warehouse: WarehouseId(id_u64(warehouse)?),
        sku: Sku::new(sku),
        quantity,
        reason,
        lots,
        serials,
        occurred_at,
    };
    Ok(Some(Event {
        source: SourceId {
            system: System::Clarus,
            resource: Name::new("stock"),
            id: Name::new(id.to_string()),
            event: Name::new(event.as_str()),
            revision: Revision::ModifiedAt(occurred_at),
        },
        occurred_at,
        payload: Payload::StockMovement(movement),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_refine_the_kind() {
        assert_eq!(
            kind(StockEvent::NegativelyAdjusted, Some("breakage")),
            Some(MovementKind::Breakage)
        );
        assert_eq!(
            kind(StockEvent::PositivelyAdjusted, Some("stock_check")),
            Some(MovementKind::StockCheckGain)
        );
        assert_eq!(
            kind(StockEvent::NegativelyAdjusted, Some("stock_check")),
            Some(MovementKind::StockCheckLoss)
        );
        assert_eq!(
            kind(StockEvent::NegativelyAdjusted, None),
            Some(MovementKind::NegativeAdjustment)
        );
        assert_eq!(kind(StockEvent::Picked, None), None);
        assert_eq!(kind(StockEvent::Received, None), None);
    }

    #[test]
    fn a_breakage_webhook_becomes_a_movement() {
        let raw = serde_json::json!({
            "id": 77, "created_at": "2026-11-27T10:00:00Z", "quantity": 2,
            "product": {"id": 5, "code": "MUG"}, "warehouse_id": 1, "reason": "breakage",
            "batch": "L9"
        });
        let record: StockRecord = serde_json::from_value(raw.clone()).unwrap();
        let event = movement_from_webhook(
            &Tenant::new("acme"),
            StockEvent::NegativelyAdjusted,
            &record,
            &raw,
        )
        .unwrap()
        .unwrap();
        let Payload::StockMovement(m) = &event.payload else {
            panic!("{event:?}")
        };
        assert_eq!(m.kind, MovementKind::Breakage);
        assert_eq!(m.quantity, rust_decimal::Decimal::from(2));
        assert_eq!(m.lots.len(), 1);
        assert_eq!(event.source.id.as_str(), "77");
        assert_eq!(event.source.event.as_str(), "negatively_adjusted");
    }
}
