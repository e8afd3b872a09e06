//! Locations.

use serde::{Deserialize, Serialize};

use super::{Extra, Link, Record, RecordId, RecordRef, Select};

/// A location (`location`): a warehouse, store or virtual place stock can be.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Location {
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
    /// Full name. (`fullName`)
    #[serde(rename = "fullName", default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// Parent. (`parent`)
    #[serde(rename = "parent", default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<RecordRef>,
    /// Subsidiary. (`subsidiary`)
    #[serde(
        rename = "subsidiary",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub subsidiary: Option<RecordRef>,
    /// Inactive. (`isInactive`)
    #[serde(
        rename = "isInactive",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub is_inactive: Option<bool>,
    /// Inventory here counts as available. (`makeInventoryAvailable`)
    #[serde(
        rename = "makeInventoryAvailable",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub make_inventory_available: Option<bool>,
    /// Uses bins. (`useBins`)
    #[serde(
        rename = "useBins",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub use_bins: Option<bool>,
    /// Uses NetSuite WMS. (`useWarehouseManagement`)
    #[serde(
        rename = "useWarehouseManagement",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub use_warehouse_management: Option<bool>,
    /// Location type. (`locationType`)
    #[serde(
        rename = "locationType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub location_type: Option<Select>,
    /// Main address (subrecord, kept as JSON). (`mainAddress`)
    #[serde(
        rename = "mainAddress",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub main_address: Option<serde_json::Value>,
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

impl Record for Location {
    const TYPE: &'static str = "location";
}
