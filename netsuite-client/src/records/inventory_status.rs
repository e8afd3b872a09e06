//! Inventory statuses.

use super::{Record, RecordId};

netsuite_record! {
    /// An inventory status (`inventoryStatus`), e.g. Good or Quarantine; `inventoryAvailable` says whether stock in it counts as available.
    pub struct InventoryStatus {
        /// Internal id (read only). (`id`)
        pub id: Option<RecordId>,
        /// External id; set it on created records to make creation idempotent. (`externalId`)
        pub external_id: Option<String>,
        /// Name. (`name`)
        pub name: Option<String>,
        /// Description. (`description`)
        pub description: Option<String>,
        /// `inventoryAvailable`. (`inventoryAvailable`)
        pub inventory_available: Option<bool>,
        /// `inventoryAvailForAlloc`. (`inventoryAvailForAlloc`)
        pub inventory_avail_for_alloc: Option<bool>,
        /// Inactive. (`isInactive`)
        pub is_inactive: Option<bool>,
    }
}

impl Record for InventoryStatus {
    const TYPE: &'static str = "inventoryStatus";
}
