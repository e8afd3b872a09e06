//! The business flows a document goes through and their stages, from import to the final
//! NetSuite record.

use crate::action_type::ActionType;
use crate::order::OrderKind;
use crate::owner::Owner;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A business flow a document goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Sales order to Item Fulfilment.
    SalesOrder,
    /// Purchase order to Item Receipt.
    PurchaseOrder,
    /// Return authorisation to Item Receipt.
    ReturnAuthorisation,
    /// Clarus stock movement to inventory adjustment (or stock move).
    Adjustment,
}

impl Flow {
    /// Every flow.
    pub const ALL: [Flow; 4] = [
        Flow::SalesOrder,
        Flow::PurchaseOrder,
        Flow::ReturnAuthorisation,
        Flow::Adjustment,
    ];

    /// The stages of the flow, in order.
    pub fn stages(self) -> &'static [Stage] {
        match self {
            Flow::SalesOrder => &[
                Stage::Imported,
                Stage::SentToClarus,
                Stage::Acknowledged,
                Stage::Picking,
                Stage::Despatched,
                Stage::FulfilmentPosted,
            ],
            Flow::PurchaseOrder | Flow::ReturnAuthorisation => &[
                Stage::Imported,
                Stage::SentToClarus,
                Stage::Received,
                Stage::ReceiptPosted,
            ],
            Flow::Adjustment => &[Stage::Seen, Stage::Posted],
        }
    }

    /// A short, stable name (`sales_order`, ...).
    pub fn code(self) -> &'static str {
        match self {
            Flow::SalesOrder => "sales_order",
            Flow::PurchaseOrder => "purchase_order",
            Flow::ReturnAuthorisation => "return_authorisation",
            Flow::Adjustment => "adjustment",
        }
    }

    /// The flow of an order of `kind`.
    pub fn of_order(kind: OrderKind) -> Flow {
        match kind {
            OrderKind::Sales => Flow::SalesOrder,
            OrderKind::Purchase => Flow::PurchaseOrder,
            OrderKind::Return => Flow::ReturnAuthorisation,
        }
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A stage of a document's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The NetSuite order was planned by the engine.
    Imported,
    /// Its goods out or goods-in receipt exists in Clarus.
    SentToClarus,
    /// Clarus processed the goods out for picking (stock allocated, on a pick list).
    Acknowledged,
    /// The warehouse picked the goods out (or part of it).
    Picking,
    /// Clarus despatched (part of) the sales order.
    Despatched,
    /// Every despatch is posted as an Item Fulfilment.
    FulfilmentPosted,
    /// Clarus received (part of) the order.
    Received,
    /// Every receipt is posted as an Item Receipt.
    ReceiptPosted,
    /// The Clarus stock movement was planned by the engine.
    Seen,
    /// The movement is posted to NetSuite.
    Posted,
}

impl Stage {
    /// A short, stable name (`fulfilment_posted`, ...), as used in the configuration.
    pub fn code(self) -> &'static str {
        match self {
            Stage::Imported => "imported",
            Stage::SentToClarus => "sent_to_clarus",
            Stage::Acknowledged => "acknowledged",
            Stage::Picking => "picking",
            Stage::Despatched => "despatched",
            Stage::FulfilmentPosted => "fulfilment_posted",
            Stage::Received => "received",
            Stage::ReceiptPosted => "receipt_posted",
            Stage::Seen => "seen",
            Stage::Posted => "posted",
        }
    }

    /// Whether reaching the stage is a posting to the NetSuite ledger.
    pub fn is_ledger(self) -> bool {
        matches!(
            self,
            Stage::FulfilmentPosted | Stage::ReceiptPosted | Stage::Posted
        )
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Stage {
    /// The action whose completion reaches this stage in `flow`, when the integration does it
    /// (warehouse stages are reached by Clarus, not by an action).
    pub fn reached_by(self, flow: Flow) -> Option<ActionType> {
        match (self, flow) {
            (Stage::SentToClarus, Flow::SalesOrder) => Some(ActionType::CreateGoodsOut),
            (Stage::SentToClarus, _) => Some(ActionType::CreateGoodsIn),
            (Stage::FulfilmentPosted, _) => Some(ActionType::FulfilSalesOrder),
            (Stage::ReceiptPosted, Flow::ReturnAuthorisation) => {
                Some(ActionType::ReceiveReturnAuthorisation)
            }
            (Stage::ReceiptPosted, _) => Some(ActionType::ReceivePurchaseOrder),
            (Stage::Posted, _) => Some(ActionType::PostInventoryAdjustment),
            _ => None,
        }
    }

    /// Who is alerted when a document of `flow` waits too long to reach this stage: the owner
    /// of the failing action that reaches it (as for a failed posting: a despatch or receipt
    /// that does not reach the ledger is the warehouse flow's, an adjustment's value
    /// finance's), and operations for the warehouse's own stages.
    ///
    /// ```
    /// use sync_core::lifecycle::{Flow, Stage};
    /// use sync_core::Owner;
    ///
    /// assert_eq!(Stage::FulfilmentPosted.stuck_owner(Flow::SalesOrder), Owner::Operations);
    /// assert_eq!(Stage::Posted.stuck_owner(Flow::Adjustment), Owner::Finance);
    /// assert_eq!(Stage::Picking.stuck_owner(Flow::SalesOrder), Owner::Operations);
    /// ```
    pub fn stuck_owner(self, flow: Flow) -> Owner {
        self.reached_by(flow)
            .map_or(Owner::Operations, ActionType::failure_owner)
    }
}
