//! Item receipts.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Extra, InventoryDetail, Link, Record, RecordId, RecordRef, Select, Sublist};

/// An item receipt (`itemReceipt`), created by transforming a purchase order, return authorisation or transfer order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ItemReceipt {
    /// Internal id (read only). (`id`)
    #[serde(rename = "id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RecordId>,
    /// External id; set it on created records to make creation idempotent. (`externalId`)
    #[serde(
        rename = "externalId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub external_id: Option<String>,
    /// Document number. (`tranId`)
    #[serde(rename = "tranId", default, skip_serializing_if = "Option::is_none")]
    pub tran_id: Option<String>,
    /// Transaction date. (`tranDate`)
    #[serde(rename = "tranDate", default, skip_serializing_if = "Option::is_none")]
    pub tran_date: Option<jiff::civil::Date>,
    /// Subsidiary. (`subsidiary`)
    #[serde(
        rename = "subsidiary",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub subsidiary: Option<RecordRef>,
    /// Location. (`location`)
    #[serde(rename = "location", default, skip_serializing_if = "Option::is_none")]
    pub location: Option<RecordRef>,
    /// Memo. (`memo`)
    #[serde(rename = "memo", default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
    /// Creation time (read only). (`createdDate`)
    #[serde(
        rename = "createdDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_date: Option<jiff::Timestamp>,
    /// Last modification time (read only). (`lastModifiedDate`)
    #[serde(
        rename = "lastModifiedDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modified_date: Option<jiff::Timestamp>,
    /// Source transaction. (`createdFrom`)
    #[serde(
        rename = "createdFrom",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_from: Option<RecordRef>,
    /// Customer or vendor. (`entity`)
    #[serde(rename = "entity", default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<RecordRef>,
    /// Item fulfilment this receipt receives (transfer orders). (`itemFulfillment`)
    #[serde(
        rename = "itemFulfillment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub item_fulfillment: Option<RecordRef>,
    /// Inbound shipment. (`inboundShipment`)
    #[serde(
        rename = "inboundShipment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inbound_shipment: Option<RecordRef>,
    /// Landed cost allocation method. (`landedCostMethod`)
    #[serde(
        rename = "landedCostMethod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub landed_cost_method: Option<Select>,
    /// Item. (`item`)
    #[serde(rename = "item", default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Sublist<ItemReceiptLine>>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Record for ItemReceipt {
    const TYPE: &'static str = "itemReceipt";
}

/// A line of the `item` sublist of an item receipt.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ItemReceiptLine {
    /// The source order line this line fulfils or receives. (`orderLine`)
    #[serde(
        rename = "orderLine",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_i64"
    )]
    pub order_line: Option<i64>,
    /// Line number (not sequential; use it as `orderLine` when transforming). (`line`)
    #[serde(
        rename = "line",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_i64"
    )]
    pub line: Option<i64>,
    /// Whether this line is fulfilled/received; `false` leaves it out. (`itemReceive`)
    #[serde(
        rename = "itemReceive",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub item_receive: Option<bool>,
    /// Item. (`item`)
    #[serde(rename = "item", default, skip_serializing_if = "Option::is_none")]
    pub item: Option<RecordRef>,
    /// Description. (`description`)
    #[serde(
        rename = "description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Quantity. (`quantity`)
    #[serde(
        rename = "quantity",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity: Option<Decimal>,
    /// Quantity still open on the source line. (`quantityRemaining`)
    #[serde(
        rename = "quantityRemaining",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_remaining: Option<Decimal>,
    /// Location. (`location`)
    #[serde(rename = "location", default, skip_serializing_if = "Option::is_none")]
    pub location: Option<RecordRef>,
    /// Lots, serials, bins and statuses of this line. (`inventoryDetail`)
    #[serde(
        rename = "inventoryDetail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inventory_detail: Option<InventoryDetail>,
    /// Lot/serial numbers (legacy text). (`serialNumbers`)
    #[serde(
        rename = "serialNumbers",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub serial_numbers: Option<String>,
    /// Bins (legacy text). (`binNumbers`)
    #[serde(
        rename = "binNumbers",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub bin_numbers: Option<String>,
    /// Unit of measure. (`units`)
    #[serde(rename = "units", default, skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
    /// Unit cost override. (`unitCostOverride`)
    #[serde(
        rename = "unitCostOverride",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub unit_cost_override: Option<Decimal>,
    /// Item type code (`InvtPart`, `Kit`, …). (`itemType`)
    #[serde(rename = "itemType", default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<String>,
    /// Drop shipment line. (`isDropShipment`)
    #[serde(
        rename = "isDropShipment",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub is_drop_shipment: Option<bool>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}
