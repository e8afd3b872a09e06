//! NetSuite average cost per item, and per location where the account keeps one, to put a value
//! on stock drift.
//!
//! Two SuiteQL reads, both by keyset so large item masters pass the 100,000-row cap:
//!
//! - `SELECT id, itemid, averagecost FROM item`: the item's average cost (the field behind the
//!   item record's `averageCost`), across locations;
//! - per mapped location, `SELECT item, averagecostmli FROM inventoryitemlocations WHERE
//!   location = ?`: the average cost NetSuite keeps at that location (Multi-Location Inventory;
//!   the `averageCostMli` of the item record's `locations` sublist).
//!
//! A position's unit cost is the location's average cost when NetSuite has one there, otherwise
//! the item's. NetSuite leaves the fields empty (or zero) for items it has never costed, so an
//! empty or zero cost counts as unknown: drift is then shown without a value, never valued at
//! zero. See `docs/operations.md#the-value-figure` for what finance reads from it.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use netsuite_client::NetSuiteClient;
use netsuite_client::suiteql::{Keyset, Query, StreamOptions, lenient};
use rust_decimal::Decimal;
use serde::Deserialize;
use sync_core::{LocationId, Mappings, Sku};

use super::OnHandReader;
use super::snapshot::SnapshotError;

pub use sync_core::cost::UnitCosts;

#[derive(Deserialize)]
struct ItemCostRow {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    itemid: String,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    averagecost: Option<Decimal>,
}

#[derive(Deserialize)]
struct LocationCostRow {
    #[serde(deserialize_with = "lenient::i64")]
    item: i64,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    averagecostmli: Option<Decimal>,
}

/// Reads NetSuite average costs for the mapped locations.
///
/// ```no_run
/// # async fn demo(client: netsuite_client::NetSuiteClient, mappings: sync_core::Mappings) -> Result<(), sync_engine::netsuite::SnapshotError> {
/// use sync_engine::netsuite::CostReader;
///
/// let costs = CostReader::new(client, mappings).read().await?;
/// let cost = costs.unit_cost(&"MUG-BLUE".into(), &"1".into());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CostReader {
    client: NetSuiteClient,
    locations: Vec<LocationId>,
}

impl CostReader {
    /// A reader over `client` for the locations the mappings mention (the same locations the
    /// on-hand snapshot reads).
    pub fn new(client: NetSuiteClient, mappings: Mappings) -> Self {
        let locations = OnHandReader::new(client.clone(), mappings).locations();
        CostReader { client, locations }
    }

    /// Reads item and per-location average costs.
    pub async fn read(&self) -> Result<UnitCosts, SnapshotError> {
        let mut costs = UnitCosts::unknown();
        let mut skus: HashMap<i64, Sku> = HashMap::new();
        let mut items = self.client.suiteql_keyset(
            Keyset::new("SELECT id, itemid, averagecost FROM item", "id"),
            |r: &ItemCostRow| r.id,
            StreamOptions::default(),
        );
        while let Some(row) = items.try_next().await? {
            let sku = Sku::new(row.itemid);
            if let Some(cost) = row.averagecost {
                costs.set_item(sku.clone(), cost);
            }
            skus.insert(row.id, sku);
        }
        for location in &self.locations {
            let mut rows = self.client.suiteql_keyset(
                Keyset::new(
                    "SELECT item, averagecostmli FROM inventoryitemlocations",
                    "item",
                )
                .filter(Query::new("location = ?").bind(location.as_str())),
                |r: &LocationCostRow| r.item,
                StreamOptions::default(),
            );
            while let Some(row) = rows.try_next().await? {
                if let (Some(cost), Some(sku)) = (row.averagecostmli, skus.get(&row.item)) {
                    costs.set_location(sku.clone(), location.clone(), cost);
                }
            }
        }
        Ok(costs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_location_cost_wins_and_zero_is_unknown() {
        let mut costs = UnitCosts::unknown();
        assert!(costs.is_empty());
        costs.set_item("A".into(), Decimal::new(250, 2));
        costs.set_location("A".into(), "2".into(), Decimal::new(300, 2));
        costs.set_item("Z".into(), Decimal::ZERO);
        costs.set_location("Z".into(), "1".into(), Decimal::ZERO);
        assert_eq!(
            costs.unit_cost(&"A".into(), &"2".into()),
            Some(Decimal::new(300, 2))
        );
        assert_eq!(
            costs.unit_cost(&"A".into(), &"1".into()),
            Some(Decimal::new(250, 2))
        );
        assert_eq!(costs.unit_cost(&"Z".into(), &"1".into()), None);
        assert_eq!(costs.unit_cost(&"B".into(), &"1".into()), None);
    }
}
