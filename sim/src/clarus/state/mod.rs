//! The Clarus simulator's data: reference data, products, stock records, goods outs, goods-in
//! receipts, shipments, automations and stock checks, plus the operations that change them.
//!
//! Every operation validates first and mutates after, and answers the webhook events it caused.
//! The records are in `records`; the operations are `impl State` blocks, one module a concern:
//! `products`, `stock` (put-away, holds, adjustments, balances, stock checks), `movements`
//! (`stock` events and the transaction log), `goods_in`, `goods_out`, `fulfilment` (allocate,
//! short, pick, despatch), `pick_lists`, `shipments` and `automations`, with the `*_changes`
//! edits of REST writes in `changes`.

mod automations;
mod changes;
mod fulfilment;
mod goods_in;
mod goods_out;
mod movements;
mod pick_lists;
mod products;
mod records;
mod shipments;
mod stock;

pub(crate) use records::{
    Automation, AutomationAction, ClarusError, Event, GoodsIn, GoodsInLine, GoodsOut, GoodsOutLine,
    Named, Package, Pick, PickList, Placement, Product, Received, Shipment, Stock, StockCheck,
};
pub use records::{ClarusId, GoodsOutStatus, StockStatus};

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::index::{SlotIndex, TransactionLog, ValueIndex};
use crate::json::{decimal_from_json, id_from_json};

/// What stock records without serial numbers share: product, owner, location, status, batch.
type StockSlot = (u64, u64, u64, StockStatus, Option<String>);

/// Everything the simulator holds, behind its one lock.
pub(crate) struct State {
    next_id: u64,
    pub accounts: BTreeMap<u64, Named>,
    pub warehouses: BTreeMap<u64, Named>,
    pub locations: BTreeMap<u64, Named>,
    pub carriers: BTreeMap<u64, Named>,
    pub products: BTreeMap<u64, Product>,
    pub stocks: BTreeMap<u64, Stock>,
    pub goods_outs: BTreeMap<u64, GoodsOut>,
    pub goods_ins: BTreeMap<u64, GoodsIn>,
    pub shipments: BTreeMap<u64, Shipment>,
    pub pick_lists: BTreeMap<u64, PickList>,
    next_pick_list: u64,
    pub automations: BTreeMap<u64, Automation>,
    pub stock_checks: BTreeMap<u64, StockCheck>,
    /// Pick processing requests, in order (the `pick_processing_requests` GraphQL root).
    pub pick_requests: Vec<Value>,
    /// Every stock movement, in order (the `transactions` GraphQL root).
    pub transactions: TransactionLog,
    /// Goods outs by `reference`.
    pub goods_out_refs: ValueIndex,
    /// Goods outs neither completed nor cancelled (the only ones with stock ordered or picked).
    pub open_goods_outs: BTreeSet<u64>,
    /// Goods outs that may hold allocations (allocated or part-allocated, not yet picked).
    pub holding: BTreeSet<u64>,
    /// Stock records without a serial number by product, owner, location, status and batch.
    stock_slots: SlotIndex<StockSlot>,
    /// The open pick list of each goods out that has one.
    open_pick_lists: HashMap<u64, u64>,
    /// Goods-in receipts by `reference`.
    pub goods_in_refs: ValueIndex,
}

fn now() -> Timestamp {
    Timestamp::now()
}

fn dec(value: Option<&Value>) -> Option<Decimal> {
    value.and_then(decimal_from_json)
}

fn id_attr(attrs: &Map<String, Value>, key: &str) -> Option<u64> {
    attrs.get(key).and_then(id_from_json)
}

/// Attributes with the record's `id`.
fn with_id(attrs: &Map<String, Value>, id: u64) -> Map<String, Value> {
    let mut out = attrs.clone();
    out.insert("id".into(), json!(id));
    out
}

/// A record's REST rendering: its attributes with `id`, `created_at` and `updated_at`.
fn stamped(
    attrs: &Map<String, Value>,
    id: u64,
    created: Timestamp,
    updated: Timestamp,
) -> Map<String, Value> {
    let mut out = with_id(attrs, id);
    out.insert("created_at".into(), json!(created.to_string()));
    out.insert("updated_at".into(), json!(updated.to_string()));
    out
}

fn merge(into: &mut Map<String, Value>, from: Map<String, Value>, skip: &[&str]) {
    for (k, v) in from {
        if !skip.contains(&k.as_str()) {
            into.insert(k, v);
        }
    }
}

impl State {
    pub(crate) fn new() -> Self {
        let mut state = Self {
            next_id: 1000,
            accounts: BTreeMap::new(),
            warehouses: BTreeMap::new(),
            locations: BTreeMap::new(),
            carriers: BTreeMap::new(),
            products: BTreeMap::new(),
            stocks: BTreeMap::new(),
            goods_outs: BTreeMap::new(),
            goods_ins: BTreeMap::new(),
            shipments: BTreeMap::new(),
            pick_lists: BTreeMap::new(),
            next_pick_list: 0,
            automations: BTreeMap::new(),
            stock_checks: BTreeMap::new(),
            pick_requests: Vec::new(),
            transactions: TransactionLog::default(),
            goods_out_refs: ValueIndex::default(),
            open_goods_outs: BTreeSet::new(),
            open_pick_lists: HashMap::new(),
            holding: BTreeSet::new(),
            stock_slots: SlotIndex::default(),
            goods_in_refs: ValueIndex::default(),
        };
        state
            .accounts
            .insert(1, Named::new("ACME", "Acme Corporation", None));
        state
            .warehouses
            .insert(1, Named::new("WH1", "Main Warehouse", None));
        state
            .locations
            .insert(1, Named::new("WH1-GOODSIN", "Goods in", Some(1)));
        state
            .locations
            .insert(2, Named::new("WH1-A-01", "Aisle A bay 1", Some(1)));
        state.carriers.insert(1, Named::new("DPD", "DPD", None));
        state.carriers.insert(2, Named::new("UPS", "UPS", None));
        state
    }

    pub(crate) fn allocate_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Adds a reference record (account, warehouse, location or carrier) to the map `of`
    /// chooses, under a new id.
    pub(crate) fn add_named(
        &mut self,
        of: impl FnOnce(&mut Self) -> &mut BTreeMap<u64, Named>,
        named: Named,
    ) -> u64 {
        let id = self.allocate_id();
        of(self).insert(id, named);
        id
    }

    fn named_ref(map: &BTreeMap<u64, Named>, id: u64) -> Value {
        match map.get(&id) {
            Some(n) => json!({"id": id.to_string(), "code": n.code, "name": n.name}),
            None => json!({"id": id.to_string()}),
        }
    }

    pub(crate) fn product_code(&self, id: u64) -> Option<String> {
        self.products
            .get(&id)?
            .attrs
            .get("code")
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// An order line's rendering: its attributes with `id`, `product_id` and `product_code`.
    fn line_json(&self, attrs: &Map<String, Value>, id: u64, product: u64) -> Map<String, Value> {
        let mut line = with_id(attrs, id);
        line.insert("product_id".into(), json!(product));
        line.insert("product_code".into(), json!(self.product_code(product)));
        line
    }

    fn product_ref(&self, id: u64) -> Value {
        json!({"id": id.to_string(), "code": self.product_code(id)})
    }

    fn require_product(&self, id: Option<u64>, source: &str) -> Result<u64, ClarusError> {
        match id {
            Some(id) if self.products.contains_key(&id) => Ok(id),
            Some(id) => Err(ClarusError::unprocessable(
                905,
                "product_not_found",
                format!("Product {id} does not exist"),
            )
            .at(source.to_string())),
            None => Err(ClarusError::unprocessable(
                906,
                "product_id_required",
                "product_id is required",
            )
            .at(source.to_string())),
        }
    }

    /// Refuses a goods out or receipt whose `account_id` or `warehouse_id` is missing or unknown.
    fn require_owner_and_warehouse(&self, attrs: &Map<String, Value>) -> Result<(), ClarusError> {
        require_reference(attrs, "account_id", &self.accounts, "account_not_found")?;
        require_reference(
            attrs,
            "warehouse_id",
            &self.warehouses,
            "warehouse_not_found",
        )?;
        Ok(())
    }

    /// The location stock is put away to in a warehouse (the first one after goods-in).
    pub(crate) fn default_location(&self, warehouse: u64) -> Option<u64> {
        let mut in_warehouse = self
            .locations
            .iter()
            .filter(|(_, l)| l.warehouse == Some(warehouse))
            .map(|(id, _)| *id);
        let first = in_warehouse.next();
        in_warehouse.next().or(first)
    }
}

/// The id under `key` in `attrs`, refused (with `symbol`) when missing or not in `map`.
fn require_reference(
    attrs: &Map<String, Value>,
    key: &str,
    map: &BTreeMap<u64, Named>,
    symbol: &'static str,
) -> Result<u64, ClarusError> {
    match id_attr(attrs, key) {
        Some(id) if map.contains_key(&id) => Ok(id),
        Some(id) => {
            Err(
                ClarusError::unprocessable(907, symbol, format!("{key} {id} does not exist"))
                    .at(format!("/data/attributes/{key}")),
            )
        }
        None => Err(
            ClarusError::unprocessable(908, symbol, format!("{key} is required"))
                .at(format!("/data/attributes/{key}")),
        ),
    }
}
