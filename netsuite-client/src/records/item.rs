//! Inventory items: plain, lot-numbered and serialized. The record type decides the URL, so look the subtype up first (SuiteQL `item.itemtype`, `islotitem`, `isserialitem`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{CostingMethod, Extra, Link, Record, RecordId, RecordRef, Select, Sublist};

/// Declares one inventory item record. The three item types share NetSuite's field list and
/// differ only in their record type (and so their URL), so the fields are written once here.
macro_rules! inventory_item_record {
    ($(#[$doc:meta])* $name:ident, $record_type:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        pub struct $name {
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
            /// Item name/number (the SKU). (`itemId`)
            #[serde(rename = "itemId", default, skip_serializing_if = "Option::is_none")]
            pub item_id: Option<String>,
            /// Display name. (`displayName`)
            #[serde(
                rename = "displayName",
                default,
                skip_serializing_if = "Option::is_none"
            )]
            pub display_name: Option<String>,
            /// UPC/barcode. (`upcCode`)
            #[serde(rename = "upcCode", default, skip_serializing_if = "Option::is_none")]
            pub upc_code: Option<String>,
            /// Description. (`description`)
            #[serde(
                rename = "description",
                default,
                skip_serializing_if = "Option::is_none"
            )]
            pub description: Option<String>,
            /// Inactive. (`isInactive`)
            #[serde(
                rename = "isInactive",
                default,
                skip_serializing_if = "Option::is_none",
                deserialize_with = "crate::suiteql::lenient::opt_bool"
            )]
            pub is_inactive: Option<bool>,
            /// Lot numbered. (`isLotItem`)
            #[serde(
                rename = "isLotItem",
                default,
                skip_serializing_if = "Option::is_none",
                deserialize_with = "crate::suiteql::lenient::opt_bool"
            )]
            pub is_lot_item: Option<bool>,
            /// Serialized. (`isSerialItem`)
            #[serde(
                rename = "isSerialItem",
                default,
                skip_serializing_if = "Option::is_none",
                deserialize_with = "crate::suiteql::lenient::opt_bool"
            )]
            pub is_serial_item: Option<bool>,
            /// Uses bins. (`useBins`)
            #[serde(
                rename = "useBins",
                default,
                skip_serializing_if = "Option::is_none",
                deserialize_with = "crate::suiteql::lenient::opt_bool"
            )]
            pub use_bins: Option<bool>,
            /// Weight. (`weight`)
            #[serde(
                rename = "weight",
                default,
                skip_serializing_if = "Option::is_none",
                with = "crate::decimal::option"
            )]
            pub weight: Option<Decimal>,
            /// Weight unit. (`weightUnit`)
            #[serde(
                rename = "weightUnit",
                default,
                skip_serializing_if = "Option::is_none"
            )]
            pub weight_unit: Option<Select>,
            /// Base unit. (`baseUnit`)
            #[serde(rename = "baseUnit", default, skip_serializing_if = "Option::is_none")]
            pub base_unit: Option<String>,
            /// Stock unit. (`stockUnit`)
            #[serde(rename = "stockUnit", default, skip_serializing_if = "Option::is_none")]
            pub stock_unit: Option<String>,
            /// Costing method. (`costingMethod`)
            #[serde(
                rename = "costingMethod",
                default,
                skip_serializing_if = "Option::is_none"
            )]
            pub costing_method: Option<Select<CostingMethod>>,
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
            /// Purchase description. (`purchaseDescription`)
            #[serde(
                rename = "purchaseDescription",
                default,
                skip_serializing_if = "Option::is_none"
            )]
            pub purchase_description: Option<String>,
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
            /// Per-location quantities. (`locations`)
            #[serde(rename = "locations", default, skip_serializing_if = "Option::is_none")]
            pub locations: Option<Sublist<ItemLocation>>,
            /// Links returned by NetSuite (never written).
            #[serde(default, skip_serializing)]
            pub links: Vec<Link>,
            /// Fields without a typed slot (custom fields, newer fields), kept as received.
            #[serde(flatten)]
            pub extra: Extra,
        }

        impl Record for $name {
            const TYPE: &'static str = $record_type;
        }
    };
}

inventory_item_record!(
    /// An inventory item (`inventoryItem`) without lots or serials.
    InventoryItem,
    "inventoryItem"
);

inventory_item_record!(
    /// A lot-numbered inventory item (`lotNumberedInventoryItem`).
    LotNumberedInventoryItem,
    "lotNumberedInventoryItem"
);

inventory_item_record!(
    /// A serialized inventory item (`serializedInventoryItem`).
    SerializedInventoryItem,
    "serializedInventoryItem"
);

/// A line of the `locations` sublist of an item: quantities at one location.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ItemLocation {
    /// Location. (`location`)
    #[serde(rename = "location", default, skip_serializing_if = "Option::is_none")]
    pub location: Option<RecordRef>,
    /// Location internal id. (`locationId`)
    #[serde(
        rename = "locationId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_i64"
    )]
    pub location_id: Option<i64>,
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
    /// Quantity committed. (`quantityCommitted`)
    #[serde(
        rename = "quantityCommitted",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_committed: Option<Decimal>,
    /// Quantity back-ordered. (`quantityBackOrdered`)
    #[serde(
        rename = "quantityBackOrdered",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_back_ordered: Option<Decimal>,
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
    /// `reorderPoint`. (`reorderPoint`)
    #[serde(
        rename = "reorderPoint",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub reorder_point: Option<Decimal>,
    /// `preferredStockLevel`. (`preferredStockLevel`)
    #[serde(
        rename = "preferredStockLevel",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub preferred_stock_level: Option<Decimal>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_item_types_read_the_same_fields_under_their_own_record_type() {
        let body = serde_json::json!({
            "id": "77",
            "itemId": "MUG-RED",
            "displayName": "Red mug",
            "custitem_colour": "red",
        });
        let plain: InventoryItem = serde_json::from_value(body.clone()).unwrap();
        let lot: LotNumberedInventoryItem = serde_json::from_value(body.clone()).unwrap();
        let serial: SerializedInventoryItem = serde_json::from_value(body).unwrap();
        for (item_id, extra) in [
            (&plain.item_id, &plain.extra),
            (&lot.item_id, &lot.extra),
            (&serial.item_id, &serial.extra),
        ] {
            assert_eq!(item_id.as_deref(), Some("MUG-RED"));
            assert_eq!(extra["custitem_colour"], "red");
        }
        assert_eq!(
            [
                InventoryItem::TYPE,
                LotNumberedInventoryItem::TYPE,
                SerializedInventoryItem::TYPE
            ],
            [
                "inventoryItem",
                "lotNumberedInventoryItem",
                "serializedInventoryItem"
            ]
        );
    }
}
