//! Inventory detail subrecords (lots, serials, bins, statuses).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Extra, Link, RecordRef, Sublist};

/// The `inventoryDetail` subrecord of a transaction line: which lots, serials, bins and statuses make up its quantity. Written only through its parent line.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InventoryDetail {
    /// Quantity. (`quantity`)
    #[serde(
        rename = "quantity",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity: Option<Decimal>,
    /// Item. (`item`)
    #[serde(rename = "item", default, skip_serializing_if = "Option::is_none")]
    pub item: Option<RecordRef>,
    /// Location. (`location`)
    #[serde(rename = "location", default, skip_serializing_if = "Option::is_none")]
    pub location: Option<RecordRef>,
    /// Destination location. (`toLocation`)
    #[serde(
        rename = "toLocation",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub to_location: Option<RecordRef>,
    /// `unit`. (`unit`)
    #[serde(rename = "unit", default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Assignments (lot/serial, bin, status, quantity). (`inventoryAssignment`)
    #[serde(
        rename = "inventoryAssignment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inventory_assignment: Option<Sublist<InventoryAssignment>>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One assignment: a quantity of one lot/serial in one bin and status. Outbound lines use `issueInventoryNumber` (an existing number), inbound lines `receiptInventoryNumber` (free text); never both.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InventoryAssignment {
    /// Existing lot/serial issued (outbound lines). (`issueInventoryNumber`)
    #[serde(
        rename = "issueInventoryNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub issue_inventory_number: Option<RecordRef>,
    /// New lot/serial received (inbound lines). (`receiptInventoryNumber`)
    #[serde(
        rename = "receiptInventoryNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub receipt_inventory_number: Option<String>,
    /// Bin. (`binNumber`)
    #[serde(rename = "binNumber", default, skip_serializing_if = "Option::is_none")]
    pub bin_number: Option<RecordRef>,
    /// Destination bin. (`toBinNumber`)
    #[serde(
        rename = "toBinNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub to_bin_number: Option<RecordRef>,
    /// Inventory status. (`inventoryStatus`)
    #[serde(
        rename = "inventoryStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inventory_status: Option<RecordRef>,
    /// Destination inventory status. (`toInventoryStatus`)
    #[serde(
        rename = "toInventoryStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub to_inventory_status: Option<RecordRef>,
    /// Quantity. (`quantity`)
    #[serde(
        rename = "quantity",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity: Option<Decimal>,
    /// Expiration date. (`expirationDate`)
    #[serde(
        rename = "expirationDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub expiration_date: Option<jiff::civil::Date>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}
