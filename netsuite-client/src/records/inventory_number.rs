//! Lot and serial numbers.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Extra, Link, Record, RecordId, RecordRef};

/// A lot or serial number (`inventoryNumber`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InventoryNumber {
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
    /// The lot or serial number. (`inventoryNumber`)
    #[serde(
        rename = "inventoryNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inventory_number: Option<String>,
    /// Item. (`item`)
    #[serde(rename = "item", default, skip_serializing_if = "Option::is_none")]
    pub item: Option<RecordRef>,
    /// Item name. (`itemName`)
    #[serde(rename = "itemName", default, skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    /// Expiration date. (`expirationDate`)
    #[serde(
        rename = "expirationDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub expiration_date: Option<jiff::civil::Date>,
    /// Memo. (`memo`)
    #[serde(rename = "memo", default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
    /// Quantity on hand (read only). (`quantityOnHand`)
    #[serde(
        rename = "quantityOnHand",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_on_hand: Option<Decimal>,
    /// Quantity available. (`quantityAvailable`)
    #[serde(
        rename = "quantityAvailable",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_available: Option<Decimal>,
    /// Quantity on order. (`quantityOnOrder`)
    #[serde(
        rename = "quantityOnOrder",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_on_order: Option<Decimal>,
    /// Quantity in transit. (`quantityInTransit`)
    #[serde(
        rename = "quantityInTransit",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_in_transit: Option<Decimal>,
    /// Status. (`status`)
    #[serde(rename = "status", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Unit of measure. (`units`)
    #[serde(rename = "units", default, skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
    /// Last modification time (read only). (`lastModifiedDate`)
    #[serde(
        rename = "lastModifiedDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modified_date: Option<jiff::Timestamp>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Record for InventoryNumber {
    const TYPE: &'static str = "inventoryNumber";
}
