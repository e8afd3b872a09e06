//! NetSuite records → `sync-core` items and orders, and the [`Event`]s that carry them; and the
//! other way, a planned receipt's lines → NetSuite item-receipt lines ([`receipt_lines`]: one line
//! per order line, its units split by inventory status).
//!
//! Each event's source identity is (NetSuite, record type, internal id, `updated`,
//! `lastModifiedDate`), so a record polled twice without a change is the same event and the
//! engine drops the second copy.
//!
//! Order lines name items by internal id; their SKU (`itemId`) comes from a [`SkuIndex`] the
//! caller fills (the poller fills it from the items it reads, and by SuiteQL for the rest), not
//! from the line's `refName`, which NetSuite may prefix with a parent item's name.

use std::collections::HashMap;

use jiff::Timestamp;
use netsuite_client::records::{
    InventoryItem, PurchaseOrder, RecordRef, ReturnAuthorization, SalesOrder, Select,
};
use rust_decimal::Decimal;
use sync_core::{
    Barcode, Event, Item, LineNo, LocationId, NetSuiteId, Order, OrderKind, OrderLine, OrderRef,
    OrderStatus, Payload, Revision, Sku, SourceId, System, Tracking,
};

mod receipt;

pub use receipt::{ReceiptLineError, ReceivedOrderLine, ReceivedPart, receipt_lines};

/// Item types (`itemType` on transaction lines) that are stock the warehouse handles. Other
/// lines (services, discounts, shipping, descriptions, kits) are not sent to the warehouse.
pub const STOCK_ITEM_TYPES: [&str; 2] = ["InvtPart", "Assembly"];

/// A NetSuite record that cannot become a domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConversionError {
    /// A field the domain needs is absent.
    #[error("{record} {id}: {field} is missing")]
    MissingField {
        /// Record type.
        record: String,
        /// Internal id (or `?` when that is what is missing).
        id: String,
        /// Field path.
        field: String,
    },
    /// A field has a value the domain cannot take.
    #[error("{record} {id}: {field} has the value {value:?}, which {problem}")]
    InvalidValue {
        /// Record type.
        record: String,
        /// Internal id.
        id: String,
        /// Field path.
        field: String,
        /// The value as received.
        value: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A line names an item whose SKU is not known.
    #[error("{record} {id}: line {line} names item {item}, whose SKU is not known")]
    UnknownItem {
        /// Record type.
        record: String,
        /// Internal id.
        id: String,
        /// Line number.
        line: u64,
        /// The item's internal id.
        item: String,
    },
}

/// SKUs (`itemId`) of NetSuite items by internal id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkuIndex {
    skus: HashMap<NetSuiteId, Sku>,
}

impl SkuIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the SKU of an item.
    pub fn insert(&mut self, item: NetSuiteId, sku: Sku) {
        self.skus.insert(item, sku);
    }

    /// The SKU of an item, if known.
    pub fn get(&self, item: &NetSuiteId) -> Option<&Sku> {
        self.skus.get(item)
    }

    /// Whether the SKU of an item is known.
    pub fn contains(&self, item: &NetSuiteId) -> bool {
        self.skus.contains_key(item)
    }

    /// Items known.
    pub fn len(&self) -> usize {
        self.skus.len()
    }

    /// Whether no item is known.
    pub fn is_empty(&self) -> bool {
        self.skus.is_empty()
    }
}

/// The source identity of a NetSuite record version: the record, its `lastModifiedDate`, and a
/// fingerprint of what the integration reads from it.
///
/// NetSuite's modification times have whole seconds, so two versions saved within one second
/// share a time; the fingerprint (`updated-<16 hex digits>`) tells them apart, while a version
/// read again unchanged keeps its identity and is recognised as a duplicate.
pub fn source_id(
    record_type: &str,
    id: &str,
    last_modified: Timestamp,
    payload: &Payload,
) -> SourceId {
    SourceId {
        system: System::NetSuite,
        resource: record_type.into(),
        id: id.into(),
        event: format!("updated-{:016x}", fingerprint(payload))
            .as_str()
            .into(),
        revision: Revision::ModifiedAt(last_modified),
    }
}

/// FNV-1a (64 bits) of the payload's JSON: stable across runs and builds, unlike `std`'s hasher.
fn fingerprint(payload: &Payload) -> u64 {
    let bytes = serde_json::to_vec(payload).unwrap_or_default();
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

struct Context<'a> {
    record: &'a str,
    id: String,
}

impl Context<'_> {
    fn missing(&self, field: impl Into<String>) -> ConversionError {
        ConversionError::MissingField {
            record: self.record.to_owned(),
            id: self.id.clone(),
            field: field.into(),
        }
    }

    fn invalid(
        &self,
        field: impl Into<String>,
        value: impl Into<String>,
        problem: impl Into<String>,
    ) -> ConversionError {
        ConversionError::InvalidValue {
            record: self.record.to_owned(),
            id: self.id.clone(),
            field: field.into(),
            value: value.into(),
            problem: problem.into(),
        }
    }
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// An inventory item (`inventoryItem`, `lotNumberedInventoryItem` or `serializedInventoryItem`,
/// all read into [`InventoryItem`]) as a domain [`Item`]. `record_type` decides the tracking
/// when the record lacks `isLotItem` / `isSerialItem`.
pub fn item(record_type: &str, record: &InventoryItem) -> Result<Item, ConversionError> {
    let cx = Context {
        record: record_type,
        id: record
            .id
            .as_ref()
            .map_or_else(|| "?".to_owned(), |id| id.to_string()),
    };
    let id = record.id.as_ref().ok_or_else(|| cx.missing("id"))?;
    let sku = non_empty(&record.item_id).ok_or_else(|| cx.missing("itemId"))?;
    let tracking = match (record.is_serial_item, record.is_lot_item) {
        (Some(true), Some(true)) => {
            return Err(cx.invalid("isLotItem/isSerialItem", "true/true", "cannot both be set"));
        }
        (Some(true), _) => Tracking::Serial,
        (_, Some(true)) => Tracking::Lot,
        (Some(false), Some(false)) => Tracking::None,
        _ => match record_type {
            "lotNumberedInventoryItem" => Tracking::Lot,
            "serializedInventoryItem" => Tracking::Serial,
            _ => Tracking::None,
        },
    };
    let description = non_empty(&record.display_name)
        .or_else(|| non_empty(&record.description))
        .unwrap_or(sku);
    Ok(Item {
        netsuite_id: id.as_str().into(),
        sku: sku.into(),
        barcode: non_empty(&record.upc_code).map(Barcode::new),
        description: description.to_owned(),
        tracking,
        inactive: record.is_inactive.unwrap_or(false),
    })
}

/// An item record as an [`Event`].
pub fn item_event(record_type: &str, record: &InventoryItem) -> Result<Event, ConversionError> {
    let item = item(record_type, record)?;
    let modified = record
        .last_modified_date
        .ok_or_else(|| ConversionError::MissingField {
            record: record_type.to_owned(),
            id: item.netsuite_id.to_string(),
            field: "lastModifiedDate".into(),
        })?;
    let id = item.netsuite_id.clone();
    let payload = Payload::Item(item);
    Ok(Event {
        source: source_id(record_type, id.as_str(), modified, &payload),
        occurred_at: modified,
        payload,
    })
}

/// One line of any of the three order types, reduced to what the domain reads.
struct RawLine<'a> {
    line: Option<i64>,
    item: Option<&'a RecordRef>,
    item_type: Option<&'a str>,
    quantity: Option<Decimal>,
    done: Option<Decimal>,
    location: Option<&'a RecordRef>,
    closed: Option<bool>,
}

/// The header of any of the three order types.
struct RawOrder<'a> {
    kind: OrderKind,
    record: &'static str,
    id: Option<String>,
    tran_id: Option<&'a str>,
    status: Option<&'a str>,
    location: Option<&'a RecordRef>,
    ship_method: Option<&'a RecordRef>,
    expected_date: Option<jiff::civil::Date>,
    last_modified: Option<Timestamp>,
    lines: Vec<RawLine<'a>>,
}

fn ref_id(r: Option<&RecordRef>) -> Option<&str> {
    r.and_then(|r| r.id.as_ref()).map(|id| id.as_str())
}

fn select_code(s: Option<&Select>) -> Option<&str> {
    s.map(|s| s.id.as_str())
}

fn build(raw: RawOrder<'_>, skus: &SkuIndex) -> Result<(Order, Timestamp), ConversionError> {
    let cx = Context {
        record: raw.record,
        id: raw.id.clone().unwrap_or_else(|| "?".to_owned()),
    };
    let id = raw.id.as_deref().ok_or_else(|| cx.missing("id"))?;
    let status_code = raw.status.ok_or_else(|| cx.missing("status"))?;
    let status = OrderStatus::from_netsuite_code(status_code)
        .ok_or_else(|| cx.invalid("status.id", status_code, "is not a status letter A to H"))?;
    let last_modified = raw
        .last_modified
        .ok_or_else(|| cx.missing("lastModifiedDate"))?;
    let mut lines = Vec::with_capacity(raw.lines.len());
    let mut line_locations: Vec<&str> = Vec::new();
    for (n, l) in raw.lines.iter().enumerate() {
        let path = |field: &str| format!("item.items[{n}].{field}");
        let Some(item) = ref_id(l.item) else {
            // Description and subtotal lines name no item.
            continue;
        };
        if l.item_type.is_some_and(|t| !STOCK_ITEM_TYPES.contains(&t)) {
            continue;
        }
        let line = l.line.ok_or_else(|| cx.missing(path("line")))?;
        let line = u64::try_from(line)
            .map_err(|_| cx.invalid(path("line"), line.to_string(), "is negative"))?;
        let quantity = l
            .quantity
            .ok_or_else(|| cx.missing(path("quantity")))?
            .abs();
        let item_id = NetSuiteId::new(item);
        let sku = skus
            .get(&item_id)
            .cloned()
            .ok_or_else(|| ConversionError::UnknownItem {
                record: raw.record.to_owned(),
                id: id.to_owned(),
                line,
                item: item.to_owned(),
            })?;
        if let Some(location) = ref_id(l.location) {
            line_locations.push(location);
        }
        lines.push(OrderLine {
            line: LineNo(line),
            item: item_id,
            sku,
            quantity,
            quantity_done: l.done.unwrap_or_default().abs(),
            closed: l.closed.unwrap_or(false),
        });
    }
    let location = match ref_id(raw.location) {
        Some(location) => location,
        None => {
            line_locations.sort_unstable();
            line_locations.dedup();
            match line_locations.as_slice() {
                [only] => only,
                [] => return Err(cx.missing("location")),
                _ => {
                    return Err(cx.invalid(
                        "location",
                        line_locations.join(","),
                        "has no header value and the lines name several locations",
                    ));
                }
            }
        }
    };
    let order = Order {
        order: OrderRef {
            kind: raw.kind,
            id: id.into(),
        },
        tran_id: raw.tran_id.unwrap_or(id).to_owned(),
        status,
        location: LocationId::new(location),
        ship_method: ref_id(raw.ship_method).map(NetSuiteId::new),
        expected_date: raw.expected_date,
        lines,
    };
    Ok((order, last_modified))
}

fn order_event(record: &str, (order, modified): (Order, Timestamp)) -> Event {
    let id = order.order.id.clone();
    let payload = Payload::Order(order);
    Event {
        source: source_id(record, id.as_str(), modified, &payload),
        occurred_at: modified,
        payload,
    }
}

/// A sales order as a domain [`Order`] (quantities done = `quantityFulfilled`).
pub fn sales_order(record: &SalesOrder, skus: &SkuIndex) -> Result<Order, ConversionError> {
    build(raw_sales_order(record), skus).map(|(o, _)| o)
}

/// A sales order as an [`Event`].
pub fn sales_order_event(record: &SalesOrder, skus: &SkuIndex) -> Result<Event, ConversionError> {
    build(raw_sales_order(record), skus).map(|o| order_event("salesOrder", o))
}

/// The [`RawOrder`] of an order record `$r`: the three kinds name their shared fields alike and
/// differ in the ship method, the expected date and the line field `$done` holding the
/// quantity done.
macro_rules! raw_order {
    ($r:expr, $kind:expr, $record:literal, $ship_method:expr, $expected:expr, $done:ident) => {
        RawOrder {
            kind: $kind,
            record: $record,
            id: $r.id.as_ref().map(|id| id.to_string()),
            tran_id: $r.tran_id.as_deref(),
            status: $r.status.as_ref().map(|s| s.id.code()),
            location: $r.location.as_ref(),
            ship_method: $ship_method,
            expected_date: $expected,
            last_modified: $r.last_modified_date,
            lines: $r
                .item
                .iter()
                .flat_map(|s| &s.items)
                .map(|l| RawLine {
                    line: l.line,
                    item: l.item.as_ref(),
                    item_type: select_code(l.item_type.as_ref()),
                    quantity: l.quantity,
                    done: l.$done,
                    location: l.location.as_ref(),
                    closed: l.is_closed,
                })
                .collect(),
        }
    };
}

fn raw_sales_order(r: &SalesOrder) -> RawOrder<'_> {
    raw_order!(
        r,
        OrderKind::Sales,
        "salesOrder",
        r.ship_method.as_ref(),
        r.ship_date,
        quantity_fulfilled
    )
}

/// A purchase order as a domain [`Order`] (quantities done = `quantityReceived`; expected date =
/// `dueDate`, else the earliest line `expectedReceiptDate`).
pub fn purchase_order(record: &PurchaseOrder, skus: &SkuIndex) -> Result<Order, ConversionError> {
    build(raw_purchase_order(record), skus).map(|(o, _)| o)
}

/// A purchase order as an [`Event`].
pub fn purchase_order_event(
    record: &PurchaseOrder,
    skus: &SkuIndex,
) -> Result<Event, ConversionError> {
    build(raw_purchase_order(record), skus).map(|o| order_event("purchaseOrder", o))
}

fn raw_purchase_order(r: &PurchaseOrder) -> RawOrder<'_> {
    let expected = r.due_date.or_else(|| {
        r.item
            .iter()
            .flat_map(|s| &s.items)
            .filter_map(|l| l.expected_receipt_date)
            .min()
    });
    raw_order!(
        r,
        OrderKind::Purchase,
        "purchaseOrder",
        None,
        expected,
        quantity_received
    )
}

/// A return authorisation as a domain [`Order`] (quantities done = `quantityReceived`).
pub fn return_authorization(
    record: &ReturnAuthorization,
    skus: &SkuIndex,
) -> Result<Order, ConversionError> {
    build(raw_return_authorization(record), skus).map(|(o, _)| o)
}

/// A return authorisation as an [`Event`].
pub fn return_authorization_event(
    record: &ReturnAuthorization,
    skus: &SkuIndex,
) -> Result<Event, ConversionError> {
    build(raw_return_authorization(record), skus).map(|o| order_event("returnAuthorization", o))
}

fn raw_return_authorization(r: &ReturnAuthorization) -> RawOrder<'_> {
    raw_order!(
        r,
        OrderKind::Return,
        "returnAuthorization",
        None,
        None,
        quantity_received
    )
}

/// The item internal ids an order's lines name (to fill a [`SkuIndex`] before converting).
pub fn line_items<'a>(lines: impl IntoIterator<Item = Option<&'a RecordRef>>) -> Vec<NetSuiteId> {
    let mut out: Vec<NetSuiteId> = lines
        .into_iter()
        .filter_map(ref_id)
        .map(NetSuiteId::new)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skus() -> SkuIndex {
        let mut s = SkuIndex::new();
        s.insert("77".into(), "MUG-RED".into());
        s
    }

    #[test]
    fn sales_order_lines_keep_netsuite_line_numbers_and_skip_non_stock_lines() {
        let so: SalesOrder = serde_json::from_value(serde_json::json!({
            "id": "501", "tranId": "SO1001", "status": {"id": "E"},
            "location": {"id": "1"}, "shipMethod": {"id": "900"},
            "shipDate": "2026-11-28", "lastModifiedDate": "2026-11-27T09:00:00Z",
            "item": {"items": [
                {"line": 3, "item": {"id": "77", "refName": "Parent : MUG-RED"}, "quantity": 5,
                 "quantityFulfilled": 2, "itemType": {"id": "InvtPart"}},
                {"line": 6, "item": {"id": "900"}, "quantity": 1, "itemType": {"id": "Service"}},
                {"line": 9, "quantity": 0}
            ]}
        }))
        .unwrap();
        let event = sales_order_event(&so, &skus()).unwrap();
        assert_eq!(event.source.resource.as_str(), "salesOrder");
        assert_eq!(
            event.source.revision,
            Revision::ModifiedAt("2026-11-27T09:00:00Z".parse().unwrap())
        );
        let Payload::Order(order) = event.payload else {
            panic!()
        };
        assert_eq!(order.status, OrderStatus::Open);
        assert_eq!(order.ship_method, Some("900".into()));
        assert_eq!(order.lines.len(), 1);
        assert_eq!(order.lines[0].line, LineNo(3));
        assert_eq!(order.lines[0].sku, Sku::new("MUG-RED"));
        assert_eq!(order.lines[0].open_quantity(), Decimal::from(3));
    }

    #[test]
    fn open_quantities_come_from_the_field_of_the_order_type() {
        // Every order line lists both quantityFulfilled and quantityReceived; only the one that
        // fits the record counts, whichever comes first.
        let line = serde_json::json!({"line": 1, "item": {"id": "77"}, "quantity": 5,
            "quantityFulfilled": 0, "quantityReceived": 3, "itemType": {"id": "InvtPart"}});
        let header = serde_json::json!({"id": "9", "status": {"id": "E"}, "location": {"id": "1"},
            "lastModifiedDate": "2026-11-27T09:00:00Z", "item": {"items": [line]}});
        let po: PurchaseOrder = serde_json::from_value(header.clone()).unwrap();
        assert_eq!(
            purchase_order(&po, &skus()).unwrap().lines[0].quantity_done,
            Decimal::from(3)
        );
        let ra: ReturnAuthorization = serde_json::from_value(header.clone()).unwrap();
        assert_eq!(
            return_authorization(&ra, &skus()).unwrap().lines[0].quantity_done,
            Decimal::from(3)
        );
        let mut so = header;
        so["item"]["items"][0]["quantityFulfilled"] = serde_json::json!(2);
        so["item"]["items"][0]["quantityReceived"] = serde_json::json!(0);
        let so: SalesOrder = serde_json::from_value(so).unwrap();
        assert_eq!(
            sales_order(&so, &skus()).unwrap().lines[0].quantity_done,
            Decimal::from(2)
        );
    }

    #[test]
    fn bad_orders_are_typed_errors() {
        let mut so: SalesOrder = serde_json::from_value(serde_json::json!({
            "id": "501", "status": {"id": "Z"}, "location": {"id": "1"},
            "lastModifiedDate": "2026-11-27T09:00:00Z",
            "item": {"items": [{"line": 3, "item": {"id": "78"}, "quantity": 5}]}
        }))
        .unwrap();
        assert!(matches!(
            sales_order(&so, &skus()),
            Err(ConversionError::InvalidValue { field, .. }) if field == "status.id"
        ));
        so.status = Some(Select::new(
            netsuite_client::records::SalesOrderStatus::PendingFulfillment,
        ));
        assert_eq!(
            sales_order(&so, &skus()),
            Err(ConversionError::UnknownItem {
                record: "salesOrder".into(),
                id: "501".into(),
                line: 3,
                item: "78".into()
            })
        );
    }

    #[test]
    fn items_take_tracking_from_flags_or_record_type() {
        let lot: InventoryItem = serde_json::from_value(serde_json::json!({
            "id": "12", "itemId": "LOT-1", "upcCode": "  ", "isInactive": false,
            "lastModifiedDate": "2026-11-27T09:00:00Z"
        }))
        .unwrap();
        let converted = item("lotNumberedInventoryItem", &lot).unwrap();
        assert_eq!(converted.tracking, Tracking::Lot);
        assert_eq!(converted.barcode, None);
        assert_eq!(converted.description, "LOT-1");
        let serial: InventoryItem = serde_json::from_value(serde_json::json!({
            "id": "13", "itemId": "SER-1", "upcCode": "0123", "isSerialItem": true,
            "isLotItem": false, "displayName": "Serial thing"
        }))
        .unwrap();
        let converted = item("inventoryItem", &serial).unwrap();
        assert_eq!(converted.tracking, Tracking::Serial);
        assert_eq!(converted.barcode, Some(Barcode::new("0123")));
        assert!(matches!(
            item_event("inventoryItem", &serial),
            Err(ConversionError::MissingField { field, .. }) if field == "lastModifiedDate"
        ));
    }
}
