//! The virtual tables SuiteQL reads, built from the simulator's records one row at a time.
//!
//! Each row starts from its keys (a transaction's type, then its id and dates; a line's
//! transaction; a balance's item, location, status and number). Before the rest of a row is
//! built, the query is asked whether a row with those keys can be kept at all, so a query that
//! names a type, an id or a date range builds only the rows it may answer instead of the whole
//! table. The whole `WHERE` clause still runs on every row built.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::{Val, invalid};
use crate::json::{decimal_from_json, id_from_json};
use crate::netsuite::error::NsError;
use crate::netsuite::records::{RecordType, order_status_name};
use crate::netsuite::state::{State, Stored};

/// A row of a virtual table: raw values, plus display (`BUILTIN.DF`) and criteria (`BUILTIN.CF`)
/// forms.
#[derive(Debug, Default, Clone)]
pub(super) struct Row {
    pub(super) values: BTreeMap<&'static str, Val>,
    pub(super) display: HashMap<&'static str, String>,
    pub(super) criteria: HashMap<&'static str, String>,
}

impl Row {
    fn set(&mut self, column: &'static str, value: Val) {
        self.values.insert(column, value);
    }
}

/// Whether a row whose `columns` are set (and no others yet) may be kept: the query's
/// conditions that read only those columns hold.
pub(super) type Admit<'a> = dyn Fn(&Row, &[&str]) -> Result<bool, NsError> + 'a;

// Each table's columns, its key columns first: a row is built one key level at a time (see the
// module documentation), and the columns each level sets are a prefix of the list.

#[rustfmt::skip]
const TRANSACTION: &[&str] = &[
    "type", "recordtype",
    "id", "lastmodifieddate", "createddate",
    "tranid", "status", "externalid", "trandate", "memo", "entity", "location", "createdfrom",
];
/// The transaction type, before any record of it is read.
const TRANSACTION_TYPE_KEYS: &[&str] = TRANSACTION.split_at(2).0;
/// The type and the record.
const TRANSACTION_KEYS: &[&str] = TRANSACTION.split_at(5).0;
#[rustfmt::skip]
const TRANSACTION_LINE: &[&str] = &[
    "transaction", "linelastmodifieddate",
    "id", "linesequencenumber", "mainline", "item", "location", "quantity", "quantityshiprecv",
    "isclosed", "orderline",
];
const TRANSACTION_LINE_KEYS: &[&str] = TRANSACTION_LINE.split_at(2).0;
#[rustfmt::skip]
const ITEM: &[&str] = &[
    "id", "itemtype", "lastmodifieddate", "createddate",
    "itemid", "displayname", "upccode", "externalid", "islotitem", "isserialitem", "isinactive",
    "averagecost",
];
const ITEM_KEYS: &[&str] = ITEM.split_at(4).0;
#[rustfmt::skip]
const ITEM_LOCATIONS: &[&str] = &[
    "item", "location",
    "quantityonhand", "quantityavailable", "averagecostmli", "onhandvaluemli",
];
const ITEM_LOCATIONS_KEYS: &[&str] = ITEM_LOCATIONS.split_at(2).0;
#[rustfmt::skip]
const BALANCE: &[&str] = &[
    "item", "location", "inventorystatus", "inventorynumber",
    "binnumber", "quantityonhand", "quantityavailable",
];
const BALANCE_KEYS: &[&str] = BALANCE.split_at(4).0;
const NAMED: &[&str] = &["id", "name", "externalid", "isinactive"];
const NUMBER: &[&str] = &["id", "inventorynumber", "item", "expirationdate"];
/// The key of the tables with one row per record, by id (`NAMED`, `NUMBER`).
const ID_KEY: &[&str] = &["id"];

/// The columns of a table.
pub(super) fn columns(name: &str) -> Result<&'static [&'static str], NsError> {
    Ok(match name {
        "transaction" => TRANSACTION,
        "transactionline" => TRANSACTION_LINE,
        "item" => ITEM,
        "inventoryitemlocations" => ITEM_LOCATIONS,
        "inventorybalance" => BALANCE,
        "location" | "inventorystatus" => NAMED,
        "inventorynumber" => NUMBER,
        other => {
            return Err(invalid(&format!(
                "the table {other} is not modelled by the simulator"
            )));
        }
    })
}

fn text(v: Option<&Value>) -> Val {
    match v {
        Some(Value::String(s)) => Val::Text(s.clone()),
        Some(Value::Number(n)) => Val::Num(n.to_string().parse().unwrap_or_default()),
        _ => Val::Null,
    }
}

fn ref_val(v: Option<&Value>) -> Val {
    v.and_then(|r| r.get("id"))
        .and_then(id_from_json)
        .map(|id| Val::Num(id.into()))
        .unwrap_or(Val::Null)
}

fn ref_display(v: Option<&Value>) -> Option<String> {
    v.and_then(|r| r.get("refName"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn boolean(v: Option<&Value>) -> Val {
    Val::Text(
        if v.and_then(Value::as_bool).unwrap_or(false) {
            "T"
        } else {
            "F"
        }
        .to_string(),
    )
}

fn qty(v: Option<&Value>) -> Val {
    v.and_then(decimal_from_json)
        .map(Val::Num)
        .unwrap_or(Val::Null)
}

/// The transaction record types.
fn transaction_types() -> impl Iterator<Item = RecordType> {
    RecordType::ALL.into_iter().filter(|r| r.is_transaction())
}

/// Every item record (of every item type), by type and then id.
fn all_items(state: &State) -> impl Iterator<Item = (u64, &Stored)> {
    RecordType::ALL
        .into_iter()
        .filter(|r| r.is_item())
        .flat_map(|record| state.records.get(&record).into_iter().flatten())
        .map(|(id, stored)| (*id, stored))
}

/// The records of a type, in id order; with `since`, only those modified at or after it.
fn records_of(state: &State, record: RecordType, since: Option<Timestamp>) -> Vec<(u64, &Stored)> {
    let Some(map) = state.records.get(&record) else {
        return Vec::new();
    };
    match since {
        None => map.iter().map(|(id, s)| (*id, s)).collect(),
        Some(t) => {
            let mut ids: Vec<u64> = state
                .modified
                .get(&record)
                .into_iter()
                .flat_map(|m| m.range((t, 0)..).map(|(_, id)| *id))
                .collect();
            ids.sort_unstable();
            ids.into_iter()
                .filter_map(|id| map.get(&id).map(|s| (id, s)))
                .collect()
        }
    }
}

/// The rows of a table that `admit` lets through at every key level, in the table's order;
/// `since` bounds the transactions' (or lines') last modification from below when the query
/// does.
pub(super) fn rows(
    state: &State,
    name: &str,
    since: Option<Timestamp>,
    admit: &Admit<'_>,
) -> Result<Vec<Row>, NsError> {
    match name {
        "transaction" => transactions(state, since, admit),
        "transactionline" => transaction_lines(state, since, admit),
        "item" => items(state, admit),
        "inventoryitemlocations" => item_locations(state, admit),
        "inventorybalance" => balances(state, admit),
        "location" | "inventorystatus" => {
            let record = if name == "location" {
                RecordType::Location
            } else {
                RecordType::InventoryStatus
            };
            by_id(state, record, admit, |row, b| {
                row.set("name", text(b.get("name")));
                row.set("externalid", text(b.get("externalId")));
                row.set("isinactive", boolean(b.get("isInactive")));
            })
        }
        "inventorynumber" => by_id(state, RecordType::InventoryNumber, admit, |row, b| {
            row.set("inventorynumber", text(b.get("inventoryNumber")));
            row.set("item", ref_val(b.get("item")));
            row.set("expirationdate", text(b.get("expirationDate")));
        }),
        other => Err(invalid(&format!(
            "the table {other} is not modelled by the simulator"
        ))),
    }
}

/// One row per record of a type, in id order, filled from its body by `fill` once `admit`
/// keeps its id.
fn by_id(
    state: &State,
    record: RecordType,
    admit: &Admit<'_>,
    fill: impl Fn(&mut Row, &Map<String, Value>),
) -> Result<Vec<Row>, NsError> {
    let mut rows = Vec::new();
    for (id, stored) in state.records.get(&record).into_iter().flatten() {
        let mut row = Row::default();
        row.set("id", Val::Num((*id).into()));
        if !admit(&row, ID_KEY)? {
            continue;
        }
        fill(&mut row, &stored.body);
        rows.push(row);
    }
    Ok(rows)
}

fn transactions(
    state: &State,
    since: Option<Timestamp>,
    admit: &Admit<'_>,
) -> Result<Vec<Row>, NsError> {
    let mut rows = Vec::new();
    for record in transaction_types() {
        let code = record.transaction_code().unwrap_or_default();
        let mut kind = Row::default();
        kind.set("type", Val::Text(code.to_string()));
        kind.display
            .insert("type", record.display_name().to_string());
        kind.set(
            "recordtype",
            Val::Text(record.as_str().to_ascii_lowercase()),
        );
        if !admit(&kind, TRANSACTION_TYPE_KEYS)? {
            continue;
        }
        for (id, stored) in records_of(state, record, since) {
            let mut row = kind.clone();
            row.set("id", Val::Num(id.into()));
            row.set("lastmodifieddate", Val::Time(stored.last_modified));
            row.set("createddate", Val::Time(stored.created));
            if !admit(&row, TRANSACTION_KEYS)? {
                continue;
            }
            let b = &stored.body;
            row.set("tranid", text(b.get("tranId")));
            if let Some(status) = b
                .get("status")
                .and_then(|s| s.get("id"))
                .and_then(Value::as_str)
            {
                row.set("status", Val::Text(status.to_string()));
                row.display.insert(
                    "status",
                    format!(
                        "{} : {}",
                        record.display_name(),
                        order_status_name(record, status)
                    ),
                );
                row.criteria.insert("status", format!("{code}:{status}"));
            } else {
                row.set("status", Val::Null);
            }
            row.set("externalid", text(b.get("externalId")));
            row.set("trandate", text(b.get("tranDate")));
            row.set("memo", text(b.get("memo")));
            for (column, field) in [
                ("entity", "entity"),
                ("location", "location"),
                ("createdfrom", "createdFrom"),
            ] {
                row.set(column, ref_val(b.get(field)));
                if let Some(d) = ref_display(b.get(field)) {
                    row.display.insert(column, d);
                }
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

fn transaction_lines(
    state: &State,
    since: Option<Timestamp>,
    admit: &Admit<'_>,
) -> Result<Vec<Row>, NsError> {
    let mut rows = Vec::new();
    let transactions = transaction_types().flat_map(|record| {
        records_of(state, record, since)
            .into_iter()
            .map(move |(id, stored)| (record, id, stored))
    });
    for (record, id, stored) in transactions {
        let sublist = record.line_sublist().unwrap_or("item");
        let mut key = Row::default();
        key.set("transaction", Val::Num(id.into()));
        key.set("linelastmodifieddate", Val::Time(stored.last_modified));
        if !admit(&key, TRANSACTION_LINE_KEYS)? {
            continue;
        }
        let b = &stored.body;
        let mut main = key.clone();
        main.set("id", Val::Num(0.into()));
        main.set("linesequencenumber", Val::Num(0.into()));
        main.set("mainline", Val::Text("T".into()));
        main.set("location", ref_val(b.get("location")));
        rows.push(main);
        let lines = b
            .get(sublist)
            .and_then(|s| s.get("items"))
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for (n, line) in lines.iter().enumerate() {
            let mut row = key.clone();
            row.set("id", qty(line.get("line")));
            row.set("linesequencenumber", Val::Num((n as u64 + 1).into()));
            row.set("mainline", Val::Text("F".into()));
            row.set("item", ref_val(line.get("item")));
            if let Some(d) = ref_display(line.get("item")) {
                row.display.insert("item", d);
            }
            let location = if line.get("location").is_some() {
                line.get("location")
            } else {
                b.get("location")
            };
            row.set("location", ref_val(location));
            let quantity = line
                .get("quantity")
                .or_else(|| line.get("adjustQtyBy"))
                .and_then(decimal_from_json);
            let signed = match (record, quantity) {
                (RecordType::SalesOrder | RecordType::ItemFulfillment, Some(q)) => Val::Num(-q),
                (_, Some(q)) => Val::Num(q),
                (_, None) => Val::Null,
            };
            row.set("quantity", signed);
            // Sales order lines count what was fulfilled, purchase order and return lines
            // what was received (both fields are on every line).
            let done = match record {
                RecordType::SalesOrder => line.get("quantityFulfilled"),
                RecordType::PurchaseOrder | RecordType::ReturnAuthorization => {
                    line.get("quantityReceived")
                }
                _ => None,
            };
            row.set("quantityshiprecv", qty(done));
            row.set("isclosed", boolean(line.get("isClosed")));
            row.set("orderline", qty(line.get("orderLine")));
            rows.push(row);
        }
    }
    Ok(rows)
}

fn items(state: &State, admit: &Admit<'_>) -> Result<Vec<Row>, NsError> {
    let mut rows = Vec::new();
    for (id, stored) in all_items(state) {
        let mut row = Row::default();
        row.set("id", Val::Num(id.into()));
        row.set("itemtype", Val::Text("InvtPart".into()));
        row.display.insert("itemtype", "Inventory Item".into());
        row.set("lastmodifieddate", Val::Time(stored.last_modified));
        row.set("createddate", Val::Time(stored.created));
        if !admit(&row, ITEM_KEYS)? {
            continue;
        }
        let b = &stored.body;
        row.set("itemid", text(b.get("itemId")));
        row.set("displayname", text(b.get("displayName")));
        row.set("upccode", text(b.get("upcCode")));
        row.set("externalid", text(b.get("externalId")));
        row.set("islotitem", boolean(b.get("isLotItem")));
        row.set("isserialitem", boolean(b.get("isSerialItem")));
        row.set("isinactive", boolean(b.get("isInactive")));
        row.set("averagecost", qty(b.get("averageCost")));
        rows.push(row);
    }
    Ok(rows)
}

/// One row per item and location, as NetSuite keeps with Multi-Location Inventory: on-hand
/// summed over statuses and lots, and the location's average cost where one is kept (NULL
/// otherwise).
fn item_locations(state: &State, admit: &Admit<'_>) -> Result<Vec<Row>, NsError> {
    let mut on_hand: BTreeMap<(u64, u64), Decimal> = BTreeMap::new();
    for (key, quantity) in &state.balances {
        *on_hand.entry((key.item, key.location)).or_default() += *quantity;
    }
    let locations: Vec<u64> = state
        .records
        .get(&RecordType::Location)
        .into_iter()
        .flatten()
        .map(|(id, _)| *id)
        .collect();
    let mut rows = Vec::new();
    for (item, _) in all_items(state) {
        for location in &locations {
            let mut row = Row::default();
            row.set("item", Val::Num(item.into()));
            row.set("location", Val::Num((*location).into()));
            if !admit(&row, ITEM_LOCATIONS_KEYS)? {
                continue;
            }
            let quantity = on_hand.get(&(item, *location)).copied().unwrap_or_default();
            let cost = state.location_costs.get(&(item, *location)).copied();
            row.set("quantityonhand", Val::Num(quantity));
            row.set("quantityavailable", Val::Num(quantity));
            row.set("averagecostmli", cost.map_or(Val::Null, Val::Num));
            row.set(
                "onhandvaluemli",
                cost.map_or(Val::Null, |c| Val::Num(c * quantity)),
            );
            rows.push(row);
        }
    }
    Ok(rows)
}

fn balances(state: &State, admit: &Admit<'_>) -> Result<Vec<Row>, NsError> {
    let mut rows = Vec::new();
    for (key, quantity) in &state.balances {
        let mut row = Row::default();
        row.set("item", Val::Num(key.item.into()));
        row.set("location", Val::Num(key.location.into()));
        row.set("inventorystatus", Val::Num(key.status.into()));
        row.set(
            "inventorynumber",
            key.inventory_number
                .map(|n| Val::Num(n.into()))
                .unwrap_or(Val::Null),
        );
        if !admit(&row, BALANCE_KEYS)? {
            continue;
        }
        row.set("binnumber", Val::Null);
        row.set("quantityonhand", Val::Num(*quantity));
        row.set("quantityavailable", Val::Num(*quantity));
        if let Some(item) = state
            .item_display(key.item)
            .and_then(|b| b.get("itemId"))
            .and_then(Value::as_str)
        {
            row.display.insert("item", item.to_string());
        }
        for (column, record, id) in [
            ("location", RecordType::Location, Some(key.location)),
            (
                "inventorystatus",
                RecordType::InventoryStatus,
                Some(key.status),
            ),
            (
                "inventorynumber",
                RecordType::InventoryNumber,
                key.inventory_number,
            ),
        ] {
            let field = if record == RecordType::InventoryNumber {
                "inventoryNumber"
            } else {
                "name"
            };
            if let Some(name) = id
                .and_then(|id| state.get(record, id))
                .and_then(|s| s.body.get(field))
                .and_then(Value::as_str)
            {
                row.display.insert(column, name.to_string());
            }
        }
        rows.push(row);
    }
    Ok(rows)
}
