//! Stock a receipt put on hold, per Clarus stock record: which receipt entries went into the
//! record held (quarantine), and which `placed_on_hold` movement reported each.
//!
//! A receipt into quarantine posts its stock into NetSuite's quarantine status or location; the
//! hold Clarus fires as it puts that stock away must not move it again. Clarus adds received
//! stock to an existing record of the same product, location, status and batch, so one stock
//! record can hold the quarantine of several receipts, each reported by a hold of its own, and
//! a later hold of stock in that record by a person is a movement of its own. So every receipt
//! entry is kept, and each hold claims one entry of its quantity, once:
//!
//! ```text
//! stock 7:  RMA-1 line 3 #0  2 held   ← claimed by hold 501
//!           RMA-2 line 8 #0  2 held   ← claimed by hold 517
//! hold 530 of 2 in stock 7: no entry left to claim → a movement of its own (unless Clarus
//!           lists a receipt just before it, see `receipt_just_before`)
//! ```
//!
//! Webhooks arrive in any order, on any instance: a hold decoded before its receipt, and
//! recognised from Clarus's listing of the receipt, is kept as an entry without its receipt,
//! which the receipt then fills in instead of adding one, so it is claimed once either way.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use clarus_client::ClarusId;

/// One entry of a goods-in receipt: its line and position among the line's received entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReceiptEntry {
    /// The goods in.
    pub goods_in: ClarusId,
    /// Its line (absent in records kept before entries were told apart).
    #[serde(default)]
    pub line: Option<ClarusId>,
    /// The entry's position among the line's received entries.
    #[serde(default)]
    pub position: Option<usize>,
}

/// Quarantine a receipt put into a stock record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HeldEntry {
    /// The receipt entry; `None` for a hold recognised from Clarus's listing before the
    /// receipt's webhook was decoded.
    pub receipt: Option<ReceiptEntry>,
    /// The quantity received held.
    pub quantity: Decimal,
    /// The `placed_on_hold` movement that reported it, once one did.
    pub hold: Option<u64>,
}

/// Every receipt entry held into one stock record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Stored")]
pub(crate) struct HeldStock {
    pub entries: Vec<HeldEntry>,
}

/// What a hold found in the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The hold had claimed an entry already (a copy of its webhook).
    Known,
    /// The hold claimed an unclaimed entry of its quantity.
    Claimed,
    /// No entry of its quantity is left to claim.
    Unmatched,
}

impl HeldStock {
    /// Keeps receipt entry `receipt` of `quantity`; `false` when nothing changed (the entry was
    /// kept before). An entry that a hold recognised before its receipt was decoded is filled in
    /// rather than kept twice.
    pub(crate) fn record(&mut self, receipt: ReceiptEntry, quantity: Decimal) -> bool {
        let same = |kept: &ReceiptEntry| {
            kept == &receipt
                // Kept before entries were told apart: the goods in and quantity say it.
                || (kept.goods_in == receipt.goods_in && kept.line.is_none())
        };
        if self
            .entries
            .iter()
            .any(|e| e.receipt.as_ref().is_some_and(same) && e.quantity == quantity)
        {
            return false;
        }
        if let Some(early) = self
            .entries
            .iter_mut()
            .find(|e| e.receipt.is_none() && e.hold.is_some() && e.quantity == quantity)
        {
            early.receipt = Some(receipt);
            return true;
        }
        self.entries.push(HeldEntry {
            receipt: Some(receipt),
            quantity,
            hold: None,
        });
        true
    }

    /// Hold movement `hold` of `quantity` claims an entry of its quantity, once.
    pub(crate) fn claim(&mut self, hold: u64, quantity: Decimal) -> Claim {
        if self.entries.iter().any(|e| e.hold == Some(hold)) {
            return Claim::Known;
        }
        match self
            .entries
            .iter_mut()
            .find(|e| e.hold.is_none() && e.receipt.is_some() && e.quantity == quantity)
        {
            Some(entry) => {
                entry.hold = Some(hold);
                Claim::Claimed
            }
            None => Claim::Unmatched,
        }
    }

    /// Keeps hold `hold` of `quantity`, recognised as a receipt's from Clarus's listing, as an
    /// entry whose receipt is not decoded yet (unless an entry has come to match meanwhile,
    /// which it claims).
    pub(crate) fn adopt(&mut self, hold: u64, quantity: Decimal) {
        if self.claim(hold, quantity) != Claim::Unmatched {
            return;
        }
        self.entries.push(HeldEntry {
            receipt: None,
            quantity,
            hold: Some(hold),
        });
    }
}

/// The stored forms: the list of entries, or one receipt and its hold as kept before.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Entries { entries: Vec<HeldEntry> },
    One(OneReceipt),
}

#[derive(Deserialize)]
struct OneReceipt {
    goods_in: ClarusId,
    quantity: Decimal,
    hold: Option<u64>,
}

impl From<Stored> for HeldStock {
    fn from(stored: Stored) -> Self {
        match stored {
            Stored::Entries { entries } => HeldStock { entries },
            Stored::One(one) => HeldStock {
                entries: vec![HeldEntry {
                    receipt: Some(ReceiptEntry {
                        goods_in: one.goods_in,
                        line: None,
                        position: None,
                    }),
                    quantity: one.quantity,
                    hold: one.hold,
                }],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(goods_in: i64, line: i64, position: usize) -> ReceiptEntry {
        ReceiptEntry {
            goods_in: ClarusId::new(goods_in),
            line: Some(ClarusId::new(line)),
            position: Some(position),
        }
    }

    fn two() -> Decimal {
        Decimal::from(2)
    }

    #[test]
    fn each_hold_claims_one_receipt_entry_of_its_quantity_once() {
        let mut stock = HeldStock::default();
        assert!(stock.record(entry(1, 3, 0), two()));
        assert!(!stock.record(entry(1, 3, 0), two()), "decoded again");
        assert_eq!(stock.claim(501, two()), Claim::Claimed);
        assert_eq!(
            stock.claim(501, two()),
            Claim::Known,
            "a copy of its webhook"
        );
        // A second receipt of the same product into the same held record.
        assert!(stock.record(entry(2, 8, 0), two()));
        assert_eq!(stock.claim(517, two()), Claim::Claimed);
        // A person's hold later, in the same record: nothing left to claim.
        assert_eq!(stock.claim(530, two()), Claim::Unmatched);
        assert_eq!(stock.claim(531, Decimal::ONE), Claim::Unmatched);
    }

    #[test]
    fn a_hold_of_another_quantity_claims_nothing() {
        let mut stock = HeldStock::default();
        stock.record(entry(1, 3, 0), two());
        assert_eq!(stock.claim(501, Decimal::ONE), Claim::Unmatched);
        assert_eq!(stock.claim(502, two()), Claim::Claimed);
    }

    #[test]
    fn a_hold_decoded_before_its_receipt_is_filled_in_not_kept_twice() {
        let mut stock = HeldStock::default();
        stock.adopt(501, two());
        assert!(stock.record(entry(1, 3, 0), two()));
        assert_eq!(stock.entries.len(), 1);
        assert_eq!(stock.entries[0].hold, Some(501));
        assert_eq!(stock.claim(501, two()), Claim::Known);
        // So a person's hold after it is not taken for the receipt's.
        assert_eq!(stock.claim(530, two()), Claim::Unmatched);
        // Adopting a hold again changes nothing.
        stock.adopt(501, two());
        assert_eq!(stock.entries.len(), 1);
    }

    #[test]
    fn adopting_claims_an_entry_recorded_meanwhile() {
        let mut stock = HeldStock::default();
        stock.record(entry(1, 3, 0), two());
        stock.adopt(501, two());
        assert_eq!(stock.entries.len(), 1);
        assert_eq!(stock.entries[0].hold, Some(501));
    }

    #[test]
    fn the_single_receipt_kept_before_reads_as_one_entry() {
        let stock: HeldStock =
            serde_json::from_str(r#"{"goods_in":12,"quantity":"2","hold":501}"#).unwrap();
        assert_eq!(stock.entries.len(), 1);
        assert_eq!(stock.entries[0].hold, Some(501));
        // Its receipt decoded again is recognised by goods in and quantity.
        let mut stock = stock;
        assert!(!stock.record(entry(12, 3, 0), two()));
        let text = serde_json::to_string(&stock).unwrap();
        assert_eq!(serde_json::from_str::<HeldStock>(&text).unwrap(), stock);
    }
}
