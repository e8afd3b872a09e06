//! Return authorisations.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    Extra, InventoryDetail, Link, OrderStatus, Record, RecordId, RecordRef,
    ReturnAuthorizationStatus, Select, Sublist,
};

/// A return authorisation (`returnAuthorization`): goods expected back from a customer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReturnAuthorization {
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
    /// Document number. (`tranId`)
    #[serde(rename = "tranId", default, skip_serializing_if = "Option::is_none")]
    pub tran_id: Option<String>,
    /// Transaction date. (`tranDate`)
    #[serde(rename = "tranDate", default, skip_serializing_if = "Option::is_none")]
    pub tran_date: Option<jiff::civil::Date>,
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
    /// Memo. (`memo`)
    #[serde(rename = "memo", default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
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
    /// Customer or vendor. (`entity`)
    #[serde(rename = "entity", default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<RecordRef>,
    /// Source transaction. (`createdFrom`)
    #[serde(
        rename = "createdFrom",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_from: Option<RecordRef>,
    /// Status. (`status`)
    #[serde(rename = "status", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Select<ReturnAuthorizationStatus>>,
    /// Approval status. (`orderStatus`)
    #[serde(
        rename = "orderStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub order_status: Option<Select<OrderStatus>>,
    /// Customer PO or other reference number. (`otherRefNum`)
    #[serde(
        rename = "otherRefNum",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub other_ref_num: Option<String>,
    /// Currency. (`currency`)
    #[serde(rename = "currency", default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<RecordRef>,
    /// Item. (`item`)
    #[serde(rename = "item", default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Sublist<ReturnAuthorizationLine>>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Record for ReturnAuthorization {
    const TYPE: &'static str = "returnAuthorization";
}

/// A line of the `item` sublist of a return authorisation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReturnAuthorizationLine {
    /// Line number (not sequential; use it as `orderLine` when transforming). (`line`)
    #[serde(
        rename = "line",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_i64"
    )]
    pub line: Option<i64>,
    /// Line key that never changes. (`lineUniqueKey`)
    #[serde(
        rename = "lineUniqueKey",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub line_unique_key: Option<String>,
    /// Item. (`item`)
    #[serde(rename = "item", default, skip_serializing_if = "Option::is_none")]
    pub item: Option<RecordRef>,
    /// Description. (`description`)
    #[serde(
        rename = "description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Quantity. (`quantity`)
    #[serde(
        rename = "quantity",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity: Option<Decimal>,
    /// Quantity received. (`quantityReceived`)
    #[serde(
        rename = "quantityReceived",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_received: Option<Decimal>,
    /// Quantity billed. (`quantityBilled`)
    #[serde(
        rename = "quantityBilled",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity_billed: Option<Decimal>,
    /// Location. (`location`)
    #[serde(rename = "location", default, skip_serializing_if = "Option::is_none")]
    pub location: Option<RecordRef>,
    /// Lots, serials, bins and statuses of this line. (`inventoryDetail`)
    #[serde(
        rename = "inventoryDetail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inventory_detail: Option<InventoryDetail>,
    /// Line closed. (`isClosed`)
    #[serde(
        rename = "isClosed",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::suiteql::lenient::opt_bool"
    )]
    pub is_closed: Option<bool>,
    /// Unit of measure. (`units`)
    #[serde(rename = "units", default, skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
    /// Rate (price per unit). (`rate`)
    #[serde(
        rename = "rate",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub rate: Option<Decimal>,
    /// Amount. (`amount`)
    #[serde(
        rename = "amount",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub amount: Option<Decimal>,
    /// Item type code (`InvtPart`, `Kit`, …). (`itemType`)
    #[serde(rename = "itemType", default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<Select>,
    /// Links returned by NetSuite (never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Link>,
    /// Fields without a typed slot (custom fields, newer fields), kept as received.
    #[serde(flatten)]
    pub extra: Extra,
}
