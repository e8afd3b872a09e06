//! Typed access to a running simulator for seeding and assertions: [`NetSuiteHandle`] and the
//! seed and answer types it takes and gives.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::error::NsError;
use super::state::{BalanceKey, ItemKind, State};
use super::{InternalId, RecordType, RequestCounts, Shared};
use crate::SimError;
use crate::governance::{Fault, FaultRates, GovernanceStats, lock_unpoisoned as lock};
use crate::json::{decimal_from_json, decimal_to_json, id_from_json};

/// An item to seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    /// `itemId`, the SKU.
    pub sku: String,
    /// Item subtype.
    pub kind: ItemKind,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `upcCode`.
    pub upc: Option<String>,
    /// `externalId`.
    pub external_id: Option<String>,
}

impl NewItem {
    /// An item with only its SKU and kind.
    pub fn new(sku: impl Into<String>, kind: ItemKind) -> Self {
        Self {
            sku: sku.into(),
            kind,
            display_name: None,
            upc: None,
            external_id: None,
        }
    }
}

/// The kinds of order the simulator can transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderKind {
    /// `salesOrder` → `itemFulfillment`.
    SalesOrder,
    /// `purchaseOrder` → `itemReceipt`.
    PurchaseOrder,
    /// `returnAuthorization` → `itemReceipt`.
    ReturnAuthorization,
}

impl OrderKind {
    /// The record type.
    pub fn record_type(self) -> RecordType {
        match self {
            OrderKind::SalesOrder => RecordType::SalesOrder,
            OrderKind::PurchaseOrder => RecordType::PurchaseOrder,
            OrderKind::ReturnAuthorization => RecordType::ReturnAuthorization,
        }
    }
}

/// An order to seed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewOrder {
    /// `externalId`.
    pub external_id: Option<String>,
    /// `tranId`; generated (e.g. `SO1001`) when absent.
    pub tran_id: Option<String>,
    /// `entity` internal id (customer or vendor); not validated.
    pub entity: Option<InternalId>,
    /// Header `location`.
    pub location: Option<InternalId>,
    /// Lines; they get the non-sequential line numbers 1, 4, 7, ...
    pub lines: Vec<NewOrderLine>,
    /// Create the order pending approval (status A); transforms are refused until approved.
    pub pending_approval: bool,
}

/// A line of an order to seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrderLine {
    /// Item internal id.
    pub item: InternalId,
    /// Ordered quantity.
    pub quantity: Decimal,
    /// Line `location`, when it differs from the header.
    pub location: Option<InternalId>,
}

/// The state of one order line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLineState {
    /// The line number (`line`; what transforms call `orderLine`).
    pub line: u64,
    /// Item internal id.
    pub item: InternalId,
    /// Ordered quantity.
    pub quantity: Decimal,
    /// Quantity fulfilled (sales orders) or received (purchase orders, returns).
    pub processed: Decimal,
    /// Whether the line is closed.
    pub closed: bool,
}

/// One on-hand balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OnHandKey {
    /// Item.
    pub item: InternalId,
    /// Location.
    pub location: InternalId,
    /// Inventory status.
    pub status: InternalId,
}

/// Typed access to a running simulator's state, for seeding and assertions. Cheap to clone.
#[derive(Clone)]
pub struct NetSuiteHandle {
    pub(super) shared: Arc<Shared>,
}

impl fmt::Debug for NetSuiteHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetSuiteHandle")
            .field("base_url", &self.shared.base_url)
            .finish()
    }
}

/// A refused seed, as the error the HTTP API would have answered.
fn rejected(e: NsError) -> SimError {
    SimError::Rejected {
        code: e.code.to_string(),
        detail: e.detail,
    }
}

impl NetSuiteHandle {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    /// Creates a record exactly as `POST /record/v1/{type}` would (same validation).
    pub fn create_record(&self, record: RecordType, body: Value) -> Result<InternalId, SimError> {
        self.state()
            .create(record, body)
            .map(InternalId)
            .map_err(rejected)
    }

    /// Updates a record exactly as `PATCH /record/v1/{type}/{id}` would (same validation; the
    /// record's `lastModifiedDate` moves, so SuiteQL pollers see the change).
    pub fn update_record(
        &self,
        record: RecordType,
        id: InternalId,
        patch: Value,
    ) -> Result<(), SimError> {
        self.state()
            .update(record, id.0, patch, &[])
            .map_err(rejected)
    }

    /// Deletes a record exactly as `DELETE /record/v1/{type}/{id}` would (postings are reversed).
    pub fn delete_record(&self, record: RecordType, id: InternalId) -> Result<(), SimError> {
        self.state().delete(record, id.0).map_err(rejected)
    }

    /// Adds a location.
    pub fn add_location(
        &self,
        name: &str,
        external_id: Option<&str>,
    ) -> Result<InternalId, SimError> {
        let mut body = json!({"name": name});
        if let Some(ext) = external_id {
            body["externalId"] = json!(ext);
        }
        self.create_record(RecordType::Location, body)
    }

    /// Adds an inventory status (three are seeded: [`GOOD`](super::GOOD),
    /// [`QUARANTINE`](super::QUARANTINE), [`DAMAGED`](super::DAMAGED)).
    pub fn add_inventory_status(&self, name: &str) -> Result<InternalId, SimError> {
        self.create_record(RecordType::InventoryStatus, json!({"name": name}))
    }

    /// Adds an item.
    pub fn add_item(&self, item: NewItem) -> Result<InternalId, SimError> {
        let mut body = json!({"itemId": item.sku});
        if let Some(v) = item.display_name {
            body["displayName"] = json!(v);
        }
        if let Some(v) = item.upc {
            body["upcCode"] = json!(v);
        }
        if let Some(v) = item.external_id {
            body["externalId"] = json!(v);
        }
        self.create_record(item.kind.record_type(), body)
    }

    /// Sets an item's average cost (`averageCost` on the record, `item.averagecost` in SuiteQL),
    /// or clears it with `None`. Returns `false` when the item does not exist.
    pub fn set_average_cost(&self, item: InternalId, cost: Option<Decimal>) -> bool {
        self.state().set_average_cost(item.0, cost)
    }

    /// Sets an item's average cost at one location (`averagecostmli` of SuiteQL
    /// `inventoryitemlocations`, kept where the account costs per location), or clears it with
    /// `None`.
    pub fn set_location_average_cost(
        &self,
        item: InternalId,
        location: InternalId,
        cost: Option<Decimal>,
    ) {
        let mut state = self.state();
        match cost {
            Some(cost) => state.location_costs.insert((item.0, location.0), cost),
            None => state.location_costs.remove(&(item.0, location.0)),
        };
    }

    /// Sets on-hand of a plain item (no lot) directly, without a transaction.
    pub fn set_on_hand(
        &self,
        item: InternalId,
        location: InternalId,
        status: InternalId,
        quantity: Decimal,
    ) {
        self.set_balance(item, location, status, None, quantity);
    }

    /// Sets on-hand of one lot or serial number of an item (created if new), without a transaction.
    pub fn set_lot_on_hand(
        &self,
        item: InternalId,
        number: &str,
        location: InternalId,
        status: InternalId,
        quantity: Decimal,
    ) -> Result<InternalId, SimError> {
        let existing = self.state().find_inventory_number(item.0, number);
        let lot = match existing {
            Some(id) => InternalId(id),
            None => self.create_record(
                RecordType::InventoryNumber,
                json!({"inventoryNumber": number, "item": {"id": item.0.to_string()}}),
            )?,
        };
        self.set_balance(item, location, status, Some(lot.0), quantity);
        Ok(lot)
    }

    fn set_balance(
        &self,
        item: InternalId,
        location: InternalId,
        status: InternalId,
        lot: Option<u64>,
        quantity: Decimal,
    ) {
        let key = BalanceKey {
            item: item.0,
            location: location.0,
            status: status.0,
            inventory_number: lot,
        };
        let mut state = self.state();
        if quantity.is_zero() {
            state.balances.remove(&key);
        } else {
            state.balances.insert(key, quantity);
        }
    }

    /// Adds an order (sales order, purchase order or return authorisation).
    pub fn add_order(&self, kind: OrderKind, order: NewOrder) -> Result<InternalId, SimError> {
        let lines: Vec<Value> = order
            .lines
            .iter()
            .map(|l| {
                let mut line = json!({"item": {"id": l.item.to_string()}, "quantity": decimal_to_json(l.quantity)});
                if let Some(loc) = l.location {
                    line["location"] = json!({"id": loc.to_string()});
                }
                line
            })
            .collect();
        let mut body = json!({"item": {"items": lines}});
        if let Some(v) = order.external_id {
            body["externalId"] = json!(v);
        }
        if let Some(v) = order.tran_id {
            body["tranId"] = json!(v);
        }
        if let Some(v) = order.entity {
            body["entity"] = json!({"id": v.to_string()});
        }
        if let Some(v) = order.location {
            body["location"] = json!({"id": v.to_string()});
        }
        if order.pending_approval {
            body["orderStatus"] = json!({"id": "A"});
        }
        self.create_record(kind.record_type(), body)
    }

    /// Cancels an order (status C; a purchase order is closed instead, it has no cancelled state).
    pub fn cancel_order(&self, kind: OrderKind, id: InternalId) -> Result<(), SimError> {
        let code = if kind == OrderKind::PurchaseOrder {
            "H"
        } else {
            "C"
        };
        self.state()
            .set_order_status(kind.record_type(), id.0, code)
            .map_err(rejected)
    }

    /// Closes an order and all its lines (status H).
    pub fn close_order(&self, kind: OrderKind, id: InternalId) -> Result<(), SimError> {
        self.state()
            .set_order_status(kind.record_type(), id.0, "H")
            .map_err(rejected)
    }

    /// The order's status letter (e.g. `B` pending fulfilment/receipt, `E` partial, `F` done).
    pub fn order_status(&self, kind: OrderKind, id: InternalId) -> Option<String> {
        let state = self.state();
        let body = &state.get(kind.record_type(), id.0)?.body;
        body.get("status")?.get("id")?.as_str().map(str::to_string)
    }

    /// The order's lines with their processed quantities.
    pub fn order_lines(&self, kind: OrderKind, id: InternalId) -> Vec<OrderLineState> {
        let field = if kind == OrderKind::SalesOrder {
            "quantityFulfilled"
        } else {
            "quantityReceived"
        };
        let state = self.state();
        let Some(lines) = state.sublist(kind.record_type(), id.0, "item") else {
            return Vec::new();
        };
        lines
            .iter()
            .map(|l| OrderLineState {
                line: l.get("line").and_then(id_from_json).unwrap_or_default(),
                item: InternalId(
                    l.get("item")
                        .and_then(|i| i.get("id"))
                        .and_then(id_from_json)
                        .unwrap_or_default(),
                ),
                quantity: l
                    .get("quantity")
                    .and_then(decimal_from_json)
                    .unwrap_or_default(),
                processed: l.get(field).and_then(decimal_from_json).unwrap_or_default(),
                closed: l.get("isClosed").and_then(Value::as_bool).unwrap_or(false),
            })
            .collect()
    }

    /// On-hand of an item at a location in a status (all lots together).
    pub fn on_hand(&self, item: InternalId, location: InternalId, status: InternalId) -> Decimal {
        self.state()
            .balances
            .iter()
            .filter(|(k, _)| k.item == item.0 && k.location == location.0 && k.status == status.0)
            .map(|(_, q)| *q)
            .sum()
    }

    /// Every non-zero on-hand balance per item × location × status (lots summed).
    pub fn on_hand_totals(&self) -> BTreeMap<OnHandKey, Decimal> {
        let mut out: BTreeMap<OnHandKey, Decimal> = BTreeMap::new();
        for (k, q) in &self.state().balances {
            let key = OnHandKey {
                item: InternalId(k.item),
                location: InternalId(k.location),
                status: InternalId(k.status),
            };
            *out.entry(key).or_default() += *q;
        }
        out.retain(|_, q| !q.is_zero());
        out
    }

    /// On-hand of one lot or serial number of an item, across locations and statuses.
    pub fn lot_on_hand(&self, item: InternalId, number: &str) -> Decimal {
        let state = self.state();
        let Some(lot) = state.find_inventory_number(item.0, number) else {
            return Decimal::ZERO;
        };
        state
            .balances
            .iter()
            .filter(|(k, _)| k.inventory_number == Some(lot))
            .map(|(_, q)| *q)
            .sum()
    }

    /// A record as `GET ?expandSubResources=true` answers it.
    pub fn record(&self, record: RecordType, id: InternalId) -> Option<Value> {
        let base = format!("{}/services/rest", self.shared.base_url);
        self.state().render(record, id.0, &base, true, None)
    }

    /// Every record of a type, expanded, in id order.
    pub fn records(&self, record: RecordType) -> Vec<Value> {
        let base = format!("{}/services/rest", self.shared.base_url);
        let state = self.state();
        let ids: Vec<u64> = state
            .records
            .get(&record)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default();
        ids.into_iter()
            .filter_map(|id| state.render(record, id, &base, true, None))
            .collect()
    }

    /// The number of records of a type.
    pub fn count(&self, record: RecordType) -> usize {
        self.state().records.get(&record).map_or(0, |m| m.len())
    }

    /// The record of a type with this external id.
    pub fn find_by_external_id(&self, record: RecordType, external_id: &str) -> Option<InternalId> {
        self.state()
            .find_external(record, external_id)
            .map(InternalId)
    }

    /// How many transactions (of any type) carry this external id.
    pub fn count_transactions_with_external_id(&self, external_id: &str) -> usize {
        self.state()
            .records
            .iter()
            .filter(|(t, _)| t.is_transaction())
            .flat_map(|(_, m)| m.values())
            .filter(|s| s.body.get("externalId").and_then(Value::as_str) == Some(external_id))
            .count()
    }

    /// External ids that appear on more than one transaction of the same type (should be none).
    pub fn duplicate_external_ids(&self) -> Vec<(RecordType, String)> {
        let state = self.state();
        let mut seen: HashMap<(RecordType, String), usize> = HashMap::new();
        for (t, m) in state.records.iter().filter(|(t, _)| t.is_transaction()) {
            for s in m.values() {
                if let Some(ext) = s.body.get("externalId").and_then(Value::as_str) {
                    *seen.entry((*t, ext.to_string())).or_default() += 1;
                }
            }
        }
        let mut out: Vec<_> = seen
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(k, _)| k)
            .collect();
        out.sort();
        out
    }

    /// Queues a fault for the next write request (record create/update/delete or transform).
    pub fn inject_fault(&self, fault: Fault) {
        self.shared.governor.script(fault);
    }

    /// Replaces the random fault rates.
    pub fn set_faults(&self, faults: FaultRates) {
        self.shared.governor.set_faults(faults);
    }

    /// Replaces the latency.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.governor.set_latency(latency);
    }

    /// Counters of the governance layer (requests, 429s, faults, peak concurrency).
    pub fn stats(&self) -> GovernanceStats {
        self.shared.governor.stats()
    }

    /// Governed requests received so far, by kind (what a posting costs, apart from polling).
    pub fn request_counts(&self) -> RequestCounts {
        self.shared.traffic.snapshot()
    }

    /// Invalidates every issued access token (the next request answers 401).
    pub fn revoke_tokens(&self) {
        lock(&self.shared.tokens).clear();
    }
}
