//! Bins.

use serde::{Deserialize, Serialize};

use super::{Extra, Link, Record, RecordId, RecordRef};

/// A bin (`bin`) inside a location.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Bin {
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
    /// Bin. (`binNumber`)
    #[serde(rename = "binNumber", default, skip_serializing_if = "Option::is_none")]
    pub bin_number: Option<String>,
    /// Location. (`location`)
    #[serde(rename = "location", default, skip_serializing_if = "Option::is_none")]
    pub location: Option<RecordRef>,
    /// Memo. (`memo`)
    #[serde(rename = "memo", default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
    /// Inactive. (`isInactive`)
    #[serde(
        rename = "isInactive",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub is_inactive: Option<bool>,
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

impl Record for Bin {
    const TYPE: &'static str = "bin";
}
