//! Stock movements: `stock` webhooks (adjustments, holds, releases, stock-check differences) as
//! core [`StockMovement`] events, each confirmed against Clarus's stock transactions before it
//! is planned ([`MovementVerifier`]): a webhook is a hint, and a forged one must post nothing.

use clarus_client::graphql::Filter;
use clarus_client::webhook::{StockEvent, StockRecord};
use clarus_client::{ClarusClient, ClarusId};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use sync_core::{
    Event, LotQuantity, MovementId, MovementKind, Name, Payload, ReasonCodeId, Revision,
    SerialNumber, Sku, SourceId, StockMovement, System, Tenant, WarehouseId,
};

use super::despatch::{id_u64, lots_and_serials, non_empty};
use super::executor::list;
use super::held::{Claim, HeldStock};
use super::kept::{self, Kept};
use super::nodes::TransactionRead;
use crate::processor::DecodeError;
use crate::store::Store;
use std::sync::Arc;

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
        DecodeError::Invalid(format!("stock {} webhook without an id", event.as_str()).into())
    })?;
    let sku = record
        .product
        .as_ref()
        .and_then(|p| p.code.as_deref())
        .or_else(|| raw.get("product_code").and_then(Value::as_str))
        .ok_or_else(|| {
            DecodeError::Invalid(format!("stock movement {id} names no product code").into())
        })?;
    let warehouse = record
        .warehouse_id
        .or_else(|| record.warehouse.as_ref().and_then(|w| w.id))
        .ok_or_else(|| {
            DecodeError::Invalid(format!("stock movement {id} names no warehouse").into())
        })?;
    let quantity = record
        .quantity
        .map(|q| q.abs())
        .filter(|q| !q.is_zero())
        .ok_or_else(|| {
            DecodeError::Invalid(format!("stock movement {id} has no quantity").into())
        })?;
    let occurred_at = record
        .created_at
        .as_deref()
        .and_then(|t| t.parse::<Timestamp>().ok())
        .ok_or_else(|| {
            DecodeError::Invalid(format!("stock movement {id} has no created_at").into())
        })?;
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

/// Whether hold movement `movement` was taken for a receipt's own quarantine (and so left to the
/// receipt, not posted as a status change).
///
/// Errors: the store could not be read.
pub async fn hold_made_by_receipt(
    store: &dyn Store,
    movement: u64,
) -> Result<bool, crate::store::StoreError> {
    Ok(store
        .adapter_state(&Kept::HoldMadeByReceipt.key(movement))
        .await?
        .is_some())
}

/// Marks hold movement `movement` as a receipt's own quarantine, so the webhook decoder and the
/// movement sweep both leave it to the receipt.
pub(crate) async fn mark_made_by_receipt(
    store: &dyn Store,
    movement: u64,
    now: Timestamp,
) -> Result<(), kept::KeptError> {
    kept::save(
        store,
        &Kept::HoldMadeByReceipt.key(movement),
        &"receipt".to_owned(),
        now,
    )
    .await
}

/// The product id a stock webhook names, if any.
fn product_id(record: &StockRecord) -> Option<ClarusId> {
    record
        .product
        .as_ref()
        .and_then(|p| p.id)
        .or(record.product_id)
}

/// How long after a movement its transaction may take to be listed before a webhook naming it
/// is taken for forged.
const LISTING_GRACE: SignedDuration = SignedDuration::from_secs(120);

/// How far the webhook's `created_at` may lie from the transaction's.
const CLOCK_WINDOW: SignedDuration = SignedDuration::from_secs(60);

/// Confirms a stock webhook's movement through a documented read: `transactions` of the
/// movement's subtype in its warehouse around its time (filters `subtype`, `warehouse_id`,
/// `created_at`, and `product_id` when the body names the product), which must list a
/// transaction with the movement's id, product and quantity.
#[derive(Clone)]
pub(crate) struct MovementVerifier {
    pub(crate) client: ClarusClient,
    pub(crate) store: Arc<dyn Store>,
}

/// How long before a hold a receipt of the same stock makes the hold the receipt's own
/// quarantine: the hold is part of putting the received stock away, in the same second.
pub(crate) const RECEIPT_HOLD_WINDOW: SignedDuration = SignedDuration::from_secs(1);

/// Whether Clarus lists a receipt (`RCV` transaction) of exactly `quantity` of `sku` into
/// `location` (when known) in `warehouse` within [`RECEIPT_HOLD_WINDOW`] before `at`: a hold
/// right after it is the receipt putting that stock into quarantine, which the receipt's webhook
/// reports as held stock and the receipt posts. Documented filters and fields only.
///
/// ```text
/// RCV  12 × MUG → A-01   10:00:00.120
/// HOLD 12 × MUG @ A-01   10:00:00.135   ← the receipt's own quarantine
/// HOLD  2 × MUG @ A-01   10:04:10       ← a movement of its own
/// ```
pub(crate) async fn receipt_just_before(
    client: &ClarusClient,
    product: Option<ClarusId>,
    sku: &str,
    warehouse: ClarusId,
    location: Option<ClarusId>,
    quantity: rust_decimal::Decimal,
    at: Timestamp,
) -> Result<bool, clarus_client::Error> {
    let mut filter = Filter::new()
        .eq("subtype", "RCV")
        .eq("warehouse_id", warehouse)
        .from("created_at", at - RECEIPT_HOLD_WINDOW)
        .to("created_at", at);
    if let Some(product) = product {
        filter = filter.eq("product_id", product);
    }
    let received: Vec<TransactionRead> = list(client, filter).await?;
    Ok(received.iter().any(|t| {
        t.quantity.map(|q| q.abs()) == Some(quantity)
            && t.product.as_ref().and_then(|p| p.code.as_deref()) == Some(sku)
            && location.is_none_or(|l| t.location_to.as_ref().map(|r| r.id) == Some(l))
    }))
}

impl MovementVerifier {
    /// Whether a `placed_on_hold` is a receipt's own quarantine, which the receipt posts into
    /// quarantine, so the hold must not move it again: the receipt decoder recorded the stock
    /// record as received held (and this hold claims it), or Clarus lists a receipt of the
    /// same quantity into the same location just before it ([`receipt_just_before`]). Either
    /// way the movement is marked so the movement sweep leaves its transaction alone too.
    pub(crate) async fn made_by_receipt(
        &self,
        raw: &Value,
        record: &StockRecord,
        movement: &StockMovement,
        now: Timestamp,
    ) -> Result<bool, DecodeError> {
        let store = self.store.as_ref();
        if hold_made_by_receipt(store, movement.id.0)
            .await
            .map_err(|e| {
                DecodeError::Retryable(format!("reading holds made by receipts: {e}").into())
            })?
        {
            return Ok(true);
        }
        let context = format!("recognising hold {} as a receipt's", movement.id.0);
        let held = raw
            .get("stock_id")
            .and_then(super::despatch::json_id)
            .map(|stock| Kept::StockHeldByReceipt.key(stock));
        // The receipt decoder kept the stock record's held entries: the hold claims one of its
        // quantity (once; a copy of the same webhook finds its claim).
        let mut made = match &held {
            Some(key) => {
                let claim = kept::update(store, key, now, |kept: Option<HeldStock>| {
                    let Some(mut kept) = kept else {
                        return (None, Claim::Unmatched);
                    };
                    match kept.claim(movement.id.0, movement.quantity) {
                        Claim::Claimed => (Some(kept), Claim::Claimed),
                        other => (None, other),
                    }
                })
                .await
                .map_err(|e| e.into_decode(&context))?;
                claim != Claim::Unmatched
            }
            None => false,
        };
        if !made {
            // Not (yet) kept: the receipt's webhook may come later, or another receipt of the
            // same stock record came first. Clarus's listing of a receipt just before the hold
            // tells.
            let location = record.location.as_ref().and_then(|l| l.id);
            made = receipt_just_before(
                &self.client,
                product_id(record),
                movement.sku.as_str(),
                ClarusId::new(movement.warehouse.0 as i64),
                location,
                movement.quantity,
                movement.occurred_at,
            )
            .await
            .map_err(|e| super::errors::decode_error(&context, e))?;
            if made && let Some(key) = &held {
                kept::update(store, key, now, |kept: Option<HeldStock>| {
                    let mut kept = kept.unwrap_or_default();
                    kept.adopt(movement.id.0, movement.quantity);
                    (Some(kept), ())
                })
                .await
                .map_err(|e| e.into_decode(&context))?;
            }
        }
        if made {
            tracing::debug!(movement = movement.id.0, sku = %movement.sku, "hold made by a receipt: posted by the receipt");
            mark_made_by_receipt(store, movement.id.0, now)
                .await
                .map_err(|e| e.into_decode(&context))?;
        }
        Ok(made)
    }

    /// `Ok` when Clarus lists the movement as the webhook describes it.
    ///
    /// Errors: Clarus has no such transaction, or one that differs → [`DecodeError::Invalid`]
    /// (after a grace for listing delay, [`DecodeError::Retryable`] before it); Clarus could
    /// not be read → [`DecodeError::Retryable`].
    pub(crate) async fn confirm(
        &self,
        event: StockEvent,
        record: &StockRecord,
        movement: &StockMovement,
        now: Timestamp,
    ) -> Result<(), DecodeError> {
        let id = movement.id.0;
        let Some(subtype) = super::movement_sweep::MOVEMENT_SUBTYPES
            .iter()
            .find(|(_, e)| *e == event)
            .map(|(s, _)| *s)
        else {
            return Ok(());
        };
        let mut filter = Filter::new()
            .eq("subtype", subtype)
            .eq("warehouse_id", ClarusId::new(movement.warehouse.0 as i64))
            .from("created_at", movement.occurred_at - CLOCK_WINDOW)
            .to("created_at", movement.occurred_at + CLOCK_WINDOW);
        if let Some(product) = product_id(record) {
            filter = filter.eq("product_id", product);
        }
        let context = format!("confirming stock movement {id} in Clarus");
        let listed: Vec<TransactionRead> = list(&self.client, filter)
            .await
            .map_err(|e| super::errors::decode_error(&context, e))?;
        let Some(found) = listed.iter().find(|t| t.id.get() == id as i64) else {
            let message = format!(
                "stock movement {id} ({} {} × {}) is not among Clarus's {subtype} transactions \
                 of warehouse {} around {}: not posted",
                event.as_str(),
                movement.quantity,
                movement.sku,
                movement.warehouse,
                movement.occurred_at
            );
            return Err(if now - movement.occurred_at < LISTING_GRACE {
                DecodeError::Retryable(message.into())
            } else {
                DecodeError::Invalid(message.into())
            });
        };
        let quantity = found.quantity.map(|q| q.abs());
        let sku = found.product.as_ref().and_then(|p| p.code.as_deref());
        if quantity != Some(movement.quantity) || sku.is_some_and(|s| s != movement.sku.as_str()) {
            return Err(DecodeError::Invalid(format!(
                "stock movement {id}: the webhook says {} × {}, Clarus's transaction {} × {}: not posted",
                movement.quantity,
                movement.sku,
                quantity.map_or_else(|| "no quantity".to_owned(), |q| q.to_string()),
                sku.unwrap_or("no product")
            ).into()));
        }
        Ok(())
    }
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
