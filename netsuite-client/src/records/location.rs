//! Locations.

use super::{Record, RecordId, RecordRef, Select};

netsuite_record! {
    /// A location (`location`): a warehouse, store or virtual place stock can be.
    pub struct Location {
        /// Internal id (read only). (`id`)
        pub id: Option<RecordId>,
        /// External id; set it on created records to make creation idempotent. (`externalId`)
        pub external_id: Option<String>,
        /// Name. (`name`)
        pub name: Option<String>,
        /// Full name. (`fullName`)
        pub full_name: Option<String>,
        /// Parent. (`parent`)
        pub parent: Option<RecordRef>,
        /// Subsidiary. (`subsidiary`)
        pub subsidiary: Option<RecordRef>,
        /// Inactive. (`isInactive`)
        pub is_inactive: Option<bool>,
        /// Inventory here counts as available. (`makeInventoryAvailable`)
        pub make_inventory_available: Option<bool>,
        /// Uses bins. (`useBins`)
        pub use_bins: Option<bool>,
        /// Uses NetSuite WMS. (`useWarehouseManagement`)
        pub use_warehouse_management: Option<bool>,
        /// Location type. (`locationType`)
        pub location_type: Option<Select>,
        /// Main address (subrecord, kept as JSON). (`mainAddress`)
        pub main_address: Option<serde_json::Value>,
        /// Last modification time (read only). (`lastModifiedDate`)
        pub last_modified_date: Option<jiff::Timestamp>,
    }
}

impl Record for Location {
    const TYPE: &'static str = "location";
}
