//! What a unit of stock is worth: NetSuite's average cost per item, and per location where the
//! account keeps one, to put a value on stock drift. An empty or zero cost is unknown: drift is
//! then shown without a value, never valued at zero.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::ids::{LocationId, Sku};

/// Unit costs by SKU, and by SKU at a location.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitCosts {
    items: HashMap<Sku, Decimal>,
    at_location: HashMap<(Sku, LocationId), Decimal>,
}

impl UnitCosts {
    /// No costs known: every position's value is unknown.
    pub fn unknown() -> Self {
        Self::default()
    }

    /// Records an item's average cost across locations. A zero cost is ignored (unknown).
    pub fn set_item(&mut self, sku: Sku, cost: Decimal) {
        if !cost.is_zero() {
            self.items.insert(sku, cost);
        }
    }

    /// Records an item's average cost at one location. A zero cost is ignored (unknown).
    pub fn set_location(&mut self, sku: Sku, location: LocationId, cost: Decimal) {
        if !cost.is_zero() {
            self.at_location.insert((sku, location), cost);
        }
    }

    /// The unit cost of `sku` at `location`: the location's average cost if NetSuite keeps one
    /// there, else the item's; `None` when neither is known.
    pub fn unit_cost(&self, sku: &Sku, location: &LocationId) -> Option<Decimal> {
        self.at_location
            .get(&(sku.clone(), location.clone()))
            .or_else(|| self.items.get(sku))
            .copied()
    }

    /// Whether no cost at all is known.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.at_location.is_empty()
    }
}
