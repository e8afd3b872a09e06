//! Inventory items: plain, lot-numbered and serialized. The record type decides the URL, so look the subtype up first (SuiteQL `item.itemtype`, `islotitem`, `isserialitem`).

use rust_decimal::Decimal;

use super::{CostingMethod, Record, RecordId, RecordRef, Select, Sublist};

/// Declares one inventory item record. The three item types share NetSuite's field list and
/// differ only in their record type (and so their URL), so the fields are written once here.
macro_rules! inventory_item_record {
    ($(#[$doc:meta])* $name:ident, $record_type:literal) => {
        netsuite_record! {
            $(#[$doc])*
            pub struct $name {
                /// Internal id (read only). (`id`)
                pub id: Option<RecordId>,
                /// External id; set it on created records to make creation idempotent. (`externalId`)
                pub external_id: Option<String>,
                /// Item name/number (the SKU). (`itemId`)
                pub item_id: Option<String>,
                /// Display name. (`displayName`)
                pub display_name: Option<String>,
                /// UPC/barcode. (`upcCode`)
                pub upc_code: Option<String>,
                /// Description. (`description`)
                pub description: Option<String>,
                /// Inactive. (`isInactive`)
                pub is_inactive: Option<bool>,
                /// Lot numbered. (`isLotItem`)
                pub is_lot_item: Option<bool>,
                /// Serialized. (`isSerialItem`)
                pub is_serial_item: Option<bool>,
                /// Uses bins. (`useBins`)
                pub use_bins: Option<bool>,
                /// Weight. (`weight`)
                pub weight: Option<Decimal>,
                /// Weight unit. (`weightUnit`)
                pub weight_unit: Option<Select>,
                /// Base unit. (`baseUnit`)
                pub base_unit: Option<String>,
                /// Stock unit. (`stockUnit`)
                pub stock_unit: Option<String>,
                /// Costing method. (`costingMethod`)
                pub costing_method: Option<Select<CostingMethod>>,
                /// Subsidiary. (`subsidiary`)
                pub subsidiary: Option<RecordRef>,
                /// Location. (`location`)
                pub location: Option<RecordRef>,
                /// Department. (`department`)
                pub department: Option<RecordRef>,
                /// Class. (`class`)
                pub class: Option<RecordRef>,
                /// Purchase description. (`purchaseDescription`)
                pub purchase_description: Option<String>,
                /// Creation time (read only). (`createdDate`)
                pub created_date: Option<jiff::Timestamp>,
                /// Last modification time (read only). (`lastModifiedDate`)
                pub last_modified_date: Option<jiff::Timestamp>,
                /// Per-location quantities. (`locations`)
                pub locations: Option<Sublist<ItemLocation>>,
            }
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

netsuite_record! {
    /// A line of the `locations` sublist of an item: quantities at one location.
    pub struct ItemLocation {
        /// Location. (`location`)
        pub location: Option<RecordRef>,
        /// Location internal id. (`locationId`)
        pub location_id: Option<i64>,
        /// Quantity on hand (read only). (`quantityOnHand`)
        pub quantity_on_hand: Option<Decimal>,
        /// Quantity available. (`quantityAvailable`)
        pub quantity_available: Option<Decimal>,
        /// Quantity committed. (`quantityCommitted`)
        pub quantity_committed: Option<Decimal>,
        /// Quantity back-ordered. (`quantityBackOrdered`)
        pub quantity_back_ordered: Option<Decimal>,
        /// Quantity on order. (`quantityOnOrder`)
        pub quantity_on_order: Option<Decimal>,
        /// Quantity in transit. (`quantityInTransit`)
        pub quantity_in_transit: Option<Decimal>,
        /// `reorderPoint`. (`reorderPoint`)
        pub reorder_point: Option<Decimal>,
        /// `preferredStockLevel`. (`preferredStockLevel`)
        pub preferred_stock_level: Option<Decimal>,
    }
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
