//! Goods-in receipts: what Clarus received against a purchase order or return authorisation.

use crate::despatch::LotQuantity;
use crate::ids::{GoodsInId, LineNo, ReceiptId, SerialNumber, Sku, Tenant, WarehouseId};
use crate::order::OrderRef;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Whether received stock may be sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockCondition {
    /// Fit to sell: received to available stock.
    Sellable,
    /// Kept apart (damaged or awaiting inspection): held in Clarus, quarantine status or
    /// location in NetSuite.
    Quarantine,
}

/// One received line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    /// The NetSuite order line received against.
    pub order_line: LineNo,
    /// Product code.
    pub sku: Sku,
    /// Quantity received.
    pub quantity: Decimal,
    /// Sellable or quarantine.
    pub condition: StockCondition,
    /// Lots received, for lot-tracked items.
    pub lots: Vec<LotQuantity>,
    /// Serial numbers received, for serial-tracked items.
    pub serials: Vec<SerialNumber>,
}

/// One receipt event of a Clarus goods-in receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Clarus tenant.
    pub tenant: Tenant,
    /// Clarus goods-in receipt id.
    pub goods_in: GoodsInId,
    /// Which receipt of that goods in.
    pub receipt: ReceiptId,
    /// The NetSuite purchase order or return authorisation received against.
    pub order: OrderRef,
    /// Clarus warehouse that received.
    pub warehouse: WarehouseId,
    /// When the goods were received.
    pub received_at: Timestamp,
    /// Lines.
    pub lines: Vec<ReceiptLine>,
}
