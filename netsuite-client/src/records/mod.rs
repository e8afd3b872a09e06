//! Typed NetSuite records (request and response), their shared building blocks and the
//! [`Record`] trait that ties a Rust type to its REST record type.
//!
//! Field names follow the 2026.1 REST API Browser. Every field is optional (NetSuite omits what the
//! role cannot see and accepts partial bodies); fields this crate does not model are kept in
//! `extra` and written back unchanged, so custom fields (`custbody*`, `custcol*`) survive a
//! read-modify-write. `links` are read but never written.
//!
//! A reference from a literal id needs no `Result` (`RecordRef::id(7)`, or `7` where a
//! reference is asked for), and the bodies written most have line builders:
//!
//! ```
//! use netsuite_client::records::{InventoryAdjustment, ItemFulfillment};
//!
//! // Fulfil 2 of sales order line 1 and 1 of line 3.
//! let fulfillment = ItemFulfillment::builder().external_id("SHIP-1").line(1, 2).line(3, 1).build();
//! // Write off 4 of item 501 at location 7, booked to account 130.
//! let adjustment = InventoryAdjustment::builder(130, 7).line(501, -4).build();
//!
//! let body = serde_json::to_value(&fulfillment).unwrap();
//! assert_eq!(body["item"]["items"][1], serde_json::json!({"orderLine": 3, "itemReceive": true, "quantity": 1}));
//! # let _ = adjustment;
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ids::{RecordId, RecordType};

#[macro_use]
mod macros;

mod bin;
mod builders;
mod field;
mod inventory_adjustment;
mod inventory_detail;
mod inventory_number;
mod inventory_status;
mod inventory_transfer;
mod item;
mod item_fulfillment;
mod item_receipt;
mod location;
mod purchase_order;
mod return_authorization;
mod sales_order;
mod status;
mod transfer_order;

pub use bin::Bin;
pub use builders::{
    InventoryAdjustmentBuilder, InventoryTransferBuilder, ItemFulfillmentBuilder,
    ItemReceiptBuilder,
};
pub use inventory_adjustment::{InventoryAdjustment, InventoryAdjustmentLine};
pub use inventory_detail::{InventoryAssignment, InventoryDetail};
pub use inventory_number::InventoryNumber;
pub use inventory_status::InventoryStatus;
pub use inventory_transfer::{InventoryTransfer, InventoryTransferLine};
pub use item::{InventoryItem, ItemLocation, LotNumberedInventoryItem, SerializedInventoryItem};
pub use item_fulfillment::{ItemFulfillment, ItemFulfillmentLine, Package};
pub use item_receipt::{ItemReceipt, ItemReceiptLine};
pub use location::Location;
pub use purchase_order::{PurchaseOrder, PurchaseOrderLine};
pub use return_authorization::{ReturnAuthorization, ReturnAuthorizationLine};
pub use sales_order::{SalesOrder, SalesOrderLine};
pub use status::{
    CostingMethod, OrderStatus, PurchaseOrderStatus, ReturnAuthorizationStatus, SalesOrderStatus,
    ShipStatus,
};
pub use transfer_order::{TransferOrder, TransferOrderLine};

/// A Rust type that is the body of one NetSuite record type.
pub trait Record: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The record type in URLs, e.g. `salesOrder`.
    const TYPE: &'static str;

    /// [`Record::TYPE`] as a [`RecordType`].
    fn record_type() -> RecordType {
        RecordType::from_static(Self::TYPE)
    }
}

/// A reference to another record: `{"id": "12"}` or `{"externalId": "X"}` when writing,
/// `{"id", "refName", "links"}` when reading. Ids are strings, as NetSuite sends them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordRef {
    /// Internal id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RecordId>,
    /// External id (write a reference by external id instead of internal id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Display name (read only; ignored when writing).
    #[serde(default, skip_serializing)]
    pub ref_name: Option<String>,
}

impl RecordRef {
    /// A reference by internal id: a [`RecordId`], or an integer literal (`RecordRef::id(12)`).
    pub fn id(id: impl Into<RecordId>) -> Self {
        Self {
            id: Some(id.into()),
            ..Self::default()
        }
    }

    /// A reference by external id.
    pub fn external(external_id: impl Into<String>) -> Self {
        Self {
            external_id: Some(external_id.into()),
            ..Self::default()
        }
    }
}

/// A select (list) field: `{"id": "B", "refName": "Pending Fulfillment"}`.
///
/// `T` is an open enum of the known codes (unknown codes are kept) or a plain `String`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Select<T = String> {
    /// The code.
    pub id: T,
    /// Display name (read only; ignored when writing).
    #[serde(default, skip_serializing)]
    pub ref_name: Option<String>,
}

impl<T> Select<T> {
    /// A select value to write.
    pub fn new(id: T) -> Self {
        Self { id, ref_name: None }
    }
}

/// A sublist: `{"items": [...]}`. When read without `expandSubResources` NetSuite sends only
/// links, and `items` is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sublist<T> {
    /// The lines.
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}

impl<T> Default for Sublist<T> {
    fn default() -> Self {
        Self { items: Vec::new() }
    }
}

impl<T> From<Vec<T>> for Sublist<T> {
    fn from(items: Vec<T>) -> Self {
        Self { items }
    }
}

/// A hypermedia link as NetSuite returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Relation (`self`, `next`, …).
    pub rel: String,
    /// Target URL.
    pub href: String,
}

/// Fields kept as received because no typed field holds them (custom fields, newer fields).
pub type Extra = serde_json::Map<String, serde_json::Value>;

#[cfg(test)]
mod tests;
