//! Item fulfilments.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    Extra, InventoryDetail, Link, Record, RecordId, RecordRef, Select, ShipStatus, Sublist,
};

/// An item fulfilment (`itemFulfillment`), created by transforming a sales or transfer order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ItemFulfillment {
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
    /// Picked, packed or shipped. (`shipStatus`)
    #[serde(
        rename = "shipStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ship_status: Option<Select<ShipStatus>>,
    /// Status. (`status`)
    #[serde(rename = "status", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Select<ShipStatus>>,
    /// Date picked. (`pickedDate`)
    #[serde(
        rename = "pickedDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub picked_date: Option<jiff::civil::Date>,
    /// Date packed. (`packedDate`)
    #[serde(
        rename = "packedDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub packed_date: Option<jiff::civil::Date>,
    /// Date shipped. (`shippedDate`)
    #[serde(
        rename = "shippedDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub shipped_date: Option<jiff::civil::Date>,
    /// Shipping method (a ship item). (`shipMethod`)
    #[serde(
        rename = "shipMethod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ship_method: Option<RecordRef>,
    /// Carrier. (`shipCarrier`)
    #[serde(
        rename = "shipCarrier",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ship_carrier: Option<Select>,
    /// Internal id of the source order. (`orderId`)
    #[serde(
        rename = "orderId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_i64"
    )]
    pub order_id: Option<i64>,
    /// Destination location. (`transferLocation`)
    #[serde(
        rename = "transferLocation",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub transfer_location: Option<RecordRef>,
    /// Item. (`item`)
    #[serde(rename = "item", default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Sublist<ItemFulfillmentLine>>,
    /// Packages (carrier-neutral). (`package`)
    #[serde(rename = "package", default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Sublist<Package>>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Record for ItemFulfillment {
    const TYPE: &'static str = "itemFulfillment";
}

/// A line of the `item` sublist of an item fulfilment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ItemFulfillmentLine {
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
    /// Item type code (`InvtPart`, `Kit`, …). (`itemType`)
    #[serde(rename = "itemType", default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<String>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A package of an item fulfilment (the carrier-neutral `package` sublist).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Package {
    /// Tracking number. (`packageTrackingNumber`)
    #[serde(
        rename = "packageTrackingNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub package_tracking_number: Option<String>,
    /// Weight. (`packageWeight`)
    #[serde(
        rename = "packageWeight",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub package_weight: Option<Decimal>,
    /// Description. (`packageDescr`)
    #[serde(
        rename = "packageDescr",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub package_descr: Option<String>,
    /// Carton number. (`packageCartonNumber`)
    #[serde(
        rename = "packageCartonNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub package_carton_number: Option<String>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}
