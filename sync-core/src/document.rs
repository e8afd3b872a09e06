//! References to the documents that actions and exceptions belong to.

use crate::ids::{
    DespatchId, GoodsInId, GoodsOutId, LocationId, MovementId, NetSuiteId, ProductId, ReceiptId,
    Sku, Tenant,
};
use crate::order::OrderRef;
use crate::stock::StockStatus;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The business document an action or exception belongs to. The engine tracks every document
/// from import to its final NetSuite record, and applies the actions of one document in order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DocumentRef {
    /// A NetSuite item.
    Item {
        /// Internal id.
        id: NetSuiteId,
    },
    /// A Clarus product.
    Product {
        /// Tenant-independent product id.
        id: ProductId,
    },
    /// A NetSuite order.
    Order {
        /// The order.
        order: OrderRef,
    },
    /// One despatch of a Clarus goods out.
    Despatch {
        /// Tenant.
        tenant: Tenant,
        /// Goods out.
        goods_out: GoodsOutId,
        /// Despatch of the goods out.
        despatch: DespatchId,
    },
    /// One receipt of a Clarus goods in.
    Receipt {
        /// Tenant.
        tenant: Tenant,
        /// Goods-in receipt.
        goods_in: GoodsInId,
        /// Receipt of the goods in.
        receipt: ReceiptId,
    },
    /// A Clarus stock movement.
    Movement {
        /// Tenant.
        tenant: Tenant,
        /// Stock transaction.
        movement: MovementId,
    },
    /// A stock position (drift).
    StockPosition {
        /// Item.
        sku: Sku,
        /// NetSuite location.
        location: LocationId,
        /// Available or held.
        status: StockStatus,
    },
}

impl fmt::Display for DocumentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Item { id } => write!(f, "item {id}"),
            Self::Product { id } => write!(f, "Clarus product {id}"),
            Self::Order { order } => write!(f, "{order}"),
            Self::Despatch {
                tenant,
                goods_out,
                despatch,
            } => write!(f, "despatch {despatch} of goods out {goods_out} ({tenant})"),
            Self::Receipt {
                tenant,
                goods_in,
                receipt,
            } => write!(f, "receipt {receipt} of goods in {goods_in} ({tenant})"),
            Self::Movement { tenant, movement } => {
                write!(f, "stock movement {movement} ({tenant})")
            }
            Self::StockPosition {
                sku,
                location,
                status,
            } => write!(f, "{sku} at location {location} ({status:?})"),
        }
    }
}

impl DocumentRef {
    /// The identifying parts of the document, in a fixed order, for building idempotency keys.
    pub fn key_parts(&self) -> Vec<String> {
        match self {
            Self::Item { id } => vec!["ITEM".into(), id.to_string()],
            Self::Product { id } => vec!["PROD".into(), id.to_string()],
            Self::Order { order } => vec![order.kind.code().into(), order.id.to_string()],
            Self::Despatch {
                tenant,
                goods_out,
                despatch,
            } => vec![
                "DESP".into(),
                tenant.to_string(),
                goods_out.to_string(),
                despatch.to_string(),
            ],
            Self::Receipt {
                tenant,
                goods_in,
                receipt,
            } => vec![
                "GIN".into(),
                tenant.to_string(),
                goods_in.to_string(),
                receipt.to_string(),
            ],
            Self::Movement { tenant, movement } => {
                vec!["MOV".into(), tenant.to_string(), movement.to_string()]
            }
            Self::StockPosition {
                sku,
                location,
                status,
            } => vec![
                "POS".into(),
                sku.to_string(),
                location.to_string(),
                match status {
                    StockStatus::Available => "A".into(),
                    StockStatus::Held => "H".into(),
                },
            ],
        }
    }
}
