//! A planned receipt's lines → NetSuite item-receipt lines: one line per order line, its units
//! split by inventory status.

use rust_decimal::Decimal;
use sync_core::{
    ItemReceipt, LineNo, LocationId, LotQuantity, NetSuiteId, SerialNumber, StockPlace,
};

/// Part of a received order line: units in one inventory status, with their lots or serials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedPart {
    /// Units.
    pub quantity: Decimal,
    /// Inventory status to receive them into; `None` = the account's default status.
    pub status: Option<NetSuiteId>,
    /// Lots (their quantities add up to `quantity`).
    pub lots: Vec<LotQuantity>,
    /// Serial numbers (one unit each).
    pub serials: Vec<SerialNumber>,
}

/// One line of a NetSuite item receipt: an order line received at one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedOrderLine {
    /// The order's `line` (`orderLine` of the receipt line).
    pub order_line: LineNo,
    /// Line `location`.
    pub location: LocationId,
    /// Units received on the line (the parts added up).
    pub quantity: Decimal,
    /// The units by inventory status (as `inventoryDetail.inventoryAssignment`), in the order
    /// the receipt named them; parts without lots or serials in the same status are one part.
    pub parts: Vec<ReceivedPart>,
}

/// A receipt whose lines cannot be one NetSuite item receipt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptLineError {
    /// One order line is received into two locations (quarantine mapped to a location of its
    /// own); a NetSuite item receipt receives each order line once, at one location.
    #[error(
        "{order} line {line} is received into locations {first} and {second}, but a NetSuite item \
         receipt receives an order line once, at one location: map quarantine to an inventory \
         status of {first} in the stock status mapping, or receive the quarantined units on a \
         goods-in receipt of their own"
    )]
    SplitAcrossLocations {
        /// The order (`purchaseOrder 12`).
        order: String,
        /// The order line.
        line: u64,
        /// The location of the line's first part.
        first: String,
        /// Another location the line's units go to.
        second: String,
    },
}

/// A planned receipt's lines as NetSuite item-receipt lines: one per order line, whatever the
/// conditions (sellable, quarantine) the warehouse received it in; each condition's units become
/// a part in that condition's inventory status (from the stock status mapping, which the planner
/// has put in each line's `place`). A place that is a location of its own sets the line's
/// location instead; all parts of one order line must then agree on it
/// ([`ReceiptLineError::SplitAcrossLocations`]). Lines of zero units are left out.
pub fn receipt_lines(receipt: &ItemReceipt) -> Result<Vec<ReceivedOrderLine>, ReceiptLineError> {
    let mut out: Vec<ReceivedOrderLine> = Vec::new();
    for received in receipt
        .lines
        .iter()
        .filter(|l| l.line.quantity > Decimal::ZERO)
    {
        let line = &received.line;
        let (location, status) = match &received.place {
            Some(StockPlace::Status { status }) => (receipt.location.clone(), Some(status.clone())),
            Some(StockPlace::Location { location }) => (location.clone(), None),
            None => (receipt.location.clone(), None),
        };
        let part = ReceivedPart {
            quantity: line.quantity,
            status,
            lots: line.lots.clone(),
            serials: line.serials.clone(),
        };
        match out.iter_mut().find(|o| o.order_line == line.order_line) {
            None => out.push(ReceivedOrderLine {
                order_line: line.order_line,
                location,
                quantity: line.quantity,
                parts: vec![part],
            }),
            Some(existing) => {
                if existing.location != location {
                    return Err(ReceiptLineError::SplitAcrossLocations {
                        order: receipt.order.to_string(),
                        line: line.order_line.0,
                        first: existing.location.to_string(),
                        second: location.to_string(),
                    });
                }
                existing.quantity += line.quantity;
                let plain = part.lots.is_empty() && part.serials.is_empty();
                match existing.parts.iter_mut().find(|p| {
                    plain && p.status == part.status && p.lots.is_empty() && p.serials.is_empty()
                }) {
                    Some(same) => same.quantity += part.quantity,
                    None => existing.parts.push(part),
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::{OrderKind, OrderRef};

    fn received(
        order_line: u64,
        quantity: i64,
        place: Option<StockPlace>,
        lots: Vec<LotQuantity>,
    ) -> sync_core::ReceivedLine {
        sync_core::ReceivedLine {
            line: sync_core::PostedLine {
                order_line: LineNo(order_line),
                item: "77".into(),
                sku: "MUG-RED".into(),
                quantity: Decimal::from(quantity),
                lots,
                serials: vec![],
            },
            condition: sync_core::StockCondition::Sellable,
            place,
        }
    }

    fn status(id: &str) -> Option<StockPlace> {
        Some(StockPlace::Status { status: id.into() })
    }

    fn receipt(lines: Vec<sync_core::ReceivedLine>) -> ItemReceipt {
        ItemReceipt {
            order: OrderRef {
                kind: OrderKind::Return,
                id: "31".into(),
            },
            location: "1".into(),
            received_at: "2026-11-27T09:00:00Z".parse().unwrap(),
            lines,
        }
    }

    #[test]
    fn receipt_lines_merge_per_order_line_with_a_part_per_status() {
        let lot = |n: &str, q: i64| LotQuantity {
            lot: sync_core::LotNumber::new(n),
            quantity: Decimal::from(q),
        };
        let lines = receipt_lines(&receipt(vec![
            received(4, 2, status("1"), vec![]),
            received(7, 1, None, vec![]),
            received(4, 1, status("2"), vec![]),
            received(4, 3, status("1"), vec![]),
            received(9, 2, status("2"), vec![lot("L1", 2)]),
            received(9, 1, status("2"), vec![lot("L2", 1)]),
            received(9, 0, status("1"), vec![]),
        ]))
        .unwrap();
        assert_eq!(
            lines
                .iter()
                .map(|l| (l.order_line.0, l.location.as_str(), l.quantity))
                .collect::<Vec<_>>(),
            vec![
                (4, "1", Decimal::from(6)),
                (7, "1", Decimal::ONE),
                (9, "1", Decimal::from(3))
            ]
        );
        let parts = |i: usize| {
            lines[i]
                .parts
                .iter()
                .map(|p| (p.quantity, p.status.clone(), p.lots.len()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            parts(0),
            vec![
                (Decimal::from(5), Some("1".into()), 0),
                (Decimal::ONE, Some("2".into()), 0)
            ]
        );
        assert_eq!(parts(1), vec![(Decimal::ONE, None, 0)]);
        // Lots stay parts of their own.
        assert_eq!(
            parts(2),
            vec![
                (Decimal::from(2), Some("2".into()), 1),
                (Decimal::ONE, Some("2".into()), 1)
            ]
        );

        // Quarantine in a location of its own moves the line there; both conditions of one
        // order line cannot be in two locations.
        let elsewhere = Some(StockPlace::Location {
            location: "5".into(),
        });
        let moved =
            receipt_lines(&receipt(vec![received(4, 2, elsewhere.clone(), vec![])])).unwrap();
        assert_eq!(moved[0].location.as_str(), "5");
        assert_eq!(moved[0].parts[0].status, None);
        let split = receipt_lines(&receipt(vec![
            received(4, 2, status("1"), vec![]),
            received(4, 1, elsewhere, vec![]),
        ]));
        assert!(matches!(
            split,
            Err(ReceiptLineError::SplitAcrossLocations { line: 4, .. })
        ));
    }
}
