//! Sales orders.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    Extra, InventoryDetail, Link, OrderStatus, Record, RecordId, RecordRef, SalesOrderStatus,
    Select, Sublist,
};

/// A sales order (`salesOrder`): the order to fulfil.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SalesOrder {
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
    /// Customer or vendor. (`entity`)
    #[serde(rename = "entity", default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<RecordRef>,
    /// Status. (`status`)
    #[serde(rename = "status", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Select<SalesOrderStatus>>,
    /// Approval status. (`orderStatus`)
    #[serde(
        rename = "orderStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub order_status: Option<Select<OrderStatus>>,
    /// Ship date. (`shipDate`)
    #[serde(rename = "shipDate", default, skip_serializing_if = "Option::is_none")]
    pub ship_date: Option<jiff::civil::Date>,
    /// Shipping method (a ship item). (`shipMethod`)
    #[serde(
        rename = "shipMethod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ship_method: Option<RecordRef>,
    /// Ship only complete orders. (`shipComplete`)
    #[serde(
        rename = "shipComplete",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub ship_complete: Option<bool>,
    /// Customer PO or other reference number. (`otherRefNum`)
    #[serde(
        rename = "otherRefNum",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub other_ref_num: Option<String>,
    /// Currency. (`currency`)
    #[serde(rename = "currency", default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<RecordRef>,
    /// Item. (`item`)
    #[serde(rename = "item", default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Sublist<SalesOrderLine>>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Record for SalesOrder {
    const TYPE: &'static str = "salesOrder";
}

/// A line of the `item` sublist of a sales order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SalesOrderLine {
    /// Line number (not sequential; use it as `orderLine` when transforming). (`line`)
    #[serde(
        rename = "line",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_i64"
    )]
    pub line: Option<i64>,
    /// Line key that never changes. (`lineUniqueKey`)
    #[serde(
        rename = "lineUniqueKey",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub line_unique_key: Option<String>,
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
    /// Quantity committed. (`quantityCommitted`)
    #[serde(
        rename = "quantityCommitted",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_committed: Option<Decimal>,
    /// Quantity fulfilled. (`quantityFulfilled`)
    #[serde(
        rename = "quantityFulfilled",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_fulfilled: Option<Decimal>,
    /// Quantity back-ordered. (`quantityBackOrdered`)
    #[serde(
        rename = "quantityBackOrdered",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_back_ordered: Option<Decimal>,
    /// Quantity picked. (`quantityPicked`)
    #[serde(
        rename = "quantityPicked",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_picked: Option<Decimal>,
    /// Quantity packed. (`quantityPacked`)
    #[serde(
        rename = "quantityPacked",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_packed: Option<Decimal>,
    /// Quantity billed. (`quantityBilled`)
    #[serde(
        rename = "quantityBilled",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_billed: Option<Decimal>,
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
    /// Line closed. (`isClosed`)
    #[serde(
        rename = "isClosed",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub is_closed: Option<bool>,
    /// Commit inventory setting (1, 2 or 3). (`commitInventory`)
    #[serde(
        rename = "commitInventory",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub commit_inventory: Option<Select>,
    /// Item type code (`InvtPart`, `Kit`, …). (`itemType`)
    #[serde(rename = "itemType", default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<Select>,
    /// Unit of measure. (`units`)
    #[serde(rename = "units", default, skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
    /// Rate (price per unit). (`rate`)
    #[serde(
        rename = "rate",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub rate: Option<Decimal>,
    /// Amount. (`amount`)
    #[serde(
        rename = "amount",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub amount: Option<Decimal>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}
