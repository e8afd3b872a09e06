//! The record types the NetSuite simulator stores.

use std::fmt;

/// A NetSuite REST record type served by the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordType {
    /// `salesOrder`.
    SalesOrder,
    /// `purchaseOrder`.
    PurchaseOrder,
    /// `returnAuthorization`.
    ReturnAuthorization,
    /// `itemFulfillment` (created by transforming a sales order).
    ItemFulfillment,
    /// `itemReceipt` (created by transforming a purchase order or return authorisation).
    ItemReceipt,
    /// `inventoryAdjustment`.
    InventoryAdjustment,
    /// `inventoryTransfer`.
    InventoryTransfer,
    /// `inventoryStatusChange`.
    InventoryStatusChange,
    /// `inventoryItem`.
    InventoryItem,
    /// `lotNumberedInventoryItem`.
    LotNumberedInventoryItem,
    /// `serializedInventoryItem`.
    SerializedInventoryItem,
    /// `location`.
    Location,
    /// `inventoryNumber` (a lot or serial number).
    InventoryNumber,
    /// `inventoryStatus`.
    InventoryStatus,
}

impl RecordType {
    /// Every record type, in a fixed order.
    pub const ALL: [RecordType; 14] = [
        RecordType::SalesOrder,
        RecordType::PurchaseOrder,
        RecordType::ReturnAuthorization,
        RecordType::ItemFulfillment,
        RecordType::ItemReceipt,
        RecordType::InventoryAdjustment,
        RecordType::InventoryTransfer,
        RecordType::InventoryStatusChange,
        RecordType::InventoryItem,
        RecordType::LotNumberedInventoryItem,
        RecordType::SerializedInventoryItem,
        RecordType::Location,
        RecordType::InventoryNumber,
        RecordType::InventoryStatus,
    ];

    /// The REST path name, e.g. `salesOrder`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::SalesOrder => "salesOrder",
            RecordType::PurchaseOrder => "purchaseOrder",
            RecordType::ReturnAuthorization => "returnAuthorization",
            RecordType::ItemFulfillment => "itemFulfillment",
            RecordType::ItemReceipt => "itemReceipt",
            RecordType::InventoryAdjustment => "inventoryAdjustment",
            RecordType::InventoryTransfer => "inventoryTransfer",
            RecordType::InventoryStatusChange => "inventoryStatusChange",
            RecordType::InventoryItem => "inventoryItem",
            RecordType::LotNumberedInventoryItem => "lotNumberedInventoryItem",
            RecordType::SerializedInventoryItem => "serializedInventoryItem",
            RecordType::Location => "location",
            RecordType::InventoryNumber => "inventoryNumber",
            RecordType::InventoryStatus => "inventoryStatus",
        }
    }

    /// Parses a REST path name (case-insensitive, as NetSuite accepts).
    pub fn parse(name: &str) -> Option<RecordType> {
        RecordType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether this is a transaction (shares the `transaction` SuiteQL table).
    pub fn is_transaction(self) -> bool {
        self.transaction_code().is_some()
    }

    /// Whether this is one of the item types.
    pub fn is_item(self) -> bool {
        matches!(
            self,
            RecordType::InventoryItem
                | RecordType::LotNumberedInventoryItem
                | RecordType::SerializedInventoryItem
        )
    }

    /// Whether this is an order that can be transformed (sales, purchase, return).
    pub fn is_order(self) -> bool {
        matches!(
            self,
            RecordType::SalesOrder | RecordType::PurchaseOrder | RecordType::ReturnAuthorization
        )
    }

    /// The SuiteQL `transaction.type` code, e.g. `SalesOrd`.
    pub fn transaction_code(self) -> Option<&'static str> {
        Some(match self {
            RecordType::SalesOrder => "SalesOrd",
            RecordType::PurchaseOrder => "PurchOrd",
            RecordType::ReturnAuthorization => "RtnAuth",
            RecordType::ItemFulfillment => "ItemShip",
            RecordType::ItemReceipt => "ItemRcpt",
            RecordType::InventoryAdjustment => "InvAdjst",
            RecordType::InventoryTransfer => "InvTrnfr",
            RecordType::InventoryStatusChange => "InvStChg",
            _ => return None,
        })
    }

    /// The display name used by `BUILTIN.DF` on statuses, e.g. `Sales Order`.
    pub(crate) fn display_name(self) -> &'static str {
        match self {
            RecordType::SalesOrder => "Sales Order",
            RecordType::PurchaseOrder => "Purchase Order",
            RecordType::ReturnAuthorization => "Return Authorization",
            RecordType::ItemFulfillment => "Item Fulfillment",
            RecordType::ItemReceipt => "Item Receipt",
            RecordType::InventoryAdjustment => "Inventory Adjustment",
            RecordType::InventoryTransfer => "Inventory Transfer",
            RecordType::InventoryStatusChange => "Inventory Status Change",
            RecordType::InventoryItem => "Inventory Item",
            RecordType::LotNumberedInventoryItem => "Lot Numbered Inventory Item",
            RecordType::SerializedInventoryItem => "Serialized Inventory Item",
            RecordType::Location => "Location",
            RecordType::InventoryNumber => "Inventory Number",
            RecordType::InventoryStatus => "Inventory Status",
        }
    }

    /// The prefix of generated `tranId`s.
    pub(crate) fn tran_prefix(self) -> &'static str {
        match self {
            RecordType::SalesOrder => "SO",
            RecordType::PurchaseOrder => "PO",
            RecordType::ReturnAuthorization => "RMA",
            RecordType::ItemFulfillment => "IF",
            RecordType::ItemReceipt => "IR",
            RecordType::InventoryAdjustment => "ADJ",
            RecordType::InventoryTransfer => "TRF",
            RecordType::InventoryStatusChange => "ISC",
            _ => "",
        }
    }

    /// The name of the line sublist on transactions (`item` or `inventory`).
    pub(crate) fn line_sublist(self) -> Option<&'static str> {
        match self {
            RecordType::SalesOrder
            | RecordType::PurchaseOrder
            | RecordType::ReturnAuthorization
            | RecordType::ItemFulfillment
            | RecordType::ItemReceipt => Some("item"),
            RecordType::InventoryAdjustment
            | RecordType::InventoryTransfer
            | RecordType::InventoryStatusChange => Some("inventory"),
            _ => None,
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status letter and its name for an order record.
pub(crate) fn order_status_name(record: RecordType, code: &str) -> &'static str {
    match (record, code) {
        (RecordType::SalesOrder, "A") => "Pending Approval",
        (RecordType::SalesOrder, "B") => "Pending Fulfillment",
        (RecordType::SalesOrder, "C") => "Cancelled",
        (RecordType::SalesOrder, "D") => "Partially Fulfilled",
        (RecordType::SalesOrder, "E") => "Pending Billing/Partially Fulfilled",
        (RecordType::SalesOrder, "F") => "Pending Billing",
        (RecordType::SalesOrder, "G") => "Billed",
        (RecordType::SalesOrder, "H") => "Closed",
        (RecordType::PurchaseOrder, "A") => "Pending Supervisor Approval",
        (RecordType::PurchaseOrder, "B") => "Pending Receipt",
        (RecordType::PurchaseOrder, "C") => "Rejected by Supervisor",
        (RecordType::PurchaseOrder, "D") => "Partially Received",
        (RecordType::PurchaseOrder, "E") => "Pending Billing/Partially Received",
        (RecordType::PurchaseOrder, "F") => "Pending Bill",
        (RecordType::PurchaseOrder, "G") => "Fully Billed",
        (RecordType::PurchaseOrder, "H") => "Closed",
        (RecordType::ReturnAuthorization, "A") => "Pending Approval",
        (RecordType::ReturnAuthorization, "B") => "Pending Receipt",
        (RecordType::ReturnAuthorization, "C") => "Cancelled",
        (RecordType::ReturnAuthorization, "D") => "Partially Received",
        (RecordType::ReturnAuthorization, "E") => "Pending Refund/Partially Received",
        (RecordType::ReturnAuthorization, "F") => "Pending Refund",
        (RecordType::ReturnAuthorization, "G") => "Refunded",
        (RecordType::ReturnAuthorization, "H") => "Closed",
        (RecordType::ItemFulfillment, "A") => "Picked",
        (RecordType::ItemFulfillment, "B") => "Packed",
        (RecordType::ItemFulfillment, "C") => "Shipped",
        _ => "",
    }
}
