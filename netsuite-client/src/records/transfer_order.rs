//! Transfer orders.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    Extra, InventoryDetail, Link, OrderStatus, Record, RecordId, RecordRef, Select, Sublist,
};

/// A transfer order (`transferOrder`): stock moved between locations through a fulfilment and a receipt.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TransferOrder {
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
    /// Destination location. (`transferLocation`)
    #[serde(
        rename = "transferLocation",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub transfer_location: Option<RecordRef>,
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
    /// Employee. (`employee`)
    #[serde(rename = "employee", default, skip_serializing_if = "Option::is_none")]
    pub employee: Option<RecordRef>,
    /// Firmed. (`firmed`)
    #[serde(
        rename = "firmed",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub firmed: Option<bool>,
    /// Use item cost as transfer cost. (`useItemCostAsTransferCost`)
    #[serde(
        rename = "useItemCostAsTransferCost",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub use_item_cost_as_transfer_cost: Option<bool>,
    /// Tracking numbers. (`trackingNumbers`)
    #[serde(
        rename = "trackingNumbers",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tracking_numbers: Option<String>,
    /// Item. (`item`)
    #[serde(rename = "item", default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Sublist<TransferOrderLine>>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Record for TransferOrder {
    const TYPE: &'static str = "transferOrder";
}

/// A line of the `item` sublist of a transfer order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TransferOrderLine {
    /// Line number (not sequential; use it as `orderLine` when transforming). (`line`)
    #[serde(
        rename = "line",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_i64"
    )]
    pub line: Option<i64>,
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
    /// Quantity received. (`quantityReceived`)
    #[serde(
        rename = "quantityReceived",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_received: Option<Decimal>,
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
    /// Quantity back-ordered. (`quantityBackOrdered`)
    #[serde(
        rename = "quantityBackOrdered",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_back_ordered: Option<Decimal>,
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
    /// `expectedShipDate`. (`expectedShipDate`)
    #[serde(
        rename = "expectedShipDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub expected_ship_date: Option<jiff::civil::Date>,
    /// Expected receipt date. (`expectedReceiptDate`)
    #[serde(
        rename = "expectedReceiptDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub expected_receipt_date: Option<jiff::civil::Date>,
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
