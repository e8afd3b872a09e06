//! Stock movements reported by Clarus, and stock positions used by the drift check.

use crate::despatch::LotQuantity;
use crate::ids::{LocationId, MovementId, ReasonCodeId, SerialNumber, Sku, Tenant, WarehouseId};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a stock movement was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    /// Stock found or added (Clarus `positively_adjusted`).
    PositiveAdjustment,
    /// Stock removed (Clarus `negatively_adjusted`).
    NegativeAdjustment,
    /// Stock broken and written off (a negative adjustment with a breakage reason).
    Breakage,
    /// A stock check counted more than expected.
    StockCheckGain,
    /// A stock check counted less than expected.
    StockCheckLoss,
    /// Stock put on hold (quarantine); on hand is unchanged.
    Hold,
    /// Stock released from hold; on hand is unchanged.
    Release,
}

impl MovementKind {
    /// The sign of the on-hand change: `1`, `-1`, or `0` for status changes.
    pub fn on_hand_sign(self) -> i8 {
        match self {
            Self::PositiveAdjustment | Self::StockCheckGain => 1,
            Self::NegativeAdjustment | Self::Breakage | Self::StockCheckLoss => -1,
            Self::Hold | Self::Release => 0,
        }
    }

    /// Short code used in idempotency keys and mapping tables.
    pub fn code(self) -> &'static str {
        match self {
            Self::PositiveAdjustment => "ADJ-POS",
            Self::NegativeAdjustment => "ADJ-NEG",
            Self::Breakage => "BREAK",
            Self::StockCheckGain => "CHECK-GAIN",
            Self::StockCheckLoss => "CHECK-LOSS",
            Self::Hold => "HOLD",
            Self::Release => "RELEASE",
        }
    }
}

/// One stock movement in Clarus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockMovement {
    /// Clarus tenant.
    pub tenant: Tenant,
    /// Clarus stock transaction id.
    pub id: MovementId,
    /// What happened.
    pub kind: MovementKind,
    /// Warehouse of the stock.
    pub warehouse: WarehouseId,
    /// Product code.
    pub sku: Sku,
    /// Quantity moved, always positive; the direction comes from `kind`.
    pub quantity: Decimal,
    /// Clarus reason code, if one was given.
    pub reason: Option<ReasonCodeId>,
    /// Lots concerned, for lot-tracked items.
    pub lots: Vec<LotQuantity>,
    /// Serials concerned, for serial-tracked items.
    pub serials: Vec<SerialNumber>,
    /// When it happened in Clarus.
    pub occurred_at: Timestamp,
}

/// Availability of stock, the status dimension of stock positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockStatus {
    /// Sellable (Clarus `available`).
    Available,
    /// On hold or in quarantine (Clarus `held`).
    Held,
}

/// A stock position: SKU at a NetSuite location in one status. Clarus rows are mapped to NetSuite
/// locations (through the location ↔ warehouse table) before they are compared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StockKey {
    /// Item.
    pub sku: Sku,
    /// NetSuite location.
    pub location: LocationId,
    /// Available or held.
    pub status: StockStatus,
}

/// A quantity at a stock position: one row of a snapshot or of the movements in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockRow {
    /// Position.
    pub key: StockKey,
    /// On-hand quantity (snapshots) or the signed on-hand change not yet in NetSuite (in flight).
    pub quantity: Decimal,
}
