//! Inventory statuses.

use serde::{Deserialize, Serialize};

use super::{Extra, Link, Record, RecordId};

/// An inventory status (`inventoryStatus`), e.g. Good or Quarantine; `inventoryAvailable` says whether stock in it counts as available.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InventoryStatus {
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
    /// Name. (`name`)
    #[serde(rename = "name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description. (`description`)
    #[serde(
        rename = "description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// `inventoryAvailable`. (`inventoryAvailable`)
    #[serde(
        rename = "inventoryAvailable",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub inventory_available: Option<bool>,
    /// `inventoryAvailForAlloc`. (`inventoryAvailForAlloc`)
    #[serde(
        rename = "inventoryAvailForAlloc",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub inventory_avail_for_alloc: Option<bool>,
    /// Inactive. (`isInactive`)
    #[serde(
        rename = "isInactive",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub is_inactive: Option<bool>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Record for InventoryStatus {
    const TYPE: &'static str = "inventoryStatus";
}
