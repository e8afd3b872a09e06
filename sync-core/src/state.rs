//! What is already known: the read-only view the planner reads, the changes it asks to record,
//! and an in-memory implementation that applies them.
//!
//! The engine implements [`StateView`] over its ledger (or loads the records an event needs into
//! a [`MemoryState`]) and records the [`StateChange`]s and actions of each [`Plan`] together,
//! atomically.

use crate::document::DocumentRef;
use crate::event::{Revision, SourceId};
use crate::exception::Exception;
use crate::ids::{LineNo, NetSuiteId, Sku};
use crate::item::{ClarusProduct, Item};
use crate::key::IdempotencyKey;
use crate::order::{Order, OrderRef};
use rust_decimal::Decimal;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

/// An item with the revision it was last recorded at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownItem {
    /// The item.
    pub item: Item,
    /// Its revision.
    pub revision: Revision,
}

/// A quantity on one order line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineQuantity {
    /// NetSuite line.
    pub line: LineNo,
    /// Quantity.
    pub quantity: Decimal,
}

/// An order with what this integration has done with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    /// The newest version of the order.
    pub order: Order,
    /// Its revision.
    pub revision: Revision,
    /// Quantities this integration planned to post (fulfilments or receipts), per line.
    pub posted: Vec<LineQuantity>,
    /// SKUs the order waits for; empty when not held.
    pub held_for: Vec<Sku>,
}

impl OrderState {
    /// A newly known order.
    pub fn new(order: Order, revision: Revision) -> Self {
        Self {
            order,
            revision,
            posted: Vec::new(),
            held_for: Vec::new(),
        }
    }

    /// Quantity this integration planned to post on `line`.
    pub fn posted(&self, line: LineNo) -> Decimal {
        self.posted
            .iter()
            .filter(|p| p.line == line)
            .map(|p| p.quantity)
            .sum()
    }

    /// What may still be posted on `line`: ordered minus the larger of NetSuite's own figure and
    /// what this integration posted (either may lag the other). `None` if there is no such line.
    pub fn open_quantity(&self, line: LineNo) -> Option<Decimal> {
        let order_line = self.order.line(line)?;
        if order_line.closed {
            return Some(Decimal::ZERO);
        }
        let done = order_line.quantity_done.max(self.posted(line));
        Some((order_line.quantity - done).max(Decimal::ZERO))
    }

    /// Open in NetSuite with something still to ship or receive on some line: the warehouse
    /// may yet report on it, so a lost warehouse webhook about it is still worth looking for.
    pub fn awaits_warehouse(&self) -> bool {
        self.order.status == crate::OrderStatus::Open
            && self.order.lines.iter().any(|l| {
                self.open_quantity(l.line)
                    .is_some_and(|q| q > Decimal::ZERO)
            })
    }
}

/// A change to what is known, returned by the planner with its actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum StateChange {
    /// The event was planned completely; a redelivery plans nothing.
    EventSeen(SourceId),
    /// An item is known at this revision.
    ItemKnown(KnownItem),
    /// A Clarus product is known.
    ProductKnown(ClarusProduct),
    /// An order is known at this revision (what was posted and held stays).
    OrderKnown {
        /// The order.
        order: Order,
        /// Its revision.
        revision: Revision,
    },
    /// An order waits for unknown SKUs.
    OrderHeld {
        /// The order.
        order: OrderRef,
        /// The SKUs it waits for.
        missing: Vec<Sku>,
    },
    /// An order no longer waits.
    OrderReleased {
        /// The order.
        order: OrderRef,
    },
    /// Quantities planned to be posted on an order's lines (added to what was posted).
    Posted {
        /// The order.
        order: OrderRef,
        /// Quantities per line.
        lines: Vec<LineQuantity>,
    },
}

/// What the planner may read. Implementations answer from what was recorded: the changes and
/// actions of earlier plans, and exceptions resolved by people since.
pub trait StateView {
    /// Whether an event with this source identity was planned completely.
    fn is_event_seen(&self, source: &SourceId) -> bool;
    /// Whether an action with this key was planned.
    fn is_planned(&self, key: &IdempotencyKey) -> bool;
    /// Whether the exception with this key is open.
    fn is_exception_open(&self, key: &IdempotencyKey) -> bool;
    /// Whether any exception about this document is open.
    fn has_open_exceptions(&self, document: &DocumentRef) -> bool;
    /// The item with this SKU.
    fn item(&self, sku: &Sku) -> Option<&KnownItem>;
    /// The item with this NetSuite internal id.
    fn item_by_id(&self, id: &NetSuiteId) -> Option<&KnownItem>;
    /// The Clarus product with this code.
    fn product(&self, sku: &Sku) -> Option<&ClarusProduct>;
    /// The order.
    fn order(&self, order: &OrderRef) -> Option<&OrderState>;
    /// Orders held because they wait for this SKU.
    fn orders_held_for(&self, sku: &Sku) -> Vec<OrderRef>;
}

/// An in-memory [`StateView`] that applies plans: the model the property tests check, and a
/// cache the engine can fill from its ledger.
///
/// It serialises (every field, maps as lists of pairs since their keys are not all strings), so
/// that the engine can save it as a snapshot and load it instead of applying every plan again;
/// a state read back equals the one written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryState {
    seen: FxHashSet<SourceId>,
    planned: FxHashSet<IdempotencyKey>,
    #[serde(with = "pairs")]
    open_exceptions: FxHashMap<IdempotencyKey, Exception>,
    #[serde(with = "pairs")]
    exceptions_by_document: FxHashMap<DocumentRef, u32>,
    #[serde(with = "pairs")]
    items: FxHashMap<Sku, KnownItem>,
    #[serde(with = "pairs")]
    sku_by_item: FxHashMap<NetSuiteId, Sku>,
    #[serde(with = "pairs")]
    products: FxHashMap<Sku, ClarusProduct>,
    #[serde(with = "pairs")]
    orders: FxHashMap<OrderRef, OrderState>,
    #[serde(with = "pairs")]
    held: FxHashMap<Sku, Vec<OrderRef>>,
}

/// A map as a sequence of `[key, value]` pairs: JSON object keys must be strings, and an order
/// or a document reference is not one.
mod pairs {
    use std::hash::{BuildHasher, Hash};

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<K, V, H, S>(
        map: &std::collections::HashMap<K, V, H>,
        serializer: S,
    ) -> Result<S::Ok, S::Error>
    where
        K: Serialize,
        V: Serialize,
        S: Serializer,
    {
        serializer.collect_seq(map.iter())
    }

    pub(super) fn deserialize<'de, K, V, H, D>(
        deserializer: D,
    ) -> Result<std::collections::HashMap<K, V, H>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        let pairs = Vec::<(K, V)>::deserialize(deserializer)?;
        Ok(pairs.into_iter().collect())
    }
}

impl MemoryState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one change.
    pub fn apply_change(&mut self, change: &StateChange) {
        match change {
            StateChange::EventSeen(source) => {
                self.seen.insert(source.clone());
            }
            StateChange::ItemKnown(known) => {
                let id = known.item.netsuite_id.clone();
                if let Some(old_sku) = self.sku_by_item.insert(id, known.item.sku.clone())
                    && old_sku != known.item.sku
                {
                    self.items.remove(&old_sku);
                }
                self.items.insert(known.item.sku.clone(), known.clone());
            }
            StateChange::ProductKnown(product) => {
                self.products.insert(product.sku.clone(), product.clone());
            }
            StateChange::OrderKnown { order, revision } => {
                match self.orders.get_mut(&order.order) {
                    Some(state) => {
                        state.order = order.clone();
                        state.revision = *revision;
                    }
                    None => {
                        self.orders.insert(
                            order.order.clone(),
                            OrderState::new(order.clone(), *revision),
                        );
                    }
                }
            }
            StateChange::OrderHeld { order, missing } => {
                self.unindex_held(order);
                for sku in missing {
                    self.held
                        .entry(sku.clone())
                        .or_default()
                        .push(order.clone());
                }
                if let Some(state) = self.orders.get_mut(order) {
                    state.held_for = missing.clone();
                }
            }
            StateChange::OrderReleased { order } => {
                self.unindex_held(order);
                if let Some(state) = self.orders.get_mut(order) {
                    state.held_for.clear();
                }
            }
            StateChange::Posted { order, lines } => {
                if let Some(state) = self.orders.get_mut(order) {
                    state.posted.extend_from_slice(lines);
                }
            }
        }
    }

    /// Records that an action with this key was planned (when loading from storage).
    pub fn record_planned(&mut self, key: IdempotencyKey) {
        self.planned.insert(key);
    }

    /// Records that an event was planned completely (when loading from storage).
    pub fn record_seen(&mut self, source: SourceId) {
        self.seen.insert(source);
    }

    /// Opens an exception (also used when loading open exceptions from storage).
    pub fn open_exception(&mut self, exception: Exception) {
        let key = exception.key.clone();
        let document = exception.document.clone();
        if self.open_exceptions.insert(key, exception).is_none() {
            *self.exceptions_by_document.entry(document).or_insert(0) += 1;
        }
    }

    /// Resolves an exception (for example when a person resolved it). Returns it if it was open.
    pub fn resolve_exception(&mut self, key: &IdempotencyKey) -> Option<Exception> {
        let exception = self.open_exceptions.remove(key)?;
        if let Some(count) = self.exceptions_by_document.get_mut(&exception.document) {
            *count -= 1;
            if *count == 0 {
                self.exceptions_by_document.remove(&exception.document);
            }
        }
        Some(exception)
    }

    /// Every order known, in no particular order.
    pub fn orders(&self) -> impl Iterator<Item = &OrderState> {
        self.orders.values()
    }

    /// Open exceptions, in no particular order.
    pub fn open_exceptions(&self) -> impl Iterator<Item = &Exception> {
        self.open_exceptions.values()
    }

    fn unindex_held(&mut self, order: &OrderRef) {
        let Some(state) = self.orders.get(order) else {
            return;
        };
        for sku in &state.held_for {
            if let Some(orders) = self.held.get_mut(sku) {
                orders.retain(|o| o != order);
                if orders.is_empty() {
                    self.held.remove(sku);
                }
            }
        }
    }
}

impl StateView for MemoryState {
    fn is_event_seen(&self, source: &SourceId) -> bool {
        self.seen.contains(source)
    }

    fn is_planned(&self, key: &IdempotencyKey) -> bool {
        self.planned.contains(key)
    }

    fn is_exception_open(&self, key: &IdempotencyKey) -> bool {
        self.open_exceptions.contains_key(key)
    }

    fn has_open_exceptions(&self, document: &DocumentRef) -> bool {
        self.exceptions_by_document.contains_key(document)
    }

    fn item(&self, sku: &Sku) -> Option<&KnownItem> {
        self.items.get(sku)
    }

    fn item_by_id(&self, id: &NetSuiteId) -> Option<&KnownItem> {
        self.sku_by_item.get(id).and_then(|sku| self.items.get(sku))
    }

    fn product(&self, sku: &Sku) -> Option<&ClarusProduct> {
        self.products.get(sku)
    }

    fn order(&self, order: &OrderRef) -> Option<&OrderState> {
        self.orders.get(order)
    }

    fn orders_held_for(&self, sku: &Sku) -> Vec<OrderRef> {
        let mut orders = self.held.get(sku).cloned().unwrap_or_default();
        orders.sort();
        orders
    }
}
