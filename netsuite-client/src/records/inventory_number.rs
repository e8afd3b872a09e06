//! Lot and serial numbers.

use rust_decimal::Decimal;

use super::{Record, RecordId, RecordRef};

netsuite_record! {
    /// A lot or serial number (`inventoryNumber`).
    pub struct InventoryNumber {
        /// Internal id (read only). (`id`)
        pub id: Option<RecordId>,
        /// External id; set it on created records to make creation idempotent. (`externalId`)
        pub external_id: Option<String>,
        /// The lot or serial number. (`inventoryNumber`)
        pub inventory_number: Option<String>,
        /// Item. (`item`)
        pub item: Option<RecordRef>,
        /// Item name. (`itemName`)
        pub item_name: Option<String>,
        /// Expiration date. (`expirationDate`)
        pub expiration_date: Option<jiff::civil::Date>,
        /// Memo. (`memo`)
        pub memo: Option<String>,
        /// Quantity on hand (read only). (`quantityOnHand`)
        pub quantity_on_hand: Option<Decimal>,
        /// Quantity available. (`quantityAvailable`)
        pub quantity_available: Option<Decimal>,
        /// Quantity on order. (`quantityOnOrder`)
        pub quantity_on_order: Option<Decimal>,
        /// Quantity in transit. (`quantityInTransit`)
        pub quantity_in_transit: Option<Decimal>,
        /// Status. (`status`)
        pub status: Option<String>,
        /// Unit of measure. (`units`)
        pub units: Option<String>,
        /// Last modification time (read only). (`lastModifiedDate`)
        pub last_modified_date: Option<jiff::Timestamp>,
    }
}

impl Record for InventoryNumber {
    const TYPE: &'static str = "inventoryNumber";
}
