//! Typed access to a running Clarus simulator's state, for seeding and assertions.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::state::{ClarusId, GoodsOutStatus, Named, Placement, State, StockStatus};
use super::webhooks::{self, DeliveryOutcome, WebhookBehaviour, WebhookRecord};
use super::{Shared, Warehouse, rejected};
use crate::SimError;
use crate::governance::{Fault, FaultRates, GovernanceStats, lock_unpoisoned as lock};

/// One on-hand balance in Clarus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StockKey {
    /// Product.
    pub product: ClarusId,
    /// Warehouse.
    pub warehouse: ClarusId,
    /// Available or held.
    pub status: StockStatus,
}

/// Typed access to a running simulator's state, for seeding and assertions. Cheap to clone.
#[derive(Clone)]
pub struct ClarusHandle {
    pub(super) shared: Arc<Shared>,
}

impl fmt::Debug for ClarusHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClarusHandle")
            .field("base_url", &self.shared.base_url)
            .finish()
    }
}

impl ClarusHandle {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    /// The warehouse driver.
    pub fn warehouse(&self) -> Warehouse {
        Warehouse {
            shared: self.shared.clone(),
        }
    }

    /// Adds a stock owner account.
    pub fn add_account(&self, code: &str, name: &str) -> ClarusId {
        let named = Named::new(code, name, None);
        ClarusId(self.state().add_named(|s| &mut s.accounts, named))
    }

    /// Adds a warehouse with a goods-in location and one storage location.
    pub fn add_warehouse(&self, code: &str, name: &str) -> ClarusId {
        let mut state = self.state();
        let id = state.add_named(|s| &mut s.warehouses, Named::new(code, name, None));
        for suffix in ["GOODSIN", "A-01"] {
            let location = Named::new(format!("{code}-{suffix}"), suffix, Some(id));
            state.add_named(|s| &mut s.locations, location);
        }
        ClarusId(id)
    }

    /// Adds a location to a warehouse.
    pub fn add_location(&self, warehouse: ClarusId, code: &str) -> ClarusId {
        let named = Named::new(code, code, Some(warehouse.0));
        ClarusId(self.state().add_named(|s| &mut s.locations, named))
    }

    /// Adds a carrier.
    pub fn add_carrier(&self, code: &str, name: &str) -> ClarusId {
        let named = Named::new(code, name, None);
        ClarusId(self.state().add_named(|s| &mut s.carriers, named))
    }

    /// The location stock is put away to in a warehouse.
    pub fn default_location(&self, warehouse: ClarusId) -> Option<ClarusId> {
        self.state().default_location(warehouse.0).map(ClarusId)
    }

    /// Adds a product (as `POST /api/products` would, code unique).
    pub fn add_product(&self, code: &str, description: &str) -> Result<ClarusId, SimError> {
        let attrs = json!({"code": code, "description": description, "stock_unit_type_id": 1});
        self.state()
            .create_product(attrs.as_object().cloned().unwrap_or_default())
            .map(ClarusId)
            .map_err(rejected)
    }

    /// The product with this code.
    pub fn find_product(&self, code: &str) -> Option<ClarusId> {
        let state = self.state();
        state
            .products
            .iter()
            .find(|(_, p)| p.attrs.get("code").and_then(Value::as_str) == Some(code))
            .map(|(id, _)| ClarusId(*id))
    }

    /// A product as REST answers it.
    pub fn product(&self, id: ClarusId) -> Option<Value> {
        Some(self.state().product_json(id.0)).filter(|v| !v.is_null())
    }

    /// Puts stock at a location without firing any webhook (opening balances).
    pub fn seed_stock(
        &self,
        product: ClarusId,
        location: ClarusId,
        quantity: Decimal,
        status: StockStatus,
        batch: Option<&str>,
    ) -> Result<ClarusId, SimError> {
        let mut state = self.seeding(product, location)?;
        let at = Placement {
            batch: batch.map(str::to_string),
            ..Placement::main_account(product.0, location.0, status)
        };
        Ok(ClarusId(state.put_stock(at, quantity)))
    }

    /// Puts serialised units at a location (one stock record of quantity 1 per serial number)
    /// without firing any webhook. Answers the stock ids.
    pub fn seed_serials(
        &self,
        product: ClarusId,
        location: ClarusId,
        serial_numbers: &[&str],
        status: StockStatus,
    ) -> Result<Vec<ClarusId>, SimError> {
        let mut state = self.seeding(product, location)?;
        let in_stock = |state: &State, serial: &str| {
            state.stocks.values().any(|s| {
                s.product == product.0
                    && s.serial.as_deref() == Some(serial)
                    && !s.quantity.is_zero()
            })
        };
        if let Some(duplicate) = serial_numbers.iter().find(|s| in_stock(&state, s)) {
            return Err(SimError::Rejected {
                code: "serial_number_in_stock".into(),
                detail: format!("serial number {duplicate} is already in stock"),
            });
        }
        Ok(serial_numbers
            .iter()
            .map(|serial| {
                let at = Placement {
                    serial: Some((*serial).to_string()),
                    ..Placement::main_account(product.0, location.0, status)
                };
                ClarusId(state.put_stock(at, Decimal::ONE))
            })
            .collect())
    }

    /// The state, once `product` and `location` are known: seeding refuses any other.
    fn seeding(
        &self,
        product: ClarusId,
        location: ClarusId,
    ) -> Result<MutexGuard<'_, State>, SimError> {
        let state = self.state();
        if !state.products.contains_key(&product.0) || !state.locations.contains_key(&location.0) {
            return Err(SimError::Rejected {
                code: "invalid_ids_provided".into(),
                detail: "unknown product or location".into(),
            });
        }
        Ok(state)
    }

    /// On-hand of a product in a warehouse in a status (picked stock counts until despatched).
    pub fn on_hand(&self, product: ClarusId, warehouse: ClarusId, status: StockStatus) -> Decimal {
        self.state()
            .on_hand()
            .get(&(product.0, warehouse.0, status))
            .copied()
            .unwrap_or_default()
    }

    /// Every non-zero on-hand balance per product × warehouse × status.
    pub fn on_hand_totals(&self) -> BTreeMap<StockKey, Decimal> {
        self.state()
            .on_hand()
            .into_iter()
            .map(|((p, w, s), q)| {
                (
                    StockKey {
                        product: ClarusId(p),
                        warehouse: ClarusId(w),
                        status: s,
                    },
                    q,
                )
            })
            .collect()
    }

    /// The stock records of a product, as REST renders them.
    pub fn stocks(&self, product: ClarusId) -> Vec<Value> {
        let state = self.state();
        let ids: Vec<u64> = state
            .stocks
            .iter()
            .filter(|(_, s)| s.product == product.0 && !s.quantity.is_zero())
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter().map(|id| state.stock_json(id)).collect()
    }

    /// A goods out with its lines, picks and shipments (the webhook record).
    pub fn goods_out(&self, id: ClarusId) -> Option<Value> {
        Some(self.state().goods_out_json(id.0)).filter(|v| !v.is_null())
    }

    /// A goods out's status.
    pub fn goods_out_status(&self, id: ClarusId) -> Option<GoodsOutStatus> {
        self.state().goods_outs.get(&id.0).map(|o| o.status)
    }

    /// The quantity picked for a goods out over all its lines (despatched included).
    pub fn goods_out_picked(&self, id: ClarusId) -> Option<Decimal> {
        self.state()
            .goods_outs
            .get(&id.0)
            .map(|o| o.lines.iter().map(|l| l.picked()).sum())
    }

    /// Goods outs with this reference, in id order.
    pub fn find_goods_outs(&self, reference: &str) -> Vec<ClarusId> {
        let state = self.state();
        state
            .goods_outs
            .iter()
            .filter(|(_, o)| o.attrs.get("reference").and_then(Value::as_str) == Some(reference))
            .map(|(id, _)| ClarusId(*id))
            .collect()
    }

    /// A goods-in receipt with its lines and received stock.
    pub fn goods_in(&self, id: ClarusId) -> Option<Value> {
        Some(self.state().goods_in_json(id.0)).filter(|v| !v.is_null())
    }

    /// Goods-in receipts with this reference, in id order.
    pub fn find_goods_ins(&self, reference: &str) -> Vec<ClarusId> {
        let state = self.state();
        state
            .goods_ins
            .iter()
            .filter(|(_, r)| r.attrs.get("reference").and_then(Value::as_str) == Some(reference))
            .map(|(id, _)| ClarusId(*id))
            .collect()
    }

    /// Every goods out id, in id order.
    pub fn goods_out_ids(&self) -> Vec<ClarusId> {
        self.state()
            .goods_outs
            .keys()
            .map(|id| ClarusId(*id))
            .collect()
    }

    /// Every goods-in receipt id, in id order.
    pub fn goods_in_ids(&self) -> Vec<ClarusId> {
        self.state()
            .goods_ins
            .keys()
            .map(|id| ClarusId(*id))
            .collect()
    }

    /// Every webhook fired so far (delivered, pending, failed or lost), in firing order.
    pub fn webhook_log(&self) -> Vec<WebhookRecord> {
        self.shared.webhooks.log()
    }

    /// The webhooks fired so far of `resource` and one of `events` (delivered, pending, failed
    /// or lost), in firing order: [`ClarusHandle::webhook_log`] without copying the others.
    pub fn webhook_log_of(&self, resource: &str, events: &[&str]) -> Vec<WebhookRecord> {
        self.shared.webhooks.log_of(resource, events)
    }

    /// Sends again every webhook of `resource`/`event` that never reached its receiver (lost,
    /// or every attempt failed), to its automation's current destinations: what a person does
    /// from Clarus's automation log when the integration reports a webhook missing. Answers how
    /// many were sent again.
    pub fn resend_undelivered(&self, resource: &str, event: &str) -> usize {
        let pending = |r: &WebhookRecord| r.copies.contains(&DeliveryOutcome::Pending);
        let undelivered: Vec<WebhookRecord> = self
            .shared
            .webhooks
            .log_of(resource, &[event])
            .into_iter()
            .filter(|r| !r.delivered() && !pending(r))
            .collect();
        for record in &undelivered {
            let targets = {
                let state = lock(&self.shared.state);
                webhooks::targets_for(&state, resource, event, &record.payload)
            };
            self.shared.webhooks.send_again(record.sequence, targets);
        }
        undelivered.len()
    }

    /// Waits until no webhook copy is waiting or being sent (or `timeout` passes; answers whether
    /// it became idle).
    pub async fn wait_for_webhooks(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.shared.webhooks.in_flight() > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// Replaces the webhook behaviour (duplicates, reordering, loss, retries).
    pub fn set_webhook_behaviour(&self, behaviour: WebhookBehaviour) {
        self.shared.webhooks.set_behaviour(behaviour);
    }

    /// Queues a fault for the next write request.
    pub fn inject_fault(&self, fault: Fault) {
        self.shared.governor.script(fault);
    }

    /// Replaces the random fault rates.
    pub fn set_faults(&self, faults: FaultRates) {
        self.shared.governor.set_faults(faults);
    }

    /// Counters of the governance layer.
    pub fn stats(&self) -> GovernanceStats {
        self.shared.governor.stats()
    }

    /// Invalidates every issued access token.
    pub fn revoke_tokens(&self) {
        lock(&self.shared.tokens).clear();
    }
}
