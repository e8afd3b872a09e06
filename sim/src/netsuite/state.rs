//! The NetSuite simulator's data: records as JSON bodies, external-id index, on-hand balances and
//! the inventory postings made by fulfilments, receipts, adjustments, transfers and status changes.
//!
//! Every write validates everything first and mutates only once it cannot fail any more, so a
//! refused request leaves no trace.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::error::NsError;
use super::records::{RecordType, order_status_name};
use super::schema;
use crate::json::{decimal_from_json, decimal_to_json, id_from_json, now_seconds};

/// Where on-hand stock sits: item × location × inventory status (× lot or serial number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BalanceKey {
    /// Item internal id.
    pub item: u64,
    /// Location internal id.
    pub location: u64,
    /// Inventory status internal id.
    pub status: u64,
    /// Inventory number (lot or serial) internal id, for lot and serial items.
    pub inventory_number: Option<u64>,
}

/// A stored record.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub body: Map<String, Value>,
    pub created: Timestamp,
    pub last_modified: Timestamp,
    pub posting: Option<Posting>,
}

/// The effects a posting transaction had, kept so it can be reversed on delete.
#[derive(Debug, Clone, Default)]
pub(crate) struct Posting {
    pub balances: Vec<(BalanceKey, Decimal)>,
    pub order_lines: Vec<(RecordType, u64, u64, Decimal)>,
    /// Whether the balance effects are applied (an item fulfilment posts only once shipped).
    pub inventory_posted: bool,
}

/// The kind of an item, from its record type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// `inventoryItem`.
    Inventory,
    /// `lotNumberedInventoryItem`.
    LotNumbered,
    /// `serializedInventoryItem`.
    Serialized,
}

impl ItemKind {
    pub(crate) fn record_type(self) -> RecordType {
        match self {
            ItemKind::Inventory => RecordType::InventoryItem,
            ItemKind::LotNumbered => RecordType::LotNumberedInventoryItem,
            ItemKind::Serialized => RecordType::SerializedInventoryItem,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Inbound,
    Outbound,
}

/// A lot or serial number, existing or to be created when the posting is applied.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum LotRef {
    Existing(u64),
    New(String),
}

/// Where a line sits in the request body, for error paths and messages.
#[derive(Debug, Clone, Copy)]
struct LineAt<'a> {
    path: &'a str,
    number: u64,
}

#[derive(Debug, Clone)]
struct Assignment {
    lot: Option<LotRef>,
    status: u64,
    to_status: Option<u64>,
    quantity: Decimal,
}

/// A planned balance movement (lot possibly not created yet).
#[derive(Debug, Clone)]
struct Movement {
    item: u64,
    location: u64,
    status: u64,
    lot: Option<LotRef>,
    delta: Decimal,
}

pub(crate) struct State {
    next_id: u64,
    tran_numbers: HashMap<RecordType, u64>,
    pub records: BTreeMap<RecordType, BTreeMap<u64, Stored>>,
    external_ids: HashMap<(RecordType, String), u64>,
    pub balances: BTreeMap<BalanceKey, Decimal>,
    /// Average cost per item at a location (`averagecostmli`), where the account keeps one.
    pub location_costs: BTreeMap<(u64, u64), Decimal>,
    pub allow_negative_inventory: bool,
    pub default_status: u64,
    /// Whether the account has subsidiaries (see `oneworld.rs`).
    pub one_world: bool,
    /// Each record type's records by last modification, oldest first (SuiteQL reads of
    /// `lastmodifieddate` ranges).
    pub modified: HashMap<RecordType, BTreeSet<(Timestamp, u64)>>,
}

const LINE_STEP: u64 = 3;

fn ext_family(record: RecordType) -> RecordType {
    if record.is_item() {
        RecordType::InventoryItem
    } else {
        record
    }
}

fn sublist_items<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Vec<Value>> {
    body.get(name)?.get("items")?.as_array()
}

fn ref_id(value: Option<&Value>) -> Option<u64> {
    value.and_then(|v| v.get("id")).and_then(id_from_json)
}

fn status_ref(record: RecordType, code: &str) -> Value {
    json!({"id": code, "refName": order_status_name(record, code)})
}

fn qty_field(record: RecordType) -> &'static str {
    if record == RecordType::SalesOrder {
        "quantityFulfilled"
    } else {
        "quantityReceived"
    }
}

impl State {
    pub(crate) fn new(allow_negative_inventory: bool) -> Self {
        let mut state = Self {
            next_id: 100,
            tran_numbers: HashMap::new(),
            records: BTreeMap::new(),
            external_ids: HashMap::new(),
            balances: BTreeMap::new(),
            location_costs: BTreeMap::new(),
            allow_negative_inventory,
            default_status: 1,
            one_world: false,
            modified: HashMap::new(),
        };
        let now = now_seconds();
        for (id, name) in [(1, "Good"), (2, "Quarantine"), (3, "Damaged")] {
            state.insert(
                RecordType::InventoryStatus,
                id,
                Stored {
                    body: json!({"name": name, "isInactive": false})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    created: now,
                    last_modified: now,
                    posting: None,
                },
            );
        }
        state
    }

    fn insert(&mut self, record: RecordType, id: u64, stored: Stored) {
        if let Some(ext) = stored.body.get("externalId").and_then(Value::as_str) {
            self.external_ids
                .insert((ext_family(record), ext.to_string()), id);
        }
        self.modified
            .entry(record)
            .or_default()
            .insert((stored.last_modified, id));
        self.records.entry(record).or_default().insert(id, stored);
    }

    /// Marks a record modified at `at`, keeping [`State::modified`] in step.
    fn touch(&mut self, record: RecordType, id: u64, at: Timestamp) {
        let Some(stored) = self.records.get_mut(&record).and_then(|m| m.get_mut(&id)) else {
            return;
        };
        let old = std::mem::replace(&mut stored.last_modified, at);
        let index = self.modified.entry(record).or_default();
        index.remove(&(old, id));
        index.insert((at, id));
    }

    pub(crate) fn get(&self, record: RecordType, id: u64) -> Option<&Stored> {
        self.records.get(&record)?.get(&id)
    }

    fn get_mut(&mut self, record: RecordType, id: u64) -> Option<&mut Stored> {
        self.records.get_mut(&record)?.get_mut(&id)
    }

    /// Finds a record by external id (`eid:`).
    pub(crate) fn find_external(&self, record: RecordType, ext: &str) -> Option<u64> {
        let id = *self
            .external_ids
            .get(&(ext_family(record), ext.to_string()))?;
        self.get(record, id).map(|_| id)
    }

    /// Resolves a path id (`123` or `eid:ABC`).
    pub(crate) fn resolve_path_id(&self, record: RecordType, raw: &str) -> Result<u64, NsError> {
        let found = match raw.strip_prefix("eid:") {
            Some(ext) => self.find_external(record, ext),
            None => raw
                .parse()
                .ok()
                .filter(|id| self.get(record, *id).is_some()),
        };
        found.ok_or_else(|| {
            NsError::not_found(format!(
                "The record instance does not exist. Provide a valid record instance ID ({record} {raw})."
            ))
        })
    }

    fn allocate_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn next_tran_id(&mut self, record: RecordType) -> String {
        let n = self.tran_numbers.entry(record).or_insert(1000);
        *n += 1;
        format!("{}{}", record.tran_prefix(), n)
    }

    pub(crate) fn item_kind(&self, id: u64) -> Option<ItemKind> {
        [
            ItemKind::Inventory,
            ItemKind::LotNumbered,
            ItemKind::Serialized,
        ]
        .into_iter()
        .find(|kind| self.get(kind.record_type(), id).is_some())
    }

    fn item_body(&self, id: u64) -> Option<&Map<String, Value>> {
        let kind = self.item_kind(id)?;
        self.get(kind.record_type(), id).map(|s| &s.body)
    }

    fn check_external_id_free(
        &self,
        record: RecordType,
        body: &Map<String, Value>,
    ) -> Result<(), NsError> {
        match body.get("externalId") {
            None | Some(Value::Null) => Ok(()),
            Some(Value::String(ext)) => {
                if self
                    .external_ids
                    .contains_key(&(ext_family(record), ext.clone()))
                {
                    Err(NsError::user(format!(
                        "A record with external ID {ext} already exists. Error while accessing a resource. \
                         This record already exists."
                    ))
                    .at("externalId"))
                } else {
                    Ok(())
                }
            }
            Some(_) => Err(NsError::content("externalId must be a string.").at("externalId")),
        }
    }

    /// Resolves a reference (`{"id":"12"}` or `{"externalId":"X"}`) to an id of one of `types`.
    fn resolve_ref(&self, value: &Value, types: &[RecordType], path: &str) -> Result<u64, NsError> {
        let invalid = || {
            NsError::field(format!(
                "Invalid Field Value {value} for the following field: {}",
                path.rsplit('.').next().unwrap_or(path)
            ))
            .at(path.to_string())
        };
        let Some(object) = value.as_object() else {
            return Err(invalid());
        };
        if let Some(id) = object.get("id") {
            let id = id_from_json(id).ok_or_else(invalid)?;
            if types.iter().any(|t| self.get(*t, id).is_some()) {
                return Ok(id);
            }
            return Err(invalid());
        }
        if let Some(ext) = object.get("externalId").and_then(Value::as_str) {
            return types
                .iter()
                .find_map(|t| self.find_external(*t, ext))
                .ok_or_else(invalid);
        }
        Err(invalid())
    }

    fn ref_name(&self, record: RecordType, id: u64) -> Value {
        let Some(stored) = self.get(record, id) else {
            return Value::Null;
        };
        let field = match record {
            r if r.is_item() => "itemId",
            RecordType::InventoryNumber => "inventoryNumber",
            r if r.is_transaction() => "tranId",
            _ => "name",
        };
        stored.body.get(field).cloned().unwrap_or(Value::Null)
    }

    fn item_ref(&self, id: u64) -> Value {
        let kind = self.item_kind(id).unwrap_or(ItemKind::Inventory);
        json!({"id": id.to_string(), "refName": self.ref_name(kind.record_type(), id)})
    }

    fn simple_ref(&self, record: RecordType, id: u64) -> Value {
        json!({"id": id.to_string(), "refName": self.ref_name(record, id)})
    }

    /// Normalises references that are not resolved (entity, account, ...): ids become strings.
    fn normalise_loose_refs(body: &mut Map<String, Value>) {
        for value in body.values_mut() {
            if let Value::Object(object) = value {
                if object.contains_key("items") {
                    continue;
                }
                if let Some(id) = object.get("id").and_then(id_from_json) {
                    object.insert("id".into(), Value::String(id.to_string()));
                }
            }
        }
    }

    // ---------------------------------------------------------------- creation

    /// Creates a record from a POST body; answers the new internal id.
    pub(crate) fn create(&mut self, record: RecordType, body: Value) -> Result<u64, NsError> {
        let Value::Object(body) = body else {
            return Err(NsError::content("The request body must be a JSON object."));
        };
        if body.contains_key("id") {
            return Err(NsError::content("The id field is read-only on create.").at("id"));
        }
        schema::check(record, &body)?;
        self.check_external_id_free(record, &body)?;
        self.check_subsidiary(record, &body)?;
        match record {
            r if r.is_item() => self.create_item(record, body),
            RecordType::Location | RecordType::InventoryStatus => self.create_named(record, body),
            RecordType::InventoryNumber => self.create_inventory_number(body),
            r if r.is_order() => self.create_order(record, body),
            RecordType::ItemFulfillment | RecordType::ItemReceipt => Err(NsError::user(format!(
                "A {record} can only be created by transforming its source order \
                 (POST /record/v1/{{order}}/{{id}}/!transform/{record})."
            ))),
            _ => self.create_inventory_posting(record, body),
        }
    }

    fn stamp_new(
        &mut self,
        record: RecordType,
        body: Map<String, Value>,
        posting: Option<Posting>,
    ) -> u64 {
        let id = self.allocate_id();
        let now = now_seconds();
        self.insert(
            record,
            id,
            Stored {
                body,
                created: now,
                last_modified: now,
                posting,
            },
        );
        id
    }

    fn create_item(
        &mut self,
        record: RecordType,
        mut body: Map<String, Value>,
    ) -> Result<u64, NsError> {
        let item_id = body
            .get("itemId")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                NsError::user("Please enter value(s) for: Item Name/Number").at("itemId")
            })?
            .to_string();
        let taken = self
            .records
            .iter()
            .filter(|(t, _)| t.is_item())
            .any(|(_, m)| {
                m.values()
                    .any(|s| s.body.get("itemId").and_then(Value::as_str) == Some(item_id.as_str()))
            });
        if taken {
            return Err(NsError::user(format!(
                "The item name you have chosen ({item_id}) is already used. Go back, change the name and resubmit."
            ))
            .at("itemId"));
        }
        body.insert(
            "isLotItem".into(),
            json!(record == RecordType::LotNumberedInventoryItem),
        );
        body.insert(
            "isSerialItem".into(),
            json!(record == RecordType::SerializedInventoryItem),
        );
        body.entry("isInactive").or_insert(json!(false));
        Self::normalise_loose_refs(&mut body);
        Ok(self.stamp_new(record, body, None))
    }

    fn create_named(
        &mut self,
        record: RecordType,
        mut body: Map<String, Value>,
    ) -> Result<u64, NsError> {
        if !body.get("name").is_some_and(Value::is_string) {
            return Err(NsError::user("Please enter value(s) for: Name").at("name"));
        }
        body.entry("isInactive").or_insert(json!(false));
        Self::normalise_loose_refs(&mut body);
        Ok(self.stamp_new(record, body, None))
    }

    fn create_inventory_number(&mut self, mut body: Map<String, Value>) -> Result<u64, NsError> {
        let number = body
            .get("inventoryNumber")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                NsError::user("Please enter value(s) for: Number").at("inventoryNumber")
            })?
            .to_string();
        let item = self.resolve_ref(
            body.get("item").unwrap_or(&Value::Null),
            &[
                RecordType::LotNumberedInventoryItem,
                RecordType::SerializedInventoryItem,
            ],
            "item",
        )?;
        if self.find_inventory_number(item, &number).is_some() {
            return Err(NsError::user(format!(
                "The number {number} already exists for this item."
            ))
            .at("inventoryNumber"));
        }
        body.insert("item".into(), self.item_ref(item));
        Ok(self.stamp_new(RecordType::InventoryNumber, body, None))
    }

    pub(crate) fn find_inventory_number(&self, item: u64, number: &str) -> Option<u64> {
        self.records
            .get(&RecordType::InventoryNumber)?
            .iter()
            .find_map(|(id, s)| {
                (ref_id(s.body.get("item")) == Some(item)
                    && s.body.get("inventoryNumber").and_then(Value::as_str) == Some(number))
                .then_some(*id)
            })
    }

    /// Validates and normalises one order line; `line` is its line number.
    fn order_line(
        &self,
        mut line: Map<String, Value>,
        number: u64,
        path: &str,
    ) -> Result<Map<String, Value>, NsError> {
        let item = self.resolve_ref(
            line.get("item").unwrap_or(&Value::Null),
            &item_types(),
            &format!("{path}.item"),
        )?;
        let quantity = line
            .get("quantity")
            .and_then(decimal_from_json)
            .filter(|q| *q > Decimal::ZERO)
            .ok_or_else(|| {
                NsError::user("Please enter a quantity greater than 0.")
                    .at(format!("{path}.quantity"))
            })?;
        if let Some(location) = line.get("location").filter(|v| !v.is_null()).cloned() {
            let id = self.resolve_ref(
                &location,
                &[RecordType::Location],
                &format!("{path}.location"),
            )?;
            line.insert("location".into(), self.simple_ref(RecordType::Location, id));
        }
        line.insert("line".into(), json!(number));
        line.insert("item".into(), self.item_ref(item));
        line.insert("quantity".into(), decimal_to_json(quantity));
        // Order lines carry both `quantityFulfilled` and `quantityReceived` (as the browser
        // lists them); only the record's own one moves.
        line.insert("quantityFulfilled".into(), json!(0));
        line.insert("quantityReceived".into(), json!(0));
        line.entry("isClosed").or_insert(json!(false));
        Self::normalise_loose_refs(&mut line);
        Ok(line)
    }

    fn create_order(
        &mut self,
        record: RecordType,
        mut body: Map<String, Value>,
    ) -> Result<u64, NsError> {
        let lines = sublist_items(&body, "item")
            .filter(|l| !l.is_empty())
            .ok_or_else(|| {
                NsError::user("You must enter at least one line item for this transaction.")
                    .at("item")
            })?
            .clone();
        let mut normalised = Vec::new();
        for (i, line) in lines.into_iter().enumerate() {
            let Value::Object(line) = line else {
                return Err(
                    NsError::content("Each line must be an object.").at(format!("item.items[{i}]"))
                );
            };
            normalised.push(Value::Object(self.order_line(
                line,
                1 + LINE_STEP * i as u64,
                &format!("item.items[{i}]"),
            )?));
        }
        if let Some(location) = body.get("location").filter(|v| !v.is_null()).cloned() {
            let id = self.resolve_ref(&location, &[RecordType::Location], "location")?;
            body.insert("location".into(), self.simple_ref(RecordType::Location, id));
        }
        let pending_approval = body
            .get("orderStatus")
            .and_then(|s| s.get("id"))
            .and_then(Value::as_str)
            == Some("A");
        body.insert("item".into(), json!({"items": normalised}));
        body.insert(
            "status".into(),
            status_ref(record, if pending_approval { "A" } else { "B" }),
        );
        body.insert(
            "orderStatus".into(),
            json!({"id": if pending_approval { "A" } else { "B" }}),
        );
        if !body.contains_key("tranId") {
            let tran_id = self.next_tran_id(record);
            body.insert("tranId".into(), json!(tran_id));
        }
        body.entry("tranDate").or_insert_with(|| json!(today()));
        Self::normalise_loose_refs(&mut body);
        Ok(self.stamp_new(record, body, None))
    }

    // ---------------------------------------------------------------- inventory detail

    /// Parses a line's `inventoryDetail.inventoryAssignment.items`, checking lot/serial rules.
    fn assignments(
        &self,
        line: &Map<String, Value>,
        item: u64,
        quantity: Decimal,
        direction: Direction,
        default_status: u64,
        at: LineAt<'_>,
    ) -> Result<Vec<Assignment>, NsError> {
        let LineAt {
            path,
            number: line_number,
        } = at;
        let kind = self.item_kind(item).unwrap_or(ItemKind::Inventory);
        let detail = line
            .get("inventoryDetail")
            .and_then(|d| d.get("inventoryAssignment"))
            .and_then(|a| a.get("items"))
            .and_then(Value::as_array);
        let Some(detail) = detail.filter(|d| !d.is_empty()) else {
            if kind != ItemKind::Inventory {
                return Err(NsError::user(format!(
                    "Please configure the inventory detail in line {line_number} of the item list."
                ))
                .at(format!("{path}.inventoryDetail")));
            }
            // Like the detail lines below, the assignment carries the size of the change; the
            // direction gives its sign (a negative `adjustQtyBy` removes stock).
            return Ok(vec![Assignment {
                lot: None,
                status: default_status,
                to_status: None,
                quantity: quantity.abs(),
            }]);
        };
        let mut out = Vec::new();
        let mut total = Decimal::ZERO;
        for (i, a) in detail.iter().enumerate() {
            let apath = format!("{path}.inventoryDetail.inventoryAssignment.items[{i}]");
            let qty = a
                .get("quantity")
                .and_then(decimal_from_json)
                .map(|q| q.abs())
                .filter(|q| !q.is_zero())
                .ok_or_else(|| {
                    NsError::user("Please enter a quantity for each inventory assignment.")
                        .at(format!("{apath}.quantity"))
                })?;
            total += qty;
            let status = match a.get("inventoryStatus").filter(|v| !v.is_null()) {
                Some(s) => self.resolve_ref(
                    s,
                    &[RecordType::InventoryStatus],
                    &format!("{apath}.inventoryStatus"),
                )?,
                None => default_status,
            };
            let to_status = match a.get("toInventoryStatus").filter(|v| !v.is_null()) {
                Some(s) => Some(self.resolve_ref(
                    s,
                    &[RecordType::InventoryStatus],
                    &format!("{apath}.toInventoryStatus"),
                )?),
                None => None,
            };
            let issue = a.get("issueInventoryNumber").filter(|v| !v.is_null());
            let receipt = a.get("receiptInventoryNumber").filter(|v| !v.is_null());
            if issue.is_some() && receipt.is_some() {
                return Err(NsError::user(
                    "Send either issueInventoryNumber or receiptInventoryNumber, not both.",
                )
                .at(apath));
            }
            let lot = match (kind, direction) {
                (ItemKind::Inventory, _) => {
                    if issue.is_some() || receipt.is_some() {
                        return Err(NsError::user("The item is not lot numbered or serialized; remove the inventory number.").at(apath));
                    }
                    None
                }
                (_, Direction::Inbound) => {
                    let number = receipt
                        .and_then(Value::as_str)
                        .filter(|s| !s.trim().is_empty())
                        .ok_or_else(|| {
                            NsError::user("Please enter a value for receiptInventoryNumber.")
                                .at(format!("{apath}.receiptInventoryNumber"))
                        })?;
                    if kind == ItemKind::Serialized {
                        if qty != Decimal::ONE {
                            return Err(NsError::user(
                                "The quantity of a serial number must be 1.",
                            )
                            .at(format!("{apath}.quantity")));
                        }
                        if let Some(existing) = self.find_inventory_number(item, number)
                            && self.lot_on_hand(item, existing) > Decimal::ZERO
                        {
                            return Err(NsError::user(format!(
                                "The serial number {number} is already in stock."
                            ))
                            .at(format!("{apath}.receiptInventoryNumber")));
                        }
                    }
                    Some(match self.find_inventory_number(item, number) {
                        Some(id) => LotRef::Existing(id),
                        None => LotRef::New(number.to_string()),
                    })
                }
                (_, Direction::Outbound) => {
                    let number = issue.ok_or_else(|| {
                        NsError::user("Please enter a value for issueInventoryNumber.")
                            .at(format!("{apath}.issueInventoryNumber"))
                    })?;
                    let id = self.resolve_ref(
                        number,
                        &[RecordType::InventoryNumber],
                        &format!("{apath}.issueInventoryNumber"),
                    )?;
                    if ref_id(
                        self.get(RecordType::InventoryNumber, id)
                            .and_then(|s| s.body.get("item")),
                    ) != Some(item)
                    {
                        return Err(NsError::field(
                            "The inventory number belongs to another item.",
                        )
                        .at(format!("{apath}.issueInventoryNumber")));
                    }
                    if kind == ItemKind::Serialized && qty != Decimal::ONE {
                        return Err(NsError::user("The quantity of a serial number must be 1.")
                            .at(format!("{apath}.quantity")));
                    }
                    Some(LotRef::Existing(id))
                }
            };
            out.push(Assignment {
                lot,
                status,
                to_status,
                quantity: qty,
            });
        }
        if total != quantity.abs() {
            return Err(NsError::user(format!(
                "The total inventory detail quantity must be {}.",
                quantity.abs().normalize()
            ))
            .at(format!("{path}.inventoryDetail")));
        }
        Ok(out)
    }

    fn lot_on_hand(&self, item: u64, lot: u64) -> Decimal {
        self.balances
            .iter()
            .filter(|(k, _)| k.item == item && k.inventory_number == Some(lot))
            .map(|(_, q)| *q)
            .sum()
    }

    /// Normalises the inventory detail stored on a line (references as `{id, refName}`).
    fn store_detail(
        &self,
        line: &mut Map<String, Value>,
        assignments: &[Assignment],
        direction: Direction,
    ) {
        if line.get("inventoryDetail").is_none() {
            return;
        }
        let items: Vec<Value> = assignments
            .iter()
            .map(|a| {
                let mut out = Map::new();
                out.insert("quantity".into(), decimal_to_json(a.quantity));
                out.insert(
                    "inventoryStatus".into(),
                    self.simple_ref(RecordType::InventoryStatus, a.status),
                );
                if let Some(to) = a.to_status {
                    out.insert(
                        "toInventoryStatus".into(),
                        self.simple_ref(RecordType::InventoryStatus, to),
                    );
                }
                match (&a.lot, direction) {
                    (Some(LotRef::Existing(id)), Direction::Outbound) => {
                        out.insert(
                            "issueInventoryNumber".into(),
                            self.simple_ref(RecordType::InventoryNumber, *id),
                        );
                    }
                    (Some(LotRef::Existing(id)), Direction::Inbound) => {
                        out.insert(
                            "receiptInventoryNumber".into(),
                            self.ref_name(RecordType::InventoryNumber, *id),
                        );
                    }
                    (Some(LotRef::New(number)), _) => {
                        out.insert("receiptInventoryNumber".into(), json!(number));
                    }
                    (None, _) => {}
                }
                Value::Object(out)
            })
            .collect();
        line.insert(
            "inventoryDetail".into(),
            json!({"inventoryAssignment": {"items": items}}),
        );
    }

    /// Checks that applying `movements` keeps every balance at or above zero.
    fn check_movements(
        &self,
        movements: &[Movement],
        path_of: impl Fn(usize) -> String,
    ) -> Result<(), NsError> {
        if self.allow_negative_inventory {
            return Ok(());
        }
        let mut after: BTreeMap<(u64, u64, u64, Option<LotRef>), Decimal> = BTreeMap::new();
        for (i, m) in movements.iter().enumerate() {
            let key = (m.item, m.location, m.status, m.lot.clone());
            let current = match &m.lot {
                Some(LotRef::New(_)) => Decimal::ZERO,
                Some(LotRef::Existing(id)) => self.balance(BalanceKey {
                    item: m.item,
                    location: m.location,
                    status: m.status,
                    inventory_number: Some(*id),
                }),
                None => self.balance(BalanceKey {
                    item: m.item,
                    location: m.location,
                    status: m.status,
                    inventory_number: None,
                }),
            };
            let entry = after.entry(key).or_insert(current);
            *entry += m.delta;
            if *entry < Decimal::ZERO {
                return Err(NsError::user(format!(
                    "Insufficient quantity on hand: item {} at location {} in status {} would go to {}.",
                    self.ref_name(self.item_kind(m.item).unwrap_or(ItemKind::Inventory).record_type(), m.item).as_str().unwrap_or(""),
                    m.location,
                    m.status,
                    entry.normalize()
                ))
                .at(path_of(i)));
            }
        }
        Ok(())
    }

    pub(crate) fn balance(&self, key: BalanceKey) -> Decimal {
        self.balances.get(&key).copied().unwrap_or_default()
    }

    /// Creates lots that do not exist yet and turns movements into balance deltas.
    fn realise(&mut self, movements: Vec<Movement>) -> Vec<(BalanceKey, Decimal)> {
        let mut out = Vec::new();
        for m in movements {
            let lot = match m.lot {
                None => None,
                Some(LotRef::Existing(id)) => Some(id),
                Some(LotRef::New(number)) => {
                    Some(match self.find_inventory_number(m.item, &number) {
                        Some(id) => id,
                        None => {
                            let mut body = Map::new();
                            body.insert("inventoryNumber".into(), json!(number));
                            body.insert("item".into(), self.item_ref(m.item));
                            self.stamp_new(RecordType::InventoryNumber, body, None)
                        }
                    })
                }
            };
            out.push((
                BalanceKey {
                    item: m.item,
                    location: m.location,
                    status: m.status,
                    inventory_number: lot,
                },
                m.delta,
            ));
        }
        out
    }

    fn apply_balances(&mut self, deltas: &[(BalanceKey, Decimal)], sign: Decimal) {
        for (key, delta) in deltas {
            let entry = self.balances.entry(*key).or_default();
            *entry += *delta * sign;
            if entry.is_zero() {
                self.balances.remove(key);
            }
        }
    }

    // ---------------------------------------------------------------- adjustments, transfers

    fn create_inventory_posting(
        &mut self,
        record: RecordType,
        mut body: Map<String, Value>,
    ) -> Result<u64, NsError> {
        let lines = sublist_items(&body, "inventory")
            .filter(|l| !l.is_empty())
            .ok_or_else(|| {
                NsError::user("You must enter at least one line item for this transaction.")
                    .at("inventory")
            })?
            .clone();
        let header_location = |field: &str,
                               state: &State,
                               body: &Map<String, Value>|
         -> Result<Option<u64>, NsError> {
            match body.get(field).filter(|v| !v.is_null()) {
                Some(v) => state
                    .resolve_ref(v, &[RecordType::Location], field)
                    .map(Some),
                None => Ok(None),
            }
        };
        let mut movements = Vec::new();
        let mut movement_paths = Vec::new();
        let mut stored_lines = Vec::new();
        match record {
            RecordType::InventoryAdjustment => {
                if body.get("account").is_none_or(Value::is_null) {
                    return Err(
                        NsError::user("Please enter value(s) for: Adjustment Account")
                            .at("account"),
                    );
                }
                let adj_location = header_location("adjLocation", self, &body)?;
                if let Some(id) = adj_location {
                    body.insert(
                        "adjLocation".into(),
                        self.simple_ref(RecordType::Location, id),
                    );
                }
                for (i, line) in lines.into_iter().enumerate() {
                    let path = format!("inventory.items[{i}]");
                    let Value::Object(mut line) = line else {
                        return Err(NsError::content("Each line must be an object.").at(path));
                    };
                    let item = self.resolve_ref(
                        line.get("item").unwrap_or(&Value::Null),
                        &item_types(),
                        &format!("{path}.item"),
                    )?;
                    let location = match line.get("location").filter(|v| !v.is_null()) {
                        Some(v) => self.resolve_ref(
                            v,
                            &[RecordType::Location],
                            &format!("{path}.location"),
                        )?,
                        None => adj_location.ok_or_else(|| {
                            NsError::user("Please enter value(s) for: Location")
                                .at(format!("{path}.location"))
                        })?,
                    };
                    let qty = line
                        .get("adjustQtyBy")
                        .and_then(decimal_from_json)
                        .filter(|q| !q.is_zero())
                        .ok_or_else(|| {
                            NsError::user("Please enter a non-zero adjustQtyBy.")
                                .at(format!("{path}.adjustQtyBy"))
                        })?;
                    let direction = if qty > Decimal::ZERO {
                        Direction::Inbound
                    } else {
                        Direction::Outbound
                    };
                    let assignments = self.assignments(
                        &line,
                        item,
                        qty,
                        direction,
                        self.default_status,
                        LineAt {
                            path: &path,
                            number: i as u64 + 1,
                        },
                    )?;
                    for a in &assignments {
                        movements.push(Movement {
                            item,
                            location,
                            status: a.status,
                            lot: a.lot.clone(),
                            delta: if qty > Decimal::ZERO {
                                a.quantity
                            } else {
                                -a.quantity
                            },
                        });
                        movement_paths.push(path.clone());
                    }
                    self.store_detail(&mut line, &assignments, direction);
                    line.insert("line".into(), json!(i + 1));
                    line.insert("item".into(), self.item_ref(item));
                    line.insert(
                        "location".into(),
                        self.simple_ref(RecordType::Location, location),
                    );
                    line.insert("adjustQtyBy".into(), decimal_to_json(qty));
                    stored_lines.push(Value::Object(line));
                }
            }
            RecordType::InventoryTransfer => {
                let from = header_location("location", self, &body)?.ok_or_else(|| {
                    NsError::user("Please enter value(s) for: From Location").at("location")
                })?;
                let to = header_location("transferLocation", self, &body)?.ok_or_else(|| {
                    NsError::user("Please enter value(s) for: To Location").at("transferLocation")
                })?;
                if from == to {
                    return Err(NsError::user("The from and to locations must differ.")
                        .at("transferLocation"));
                }
                body.insert(
                    "location".into(),
                    self.simple_ref(RecordType::Location, from),
                );
                body.insert(
                    "transferLocation".into(),
                    self.simple_ref(RecordType::Location, to),
                );
                for (i, line) in lines.into_iter().enumerate() {
                    let path = format!("inventory.items[{i}]");
                    let Value::Object(mut line) = line else {
                        return Err(NsError::content("Each line must be an object.").at(path));
                    };
                    let item = self.resolve_ref(
                        line.get("item").unwrap_or(&Value::Null),
                        &item_types(),
                        &format!("{path}.item"),
                    )?;
                    let qty = line
                        .get("adjustQtyBy")
                        .and_then(decimal_from_json)
                        .filter(|q| *q > Decimal::ZERO)
                        .ok_or_else(|| {
                            NsError::user("Please enter a quantity to transfer greater than 0.")
                                .at(format!("{path}.adjustQtyBy"))
                        })?;
                    let assignments = self.assignments(
                        &line,
                        item,
                        qty,
                        Direction::Outbound,
                        self.default_status,
                        LineAt {
                            path: &path,
                            number: i as u64 + 1,
                        },
                    )?;
                    for a in &assignments {
                        movements.push(Movement {
                            item,
                            location: from,
                            status: a.status,
                            lot: a.lot.clone(),
                            delta: -a.quantity,
                        });
                        movements.push(Movement {
                            item,
                            location: to,
                            status: a.to_status.unwrap_or(a.status),
                            lot: a.lot.clone(),
                            delta: a.quantity,
                        });
                        movement_paths.push(path.clone());
                        movement_paths.push(path.clone());
                    }
                    self.store_detail(&mut line, &assignments, Direction::Outbound);
                    line.insert("line".into(), json!(i + 1));
                    line.insert("item".into(), self.item_ref(item));
                    line.insert("adjustQtyBy".into(), decimal_to_json(qty));
                    stored_lines.push(Value::Object(line));
                }
            }
            RecordType::InventoryStatusChange => {
                let location = header_location("location", self, &body)?.ok_or_else(|| {
                    NsError::user("Please enter value(s) for: Location").at("location")
                })?;
                let status_of = |field: &str, state: &State| -> Result<u64, NsError> {
                    let v = body.get(field).filter(|v| !v.is_null()).ok_or_else(|| {
                        NsError::user(format!("Please enter value(s) for: {field}"))
                            .at(field.to_string())
                    })?;
                    state.resolve_ref(v, &[RecordType::InventoryStatus], field)
                };
                let previous = status_of("previousStatus", self)?;
                let revised = status_of("revisedStatus", self)?;
                body.insert(
                    "location".into(),
                    self.simple_ref(RecordType::Location, location),
                );
                body.insert(
                    "previousStatus".into(),
                    self.simple_ref(RecordType::InventoryStatus, previous),
                );
                body.insert(
                    "revisedStatus".into(),
                    self.simple_ref(RecordType::InventoryStatus, revised),
                );
                for (i, line) in lines.into_iter().enumerate() {
                    let path = format!("inventory.items[{i}]");
                    let Value::Object(mut line) = line else {
                        return Err(NsError::content("Each line must be an object.").at(path));
                    };
                    let item = self.resolve_ref(
                        line.get("item").unwrap_or(&Value::Null),
                        &item_types(),
                        &format!("{path}.item"),
                    )?;
                    let qty = line
                        .get("quantity")
                        .and_then(decimal_from_json)
                        .filter(|q| *q > Decimal::ZERO)
                        .ok_or_else(|| {
                            NsError::user("Please enter a quantity greater than 0.")
                                .at(format!("{path}.quantity"))
                        })?;
                    let assignments = self.assignments(
                        &line,
                        item,
                        qty,
                        Direction::Outbound,
                        previous,
                        LineAt {
                            path: &path,
                            number: i as u64 + 1,
                        },
                    )?;
                    for a in &assignments {
                        movements.push(Movement {
                            item,
                            location,
                            status: previous,
                            lot: a.lot.clone(),
                            delta: -a.quantity,
                        });
                        movements.push(Movement {
                            item,
                            location,
                            status: revised,
                            lot: a.lot.clone(),
                            delta: a.quantity,
                        });
                        movement_paths.push(path.clone());
                        movement_paths.push(path.clone());
                    }
                    self.store_detail(&mut line, &assignments, Direction::Outbound);
                    line.insert("line".into(), json!(i + 1));
                    line.insert("item".into(), self.item_ref(item));
                    line.insert("quantity".into(), decimal_to_json(qty));
                    stored_lines.push(Value::Object(line));
                }
            }
            _ => {
                return Err(NsError::user(format!(
                    "Creating {record} records is not supported."
                )));
            }
        }
        self.check_movements(&movements, |i| movement_paths[i].clone())?;
        body.insert("inventory".into(), json!({"items": stored_lines}));
        if !body.contains_key("tranId") {
            let tran_id = self.next_tran_id(record);
            body.insert("tranId".into(), json!(tran_id));
        }
        body.entry("tranDate").or_insert_with(|| json!(today()));
        Self::normalise_loose_refs(&mut body);
        let balances = self.realise(movements);
        self.apply_balances(&balances, Decimal::ONE);
        let posting = Posting {
            balances,
            order_lines: Vec::new(),
            inventory_posted: true,
        };
        Ok(self.stamp_new(record, body, Some(posting)))
    }

    // ---------------------------------------------------------------- transforms

    /// `POST /{source}/{id}/!transform/{target}`.
    pub(crate) fn transform(
        &mut self,
        source: RecordType,
        source_id: u64,
        target: RecordType,
        body: Value,
        replace_lines: bool,
    ) -> Result<u64, NsError> {
        let allowed = matches!(
            (source, target),
            (RecordType::SalesOrder, RecordType::ItemFulfillment)
                | (RecordType::PurchaseOrder, RecordType::ItemReceipt)
                | (RecordType::ReturnAuthorization, RecordType::ItemReceipt)
        );
        if !allowed {
            return Err(NsError::user(format!(
                "The transformation of {source} to {target} is not supported."
            )));
        }
        let Value::Object(mut body) = body else {
            return Err(NsError::content("The request body must be a JSON object."));
        };
        schema::check(target, &body)?;
        self.check_external_id_free(target, &body)?;
        let order = self.get(source, source_id).ok_or_else(|| {
            NsError::not_found(format!("The record instance does not exist. Provide a valid record instance ID ({source} {source_id})."))
        })?;
        let status = order
            .body
            .get("status")
            .and_then(|s| s.get("id"))
            .and_then(Value::as_str)
            .unwrap_or("B");
        if matches!(status, "A" | "C" | "H") {
            return Err(NsError::user(format!(
                "You can not initialize {target}: the {} is {}.",
                source.display_name().to_lowercase(),
                order_status_name(source, status)
            )));
        }
        let direction = if target == RecordType::ItemFulfillment {
            Direction::Outbound
        } else {
            Direction::Inbound
        };
        let done_field = qty_field(source);
        let header_location = ref_id(order.body.get("location"));

        // Pre-fill: every open line with its remaining quantity.
        struct Draft {
            order_line: u64,
            item: u64,
            remaining: Decimal,
            quantity: Decimal,
            location: Option<u64>,
            receive: bool,
            mentioned: bool,
            fields: Map<String, Value>,
            body_index: Option<usize>,
        }
        let mut drafts: Vec<Draft> = Vec::new();
        for line in sublist_items(&order.body, "item").into_iter().flatten() {
            let quantity = line
                .get("quantity")
                .and_then(decimal_from_json)
                .unwrap_or_default();
            let done = line
                .get(done_field)
                .and_then(decimal_from_json)
                .unwrap_or_default();
            let closed = line
                .get("isClosed")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let remaining = quantity - done;
            if closed || remaining <= Decimal::ZERO {
                continue;
            }
            drafts.push(Draft {
                order_line: line.get("line").and_then(id_from_json).unwrap_or_default(),
                item: ref_id(line.get("item")).unwrap_or_default(),
                remaining,
                quantity: remaining,
                location: ref_id(line.get("location")).or(header_location),
                receive: true,
                mentioned: false,
                fields: Map::new(),
                body_index: None,
            });
        }
        let order_tran_id = order.body.get("tranId").cloned().unwrap_or(Value::Null);
        let all_lines: Vec<u64> = sublist_items(&order.body, "item")
            .into_iter()
            .flatten()
            .filter_map(|l| l.get("line").and_then(id_from_json))
            .collect();
        let entity = order.body.get("entity").cloned();

        // Overrides from the body, keyed by orderLine (or line).
        let body_lines = match body.remove("item") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => v
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| NsError::content("item must be {\"items\": [...]}.").at("item"))?,
        };
        for (i, line) in body_lines.into_iter().enumerate() {
            let path = format!("item.items[{i}]");
            let Value::Object(line) = line else {
                return Err(NsError::content("Each line must be an object.").at(path));
            };
            let key = line
                .get("orderLine")
                .or_else(|| line.get("line"))
                .and_then(id_from_json)
                .ok_or_else(|| {
                    NsError::user("Each line must name the order line it refers to (orderLine).")
                        .at(format!("{path}.orderLine"))
                })?;
            let excluded = line.get("itemReceive") == Some(&Value::Bool(false));
            if excluded && all_lines.contains(&key) && !drafts.iter().any(|d| d.order_line == key) {
                // Excluding a line that has nothing left to move is harmless.
                continue;
            }
            let draft = drafts
                .iter_mut()
                .find(|d| d.order_line == key)
                .ok_or_else(|| {
                    NsError::user(format!(
                        "Line {key} is not an open line of {} {}.",
                        source,
                        order_tran_id.as_str().unwrap_or("")
                    ))
                    .at(format!("{path}.orderLine"))
                })?;
            draft.mentioned = true;
            draft.body_index = Some(i);
            if let Some(receive) = line.get("itemReceive") {
                draft.receive = receive.as_bool().ok_or_else(|| {
                    NsError::content("itemReceive must be a boolean.")
                        .at(format!("{path}.itemReceive"))
                })?;
            }
            if let Some(item) = line.get("item").filter(|v| !v.is_null()) {
                let id = self.resolve_ref(item, &item_types(), &format!("{path}.item"))?;
                if id != draft.item {
                    return Err(NsError::user(format!("Line {key} holds another item."))
                        .at(format!("{path}.item")));
                }
            }
            if let Some(q) = line.get("quantity").filter(|v| !v.is_null()) {
                draft.quantity = decimal_from_json(q).ok_or_else(|| {
                    NsError::content("quantity must be a number.").at(format!("{path}.quantity"))
                })?;
            }
            if let Some(location) = line.get("location").filter(|v| !v.is_null()) {
                draft.location = Some(self.resolve_ref(
                    location,
                    &[RecordType::Location],
                    &format!("{path}.location"),
                )?);
            }
            draft.fields = line;
        }
        if replace_lines {
            for d in drafts.iter_mut().filter(|d| !d.mentioned) {
                d.receive = false;
            }
        }
        let chosen: Vec<&Draft> = drafts.iter().filter(|d| d.receive).collect();
        if chosen.is_empty() {
            return Err(NsError::user(
                "You must enter at least one line item for this transaction.",
            )
            .at("item"));
        }

        let ship_status = match body
            .get("shipStatus")
            .and_then(|s| s.get("id"))
            .and_then(Value::as_str)
        {
            None => "C",
            Some("A") => "A",
            Some("B") => "B",
            Some("C") => "C",
            Some(other) => {
                return Err(NsError::field(format!(
                    "Invalid Field Value {other} for the following field: shipStatus"
                ))
                .at("shipStatus"));
            }
        };
        let post_inventory = target == RecordType::ItemReceipt || ship_status == "C";

        let mut movements = Vec::new();
        let mut movement_paths = Vec::new();
        let mut stored_lines = Vec::new();
        let mut order_deltas = Vec::new();
        for (n, d) in chosen.iter().enumerate() {
            let path = format!("item.items[{}]", d.body_index.unwrap_or(n));
            if d.quantity <= Decimal::ZERO {
                return Err(NsError::user("Please enter a quantity greater than 0.")
                    .at(format!("{path}.quantity")));
            }
            if d.quantity > d.remaining {
                let verb = if direction == Direction::Outbound {
                    "fulfill"
                } else {
                    "receive"
                };
                return Err(NsError::user(format!(
                    "You can not {verb} more than the remaining quantity of line {} ({} remaining, {} requested).",
                    d.order_line,
                    d.remaining.normalize(),
                    d.quantity.normalize()
                ))
                .at(format!("{path}.quantity")));
            }
            let location = d.location.ok_or_else(|| {
                NsError::user("Please enter value(s) for: Inventory Location")
                    .at(format!("{path}.location"))
            })?;
            let assignments = self.assignments(
                &d.fields,
                d.item,
                d.quantity,
                direction,
                self.default_status,
                LineAt {
                    path: &path,
                    number: d.order_line,
                },
            )?;
            for a in &assignments {
                let delta = if direction == Direction::Outbound {
                    -a.quantity
                } else {
                    a.quantity
                };
                movements.push(Movement {
                    item: d.item,
                    location,
                    status: a.status,
                    lot: a.lot.clone(),
                    delta,
                });
                movement_paths.push(path.clone());
            }
            let mut line = d.fields.clone();
            self.store_detail(&mut line, &assignments, direction);
            line.insert("line".into(), json!(n + 1));
            line.insert("orderLine".into(), json!(d.order_line));
            line.insert("item".into(), self.item_ref(d.item));
            line.insert("quantity".into(), decimal_to_json(d.quantity));
            line.insert("quantityRemaining".into(), decimal_to_json(d.remaining));
            line.insert(
                "location".into(),
                self.simple_ref(RecordType::Location, location),
            );
            line.insert("itemReceive".into(), json!(true));
            Self::normalise_loose_refs(&mut line);
            stored_lines.push(Value::Object(line));
            order_deltas.push((source, source_id, d.order_line, d.quantity));
        }
        if post_inventory {
            self.check_movements(&movements, |i| movement_paths[i].clone())?;
        }

        // Commit.
        body.insert("item".into(), json!({"items": stored_lines}));
        body.insert(
            "createdFrom".into(),
            json!({"id": source_id.to_string(), "refName": order_tran_id}),
        );
        if let Some(entity) = entity {
            body.entry("entity").or_insert(entity);
        }
        if let Some(loc) = header_location {
            body.entry("location")
                .or_insert(self.simple_ref(RecordType::Location, loc));
        }
        if target == RecordType::ItemFulfillment {
            body.insert(
                "shipStatus".into(),
                status_ref(RecordType::ItemFulfillment, ship_status),
            );
            body.insert(
                "status".into(),
                status_ref(RecordType::ItemFulfillment, ship_status),
            );
        }
        if !body.contains_key("tranId") {
            let tran_id = self.next_tran_id(target);
            body.insert("tranId".into(), json!(tran_id));
        }
        body.entry("tranDate").or_insert_with(|| json!(today()));
        Self::normalise_loose_refs(&mut body);
        let mut posting = Posting {
            balances: Vec::new(),
            order_lines: order_deltas,
            inventory_posted: false,
        };
        let realised = self.realise(movements);
        if post_inventory {
            self.apply_balances(&realised, Decimal::ONE);
            posting.inventory_posted = true;
        }
        posting.balances = realised;
        self.apply_order_deltas(&posting.order_lines, Decimal::ONE);
        Ok(self.stamp_new(target, body, Some(posting)))
    }

    fn apply_order_deltas(&mut self, deltas: &[(RecordType, u64, u64, Decimal)], sign: Decimal) {
        let now = now_seconds();
        for (record, id, line_number, delta) in deltas {
            let field = qty_field(*record);
            let Some(order) = self.get_mut(*record, *id) else {
                continue;
            };
            if let Some(lines) = order
                .body
                .get_mut("item")
                .and_then(|s| s.get_mut("items"))
                .and_then(Value::as_array_mut)
            {
                for line in lines.iter_mut() {
                    if line.get("line").and_then(id_from_json) == Some(*line_number) {
                        let done = line
                            .get(field)
                            .and_then(decimal_from_json)
                            .unwrap_or_default()
                            + *delta * sign;
                        line[field] = decimal_to_json(done);
                    }
                }
            }
            Self::recompute_order_status(*record, &mut order.body);
            self.touch(*record, *id, now);
        }
    }

    /// Sets an order's status from its lines (unless it is held in a terminal or approval state).
    fn recompute_order_status(record: RecordType, body: &mut Map<String, Value>) {
        let current = body
            .get("status")
            .and_then(|s| s.get("id"))
            .and_then(Value::as_str)
            .unwrap_or("B")
            .to_string();
        if matches!(current.as_str(), "A" | "C" | "G") {
            return;
        }
        let field = qty_field(record);
        let lines = sublist_items(body, "item").cloned().unwrap_or_default();
        let mut any_done = false;
        let mut all_done = true;
        let mut all_closed = !lines.is_empty();
        for line in &lines {
            let quantity = line
                .get("quantity")
                .and_then(decimal_from_json)
                .unwrap_or_default();
            let done = line
                .get(field)
                .and_then(decimal_from_json)
                .unwrap_or_default();
            let closed = line
                .get("isClosed")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            any_done |= done > Decimal::ZERO;
            if !closed {
                all_closed = false;
                all_done &= done >= quantity;
            }
        }
        let code = if all_closed {
            "H"
        } else if all_done && any_done {
            "F"
        } else if any_done {
            "E"
        } else {
            "B"
        };
        body.insert("status".into(), status_ref(record, code));
    }

    // ---------------------------------------------------------------- update, upsert, delete

    /// `PATCH`: merges header fields; keyed merge of order lines (`replace` lists sublists to replace).
    pub(crate) fn update(
        &mut self,
        record: RecordType,
        id: u64,
        patch: Value,
        replace: &[String],
    ) -> Result<(), NsError> {
        let Value::Object(mut patch) = patch else {
            return Err(NsError::content("The request body must be a JSON object."));
        };
        patch.remove("id");
        schema::check(record, &patch)?;
        let stored = self
            .get(record, id)
            .ok_or_else(|| NsError::not_found(format!("{record} {id} does not exist.")))?;
        match patch.get("externalId") {
            None | Some(Value::Null) => {}
            Some(Value::String(ext))
                if stored.body.get("externalId").and_then(Value::as_str) == Some(ext.as_str()) => {}
            Some(_) => self.check_external_id_free(record, &patch)?,
        }
        let mut body = stored.body.clone();
        let posting = stored.posting.clone();
        if record.is_transaction()
            && !record.is_order()
            && let Some(sublist) = record.line_sublist()
            && patch.contains_key(sublist)
        {
            return Err(NsError::user(format!(
                        "The simulator does not support editing the {sublist} lines of a posted {record}; delete and recreate it."
                    ))
                    .at(sublist));
        }
        let mut ship_now = false;
        if record == RecordType::ItemFulfillment
            && let Some(code) = patch
                .get("shipStatus")
                .and_then(|s| s.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string)
        {
            let code = code.as_str();
            let was = body
                .get("shipStatus")
                .and_then(|s| s.get("id"))
                .and_then(Value::as_str)
                .unwrap_or("C");
            match (was, code) {
                (_, c) if !matches!(c, "A" | "B" | "C") => {
                    return Err(NsError::field(format!(
                        "Invalid Field Value {c} for the following field: shipStatus"
                    ))
                    .at("shipStatus"));
                }
                ("C", c) if c != "C" => {
                    return Err(NsError::user(
                        "A shipped fulfilment cannot go back to picked or packed.",
                    )
                    .at("shipStatus"));
                }
                (w, "C") if w != "C" => ship_now = true,
                _ => {}
            }
            patch.insert(
                "shipStatus".into(),
                status_ref(RecordType::ItemFulfillment, code),
            );
            patch.insert(
                "status".into(),
                status_ref(RecordType::ItemFulfillment, code),
            );
        }
        if record.is_order() {
            if let Some(Value::Object(lines)) = patch.remove("item") {
                let items = lines
                    .get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let replace_all = replace.iter().any(|r| r == "item");
                let existing = sublist_items(&body, "item").cloned().unwrap_or_default();
                let mut next_line = existing
                    .iter()
                    .filter_map(|l| l.get("line").and_then(id_from_json))
                    .max()
                    .unwrap_or(0)
                    + LINE_STEP;
                let done_field = qty_field(record);
                let mut result: Vec<Value> = if replace_all {
                    Vec::new()
                } else {
                    existing.clone()
                };
                for (i, line) in items.into_iter().enumerate() {
                    let path = format!("item.items[{i}]");
                    let Value::Object(line) = line else {
                        return Err(NsError::content("Each line must be an object.").at(path));
                    };
                    let key = line.get("line").and_then(id_from_json);
                    let old = key.and_then(|k| {
                        existing
                            .iter()
                            .find(|l| l.get("line").and_then(id_from_json) == Some(k))
                    });
                    match old {
                        Some(old) => {
                            let mut merged = old.as_object().cloned().unwrap_or_default();
                            for (k, v) in line {
                                if k == done_field {
                                    continue;
                                }
                                merged.insert(k, v);
                            }
                            let done = merged
                                .get(done_field)
                                .and_then(decimal_from_json)
                                .unwrap_or_default();
                            let normalised =
                                self.order_line(merged, key.unwrap_or_default(), &path)?;
                            let quantity = normalised
                                .get("quantity")
                                .and_then(decimal_from_json)
                                .unwrap_or_default();
                            if quantity < done {
                                return Err(NsError::user(format!("The quantity of line {} cannot go below the {} already processed.", key.unwrap_or_default(), done.normalize()))
                                    .at(format!("{path}.quantity")));
                            }
                            let mut normalised = normalised;
                            normalised.insert(done_field.into(), decimal_to_json(done));
                            let value = Value::Object(normalised);
                            match result
                                .iter_mut()
                                .find(|l| l.get("line").and_then(id_from_json) == key)
                            {
                                Some(slot) => *slot = value,
                                None => result.push(value),
                            }
                        }
                        None => {
                            if let Some(k) = key {
                                return Err(NsError::user(format!(
                                    "Line {k} does not exist on this order."
                                ))
                                .at(format!("{path}.line")));
                            }
                            result.push(Value::Object(self.order_line(line, next_line, &path)?));
                            next_line += LINE_STEP;
                        }
                    }
                }
                if replace_all {
                    for old in &existing {
                        let done = old
                            .get(done_field)
                            .and_then(decimal_from_json)
                            .unwrap_or_default();
                        let key = old.get("line").and_then(id_from_json);
                        if done > Decimal::ZERO
                            && !result
                                .iter()
                                .any(|l| l.get("line").and_then(id_from_json) == key)
                        {
                            return Err(NsError::user(format!(
                                "Line {} has been processed and cannot be removed.",
                                key.unwrap_or_default()
                            ))
                            .at("item"));
                        }
                    }
                }
                body.insert("item".into(), json!({"items": result}));
            }
            if let Some(code) = patch
                .get("orderStatus")
                .and_then(|s| s.get("id"))
                .and_then(Value::as_str)
            {
                let current = body
                    .get("status")
                    .and_then(|s| s.get("id"))
                    .and_then(Value::as_str)
                    .unwrap_or("B");
                if current == "A" && code == "B" {
                    body.insert("status".into(), status_ref(record, "B"));
                }
            }
            patch.remove("status");
        }
        for field in ["location", "adjLocation", "transferLocation"] {
            if let Some(v) = patch.get(field).filter(|v| !v.is_null()).cloned() {
                let loc = self.resolve_ref(&v, &[RecordType::Location], field)?;
                patch.insert(field.into(), self.simple_ref(RecordType::Location, loc));
            }
        }
        for (key, value) in patch {
            if value.is_null() {
                body.remove(&key);
            } else if replace.iter().any(|r| r == &key)
                || !value.get("items").is_some_and(Value::is_array)
            {
                body.insert(key, value);
            } else {
                // Non-keyed sublists (e.g. `package`): lines are appended.
                let mut items = sublist_items(&body, &key).cloned().unwrap_or_default();
                items.extend(
                    value
                        .get("items")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                );
                body.insert(key, json!({"items": items}));
            }
        }
        if record.is_order() {
            Self::recompute_order_status(record, &mut body);
        }
        Self::normalise_loose_refs(&mut body);
        let mut posting = posting;
        if ship_now && let Some(p) = posting.as_mut() {
            let movements: Vec<Movement> = p
                .balances
                .iter()
                .map(|(k, d)| Movement {
                    item: k.item,
                    location: k.location,
                    status: k.status,
                    lot: k.inventory_number.map(LotRef::Existing),
                    delta: *d,
                })
                .collect();
            self.check_movements(&movements, |_| "shipStatus".to_string())?;
            self.apply_balances(&p.balances.clone(), Decimal::ONE);
            p.inventory_posted = true;
        }
        let old_ext = self.get(record, id).and_then(|s| {
            s.body
                .get("externalId")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        if let Some(old) = old_ext
            && body.get("externalId").and_then(Value::as_str) != Some(old.as_str())
        {
            self.external_ids.remove(&(ext_family(record), old));
        }
        if let Some(ext) = body.get("externalId").and_then(Value::as_str) {
            self.external_ids
                .insert((ext_family(record), ext.to_string()), id);
        }
        let stored = self.get_mut(record, id).expect("checked above");
        stored.body = body;
        stored.posting = posting;
        self.touch(record, id, now_seconds());
        Ok(())
    }

    /// `PUT /{type}/eid:{ext}`: creates the record or replaces its fields. Answers `(id, created)`.
    pub(crate) fn upsert(
        &mut self,
        record: RecordType,
        ext: &str,
        body: Value,
    ) -> Result<(u64, bool), NsError> {
        let Value::Object(mut body) = body else {
            return Err(NsError::content("The request body must be a JSON object."));
        };
        body.insert("externalId".into(), json!(ext));
        match self.find_external(record, ext) {
            None => self
                .create(record, Value::Object(body))
                .map(|id| (id, true)),
            Some(id) => {
                if record.is_transaction() && !record.is_order() {
                    return Err(NsError::user(format!(
                        "A {record} with external ID {ext} already exists and cannot be replaced."
                    )));
                }
                let replace: Vec<String> = body
                    .iter()
                    .filter(|(_, v)| v.get("items").is_some())
                    .map(|(k, _)| k.clone())
                    .collect();
                self.update(record, id, Value::Object(body), &replace)
                    .map(|()| (id, false))
            }
        }
    }

    /// `DELETE`: removes a record, reversing a posting's effects.
    pub(crate) fn delete(&mut self, record: RecordType, id: u64) -> Result<(), NsError> {
        let stored = self
            .get(record, id)
            .ok_or_else(|| NsError::not_found(format!("{record} {id} does not exist.")))?;
        if record.is_order() {
            let has_children = self
                .records
                .iter()
                .filter(|(t, _)| matches!(t, RecordType::ItemFulfillment | RecordType::ItemReceipt))
                .any(|(_, m)| {
                    m.values()
                        .any(|s| ref_id(s.body.get("createdFrom")) == Some(id))
                });
            if has_children {
                return Err(NsError::user(
                    "This record cannot be deleted because it has dependent records.",
                ));
            }
        }
        if record.is_item() && self.balances.keys().any(|k| k.item == id) {
            return Err(NsError::user(
                "This item cannot be deleted because it has inventory on hand.",
            ));
        }
        if let Some(posting) = stored.posting.clone() {
            if posting.inventory_posted {
                let movements: Vec<Movement> = posting
                    .balances
                    .iter()
                    .map(|(k, d)| Movement {
                        item: k.item,
                        location: k.location,
                        status: k.status,
                        lot: k.inventory_number.map(LotRef::Existing),
                        delta: -*d,
                    })
                    .collect();
                self.check_movements(&movements, |_| String::new())?;
                self.apply_balances(&posting.balances, -Decimal::ONE);
            }
            self.apply_order_deltas(&posting.order_lines, -Decimal::ONE);
        }
        let stored = self
            .records
            .get_mut(&record)
            .and_then(|m| m.remove(&id))
            .expect("checked above");
        if let Some(index) = self.modified.get_mut(&record) {
            index.remove(&(stored.last_modified, id));
        }
        if let Some(ext) = stored.body.get("externalId").and_then(Value::as_str) {
            self.external_ids
                .remove(&(ext_family(record), ext.to_string()));
        }
        Ok(())
    }

    /// Sets an order's status directly (cancel, close), as a user would in the UI.
    pub(crate) fn set_order_status(
        &mut self,
        record: RecordType,
        id: u64,
        code: &str,
    ) -> Result<(), NsError> {
        let order = self
            .get_mut(record, id)
            .ok_or_else(|| NsError::not_found(format!("{record} {id} does not exist.")))?;
        if code == "H"
            && let Some(lines) = order
                .body
                .get_mut("item")
                .and_then(|s| s.get_mut("items"))
                .and_then(Value::as_array_mut)
        {
            for line in lines.iter_mut() {
                line["isClosed"] = json!(true);
            }
        }
        order.body.insert("status".into(), status_ref(record, code));
        self.touch(record, id, now_seconds());
        Ok(())
    }

    // ---------------------------------------------------------------- rendering

    /// The JSON answered by `GET`, with `links`, timestamps and (unless expanded) sublists as links.
    pub(crate) fn render(
        &self,
        record: RecordType,
        id: u64,
        base: &str,
        expand: bool,
        fields: Option<&[String]>,
    ) -> Option<Value> {
        let stored = self.get(record, id)?;
        let self_link = format!("{base}/record/v1/{record}/{id}");
        let mut out = Map::new();
        out.insert("links".into(), json!([{"rel": "self", "href": self_link}]));
        let mut body = stored.body.clone();
        if record.is_item() {
            body.insert(
                "locations".into(),
                json!({"items": self.item_locations(id)}),
            );
        }
        for (key, value) in &body {
            if fields.is_some_and(|f| !f.iter().any(|x| x == key)) {
                continue;
            }
            if value.get("items").is_some_and(Value::is_array) && !expand {
                out.insert(
                    key.clone(),
                    json!({"links": [{"rel": "self", "href": format!("{self_link}/{key}")}]}),
                );
            } else {
                out.insert(key.clone(), value.clone());
            }
        }
        out.insert("id".into(), json!(id.to_string()));
        if record.is_transaction() || record.is_item() {
            out.insert(
                "lastModifiedDate".into(),
                json!(stored.last_modified.to_string()),
            );
            out.insert("createdDate".into(), json!(stored.created.to_string()));
        }
        if record == RecordType::InventoryNumber {
            let on_hand = self.lot_on_hand(ref_id(stored.body.get("item")).unwrap_or_default(), id);
            out.insert("quantityOnHand".into(), decimal_to_json(on_hand));
            out.insert("quantityAvailable".into(), decimal_to_json(on_hand));
        }
        Some(Value::Object(out))
    }

    /// An item's per-location quantities (its `locations` sublist), all statuses together.
    fn item_locations(&self, item: u64) -> Vec<Value> {
        let mut per_location: BTreeMap<u64, Decimal> = BTreeMap::new();
        for (key, quantity) in self.balances.iter().filter(|(k, _)| k.item == item) {
            *per_location.entry(key.location).or_default() += *quantity;
        }
        per_location
            .into_iter()
            .map(|(location, quantity)| {
                json!({
                    "location": self.simple_ref(RecordType::Location, location),
                    "locationId": location,
                    "quantityOnHand": decimal_to_json(quantity),
                    "quantityAvailable": decimal_to_json(quantity),
                    "quantityCommitted": 0,
                    "quantityBackOrdered": 0,
                })
            })
            .collect()
    }

    /// The lines of a sublist, for `GET /{type}/{id}/{sublist}`.
    pub(crate) fn sublist(&self, record: RecordType, id: u64, name: &str) -> Option<Vec<Value>> {
        let stored = self.get(record, id)?;
        if record.is_item() && name == "locations" {
            return Some(self.item_locations(id));
        }
        sublist_items(&stored.body, name).cloned()
    }

    pub(crate) fn item_display(&self, id: u64) -> Option<&Map<String, Value>> {
        self.item_body(id)
    }

    /// Sets an item's average cost (`averageCost`) in place, as NetSuite's costing does: the
    /// record's `lastModifiedDate` does not move. `false` when the item does not exist.
    pub(crate) fn set_average_cost(&mut self, item: u64, cost: Option<Decimal>) -> bool {
        let Some(kind) = self.item_kind(item) else {
            return false;
        };
        let Some(stored) = self.get_mut(kind.record_type(), item) else {
            return false;
        };
        match cost {
            Some(cost) => stored
                .body
                .insert("averageCost".into(), decimal_to_json(cost)),
            None => stored.body.remove("averageCost"),
        };
        true
    }
}

fn item_types() -> [RecordType; 3] {
    [
        RecordType::InventoryItem,
        RecordType::LotNumberedInventoryItem,
        RecordType::SerializedInventoryItem,
    ]
}

fn today() -> String {
    Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}
