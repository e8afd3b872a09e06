//! Items (NetSuite) and products (Clarus).

use crate::ids::{Barcode, NetSuiteId, ProductId, Sku};
use serde::{Deserialize, Serialize};

/// How units of an item are tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tracking {
    /// Not tracked by lot or serial (NetSuite `inventoryItem`).
    None,
    /// Tracked by lot (NetSuite `lotNumberedInventoryItem`, `isLotItem`).
    Lot,
    /// Tracked by serial number (NetSuite `serializedInventoryItem`, `isSerialItem`).
    Serial,
}

/// An item as NetSuite, the item master, knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// NetSuite internal id.
    pub netsuite_id: NetSuiteId,
    /// `itemId`: the SKU, also the Clarus product `code`.
    pub sku: Sku,
    /// `upcCode`.
    pub barcode: Option<Barcode>,
    /// `displayName` (Clarus `description`, at most 150 characters there).
    pub description: String,
    /// Lot, serial or no tracking.
    pub tracking: Tracking,
    /// `isInactive`.
    pub inactive: bool,
}

/// A product as Clarus knows it (read from Clarus, used to check agreement with NetSuite).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClarusProduct {
    /// Clarus product id.
    pub id: ProductId,
    /// `code`.
    pub sku: Sku,
    /// `barcode`.
    pub barcode: Option<Barcode>,
    /// The NetSuite item the product was created from (`external_system_reference1`), if set.
    pub netsuite_id: Option<NetSuiteId>,
}
