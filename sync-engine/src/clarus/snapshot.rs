//! Clarus on-hand per SKU × NetSuite location × status, for the drift check.
//!
//! Reads the stock records of each mapped warehouse (`stocks` filtered by `warehouse_id`:
//! quantity, `available` or `held`, product) and adds the picked-but-not-despatched quantity of
//! `stock_balances` to available: picked stock has left its location but not the warehouse, and
//! NetSuite only takes it off hand when the fulfilment is posted. Warehouses are placed at their
//! NetSuite location through the location mapping; stock in an unmapped warehouse is not read
//! (Clarus documents no warehouse field on stock records), and balances of an unmapped
//! warehouse are reported, not guessed.

use std::collections::BTreeMap;

use clarus_client::graphql::{Filter, StockBalanceNode};
use clarus_client::{ClarusClient, ClarusId};
use rust_decimal::Decimal;
use sync_core::{DriftCalculator, Mappings, Sku, StockKey, StockRow, StockStatus, WarehouseId};

use super::executor::{list, mapped_warehouses};
use super::nodes::StockRead;

/// Stock that could not be placed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedStock {
    /// Product code, when known.
    pub sku: Option<String>,
    /// Clarus warehouse, when known.
    pub warehouse: Option<ClarusId>,
    /// Quantity.
    pub quantity: Decimal,
    /// Why it was not placed.
    pub reason: String,
}

/// What a snapshot read found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotSummary {
    /// Stock records read.
    pub stock_records: usize,
    /// Positions (SKU × location × status) produced.
    pub positions: usize,
    /// Stock that could not be placed.
    pub skipped: Vec<SkippedStock>,
}

/// Reads Clarus on-hand as drift positions.
///
/// ```no_run
/// # async fn demo(client: clarus_client::ClarusClient, mappings: sync_core::Mappings) -> Result<(), clarus_client::Error> {
/// use sync_core::{DriftCalculator, Thresholds};
/// use sync_engine::clarus::StockSnapshotReader;
/// let mut drift = DriftCalculator::new();
/// let summary = StockSnapshotReader::new(client, mappings).read_into(&mut drift).await?;
/// // ... add NetSuite on-hand and in-flight movements, then:
/// let report = drift.finish(Thresholds::default());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct StockSnapshotReader {
    client: ClarusClient,
    mappings: Mappings,
}

impl StockSnapshotReader {
    /// A reader over `client`, placing warehouses with `mappings`.
    pub fn new(client: ClarusClient, mappings: Mappings) -> Self {
        StockSnapshotReader { client, mappings }
    }

    /// Every position with its on-hand quantity, in key order.
    pub async fn read(&self) -> Result<(Vec<StockRow>, SnapshotSummary), clarus_client::Error> {
        let mut summary = SnapshotSummary::default();
        let mut positions: BTreeMap<StockKey, Decimal> = BTreeMap::new();
        // Clarus documents no warehouse field on stock, but a `warehouse_id` filter: one read
        // per mapped warehouse places every record.
        for warehouse in mapped_warehouses(&self.mappings) {
            let stocks: Vec<StockRead> =
                list(&self.client, Filter::new().eq("warehouse_id", warehouse)).await?;
            summary.stock_records += stocks.len();
            for stock in stocks {
                let quantity = stock.quantity.unwrap_or_default();
                if quantity.is_zero() {
                    continue;
                }
                let status = match stock
                    .status
                    .as_deref()
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    Some("available") => StockStatus::Available,
                    Some("held") => StockStatus::Held,
                    other => {
                        summary.skipped.push(SkippedStock {
                            sku: stock.product.and_then(|p| p.code),
                            warehouse: Some(warehouse),
                            quantity,
                            reason: format!("unknown stock status {other:?}"),
                        });
                        continue;
                    }
                };
                let sku = stock.product.as_ref().and_then(|p| p.code.clone());
                self.place(
                    &mut positions,
                    &mut summary,
                    sku,
                    Some(warehouse),
                    status,
                    quantity,
                );
            }
        }
        let balances: Vec<StockBalanceNode> = list(&self.client, Filter::new()).await?;
        for balance in balances {
            let picked = balance.picked.unwrap_or_default();
            if picked.is_zero() {
                continue;
            }
            let sku = balance.product.as_ref().and_then(|p| p.code.clone());
            let warehouse = balance.warehouse.as_ref().map(|w| w.id);
            self.place(
                &mut positions,
                &mut summary,
                sku,
                warehouse,
                StockStatus::Available,
                picked,
            );
        }
        summary.positions = positions.len();
        let rows = positions
            .into_iter()
            .map(|(key, quantity)| StockRow { key, quantity })
            .collect();
        Ok((rows, summary))
    }

    /// Reads every position into `drift` as Clarus on-hand.
    pub async fn read_into(
        &self,
        drift: &mut DriftCalculator,
    ) -> Result<SnapshotSummary, clarus_client::Error> {
        let (rows, summary) = self.read().await?;
        for row in rows {
            drift.add_clarus(row.key, row.quantity);
        }
        Ok(summary)
    }

    fn place(
        &self,
        positions: &mut BTreeMap<StockKey, Decimal>,
        summary: &mut SnapshotSummary,
        sku: Option<String>,
        warehouse: Option<ClarusId>,
        status: StockStatus,
        quantity: Decimal,
    ) {
        let location = warehouse
            .and_then(|w| u64::try_from(w.get()).ok())
            .and_then(|w| self.mappings.location_for(WarehouseId(w)));
        match (sku.as_deref(), location) {
            (Some(sku), Some(location)) => {
                *positions
                    .entry(StockKey {
                        sku: Sku::new(sku),
                        location: location.clone(),
                        status,
                    })
                    .or_default() += quantity;
            }
            (None, _) => summary.skipped.push(SkippedStock {
                sku,
                warehouse,
                quantity,
                reason: "stock without a product code".into(),
            }),
            (Some(_), None) => summary.skipped.push(SkippedStock {
                sku,
                warehouse,
                quantity,
                reason: "warehouse has no NetSuite location in the location mapping".into(),
            }),
        }
    }
}
