//! Orders mastered in NetSuite and worked in the warehouse: sales orders (shipped by a Clarus
//! goods out), purchase orders and return authorisations (received by a Clarus goods-in receipt).

use crate::ids::{CarrierId, CarrierServiceId, LineNo, LocationId, NetSuiteId, Sku};
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The NetSuite record type of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// `salesOrder`: leaves the warehouse by a goods out, posted as an item fulfilment.
    Sales,
    /// `purchaseOrder`: arrives by a goods-in receipt, posted as an item receipt.
    Purchase,
    /// `returnAuthorization`: arrives by a goods-in receipt, posted as an item receipt.
    Return,
}

impl OrderKind {
    /// Short code used in idempotency keys: `SO`, `PO`, `RA`.
    pub fn code(self) -> &'static str {
        match self {
            OrderKind::Sales => "SO",
            OrderKind::Purchase => "PO",
            OrderKind::Return => "RA",
        }
    }

    /// Whether the warehouse receives (rather than ships) this kind of order.
    pub fn is_inbound(self) -> bool {
        !matches!(self, OrderKind::Sales)
    }
}

/// Identity of an order: its kind and NetSuite internal id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrderRef {
    /// Record type.
    pub kind: OrderKind,
    /// NetSuite internal id.
    pub id: NetSuiteId,
}

impl OrderRef {
    /// A sales order.
    pub fn sales(id: impl Into<NetSuiteId>) -> Self {
        Self {
            kind: OrderKind::Sales,
            id: id.into(),
        }
    }
}

impl fmt::Display for OrderRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.code(), self.id)
    }
}

/// Where an order stands, reduced from NetSuite's `status.id` letter to what the rules need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Not yet approved (`A`): not released to the warehouse.
    PendingApproval,
    /// Open for the warehouse: pending fulfilment or receipt, or partly done (`B`, `D`, `E`).
    Open,
    /// Fully fulfilled or received, billing or refund pending or done (`F`, `G`).
    Done,
    /// Cancelled, or rejected for purchase orders (`C`).
    Cancelled,
    /// Closed (`H`).
    Closed,
}

impl OrderStatus {
    /// Reads a NetSuite `status.id` letter of a sales order, purchase order or return
    /// authorisation (their letters share one meaning for these purposes). `None` for letters
    /// outside `A`..=`H`.
    pub fn from_netsuite_code(code: &str) -> Option<Self> {
        Some(match code {
            "A" => Self::PendingApproval,
            "B" | "D" | "E" => Self::Open,
            "F" | "G" => Self::Done,
            "C" => Self::Cancelled,
            "H" => Self::Closed,
            _ => return None,
        })
    }

    /// Cancelled or closed: nothing more may be shipped or received.
    pub fn is_cancelled_or_closed(self) -> bool {
        matches!(self, Self::Cancelled | Self::Closed)
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// NetSuite `line` (the `orderLine` of fulfilments and receipts); not 1..n.
    pub line: LineNo,
    /// NetSuite item internal id.
    pub item: NetSuiteId,
    /// The item's SKU.
    pub sku: Sku,
    /// Ordered quantity (positive).
    pub quantity: Decimal,
    /// Quantity NetSuite already shows as fulfilled or received (`quantityFulfilled`,
    /// `quantityReceived`), including what this integration posted.
    pub quantity_done: Decimal,
    /// `isClosed`.
    pub closed: bool,
}

impl OrderLine {
    /// What is left to ship or receive according to NetSuite, never negative.
    pub fn open_quantity(&self) -> Decimal {
        if self.closed {
            return Decimal::ZERO;
        }
        (self.quantity - self.quantity_done).max(Decimal::ZERO)
    }
}

/// An order as NetSuite holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Kind and internal id.
    pub order: OrderRef,
    /// `tranId`, the document number people see; used as the Clarus `reference`.
    pub tran_id: String,
    /// Reduced `status`.
    pub status: OrderStatus,
    /// Header `location`: the NetSuite location that ships or receives.
    pub location: LocationId,
    /// `shipMethod` of a sales order.
    pub ship_method: Option<NetSuiteId>,
    /// `shipDate` of a sales order, or the expected receipt date of an inbound order.
    pub expected_date: Option<Date>,
    /// Item lines.
    pub lines: Vec<OrderLine>,
}

impl Order {
    /// The line with NetSuite line number `line`.
    pub fn line(&self, line: LineNo) -> Option<&OrderLine> {
        self.lines.iter().find(|l| l.line == line)
    }
}

/// The Clarus carrier and service a NetSuite ship method maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CarrierService {
    /// Clarus `carrier_id`.
    pub carrier: CarrierId,
    /// Clarus `carrier_service_id`, when the mapping names one.
    pub service: Option<CarrierServiceId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_letters_reduce_to_rule_states() {
        assert_eq!(
            OrderStatus::from_netsuite_code("B"),
            Some(OrderStatus::Open)
        );
        assert_eq!(
            OrderStatus::from_netsuite_code("E"),
            Some(OrderStatus::Open)
        );
        assert_eq!(
            OrderStatus::from_netsuite_code("C"),
            Some(OrderStatus::Cancelled)
        );
        assert_eq!(
            OrderStatus::from_netsuite_code("H"),
            Some(OrderStatus::Closed)
        );
        assert_eq!(OrderStatus::from_netsuite_code("Z"), None);
        assert!(OrderStatus::Closed.is_cancelled_or_closed());
        assert!(!OrderStatus::Open.is_cancelled_or_closed());
    }

    #[test]
    fn open_quantity_is_never_negative_and_zero_when_closed() {
        let mut line = OrderLine {
            line: LineNo(3),
            item: "10".into(),
            sku: "A".into(),
            quantity: Decimal::from(5),
            quantity_done: Decimal::from(7),
            closed: false,
        };
        assert_eq!(line.open_quantity(), Decimal::ZERO);
        line.quantity_done = Decimal::from(2);
        assert_eq!(line.open_quantity(), Decimal::from(3));
        line.closed = true;
        assert_eq!(line.open_quantity(), Decimal::ZERO);
    }
}
