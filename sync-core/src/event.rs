//! Input events: what happened, with the identity of its source.

use crate::despatch::Despatch;
use crate::item::{ClarusProduct, Item};
use crate::order::Order;
use crate::progress::GoodsOutProgress;
use crate::receipt::Receipt;
pub use crate::source::{Name, Revision, SourceId, System};
use crate::stock::StockMovement;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Payload {
    /// An item was created or changed in NetSuite.
    Item(Item),
    /// A product was read from Clarus (used to check SKU and barcode agreement).
    ClarusProduct(ClarusProduct),
    /// A sales order, purchase order or return authorisation was created or changed in NetSuite.
    Order(Order),
    /// Clarus despatched (part of) a goods out.
    Despatch(Despatch),
    /// Clarus received (part of) a goods-in receipt.
    Receipt(Receipt),
    /// Clarus adjusted, held, released or counted stock.
    StockMovement(StockMovement),
    /// A Clarus goods out reached a milestone before despatch (acknowledged, picking).
    GoodsOutProgress(GoodsOutProgress),
}

/// One input event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Source identity, for deduplication and ordering.
    pub source: SourceId,
    /// When it happened in the source system.
    pub occurred_at: Timestamp,
    /// What happened.
    pub payload: Payload,
}
