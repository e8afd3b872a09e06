//! NetSuite on-hand per SKU × location × status, for the drift check.
//!
//! Reads SuiteQL `inventorybalance` one mapped location at a time (summed over lots and bins),
//! names items by SKU (`item.itemid`, read by keyset paging so large item masters pass the
//! 100,000-row cap), and places each balance with the stock status mapping: stock in the
//! sellable place of a location is `Available` there, stock in its quarantine place (a status
//! at the location, or a quarantine location of its own) is `Held` at the location.

use std::collections::{BTreeSet, HashMap};

use futures_util::TryStreamExt;
use netsuite_client::NetSuiteClient;
use netsuite_client::suiteql::{Keyset, Query, StreamOptions, lenient};
use rust_decimal::Decimal;
use serde::Deserialize;
use sync_core::{
    DriftCalculator, LocationId, Mappings, NetSuiteId, Sku, StockKey, StockPlace, StockRow,
    StockStatus,
};

/// Reading the snapshot failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// NetSuite failed.
    #[error("reading NetSuite on-hand failed: {0}")]
    NetSuite(#[from] netsuite_client::Error),
}

/// A balance that could not be placed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedBalance {
    /// Item internal id.
    pub item: String,
    /// Location internal id.
    pub location: String,
    /// Inventory status internal id, when the account has statuses.
    pub status: Option<String>,
    /// On-hand quantity.
    pub quantity: Decimal,
    /// Why it was not placed.
    pub reason: String,
}

/// What a snapshot read found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotSummary {
    /// Locations read.
    pub locations: usize,
    /// Balances read (item × location × status).
    pub balances: usize,
    /// Balances placed into positions.
    pub placed: usize,
    /// Balances that could not be placed.
    pub skipped: Vec<SkippedBalance>,
}

#[derive(Deserialize)]
struct BalanceRow {
    #[serde(deserialize_with = "lenient::i64")]
    item: i64,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    inventorystatus: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    quantityonhand: Option<Decimal>,
}

#[derive(Deserialize)]
struct SkuRow {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    itemid: String,
}

/// Reads NetSuite on-hand as drift positions.
///
/// ```no_run
/// # async fn demo(client: netsuite_client::NetSuiteClient, mappings: sync_core::Mappings) -> Result<(), sync_engine::netsuite::SnapshotError> {
/// use sync_core::{DriftCalculator, Thresholds};
/// use sync_engine::netsuite::OnHandReader;
///
/// let mut drift = DriftCalculator::new();
/// let summary = OnHandReader::new(client, mappings).read_into(&mut drift).await?;
/// // ... add Clarus on-hand and in-flight movements, then:
/// let report = drift.finish(Thresholds::default());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OnHandReader {
    client: NetSuiteClient,
    mappings: Mappings,
}

impl OnHandReader {
    /// A reader over `client`, placing balances with `mappings`.
    pub fn new(client: NetSuiteClient, mappings: Mappings) -> Self {
        OnHandReader { client, mappings }
    }

    /// Every NetSuite location the mappings mention: warehouse locations and sellable or
    /// quarantine locations.
    pub fn locations(&self) -> Vec<LocationId> {
        let tables = self.mappings.tables();
        let mut out: BTreeSet<LocationId> = tables
            .locations
            .iter()
            .map(|l| l.location.clone())
            .collect();
        for row in &tables.stock_statuses {
            out.insert(row.location.clone());
            for place in [&row.sellable, &row.quarantine] {
                if let StockPlace::Location { location } = place {
                    out.insert(location.clone());
                }
            }
        }
        out.into_iter().collect()
    }

    /// The position of stock at NetSuite `location` in `status`: the mapped location it belongs
    /// to and whether it is sellable or held. `None` when the mappings do not say.
    pub fn place(
        &self,
        location: &LocationId,
        status: Option<&NetSuiteId>,
    ) -> Option<(LocationId, StockStatus)> {
        let tables = self.mappings.tables();
        // A location that is itself a sellable or quarantine place.
        for row in &tables.stock_statuses {
            for (place, class) in [
                (&row.sellable, StockStatus::Available),
                (&row.quarantine, StockStatus::Held),
            ] {
                if matches!(place, StockPlace::Location { location: l } if l == location) {
                    return Some((row.location.clone(), class));
                }
            }
        }
        match self.mappings.places_for(location) {
            Some(row) => {
                for (place, class) in [
                    (&row.sellable, StockStatus::Available),
                    (&row.quarantine, StockStatus::Held),
                ] {
                    if matches!(place, StockPlace::Status { status: s } if Some(s) == status) {
                        return Some((location.clone(), class));
                    }
                }
                // Statuses are not how this location separates stock: all of it is sellable.
                let by_status = matches!(row.sellable, StockPlace::Status { .. })
                    || matches!(row.quarantine, StockPlace::Status { .. });
                (!by_status).then(|| (location.clone(), StockStatus::Available))
            }
            None => self
                .mappings
                .warehouse_for(location)
                .map(|_| (location.clone(), StockStatus::Available)),
        }
    }

    async fn skus(&self) -> Result<HashMap<i64, Sku>, SnapshotError> {
        let rows: Vec<SkuRow> = self
            .client
            .suiteql_keyset(
                Keyset::new("SELECT id, itemid FROM item", "id"),
                |r: &SkuRow| r.id,
                StreamOptions::default(),
            )
            .try_collect()
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.id, Sku::new(r.itemid)))
            .collect())
    }

    /// Reads every mapped location and calls `each` with every placed position.
    pub async fn read_with(
        &self,
        mut each: impl FnMut(StockRow),
    ) -> Result<SnapshotSummary, SnapshotError> {
        let skus = self.skus().await?;
        let mut summary = SnapshotSummary::default();
        for location in self.locations() {
            summary.locations += 1;
            let query = Query::new(
                "SELECT item, inventorystatus, SUM(quantityonhand) AS quantityonhand \
                 FROM inventorybalance WHERE location = ? \
                 GROUP BY item, inventorystatus ORDER BY item, inventorystatus",
            )
            .bind(location.as_str());
            let mut rows = self
                .client
                .suiteql::<BalanceRow>(query, StreamOptions::default());
            while let Some(row) = rows.try_next().await? {
                summary.balances += 1;
                let quantity = row.quantityonhand.unwrap_or_default();
                let status = row.inventorystatus.map(|s| NetSuiteId::new(s.to_string()));
                let skip = |reason: String| SkippedBalance {
                    item: row.item.to_string(),
                    location: location.to_string(),
                    status: status.as_ref().map(ToString::to_string),
                    quantity,
                    reason,
                };
                let Some(sku) = skus.get(&row.item) else {
                    summary
                        .skipped
                        .push(skip("the item is not in the item table".into()));
                    continue;
                };
                let Some((at, class)) = self.place(&location, status.as_ref()) else {
                    summary.skipped.push(skip(
                        "the status is neither the sellable nor the quarantine status of the location"
                            .into(),
                    ));
                    continue;
                };
                summary.placed += 1;
                each(StockRow {
                    key: StockKey {
                        sku: sku.clone(),
                        location: at,
                        status: class,
                    },
                    quantity,
                });
            }
        }
        Ok(summary)
    }

    /// Adds NetSuite on-hand to a drift calculation.
    pub async fn read_into(
        &self,
        calculator: &mut DriftCalculator,
    ) -> Result<SnapshotSummary, SnapshotError> {
        self.read_with(|row| calculator.add_netsuite(row.key, row.quantity))
            .await
    }

    /// Reads every position into memory (small accounts, tests, reports).
    pub async fn read(&self) -> Result<(Vec<StockRow>, SnapshotSummary), SnapshotError> {
        let mut rows = Vec::new();
        let summary = self.read_with(|row| rows.push(row)).await?;
        Ok((rows, summary))
    }
}
