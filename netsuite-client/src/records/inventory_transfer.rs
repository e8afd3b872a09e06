//! Inventory transfers.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Extra, InventoryDetail, Link, Record, RecordId, RecordRef, Sublist};

/// An inventory transfer (`inventoryTransfer`): stock moved from `location` to `transferLocation` in one step.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InventoryTransfer {
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
    /// Department. (`department`)
    #[serde(
        rename = "department",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub department: Option<RecordRef>,
    /// Class. (`class`)
    #[serde(rename = "class", default, skip_serializing_if = "Option::is_none")]
    pub class: Option<RecordRef>,
    /// Posting period. (`postingPeriod`)
    #[serde(
        rename = "postingPeriod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub posting_period: Option<RecordRef>,
    /// Lines. (`inventory`)
    #[serde(rename = "inventory", default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<Sublist<InventoryTransferLine>>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Record for InventoryTransfer {
    const TYPE: &'static str = "inventoryTransfer";
}

/// A line of the `inventory` sublist of an inventory transfer (`adjustQtyBy` is the quantity moved).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InventoryTransferLine {
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
    /// Quantity to add (negative to remove; for transfers, the quantity moved). (`adjustQtyBy`)
    #[serde(
        rename = "adjustQtyBy",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub adjust_qty_by: Option<Decimal>,
    /// Quantity on hand (read only). (`quantityOnHand`)
    #[serde(
        rename = "quantityOnHand",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_on_hand: Option<Decimal>,
    /// Lots, serials, bins and statuses of this line. (`inventoryDetail`)
    #[serde(
        rename = "inventoryDetail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inventory_detail: Option<InventoryDetail>,
    /// Source bins (legacy text). (`fromBinNumbers`)
    #[serde(
        rename = "fromBinNumbers",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub from_bin_numbers: Option<String>,
    /// Destination bins (legacy text). (`toBinNumbers`)
    #[serde(
        rename = "toBinNumbers",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub to_bin_numbers: Option<String>,
    /// Unit of measure. (`units`)
    #[serde(rename = "units", default, skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
    /// Description. (`description`)
    #[serde(
        rename = "description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}
