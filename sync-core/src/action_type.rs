//! The type of an action, without its data: its stored code and who answers for its failure.

use crate::owner::Owner;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of [`Action`](crate::Action) something is, without its data.
///
/// ```
/// use sync_core::{ActionType, Owner};
///
/// assert_eq!(ActionType::FulfilSalesOrder.code(), "fulfil_sales_order");
/// assert_eq!(ActionType::parse("move_stock"), Some(ActionType::MoveStock));
/// assert_eq!(ActionType::PostInventoryAdjustment.failure_owner(), Owner::Finance);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionType {
    /// Clarus: create a product.
    CreateProduct,
    /// Clarus: update a product.
    UpdateProduct,
    /// Clarus: create a goods out.
    CreateGoodsOut,
    /// Clarus: cancel a goods out.
    CancelGoodsOut,
    /// Clarus: create a goods-in receipt.
    CreateGoodsIn,
    /// NetSuite: an item fulfilment.
    FulfilSalesOrder,
    /// NetSuite: an item receipt of a purchase order.
    ReceivePurchaseOrder,
    /// NetSuite: an item receipt of a return authorisation.
    ReceiveReturnAuthorisation,
    /// NetSuite: an inventory adjustment.
    PostInventoryAdjustment,
    /// NetSuite: an inventory status change or transfer.
    MoveStock,
    /// Raise an exception.
    RaiseException,
    /// Resolve an exception.
    ResolveException,
}

impl ActionType {
    /// Every action type.
    pub const ALL: [ActionType; 12] = [
        Self::CreateProduct,
        Self::UpdateProduct,
        Self::CreateGoodsOut,
        Self::CancelGoodsOut,
        Self::CreateGoodsIn,
        Self::FulfilSalesOrder,
        Self::ReceivePurchaseOrder,
        Self::ReceiveReturnAuthorisation,
        Self::PostInventoryAdjustment,
        Self::MoveStock,
        Self::RaiseException,
        Self::ResolveException,
    ];

    /// The type as stored in the outbox (`post_inventory_adjustment`, ...), the same text as its
    /// serde form.
    pub const fn code(self) -> &'static str {
        match self {
            Self::CreateProduct => "create_product",
            Self::UpdateProduct => "update_product",
            Self::CreateGoodsOut => "create_goods_out",
            Self::CancelGoodsOut => "cancel_goods_out",
            Self::CreateGoodsIn => "create_goods_in",
            Self::FulfilSalesOrder => "fulfil_sales_order",
            Self::ReceivePurchaseOrder => "receive_purchase_order",
            Self::ReceiveReturnAuthorisation => "receive_return_authorisation",
            Self::PostInventoryAdjustment => "post_inventory_adjustment",
            Self::MoveStock => "move_stock",
            Self::RaiseException => "raise_exception",
            Self::ResolveException => "resolve_exception",
        }
    }

    /// The type whose [`code`](Self::code) is `code`.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Who is alerted when an action of this type fails for good (the other system refused
    /// it): the warehouse flow's people for what Clarus should do and for a despatch or receipt
    /// that does not become its NetSuite fulfilment or receipt (they resolve it in the
    /// warehouse flow: the order, the period, the quantities), finance for inventory value
    /// (adjustments and status changes), the item master's owner for products, the
    /// integration's administrators for exception bookkeeping.
    pub fn failure_owner(self) -> Owner {
        match self {
            Self::CreateProduct | Self::UpdateProduct => Owner::ItemMaster,
            Self::CreateGoodsOut
            | Self::CancelGoodsOut
            | Self::CreateGoodsIn
            | Self::FulfilSalesOrder
            | Self::ReceivePurchaseOrder
            | Self::ReceiveReturnAuthorisation => Owner::Operations,
            Self::PostInventoryAdjustment | Self::MoveStock => Owner::Finance,
            Self::RaiseException | Self::ResolveException => Owner::Integration,
        }
    }

    /// Whether the action posts to the NetSuite ledger.
    pub fn is_posting(self) -> bool {
        matches!(
            self,
            Self::FulfilSalesOrder
                | Self::ReceivePurchaseOrder
                | Self::ReceiveReturnAuthorisation
                | Self::PostInventoryAdjustment
                | Self::MoveStock
        )
    }
}

impl fmt::Display for ActionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_the_serde_form_and_parses_back() {
        for t in ActionType::ALL {
            assert_eq!(
                serde_json::to_value(t).unwrap(),
                serde_json::Value::from(t.code())
            );
            assert_eq!(ActionType::parse(t.code()), Some(t));
        }
        assert_eq!(ActionType::parse("post_adjustment"), None);
    }
}
