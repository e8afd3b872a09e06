//! The Clarus simulator's data: reference data, products, stock records, goods outs, goods-in
//! receipts, shipments, automations and stock checks, plus the operations that change them.
//!
//! Every operation validates first and mutates after, and answers the webhook events it caused.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::index::{SlotIndex, TransactionLog, ValueIndex};

/// What stock records without serial numbers share: product, owner, location, status, batch.
type StockSlot = (u64, u64, u64, StockStatus, Option<String>);
use crate::json::{decimal_from_json, decimal_to_json, id_from_json};

/// A Clarus record id (an integer in REST, a string in GraphQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClarusId(pub u64);

impl std::fmt::Display for ClarusId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Stock status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StockStatus {
    /// Available for allocation.
    Available,
    /// On hold (quarantine): stays where it is but cannot be allocated.
    Held,
}

impl StockStatus {
    /// The wire value, `available` or `held`.
    pub fn as_str(self) -> &'static str {
        match self {
            StockStatus::Available => "available",
            StockStatus::Held => "held",
        }
    }
}

/// The default goods-out statuses (`GoodsOutStatusId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoodsOutStatus {
    /// 1 DRAFT.
    Draft,
    /// 2 PENDING, awaiting allocation.
    Pending,
    /// 3 PICK, being picked.
    Pick,
    /// 5 ALLOCATED.
    Allocated,
    /// 6 COMPLETED, dispatched.
    Completed,
    /// 7 PART_ALLOCATED.
    PartAllocated,
    /// 8 CANCELLED.
    Cancelled,
}

impl GoodsOutStatus {
    /// The numeric status id.
    pub fn id(self) -> u64 {
        match self {
            GoodsOutStatus::Draft => 1,
            GoodsOutStatus::Pending => 2,
            GoodsOutStatus::Pick => 3,
            GoodsOutStatus::Allocated => 5,
            GoodsOutStatus::Completed => 6,
            GoodsOutStatus::PartAllocated => 7,
            GoodsOutStatus::Cancelled => 8,
        }
    }

    /// The status code, e.g. `COMPLETED`.
    pub fn code(self) -> &'static str {
        match self {
            GoodsOutStatus::Draft => "DRAFT",
            GoodsOutStatus::Pending => "PENDING",
            GoodsOutStatus::Pick => "PICK",
            GoodsOutStatus::Allocated => "ALLOCATED",
            GoodsOutStatus::Completed => "COMPLETED",
            GoodsOutStatus::PartAllocated => "PART_ALLOCATED",
            GoodsOutStatus::Cancelled => "CANCELLED",
        }
    }

    fn name(self) -> &'static str {
        match self {
            GoodsOutStatus::Draft => "Draft",
            GoodsOutStatus::Pending => "Pending",
            GoodsOutStatus::Pick => "Pick",
            GoodsOutStatus::Allocated => "Allocated",
            GoodsOutStatus::Completed => "Completed",
            GoodsOutStatus::PartAllocated => "Part Allocated",
            GoodsOutStatus::Cancelled => "Cancelled",
        }
    }
}

/// An error answered as `{"errors":[{code, symbol, details, source?}]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClarusError {
    pub status: u16,
    pub code: u32,
    pub symbol: &'static str,
    pub details: String,
    pub source: Option<String>,
}

impl ClarusError {
    pub(crate) fn unprocessable(
        code: u32,
        symbol: &'static str,
        details: impl Into<String>,
    ) -> Self {
        Self {
            status: 422,
            code,
            symbol,
            details: details.into(),
            source: None,
        }
    }

    pub(crate) fn not_found(what: &str, id: u64) -> Self {
        Self {
            status: 404,
            code: 904,
            symbol: "record_not_found",
            details: format!("{what} {id} not found"),
            source: None,
        }
    }

    pub(crate) fn at(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }
}

/// A webhook-worthy event: resource name, event name and the full record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub resource: &'static str,
    pub event: &'static str,
    pub record: Value,
}

#[derive(Debug, Clone)]
pub(crate) struct Named {
    pub code: String,
    pub name: String,
    pub warehouse: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub attrs: Map<String, Value>,
    pub created: Timestamp,
    pub updated: Timestamp,
}

#[derive(Debug, Clone)]
pub(crate) struct Stock {
    pub product: u64,
    pub account: u64,
    pub warehouse: u64,
    pub location: u64,
    pub status: StockStatus,
    pub quantity: Decimal,
    pub batch: Option<String>,
    pub serial: Option<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// Where stock is put: product, owner, location, status and batch/serial.
#[derive(Debug, Clone)]
pub(crate) struct Placement {
    pub product: u64,
    pub account: u64,
    pub location: u64,
    pub status: StockStatus,
    pub batch: Option<String>,
    pub serial: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Pick {
    pub stock: u64,
    pub quantity: Decimal,
    pub batch: Option<String>,
    pub serial: Option<String>,
    pub location: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct GoodsOutLine {
    pub id: u64,
    pub product: u64,
    pub order_quantity: Decimal,
    pub allocations: Vec<(u64, Decimal)>,
    pub picks: Vec<Pick>,
    pub dispatch_quantity: Decimal,
    pub short_status: String,
    pub attrs: Map<String, Value>,
    pub created: Timestamp,
}

impl GoodsOutLine {
    pub(crate) fn allocated(&self) -> Decimal {
        self.allocations.iter().map(|(_, q)| *q).sum::<Decimal>() + self.picked()
    }

    pub(crate) fn picked(&self) -> Decimal {
        self.picks.iter().map(|p| p.quantity).sum()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct GoodsOut {
    pub attrs: Map<String, Value>,
    pub address: Option<Value>,
    pub status: GoodsOutStatus,
    pub lines: Vec<GoodsOutLine>,
    pub shipments: Vec<u64>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub dispatched: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub stock: u64,
    pub quantity: Decimal,
    pub batch: Option<String>,
    pub serial: Option<String>,
    pub status: StockStatus,
}

#[derive(Debug, Clone)]
pub(crate) struct GoodsInLine {
    pub id: u64,
    pub product: u64,
    pub expected: Decimal,
    pub received: Vec<Received>,
    pub attrs: Map<String, Value>,
}

impl GoodsInLine {
    pub(crate) fn received_quantity(&self) -> Decimal {
        self.received.iter().map(|r| r.quantity).sum()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct GoodsIn {
    pub attrs: Map<String, Value>,
    pub address: Option<Value>,
    pub status: String,
    pub lines: Vec<GoodsInLine>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub received_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub id: u64,
    pub tracking_number: Option<String>,
    pub attrs: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub(crate) struct Shipment {
    pub goods_out: u64,
    pub attrs: Map<String, Value>,
    pub status: String,
    pub tracking_number: Option<String>,
    pub packages: Vec<Package>,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// A pick list: the picking work of one or more goods outs. Processing picks opens one per
/// goods out; picking marks it `picked`; despatch `completed`; cancelling the goods out
/// `cancelled`. Pick lists have their own id sequence, as each Clarus table does.
#[derive(Debug, Clone)]
pub(crate) struct PickList {
    pub goods_outs: Vec<u64>,
    pub account: u64,
    pub warehouse: u64,
    pub status: &'static str,
    pub created: Timestamp,
    pub updated: Timestamp,
}

#[derive(Debug, Clone)]
pub(crate) struct AutomationAction {
    pub id: u64,
    pub attrs: Map<String, Value>,
    pub parameters: Vec<(u64, Map<String, Value>)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Automation {
    pub resource_name: String,
    pub event: String,
    pub name: Option<String>,
    pub enabled: bool,
    pub conditions: Vec<(u64, Map<String, Value>)>,
    pub actions: Vec<AutomationAction>,
}

impl Automation {
    pub(crate) fn parameter(action: &AutomationAction, code: &str) -> Option<String> {
        action.parameters.iter().find_map(|(_, p)| {
            (p.get("parameter_code").and_then(Value::as_str) == Some(code))
                .then(|| p.get("value").and_then(Value::as_str).map(str::to_string))
                .flatten()
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct StockCheck {
    pub location: u64,
    pub status: String,
    pub task: u64,
    pub product: Option<u64>,
    pub expected: Option<Decimal>,
    pub counted: Option<Decimal>,
}

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

fn changes(attrs: &Map<String, Value>, key: &str) -> Vec<Map<String, Value>> {
    attrs
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_object().cloned())
                .collect()
        })
        .unwrap_or_default()
}

fn change_type(change: &Map<String, Value>) -> &str {
    change.get("type").and_then(Value::as_str).unwrap_or("")
}

fn change_attrs(change: &Map<String, Value>) -> Map<String, Value> {
    change
        .get("attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn is_delete(kind: &str) -> bool {
    kind == "DESTROY" || kind == "REMOVE"
}

/// The position of the existing line an `UPDATE` or delete change names by `id`.
fn changed_line<L>(
    lines: &[L],
    id_of: impl Fn(&L) -> u64,
    change: &Map<String, Value>,
    source: &str,
) -> Result<usize, ClarusError> {
    let id = id_from_json(change.get("id").unwrap_or(&Value::Null)).ok_or_else(|| {
        ClarusError::unprocessable(914, "line_id_required", "id is required").at(source)
    })?;
    lines.iter().position(|l| id_of(l) == id).ok_or_else(|| {
        ClarusError::unprocessable(
            37,
            "invalid_ids_provided",
            format!("Line {id} does not exist"),
        )
        .at(source)
    })
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
        let named = |code: &str, name: &str, warehouse: Option<u64>| Named {
            code: code.into(),
            name: name.into(),
            warehouse,
        };
        state
            .accounts
            .insert(1, named("ACME", "Acme Corporation", None));
        state
            .warehouses
            .insert(1, named("WH1", "Main Warehouse", None));
        state
            .locations
            .insert(1, named("WH1-GOODSIN", "Goods in", Some(1)));
        state
            .locations
            .insert(2, named("WH1-A-01", "Aisle A bay 1", Some(1)));
        state.carriers.insert(1, named("DPD", "DPD", None));
        state.carriers.insert(2, named("UPS", "UPS", None));
        state
    }

    pub(crate) fn allocate_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
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

    fn require_reference(
        &self,
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

    // ------------------------------------------------------------------ products

    pub(crate) fn create_product(&mut self, attrs: Map<String, Value>) -> Result<u64, ClarusError> {
        if let Some(code) = attrs.get("code").and_then(Value::as_str)
            && self
                .products
                .values()
                .any(|p| p.attrs.get("code").and_then(Value::as_str) == Some(code))
        {
            return Err(ClarusError::unprocessable(
                901,
                "product_code_exists",
                format!("Product code {code} already exists"),
            )
            .at("/data/attributes/code"));
        }
        let id = self.allocate_id();
        let t = now();
        self.products.insert(
            id,
            Product {
                attrs,
                created: t,
                updated: t,
            },
        );
        Ok(id)
    }

    pub(crate) fn update_product(
        &mut self,
        id: u64,
        attrs: Map<String, Value>,
    ) -> Result<(), ClarusError> {
        if !self.products.contains_key(&id) {
            return Err(ClarusError::not_found("Product", id));
        }
        if let Some(code) = attrs.get("code").and_then(Value::as_str)
            && self.products.iter().any(|(other, p)| {
                *other != id && p.attrs.get("code").and_then(Value::as_str) == Some(code)
            })
        {
            return Err(ClarusError::unprocessable(
                901,
                "product_code_exists",
                format!("Product code {code} already exists"),
            )
            .at("/data/attributes/code"));
        }
        let product = self.products.get_mut(&id).expect("checked");
        merge(&mut product.attrs, attrs, &[]);
        product.updated = now();
        Ok(())
    }

    pub(crate) fn delete_product(&mut self, id: u64) -> Result<(), ClarusError> {
        if !self.products.contains_key(&id) {
            return Err(ClarusError::not_found("Product", id));
        }
        if self
            .stocks
            .values()
            .any(|s| s.product == id && !s.quantity.is_zero())
        {
            return Err(ClarusError::unprocessable(
                909,
                "product_has_stock",
                "Products with stock cannot be deleted",
            ));
        }
        self.products.remove(&id);
        Ok(())
    }

    pub(crate) fn product_json(&self, id: u64) -> Value {
        let Some(p) = self.products.get(&id) else {
            return Value::Null;
        };
        let mut out = p.attrs.clone();
        out.insert("id".into(), json!(id));
        out.entry("product_type").or_insert(json!("single"));
        out.insert("created_at".into(), json!(p.created.to_string()));
        out.insert("updated_at".into(), json!(p.updated.to_string()));
        Value::Object(out)
    }

    // ------------------------------------------------------------------ stock

    /// Quantity of a stock record promised to open goods-out lines.
    fn allocated_on(&self) -> HashMap<u64, Decimal> {
        let mut out: HashMap<u64, Decimal> = HashMap::new();
        for g in self.holding.iter().filter_map(|id| self.goods_outs.get(id)) {
            for l in &g.lines {
                for (stock, q) in &l.allocations {
                    *out.entry(*stock).or_default() += *q;
                }
            }
        }
        out
    }

    /// The goods outs neither completed nor cancelled, in id order.
    pub(crate) fn open_orders(&self) -> impl Iterator<Item = &GoodsOut> {
        self.open_goods_outs
            .iter()
            .filter_map(|id| self.goods_outs.get(id))
    }

    pub(crate) fn free_quantity(&self, stock: u64) -> Decimal {
        let allocated = self.allocated_on().get(&stock).copied().unwrap_or_default();
        self.stocks
            .get(&stock)
            .map_or(Decimal::ZERO, |s| s.quantity - allocated)
    }

    /// Adds stock to a record with the same product, location, status and batch, or a new one.
    pub(crate) fn put_stock(&mut self, at: Placement, quantity: Decimal) -> u64 {
        let Placement {
            product,
            account,
            location,
            status,
            batch,
            serial,
        } = at;
        let warehouse = self
            .locations
            .get(&location)
            .and_then(|l| l.warehouse)
            .unwrap_or(1);
        // Serial-numbered stock is one record per unit; other stock shares the first record
        // with the same product, owner, location, status and batch.
        let slot = (product, account, location, status, batch.clone());
        let existing = if serial.is_none() {
            self.stock_slots.first(&slot)
        } else {
            None
        };
        let t = now();
        match existing {
            Some(id) => {
                let s = self.stocks.get_mut(&id).expect("found");
                s.quantity += quantity;
                s.updated = t;
                id
            }
            None => {
                let id = self.allocate_id();
                if serial.is_none() {
                    self.stock_slots.add(slot, id);
                }
                self.stocks.insert(
                    id,
                    Stock {
                        product,
                        account,
                        warehouse,
                        location,
                        status,
                        quantity,
                        batch,
                        serial,
                        created: t,
                        updated: t,
                    },
                );
                id
            }
        }
    }

    fn take_stock(&mut self, stock: u64, quantity: Decimal) {
        if let Some(s) = self.stocks.get_mut(&stock) {
            s.quantity -= quantity;
            s.updated = now();
        }
    }

    pub(crate) fn stock_json(&self, id: u64) -> Value {
        let Some(s) = self.stocks.get(&id) else {
            return Value::Null;
        };
        json!({
            "id": id,
            "product_id": s.product,
            "product_code": self.product_code(s.product),
            "account_id": s.account,
            "warehouse_id": s.warehouse,
            "location_id": s.location,
            "location_code": self.locations.get(&s.location).map(|l| l.code.clone()),
            "status": s.status.as_str(),
            "quantity": decimal_to_json(s.quantity),
            "batch": s.batch,
            "string1": s.batch,
            "serial_number": s.serial,
            "fifo_date": s.created.to_string(),
            "created_at": s.created.to_string(),
            "updated_at": s.updated.to_string(),
        })
    }

    /// The record sent with a `stock` event: one movement of one stock record.
    pub(crate) fn stock_event(
        &mut self,
        event: &'static str,
        stock: u64,
        quantity: Decimal,
        extra: Value,
    ) -> Event {
        let movement = self.allocate_id();
        let s = self.stocks.get(&stock).cloned();
        let mut record = json!({
            "id": movement,
            "created_at": now().to_string(),
            "stock_id": stock,
            "quantity": decimal_to_json(quantity),
        });
        if let Some(s) = s {
            let extra_fields = json!({
                "new_quantity": decimal_to_json(s.quantity),
                "status": s.status.as_str(),
                "batch": s.batch,
                "serial_number": s.serial,
                "product_id": s.product,
                "account_id": s.account,
                "warehouse_id": s.warehouse,
                "location_id": s.location,
                "product": self.product_ref(s.product),
                "account": Self::named_ref(&self.accounts, s.account),
                "warehouse": Self::named_ref(&self.warehouses, s.warehouse),
                "location": Self::named_ref(&self.locations, s.location),
            });
            merge(
                record.as_object_mut().expect("object"),
                extra_fields.as_object().cloned().unwrap_or_default(),
                &[],
            );
        }
        if let Value::Object(extra) = extra {
            merge(record.as_object_mut().expect("object"), extra, &[]);
        }
        if let Some(reason) = record.get("reason").cloned().filter(Value::is_string) {
            record["reason_code"] = json!({"code": reason});
        }
        record["string1"] = record.get("batch").cloned().unwrap_or(Value::Null);
        self.record_transaction(event, &record);
        Event {
            resource: "stock",
            event,
            record,
        }
    }

    /// Keeps a stock movement for the `transactions` GraphQL root.
    fn record_transaction(&mut self, event: &str, record: &Value) {
        let (subtype, category) = match event {
            "picked" => ("PICK", "outbound"),
            "dispatched" => ("DISP", "outbound"),
            "received" => ("RCV", "inbound"),
            "positively_adjusted" => ("ADJUP", "adjustment"),
            "negatively_adjusted" => ("ADJDN", "adjustment"),
            "placed_on_hold" => ("HOLD", "status"),
            "released_from_hold" => ("RELEASE", "status"),
            _ => ("OTHER", "other"),
        };
        let location = record.get("location").cloned().unwrap_or(Value::Null);
        let (from, to) = match category {
            "inbound" => (Value::Null, location),
            "outbound" => (location, Value::Null),
            _ if event == "positively_adjusted" => (Value::Null, location),
            _ if event == "negatively_adjusted" => (location, Value::Null),
            _ => (location.clone(), location),
        };
        let string_id = |v: Option<&Value>| {
            v.and_then(id_from_json)
                .map(|n| Value::String(n.to_string()))
                .unwrap_or(Value::Null)
        };
        let stringify = |mut v: Value| {
            if let Some(id) = v.get("id").and_then(id_from_json) {
                v["id"] = Value::String(id.to_string());
            }
            v
        };
        // The reason code as the movement's webhook names it: its id (when the request gave
        // one) and its code.
        let reason_code_id = record
            .get("reason_code_id")
            .or_else(|| record.pointer("/reason_code/id"));
        let reason_code_text = record.pointer("/reason_code/code").cloned();
        let reason_code = match (string_id(reason_code_id), reason_code_text) {
            (Value::Null, None | Some(Value::Null)) => Value::Null,
            (id, code) => json!({"id": id, "code": code}),
        };
        let goods_out = record.get("goods_out_id").and_then(id_from_json);
        let goods_in = record.get("goods_in_receipt_id").and_then(id_from_json);
        let node = json!({
            "id": string_id(record.get("id")),
            "subtype": subtype,
            "category": category,
            "event": event,
            "quantity": record.get("quantity"),
            "status": record.get("status"),
            "batch": record.get("batch"),
            "serial_number": record.get("serial_number"),
            "reason": record.get("reason"),
            "reason_code": reason_code,
            "created_at": record.get("created_at"),
            "product": stringify(record.get("product").cloned().unwrap_or(Value::Null)),
            "account": stringify(record.get("account").cloned().unwrap_or(Value::Null)),
            "warehouse": stringify(record.get("warehouse").cloned().unwrap_or(Value::Null)),
            "location_from": stringify(from),
            "location_to": stringify(to),
            "stock": {"id": string_id(record.get("stock_id"))},
            "goods_out": record.get("goods_out_id").and_then(id_from_json).map(|id| json!({"id": id.to_string()})),
            "goods_in_receipt": record.get("goods_in_receipt_id").and_then(id_from_json).map(|id| json!({"id": id.to_string()})),
            "completing_user": null,
        });
        self.transactions.push(node, goods_out, goods_in, subtype);
    }

    /// A `stock_balance` record for a product in a warehouse (what `stock_balance.updated` carries).
    pub(crate) fn balance_json(&self, product: u64, warehouse: u64) -> Value {
        let mut available = Decimal::ZERO;
        let mut held = Decimal::ZERO;
        for s in self
            .stocks
            .values()
            .filter(|s| s.product == product && s.warehouse == warehouse)
        {
            match s.status {
                StockStatus::Available => available += s.quantity,
                StockStatus::Held => held += s.quantity,
            }
        }
        let (allocated, picked, ordered) = self
            .committed()
            .get(&(product, warehouse))
            .copied()
            .unwrap_or_default();
        json!({
            "product_id": product,
            "warehouse_id": warehouse,
            "account_id": 1,
            "product": self.product_ref(product),
            "warehouse": Self::named_ref(&self.warehouses, warehouse),
            "account": Self::named_ref(&self.accounts, 1),
            "available": decimal_to_json(available - allocated),
            "allocated": decimal_to_json(allocated),
            "picked": decimal_to_json(picked),
            "ordered": decimal_to_json(ordered),
            "held": decimal_to_json(held),
            "on_hand": decimal_to_json(available + held + picked),
            "updated_at": now().to_string(),
        })
    }

    /// Moves `quantity` of a stock record to the other status (splitting the record if needed).
    pub(crate) fn set_status(
        &mut self,
        stock: u64,
        quantity: Decimal,
        status: StockStatus,
        extra: Value,
    ) -> Result<Event, ClarusError> {
        let s = self.stocks.get(&stock).cloned().ok_or_else(|| {
            ClarusError::unprocessable(
                37,
                "invalid_ids_provided",
                format!("Stock {stock} does not exist"),
            )
        })?;
        if s.status == status {
            return Err(ClarusError::unprocessable(
                910,
                "stock_already_in_status",
                format!("Stock {stock} is already {}", status.as_str()),
            ));
        }
        if quantity > self.free_quantity(stock) || quantity <= Decimal::ZERO {
            return Err(ClarusError::unprocessable(
                911,
                "not_enough_free_stock",
                format!("Stock {stock} has {} free", self.free_quantity(stock)),
            ));
        }
        let target = if quantity == s.quantity {
            let record = self.stocks.get_mut(&stock).expect("exists");
            if record.serial.is_none() {
                let slot = |status| {
                    (
                        record.product,
                        record.account,
                        record.location,
                        status,
                        record.batch.clone(),
                    )
                };
                self.stock_slots.remove(&slot(record.status), stock);
                self.stock_slots.add(slot(status), stock);
            }
            record.status = status;
            record.updated = now();
            stock
        } else {
            self.take_stock(stock, quantity);
            self.put_stock(
                Placement {
                    product: s.product,
                    account: s.account,
                    location: s.location,
                    status,
                    batch: s.batch.clone(),
                    serial: s.serial.clone(),
                },
                quantity,
            )
        };
        let event = if status == StockStatus::Held {
            "placed_on_hold"
        } else {
            "released_from_hold"
        };
        Ok(self.stock_event(event, target, quantity, extra))
    }

    pub(crate) fn negative_adjustment(
        &mut self,
        stock: u64,
        quantity: Decimal,
        extra: Value,
    ) -> Result<Event, ClarusError> {
        if !self.stocks.contains_key(&stock) {
            return Err(ClarusError::not_found("Stock", stock));
        }
        if quantity <= Decimal::ZERO || quantity > self.free_quantity(stock) {
            return Err(ClarusError::unprocessable(
                912,
                "invalid_adjustment_quantity",
                format!(
                    "Quantity must be greater than 0 and no more than the {} available",
                    self.free_quantity(stock).normalize()
                ),
            )
            .at("/data/attributes/quantity"));
        }
        self.take_stock(stock, quantity);
        Ok(self.stock_event("negatively_adjusted", stock, quantity, extra))
    }

    // ------------------------------------------------------------------ goods in

    fn goods_in_lines(
        &mut self,
        lines: &mut Vec<GoodsInLine>,
        changes_list: Vec<Map<String, Value>>,
    ) -> Result<(), ClarusError> {
        for (i, change) in changes_list.into_iter().enumerate() {
            let source = format!("/data/attributes/lines_changes/{i}");
            let kind = change_type(&change).to_string();
            let attrs = change_attrs(&change);
            match kind.as_str() {
                "ADD" => {
                    let product = self.require_product(id_attr(&attrs, "product_id"), &source)?;
                    let expected = dec(attrs.get("expected_quantity"))
                        .filter(|q| *q > Decimal::ZERO)
                        .ok_or_else(|| {
                            ClarusError::unprocessable(
                                913,
                                "expected_quantity_required",
                                "expected_quantity must be greater than 0",
                            )
                            .at(source.clone())
                        })?;
                    let id = self.allocate_id();
                    lines.push(GoodsInLine {
                        id,
                        product,
                        expected,
                        received: Vec::new(),
                        attrs,
                    });
                }
                k if k == "UPDATE" || is_delete(k) => {
                    let index = changed_line(lines, |l| l.id, &change, &source)?;
                    if is_delete(k) {
                        lines.remove(index);
                    } else {
                        if let Some(q) = dec(attrs.get("expected_quantity")) {
                            lines[index].expected = q;
                        }
                        if attrs.contains_key("product_id") {
                            lines[index].product =
                                self.require_product(id_attr(&attrs, "product_id"), &source)?;
                        }
                        merge(&mut lines[index].attrs, attrs, &[]);
                    }
                }
                other => {
                    return Err(ClarusError::unprocessable(
                        915,
                        "invalid_change_type",
                        format!("Unknown change type {other}"),
                    )
                    .at(source));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn create_goods_in(
        &mut self,
        mut attrs: Map<String, Value>,
        address: Option<Value>,
    ) -> Result<(u64, Vec<Event>), ClarusError> {
        self.require_reference(
            &attrs,
            "account_id",
            &self.accounts.clone(),
            "account_not_found",
        )?;
        self.require_reference(
            &attrs,
            "warehouse_id",
            &self.warehouses.clone(),
            "warehouse_not_found",
        )?;
        let mut lines = Vec::new();
        self.goods_in_lines(&mut lines, changes(&attrs, "lines_changes"))?;
        attrs.remove("lines_changes");
        let id = self.allocate_id();
        let t = now();
        self.goods_ins.insert(
            id,
            GoodsIn {
                attrs,
                address,
                status: "pending".into(),
                lines,
                created: t,
                updated: t,
                received_at: None,
            },
        );
        self.goods_in_refs
            .set(id, self.goods_ins[&id].attrs.get("reference"));
        Ok((
            id,
            vec![Event {
                resource: "goods_in",
                event: "created",
                record: self.goods_in_json(id),
            }],
        ))
    }

    pub(crate) fn update_goods_in(
        &mut self,
        id: u64,
        mut attrs: Map<String, Value>,
        address: Option<Value>,
    ) -> Result<(), ClarusError> {
        let receipt = self
            .goods_ins
            .get(&id)
            .cloned()
            .ok_or_else(|| ClarusError::not_found("Goods in receipt", id))?;
        if receipt.status != "pending" {
            return Err(ClarusError::unprocessable(
                916,
                "goods_in_receipt_not_pending",
                "Only pending receipts can be changed",
            ));
        }
        let mut lines = receipt.lines.clone();
        self.goods_in_lines(&mut lines, changes(&attrs, "lines_changes"))?;
        attrs.remove("lines_changes");
        let r = self.goods_ins.get_mut(&id).expect("checked");
        r.lines = lines;
        merge(&mut r.attrs, attrs, &[]);
        if address.is_some() {
            r.address = address;
        }
        r.updated = now();
        self.goods_in_refs
            .set(id, self.goods_ins[&id].attrs.get("reference"));
        Ok(())
    }

    pub(crate) fn delete_goods_in(&mut self, id: u64) -> Result<Vec<Event>, ClarusError> {
        let receipt = self
            .goods_ins
            .get(&id)
            .ok_or_else(|| ClarusError::not_found("Goods in receipt", id))?;
        if receipt.status != "pending" {
            return Err(ClarusError::unprocessable(
                917,
                "goods_in_receipt_receiving_started",
                "A receipt can be deleted only before receiving starts",
            ));
        }
        let record = self.goods_in_json(id);
        self.goods_ins.remove(&id);
        self.goods_in_refs.remove(id);
        Ok(vec![Event {
            resource: "goods_in",
            event: "cancelled",
            record,
        }])
    }

    /// `POST …/receive`: PENDING → receiving (receive tasks created).
    /// `POST …/revert`: back to pending, if nothing has been received yet.
    pub(crate) fn revert_receiving(&mut self, id: u64) -> Result<(), ClarusError> {
        let receipt = self
            .goods_ins
            .get_mut(&id)
            .ok_or_else(|| ClarusError::not_found("Goods in receipt", id))?;
        if receipt.status != "receiving" || receipt.lines.iter().any(|l| !l.received.is_empty()) {
            return Err(ClarusError::unprocessable(
                936,
                "goods_in_receipt_cannot_revert",
                "Only a receipt being received with no completed receive task can be reverted",
            ));
        }
        receipt.status = "pending".into();
        receipt.updated = now();
        Ok(())
    }

    pub(crate) fn start_receiving(&mut self, id: u64) -> Result<(), ClarusError> {
        let receipt = self
            .goods_ins
            .get_mut(&id)
            .ok_or_else(|| ClarusError::not_found("Goods in receipt", id))?;
        if receipt.status != "pending" {
            return Err(ClarusError::unprocessable(
                916,
                "goods_in_receipt_not_pending",
                "The receipt must be pending",
            ));
        }
        if receipt.lines.is_empty() {
            return Err(ClarusError::unprocessable(
                918,
                "goods_in_receipt_has_no_lines",
                "The receipt has no lines",
            ));
        }
        receipt.status = "receiving".into();
        receipt.updated = now();
        Ok(())
    }

    pub(crate) fn goods_in_json(&self, id: u64) -> Value {
        let Some(r) = self.goods_ins.get(&id) else {
            return Value::Null;
        };
        let mut out = r.attrs.clone();
        out.insert("id".into(), json!(id));
        out.insert("status".into(), json!(r.status));
        out.entry("receipt_type").or_insert(json!("standard"));
        out.insert("created_at".into(), json!(r.created.to_string()));
        out.insert("updated_at".into(), json!(r.updated.to_string()));
        out.insert(
            "actual_date_of_arrival".into(),
            json!(r.received_at.map(|t| t.to_string())),
        );
        if let Some(a) = &r.address {
            out.insert("address".into(), a.clone());
        }
        let lines: Vec<Value> = r
            .lines
            .iter()
            .map(|l| {
                let mut line = l.attrs.clone();
                line.insert("id".into(), json!(l.id));
                line.insert("product_id".into(), json!(l.product));
                line.insert("product_code".into(), json!(self.product_code(l.product)));
                line.insert("expected_quantity".into(), decimal_to_json(l.expected));
                line.insert("received_quantity".into(), decimal_to_json(l.received_quantity()));
                line.insert(
                    "received_stock".into(),
                    Value::Array(
                        l.received
                            .iter()
                            .map(|r| json!({"stock_id": r.stock, "quantity": decimal_to_json(r.quantity), "batch": r.batch, "serial_number": r.serial, "status": r.status.as_str()}))
                            .collect(),
                    ),
                );
                Value::Object(line)
            })
            .collect();
        out.insert("lines".into(), Value::Array(lines));
        Value::Object(out)
    }

    // ------------------------------------------------------------------ goods out

    fn goods_out_lines(
        &mut self,
        lines: &mut Vec<GoodsOutLine>,
        changes_list: Vec<Map<String, Value>>,
    ) -> Result<(), ClarusError> {
        for (i, change) in changes_list.into_iter().enumerate() {
            let source = format!("/data/attributes/lines_changes/{i}");
            let kind = change_type(&change).to_string();
            let attrs = change_attrs(&change);
            match kind.as_str() {
                "ADD" => {
                    let product = self.require_product(id_attr(&attrs, "product_id"), &source)?;
                    let quantity = dec(attrs.get("order_quantity"))
                        .filter(|q| *q > Decimal::ZERO)
                        .ok_or_else(|| {
                            ClarusError::unprocessable(
                                919,
                                "order_quantity_required",
                                "order_quantity must be greater than 0",
                            )
                            .at(source.clone())
                        })?;
                    let id = self.allocate_id();
                    lines.push(GoodsOutLine {
                        id,
                        product,
                        order_quantity: quantity,
                        allocations: Vec::new(),
                        picks: Vec::new(),
                        dispatch_quantity: Decimal::ZERO,
                        short_status: String::new(),
                        attrs,
                        created: now(),
                    });
                }
                k if k == "UPDATE" || is_delete(k) => {
                    let index = changed_line(lines, |l| l.id, &change, &source)?;
                    if is_delete(k) {
                        lines.remove(index);
                    } else {
                        if let Some(q) = dec(attrs.get("order_quantity")) {
                            lines[index].order_quantity = q;
                        }
                        if attrs.contains_key("product_id") {
                            lines[index].product =
                                self.require_product(id_attr(&attrs, "product_id"), &source)?;
                        }
                        merge(&mut lines[index].attrs, attrs, &[]);
                    }
                }
                other => {
                    return Err(ClarusError::unprocessable(
                        915,
                        "invalid_change_type",
                        format!("Unknown change type {other}"),
                    )
                    .at(source));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn create_goods_out(
        &mut self,
        mut attrs: Map<String, Value>,
        address: Option<Value>,
    ) -> Result<(u64, Vec<Event>), ClarusError> {
        self.require_reference(
            &attrs,
            "account_id",
            &self.accounts.clone(),
            "account_not_found",
        )?;
        if !attrs.contains_key("warehouse_id") {
            attrs.insert("warehouse_id".into(), json!(1));
        }
        self.require_reference(
            &attrs,
            "warehouse_id",
            &self.warehouses.clone(),
            "warehouse_not_found",
        )?;
        let mut lines = Vec::new();
        self.goods_out_lines(&mut lines, changes(&attrs, "lines_changes"))?;
        attrs.remove("lines_changes");
        let id = self.allocate_id();
        let t = now();
        self.goods_outs.insert(
            id,
            GoodsOut {
                attrs,
                address,
                status: GoodsOutStatus::Pending,
                lines,
                shipments: Vec::new(),
                created: t,
                updated: t,
                dispatched: None,
            },
        );
        self.goods_out_refs
            .set(id, self.goods_outs[&id].attrs.get("reference"));
        self.open_goods_outs.insert(id);
        Ok((
            id,
            vec![Event {
                resource: "goods_out",
                event: "created",
                record: self.goods_out_json(id),
            }],
        ))
    }

    pub(crate) fn update_goods_out(
        &mut self,
        id: u64,
        mut attrs: Map<String, Value>,
        address: Option<Value>,
    ) -> Result<Vec<Event>, ClarusError> {
        let order = self
            .goods_outs
            .get(&id)
            .cloned()
            .ok_or_else(|| ClarusError::not_found("Goods out", id))?;
        if !matches!(
            order.status,
            GoodsOutStatus::Draft | GoodsOutStatus::Pending
        ) {
            return Err(ClarusError::unprocessable(
                59,
                "goods_out_already_allocated",
                "Only draft or pending orders can be changed",
            ));
        }
        let mut lines = order.lines.clone();
        self.goods_out_lines(&mut lines, changes(&attrs, "lines_changes"))?;
        attrs.remove("lines_changes");
        let o = self.goods_outs.get_mut(&id).expect("checked");
        o.lines = lines;
        merge(&mut o.attrs, attrs, &[]);
        if address.is_some() {
            o.address = address;
        }
        o.updated = now();
        self.goods_out_refs
            .set(id, self.goods_outs[&id].attrs.get("reference"));
        Ok(vec![Event {
            resource: "goods_out",
            event: "updated",
            record: self.goods_out_json(id),
        }])
    }

    pub(crate) fn delete_goods_out(&mut self, id: u64) -> Result<(), ClarusError> {
        let order = self
            .goods_outs
            .get(&id)
            .ok_or_else(|| ClarusError::not_found("Goods out", id))?;
        if !matches!(
            order.status,
            GoodsOutStatus::Draft | GoodsOutStatus::Pending
        ) {
            return Err(ClarusError::unprocessable(
                920,
                "goods_out_processing_started",
                "Processing has started; cancel the order instead",
            ));
        }
        self.goods_outs.remove(&id);
        self.goods_out_refs.remove(id);
        self.open_goods_outs.remove(&id);
        self.holding.remove(&id);
        Ok(())
    }

    /// Cancels an order: draft/pending orders are deleted; allocated ones deallocated; picked
    /// stock goes back to its location; completed orders are refused.
    pub(crate) fn cancel_goods_out(&mut self, id: u64) -> Result<(Value, Vec<Event>), ClarusError> {
        let order = self
            .goods_outs
            .get(&id)
            .cloned()
            .ok_or_else(|| ClarusError::not_found("Goods out", id))?;
        match order.status {
            GoodsOutStatus::Completed => {
                return Err(ClarusError::unprocessable(
                    921,
                    "goods_out_already_completed",
                    "Completed orders cannot be cancelled",
                ));
            }
            GoodsOutStatus::Cancelled => {
                return Err(ClarusError::unprocessable(
                    922,
                    "goods_out_already_cancelled",
                    "The order is already cancelled",
                ));
            }
            _ => {}
        }
        let mut events = Vec::new();
        if matches!(
            order.status,
            GoodsOutStatus::Draft | GoodsOutStatus::Pending
        ) {
            let mut record = self.goods_out_json(id);
            record["goods_out_status"] = json!({"code": "CANCELLED", "name": "Cancelled"});
            record["goods_out_status_id"] = json!(8);
            self.goods_outs.remove(&id);
            self.goods_out_refs.remove(id);
            self.open_goods_outs.remove(&id);
            self.holding.remove(&id);
            events.push(Event {
                resource: "goods_out",
                event: "cancelled",
                record: record.clone(),
            });
            return Ok((record, events));
        }
        // Picked stock goes back to where it was picked from. On-hand counts picked stock until
        // despatch, so this moves stock without changing on-hand and fires no stock event.
        let account = id_attr(&order.attrs, "account_id").unwrap_or(1);
        for line in &order.lines {
            for pick in &line.picks {
                self.put_stock(
                    Placement {
                        product: line.product,
                        account,
                        location: pick.location,
                        status: StockStatus::Available,
                        batch: pick.batch.clone(),
                        serial: pick.serial.clone(),
                    },
                    pick.quantity,
                );
            }
        }
        let o = self.goods_outs.get_mut(&id).expect("checked");
        for line in o.lines.iter_mut() {
            line.allocations.clear();
            line.picks.clear();
        }
        o.status = GoodsOutStatus::Cancelled;
        self.open_goods_outs.remove(&id);
        self.holding.remove(&id);
        o.updated = now();
        if let Some(list) = self.pick_list_of(id) {
            events.push(self.move_pick_list(list, "cancelled"));
        }
        let record = self.goods_out_json(id);
        events.push(Event {
            resource: "goods_out",
            event: "cancelled",
            record: record.clone(),
        });
        Ok((record, events))
    }

    /// Allocates free available stock to the order's lines (FIFO by stock id).
    pub(crate) fn allocate(
        &mut self,
        id: u64,
    ) -> Result<(GoodsOutStatus, Vec<Event>), ClarusError> {
        let order = self.goods_outs.get(&id).cloned().ok_or_else(|| {
            ClarusError::unprocessable(
                37,
                "invalid_ids_provided",
                format!("Goods out {id} does not exist"),
            )
        })?;
        if !matches!(
            order.status,
            GoodsOutStatus::Pending | GoodsOutStatus::Allocated | GoodsOutStatus::PartAllocated
        ) {
            return Err(ClarusError::unprocessable(
                59,
                "goods_out_already_allocated",
                format!("Goods out {id} is {}", order.status.code()),
            ));
        }
        let warehouse = id_attr(&order.attrs, "warehouse_id").unwrap_or(1);
        let mut allocated = self.allocated_on();
        let mut lines = order.lines.clone();
        for line in lines.iter_mut() {
            let mut need = line.order_quantity - line.allocated();
            if need <= Decimal::ZERO || line.short_status == "SHORT" {
                continue;
            }
            for (stock_id, stock) in &self.stocks {
                if need <= Decimal::ZERO {
                    break;
                }
                if stock.product != line.product
                    || stock.warehouse != warehouse
                    || stock.status != StockStatus::Available
                {
                    continue;
                }
                let free = stock.quantity - allocated.get(stock_id).copied().unwrap_or_default();
                let take = free.min(need);
                if take > Decimal::ZERO {
                    line.allocations.push((*stock_id, take));
                    *allocated.entry(*stock_id).or_default() += take;
                    need -= take;
                }
            }
        }
        let fully = lines
            .iter()
            .all(|l| l.allocated() >= l.order_quantity || l.short_status == "SHORT");
        let any = lines.iter().any(|l| l.allocated() > Decimal::ZERO);
        let status = if fully {
            GoodsOutStatus::Allocated
        } else if any {
            GoodsOutStatus::PartAllocated
        } else {
            GoodsOutStatus::Pending
        };
        if lines.iter().any(|l| !l.allocations.is_empty()) {
            self.holding.insert(id);
        } else {
            self.holding.remove(&id);
        }
        let o = self.goods_outs.get_mut(&id).expect("checked");
        o.lines = lines;
        o.status = status;
        o.updated = now();
        let mut events = Vec::new();
        if any {
            events.push(Event {
                resource: "goods_out",
                event: "processed",
                record: self.goods_out_json(id),
            });
            if self.pick_list_of(id).is_none() {
                events.push(self.open_pick_list(id));
            }
        }
        Ok((status, events))
    }

    /// Shorts the unallocated remainder of part-allocated orders; they become ALLOCATED.
    pub(crate) fn short_order_lines(&mut self, ids: &[u64]) -> Result<Vec<Event>, ClarusError> {
        if ids.is_empty() {
            return Err(ClarusError::unprocessable(
                36,
                "empty_ids_provided",
                "ids is empty",
            ));
        }
        for id in ids {
            match self.goods_outs.get(id) {
                None => {
                    return Err(ClarusError::unprocessable(
                        37,
                        "invalid_ids_provided",
                        format!("Goods out {id} does not exist"),
                    ));
                }
                Some(o) if o.status != GoodsOutStatus::PartAllocated => {
                    return Err(ClarusError::unprocessable(
                        923,
                        "goods_out_not_part_allocated",
                        format!("Goods out {id} is {}", o.status.code()),
                    ));
                }
                Some(_) => {}
            }
        }
        let mut events = Vec::new();
        for id in ids {
            let o = self.goods_outs.get_mut(id).expect("checked");
            for line in o.lines.iter_mut() {
                if line.allocated() < line.order_quantity {
                    line.short_status = "SHORT".into();
                }
            }
            o.status = GoodsOutStatus::Allocated;
            o.updated = now();
            events.push(Event {
                resource: "goods_out",
                event: "updated",
                record: self.goods_out_json(*id),
            });
        }
        Ok(events)
    }

    /// Picks allocated stock. `picked` caps the quantity picked per product (a short pick); the
    /// allocated remainder is released and the line marked SHORT.
    pub(crate) fn pick(
        &mut self,
        id: u64,
        picked: &HashMap<u64, Decimal>,
    ) -> Result<Vec<Event>, ClarusError> {
        let order = self
            .goods_outs
            .get(&id)
            .cloned()
            .ok_or_else(|| ClarusError::not_found("Goods out", id))?;
        if order.status != GoodsOutStatus::Allocated {
            return Err(ClarusError::unprocessable(
                924,
                "goods_out_not_allocated",
                format!(
                    "Goods out {id} is {}; only ALLOCATED orders can be picked",
                    order.status.code()
                ),
            ));
        }
        let reference = order.attrs.get("reference").cloned();
        let mut budget = picked.clone();
        let mut lines = order.lines.clone();
        let mut taken: Vec<(u64, Decimal)> = Vec::new();
        for line in lines.iter_mut() {
            let mut pick_cap = budget.get(&line.product).copied();
            let mut picks = Vec::new();
            for (stock, quantity) in line.allocations.drain(..) {
                let q = match pick_cap.as_mut() {
                    Some(cap) => {
                        let q = (*cap).min(quantity).max(Decimal::ZERO);
                        *cap -= q;
                        q
                    }
                    None => quantity,
                };
                if q > Decimal::ZERO {
                    let s = &self.stocks[&stock];
                    picks.push(Pick {
                        stock,
                        quantity: q,
                        batch: s.batch.clone(),
                        serial: s.serial.clone(),
                        location: s.location,
                    });
                    taken.push((stock, q));
                }
            }
            if let Some(cap) = pick_cap {
                budget.insert(line.product, cap);
            }
            line.picks.extend(picks);
            if line.picked() < line.order_quantity {
                line.short_status = "SHORT".into();
            } else {
                line.short_status = "FULL".into();
            }
        }
        let mut events = Vec::new();
        for (stock, q) in taken {
            self.take_stock(stock, q);
            events.push(self.stock_event(
                "picked",
                stock,
                q,
                json!({"goods_out_id": id, "reference": reference}),
            ));
        }
        let o = self.goods_outs.get_mut(&id).expect("checked");
        o.lines = lines;
        o.status = GoodsOutStatus::Pick;
        self.holding.remove(&id);
        o.updated = now();
        if let Some(list) = self.pick_list_of(id) {
            events.push(self.move_pick_list(list, "picked"));
        }
        Ok(events)
    }

    /// Despatches a picked order: a shipment with packages and tracking numbers. With `part`
    /// (quantity per product), only that much leaves and the order stays in PICK (a part
    /// shipment: `goods_out.updated` fires); without it, everything picked and not yet
    /// dispatched leaves and the order is COMPLETED.
    pub(crate) fn despatch(
        &mut self,
        id: u64,
        carrier: u64,
        packages: Vec<(String, Option<Decimal>)>,
        part: Option<&HashMap<u64, Decimal>>,
    ) -> Result<Vec<Event>, ClarusError> {
        let order = self
            .goods_outs
            .get(&id)
            .cloned()
            .ok_or_else(|| ClarusError::not_found("Goods out", id))?;
        if order.status != GoodsOutStatus::Pick {
            return Err(ClarusError::unprocessable(
                925,
                "goods_out_not_picked",
                format!("Goods out {id} is {}; pick it first", order.status.code()),
            ));
        }
        if !self.carriers.contains_key(&carrier) {
            return Err(ClarusError::unprocessable(
                907,
                "carrier_not_found",
                format!("Carrier {carrier} does not exist"),
            ));
        }
        if order.lines.iter().all(|l| l.picked().is_zero()) {
            return Err(ClarusError::unprocessable(
                926,
                "nothing_picked",
                "Nothing was picked; cancel the order instead",
            ));
        }
        let reference = order.attrs.get("reference").cloned();
        let shipment_id = self.allocate_id();
        let mut package_list = Vec::new();
        for (tracking, weight) in &packages {
            let pid = self.allocate_id();
            let mut attrs = Map::new();
            if let Some(w) = weight {
                attrs.insert("weight".into(), decimal_to_json(*w));
            }
            package_list.push(Package {
                id: pid,
                tracking_number: Some(tracking.clone()),
                attrs,
            });
        }
        let t = now();
        self.shipments.insert(
            shipment_id,
            Shipment {
                goods_out: id,
                attrs: json!({"carrier_id": carrier, "reference": format!("SHP-{shipment_id}")})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                status: "dispatched".into(),
                tracking_number: packages.first().map(|(t, _)| t.clone()),
                packages: package_list,
                created: t,
                updated: t,
            },
        );
        let mut events = Vec::new();
        let o = self.goods_outs.get_mut(&id).expect("checked");
        o.updated = t;
        o.shipments.push(shipment_id);
        o.attrs.insert("carrier_id".into(), json!(carrier));
        if part.is_none() {
            o.status = GoodsOutStatus::Completed;
            self.open_goods_outs.remove(&id);
            self.holding.remove(&id);
            o.dispatched = Some(t);
            o.attrs
                .insert("actual_date_of_dispatch".into(), json!(t.to_string()));
        }
        let mut budget = part.cloned();
        let mut dispatched = Vec::new();
        for line in o.lines.iter_mut() {
            let left = line.picked() - line.dispatch_quantity;
            let now = match budget.as_mut().map(|b| b.entry(line.product).or_default()) {
                Some(cap) => {
                    let q = (*cap).min(left).max(Decimal::ZERO);
                    *cap -= q;
                    q
                }
                None => left,
            };
            if now <= Decimal::ZERO {
                continue;
            }
            line.dispatch_quantity += now;
            // Picked stock left its location at the pick: the dispatch only reports it, from
            // the line's picks in order.
            let mut rest = now;
            for p in &line.picks {
                let q = p.quantity.min(rest);
                if q > Decimal::ZERO {
                    dispatched.push((p.stock, q));
                    rest -= q;
                }
            }
        }
        for (stock, q) in dispatched {
            events.push(self.stock_event(
                "dispatched",
                stock,
                q,
                json!({"goods_out_id": id, "reference": reference}),
            ));
        }
        if part.is_some() {
            events.push(Event {
                resource: "goods_out",
                event: "updated",
                record: self.goods_out_json(id),
            });
            return Ok(events);
        }
        if let Some(list) = self.pick_list_of(id) {
            events.push(self.move_pick_list(list, "completed"));
        }
        events.push(Event {
            resource: "goods_out",
            event: "completed",
            record: self.goods_out_json(id),
        });
        Ok(events)
    }

    // ------------------------------------------------------------------ pick lists

    /// The open pick list (not completed or cancelled) covering a goods out.
    pub(crate) fn pick_list_of(&self, goods_out: u64) -> Option<u64> {
        self.open_pick_lists.get(&goods_out).copied()
    }

    /// Opens a pick list for a goods out: its `created` event.
    fn open_pick_list(&mut self, goods_out: u64) -> Event {
        self.next_pick_list += 1;
        let id = self.next_pick_list;
        let attrs = self
            .goods_outs
            .get(&goods_out)
            .map(|o| o.attrs.clone())
            .unwrap_or_default();
        let t = now();
        self.open_pick_lists.insert(goods_out, id);
        self.pick_lists.insert(
            id,
            PickList {
                goods_outs: vec![goods_out],
                account: id_attr(&attrs, "account_id").unwrap_or(1),
                warehouse: id_attr(&attrs, "warehouse_id").unwrap_or(1),
                status: "created",
                created: t,
                updated: t,
            },
        );
        Event {
            resource: "goods_out_pick_list",
            event: "created",
            record: self.pick_list_json(id),
        }
    }

    /// Moves a pick list to `status` (`picked`, `completed`, `cancelled`): the event of that name.
    pub(crate) fn move_pick_list(&mut self, id: u64, status: &'static str) -> Event {
        if let Some(list) = self.pick_lists.get_mut(&id) {
            list.status = status;
            list.updated = now();
            if matches!(status, "completed" | "cancelled") {
                for goods_out in &list.goods_outs {
                    if self.open_pick_lists.get(goods_out) == Some(&id) {
                        self.open_pick_lists.remove(goods_out);
                    }
                }
            }
        }
        Event {
            resource: "goods_out_pick_list",
            event: status,
            record: self.pick_list_json(id),
        }
    }

    /// A pick list as its webhooks carry it: its attributes with the goods outs it covers.
    pub(crate) fn pick_list_json(&self, id: u64) -> Value {
        let Some(list) = self.pick_lists.get(&id) else {
            return Value::Null;
        };
        json!({
            "id": id,
            "reference": format!("PL-{id}"),
            "status": list.status,
            "account_id": list.account,
            "warehouse_id": list.warehouse,
            "goods_out_ids": list.goods_outs,
            "created_at": list.created.to_string(),
            "updated_at": list.updated.to_string(),
        })
    }

    pub(crate) fn goods_out_json(&self, id: u64) -> Value {
        let Some(o) = self.goods_outs.get(&id) else {
            return Value::Null;
        };
        let mut out = o.attrs.clone();
        out.insert("id".into(), json!(id));
        out.insert("goods_out_status_id".into(), json!(o.status.id()));
        out.insert(
            "goods_out_status".into(),
            json!({"code": o.status.code(), "name": o.status.name()}),
        );
        out.insert("created_at".into(), json!(o.created.to_string()));
        out.insert("updated_at".into(), json!(o.updated.to_string()));
        if let Some(a) = &o.address {
            out.insert("address".into(), a.clone());
        }
        let lines: Vec<Value> = o
            .lines
            .iter()
            .map(|l| {
                let mut line = l.attrs.clone();
                line.insert("id".into(), json!(l.id));
                line.insert("product_id".into(), json!(l.product));
                line.insert("product_code".into(), json!(self.product_code(l.product)));
                line.insert("order_quantity".into(), decimal_to_json(l.order_quantity));
                line.insert("allocated_quantity".into(), decimal_to_json(l.allocated()));
                line.insert("pick_quantity".into(), decimal_to_json(l.picked()));
                line.insert("dispatch_quantity".into(), decimal_to_json(l.dispatch_quantity));
                line.insert("short_status".into(), json!(l.short_status));
                line.insert(
                    "picked_stock".into(),
                    Value::Array(
                        l.picks
                            .iter()
                            .map(|p| json!({"stock_id": p.stock, "quantity": decimal_to_json(p.quantity), "batch": p.batch, "serial_number": p.serial, "location_id": p.location}))
                            .collect(),
                    ),
                );
                Value::Object(line)
            })
            .collect();
        out.insert("lines".into(), Value::Array(lines));
        let shipments: Vec<Value> = o.shipments.iter().map(|s| self.shipment_json(*s)).collect();
        let tracking = shipments
            .iter()
            .rev()
            .find_map(|s| s.get("tracking_number").filter(|t| !t.is_null()).cloned());
        out.insert("tracking_number".into(), tracking.unwrap_or(Value::Null));
        out.insert("status".into(), json!(o.status.code()));
        out.insert("shipments".into(), Value::Array(shipments));
        Value::Object(out)
    }

    // ------------------------------------------------------------------ shipments

    pub(crate) fn create_shipment(
        &mut self,
        attrs: Map<String, Value>,
        address: Option<Value>,
    ) -> Result<u64, ClarusError> {
        let goods_out = id_attr(&attrs, "goods_out_id").ok_or_else(|| {
            ClarusError::unprocessable(908, "goods_out_required", "goods_out_id is required")
                .at("/data/attributes/goods_out_id")
        })?;
        if !self.goods_outs.contains_key(&goods_out) {
            return Err(ClarusError::unprocessable(
                907,
                "goods_out_not_found",
                format!("Goods out {goods_out} does not exist"),
            ));
        }
        let mut packages = Vec::new();
        let mut specs: Vec<Map<String, Value>> = changes(&attrs, "packages_changes")
            .into_iter()
            .filter(|c| change_type(c) == "ADD")
            .map(|c| change_attrs(&c))
            .collect();
        specs.extend(
            attrs
                .get("packages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_object().cloned()),
        );
        for spec in specs {
            let id = self.allocate_id();
            let tracking = spec
                .get("tracking_number")
                .and_then(Value::as_str)
                .map(str::to_string);
            packages.push(Package {
                id,
                tracking_number: tracking,
                attrs: spec,
            });
        }
        let mut stored = attrs;
        stored.remove("packages_changes");
        stored.remove("packages");
        if let Some(a) = address {
            stored.insert("address".into(), a);
        }
        let id = self.allocate_id();
        let t = now();
        let tracking = stored
            .get("tracking_number")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.shipments.insert(
            id,
            Shipment {
                goods_out,
                attrs: stored,
                status: "pending".into(),
                tracking_number: tracking,
                packages,
                created: t,
                updated: t,
            },
        );
        if let Some(o) = self.goods_outs.get_mut(&goods_out) {
            o.shipments.push(id);
        }
        Ok(id)
    }

    /// Sends a shipment to the carrier: tracking numbers are assigned.
    pub(crate) fn submit_shipment(
        &mut self,
        id: u64,
        tracking_seed: u64,
    ) -> Result<(), ClarusError> {
        let shipment = self
            .shipments
            .get_mut(&id)
            .ok_or_else(|| ClarusError::not_found("Shipment", id))?;
        if shipment.status != "pending" {
            return Err(ClarusError::unprocessable(
                927,
                "shipment_not_pending",
                "Only pending shipments can be submitted",
            ));
        }
        let base = format!("1Z{tracking_seed:012}");
        if shipment.packages.is_empty() {
            shipment.packages.push(Package {
                id: 0,
                tracking_number: None,
                attrs: Map::new(),
            });
        }
        for (n, p) in shipment.packages.iter_mut().enumerate() {
            p.tracking_number
                .get_or_insert_with(|| format!("{base}{n:02}"));
        }
        shipment.tracking_number = shipment
            .packages
            .first()
            .and_then(|p| p.tracking_number.clone());
        shipment.status = "submitted".into();
        shipment.updated = now();
        let missing: Vec<usize> = shipment
            .packages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.id == 0)
            .map(|(i, _)| i)
            .collect();
        for i in missing {
            let pid = self.allocate_id();
            if let Some(s) = self.shipments.get_mut(&id) {
                s.packages[i].id = pid;
            }
        }
        Ok(())
    }

    pub(crate) fn shipment_json(&self, id: u64) -> Value {
        let Some(s) = self.shipments.get(&id) else {
            return Value::Null;
        };
        let mut out = s.attrs.clone();
        out.insert("id".into(), json!(id));
        out.insert("goods_out_id".into(), json!(s.goods_out));
        out.insert("status".into(), json!(s.status));
        out.insert("tracking_number".into(), json!(s.tracking_number));
        out.insert(
            "packages".into(),
            Value::Array(
                s.packages
                    .iter()
                    .map(|p| {
                        let mut package = p.attrs.clone();
                        package.insert("id".into(), json!(p.id));
                        package.insert("tracking_number".into(), json!(p.tracking_number));
                        Value::Object(package)
                    })
                    .collect(),
            ),
        );
        out.insert("created_at".into(), json!(s.created.to_string()));
        out.insert("updated_at".into(), json!(s.updated.to_string()));
        Value::Object(out)
    }

    // ------------------------------------------------------------------ automations

    fn automation_parts(
        &mut self,
        automation: &mut Automation,
        attrs: &Map<String, Value>,
        creating: bool,
    ) -> Result<(), ClarusError> {
        for (i, change) in changes(attrs, "conditions_changes").into_iter().enumerate() {
            let source = format!("/data/attributes/conditions_changes/{i}");
            let kind = change_type(&change).to_string();
            if creating && kind != "ADD" {
                return Err(ClarusError::unprocessable(
                    928,
                    "only_add_allowed_on_create",
                    "Only ADD changes are allowed on create",
                )
                .at(source));
            }
            match kind.as_str() {
                "ADD" => {
                    let id = self.allocate_id();
                    automation.conditions.push((id, change_attrs(&change)));
                }
                _ => {
                    let id = id_from_json(change.get("id").unwrap_or(&Value::Null)).ok_or_else(
                        || {
                            ClarusError::unprocessable(914, "id_required", "id is required")
                                .at(source.clone())
                        },
                    )?;
                    let index = automation
                        .conditions
                        .iter()
                        .position(|(c, _)| *c == id)
                        .ok_or_else(|| {
                            ClarusError::unprocessable(
                                37,
                                "invalid_ids_provided",
                                format!("Condition {id} does not exist"),
                            )
                            .at(source.clone())
                        })?;
                    if is_delete(&kind) {
                        automation.conditions.remove(index);
                    } else {
                        merge(
                            &mut automation.conditions[index].1,
                            change_attrs(&change),
                            &[],
                        );
                    }
                }
            }
        }
        for (i, change) in changes(attrs, "actions_changes").into_iter().enumerate() {
            let source = format!("/data/attributes/actions_changes/{i}");
            let kind = change_type(&change).to_string();
            if creating && kind != "ADD" {
                return Err(ClarusError::unprocessable(
                    928,
                    "only_add_allowed_on_create",
                    "Only ADD changes are allowed on create",
                )
                .at(source));
            }
            let action_attrs = change_attrs(&change);
            let index = match kind.as_str() {
                "ADD" => {
                    let id = self.allocate_id();
                    automation.actions.push(AutomationAction {
                        id,
                        attrs: Map::new(),
                        parameters: Vec::new(),
                    });
                    automation.actions.len() - 1
                }
                _ => {
                    let id = id_from_json(change.get("id").unwrap_or(&Value::Null)).ok_or_else(
                        || {
                            ClarusError::unprocessable(914, "id_required", "id is required")
                                .at(source.clone())
                        },
                    )?;
                    let index = automation
                        .actions
                        .iter()
                        .position(|a| a.id == id)
                        .ok_or_else(|| {
                            ClarusError::unprocessable(
                                37,
                                "invalid_ids_provided",
                                format!("Action {id} does not exist"),
                            )
                            .at(source.clone())
                        })?;
                    if is_delete(&kind) {
                        automation.actions.remove(index);
                        continue;
                    }
                    index
                }
            };
            for (j, p) in changes(&action_attrs, "parameters_changes")
                .into_iter()
                .enumerate()
            {
                let psource = format!("{source}/attributes/parameters_changes/{j}");
                let pkind = change_type(&p).to_string();
                if pkind == "ADD" {
                    let id = self.allocate_id();
                    automation.actions[index]
                        .parameters
                        .push((id, change_attrs(&p)));
                } else {
                    let id =
                        id_from_json(p.get("id").unwrap_or(&Value::Null)).ok_or_else(|| {
                            ClarusError::unprocessable(914, "id_required", "id is required")
                                .at(psource.clone())
                        })?;
                    let at = automation.actions[index]
                        .parameters
                        .iter()
                        .position(|(c, _)| *c == id)
                        .ok_or_else(|| {
                            ClarusError::unprocessable(
                                37,
                                "invalid_ids_provided",
                                format!("Parameter {id} does not exist"),
                            )
                            .at(psource.clone())
                        })?;
                    if is_delete(&pkind) {
                        automation.actions[index].parameters.remove(at);
                    } else {
                        merge(
                            &mut automation.actions[index].parameters[at].1,
                            change_attrs(&p),
                            &[],
                        );
                    }
                }
            }
            let mut plain = action_attrs;
            plain.remove("parameters_changes");
            merge(&mut automation.actions[index].attrs, plain, &[]);
        }
        Ok(())
    }

    pub(crate) fn create_automation(
        &mut self,
        attrs: Map<String, Value>,
    ) -> Result<u64, ClarusError> {
        let mut automation = Automation {
            resource_name: attrs
                .get("resource_name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            event: attrs
                .get("event")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            name: attrs
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string),
            enabled: attrs
                .get("enabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            conditions: Vec::new(),
            actions: Vec::new(),
        };
        self.automation_parts(&mut automation, &attrs, true)?;
        for action in &automation.actions {
            if action.attrs.get("destination_type").and_then(Value::as_str) == Some("webhook")
                && Automation::parameter(action, "webhook_url").is_none()
            {
                return Err(ClarusError::unprocessable(
                    929,
                    "webhook_url_required",
                    "A webhook action needs a webhook_url parameter",
                ));
            }
        }
        let id = self.allocate_id();
        self.automations.insert(id, automation);
        Ok(id)
    }

    pub(crate) fn update_automation(
        &mut self,
        id: u64,
        attrs: Map<String, Value>,
    ) -> Result<(), ClarusError> {
        let mut automation = self
            .automations
            .get(&id)
            .cloned()
            .ok_or_else(|| ClarusError::not_found("Automation", id))?;
        if let Some(v) = attrs.get("resource_name").and_then(Value::as_str) {
            automation.resource_name = v.to_string();
        }
        if let Some(v) = attrs.get("event").and_then(Value::as_str) {
            automation.event = v.to_string();
        }
        if let Some(v) = attrs.get("name").and_then(Value::as_str) {
            automation.name = Some(v.to_string());
        }
        if let Some(v) = attrs.get("enabled").and_then(Value::as_bool) {
            automation.enabled = v;
        }
        self.automation_parts(&mut automation, &attrs, false)?;
        self.automations.insert(id, automation);
        Ok(())
    }

    pub(crate) fn automation_json(&self, id: u64) -> Value {
        let Some(a) = self.automations.get(&id) else {
            return Value::Null;
        };
        json!({
            "id": id,
            "resource_name": a.resource_name,
            "event": a.event,
            "name": a.name,
            "enabled": a.enabled,
            "conditions": a.conditions.iter().map(|(cid, c)| { let mut c = c.clone(); c.insert("id".into(), json!(cid)); Value::Object(c) }).collect::<Vec<_>>(),
            "actions": a.actions.iter().map(|action| {
                let mut out = action.attrs.clone();
                out.insert("id".into(), json!(action.id));
                out.insert("parameters".into(), Value::Array(action.parameters.iter().map(|(pid, p)| { let mut p = p.clone(); p.insert("id".into(), json!(pid)); Value::Object(p) }).collect()));
                Value::Object(out)
            }).collect::<Vec<_>>(),
        })
    }

    // ------------------------------------------------------------------ stock checks

    pub(crate) fn create_stock_check(&mut self, location: u64) -> Result<(u64, u64), ClarusError> {
        if !self.locations.contains_key(&location) {
            return Err(ClarusError::unprocessable(
                907,
                "location_not_found",
                format!("Location {location} does not exist"),
            )
            .at("/data/attributes/location_id"));
        }
        if let Some((id, check)) = self
            .stock_checks
            .iter()
            .find(|(_, c)| c.location == location && c.status == "pending")
        {
            return Ok((*id, check.task));
        }
        let id = self.allocate_id();
        let task = self.allocate_id();
        self.stock_checks.insert(
            id,
            StockCheck {
                location,
                status: "pending".into(),
                task,
                product: None,
                expected: None,
                counted: None,
            },
        );
        Ok((id, task))
    }

    /// Quantity on hand per product × warehouse × status, including picked stock not yet despatched.
    pub(crate) fn on_hand(&self) -> BTreeMap<(u64, u64, StockStatus), Decimal> {
        let mut out: BTreeMap<(u64, u64, StockStatus), Decimal> = BTreeMap::new();
        for s in self.stocks.values() {
            *out.entry((s.product, s.warehouse, s.status)).or_default() += s.quantity;
        }
        for o in self
            .goods_outs
            .values()
            .filter(|o| o.status != GoodsOutStatus::Completed)
        {
            let warehouse = id_attr(&o.attrs, "warehouse_id").unwrap_or(1);
            for l in &o.lines {
                if !l.picked().is_zero() {
                    *out.entry((l.product, warehouse, StockStatus::Available))
                        .or_default() += l.picked();
                }
            }
        }
        out.retain(|_, q| !q.is_zero());
        out
    }

    /// Allocated (not yet picked) and picked quantities per product × warehouse, for balances.
    pub(crate) fn committed(&self) -> HashMap<(u64, u64), (Decimal, Decimal, Decimal)> {
        let mut out: HashMap<(u64, u64), (Decimal, Decimal, Decimal)> = HashMap::new();
        for o in self.open_orders().filter(|o| {
            !matches!(
                o.status,
                GoodsOutStatus::Completed | GoodsOutStatus::Cancelled
            )
        }) {
            let warehouse = id_attr(&o.attrs, "warehouse_id").unwrap_or(1);
            for l in &o.lines {
                let entry = out.entry((l.product, warehouse)).or_default();
                entry.0 += l.allocations.iter().map(|(_, q)| *q).sum::<Decimal>();
                entry.1 += l.picked();
                entry.2 += l.order_quantity - l.dispatch_quantity;
            }
        }
        out
    }
}
