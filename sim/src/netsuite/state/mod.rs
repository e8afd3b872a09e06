//! The NetSuite simulator's data: records as JSON bodies, external-id index, on-hand balances and
//! the inventory postings made by fulfilments, receipts, adjustments, transfers and status changes.
//!
//! Every write validates everything first and mutates only once it cannot fail any more, so a
//! refused request leaves no trace.
//!
//! This module holds the store itself (records, the external-id index, the modification index)
//! and creation's dispatch; each concern sits in its own file:
//!
//! - `refs.rs`: references between records (`{"id": ...}`, `{"externalId": ...}`, `refName`).
//! - `items.rs`: items, locations, inventory statuses and lot/serial numbers.
//! - `orders.rs`: sales orders, purchase orders and return authorisations, their lines and status.
//! - `inventory.rs`: inventory detail (lots, serials, statuses) and on-hand balance movements.
//! - `postings.rs`: inventory adjustments, transfers and status changes.
//! - `transforms.rs`: fulfilments and receipts transformed from orders.
//! - `update.rs`: `PATCH`, upsert by external id and `DELETE` (reversing postings).
//! - `render.rs`: records and sublists as `GET` answers them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::error::NsError;
use super::records::{RecordType, order_status_name};
use super::schema;
use crate::json::{id_from_json, now_seconds};

mod inventory;
mod items;
mod orders;
mod postings;
mod refs;
mod render;
mod transforms;
mod update;

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

/// A new transaction's lines (`{name}.items`), refused when there are none.
fn required_lines(body: &Map<String, Value>, name: &str) -> Result<Vec<Value>, NsError> {
    sublist_items(body, name)
        .filter(|l| !l.is_empty())
        .cloned()
        .ok_or_else(|| {
            NsError::user("You must enter at least one line item for this transaction.").at(name)
        })
}

fn ref_id(value: Option<&Value>) -> Option<u64> {
    value.and_then(|v| v.get("id")).and_then(id_from_json)
}

fn status_ref(record: RecordType, code: &str) -> Value {
    json!({"id": code, "refName": order_status_name(record, code)})
}

/// The code of a status-like reference field (`{"id": "B", ...}`), e.g. an order's `status`.
fn ref_code<'a>(body: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    body.get(field)?.get("id")?.as_str()
}

/// The order line field that counts what has been processed: fulfilled for sales orders,
/// received for purchase orders and returns.
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

    /// Completes a new transaction's header: a generated `tranId` unless one was sent, today's
    /// `tranDate` unless one was sent, and loose references normalised.
    fn finish_transaction(&mut self, record: RecordType, body: &mut Map<String, Value>) {
        if !body.contains_key("tranId") {
            let tran_id = self.next_tran_id(record);
            body.insert("tranId".into(), json!(tran_id));
        }
        body.entry("tranDate").or_insert_with(|| json!(today()));
        Self::normalise_loose_refs(body);
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

    /// Stores a new record under a fresh internal id, created and modified now.
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
