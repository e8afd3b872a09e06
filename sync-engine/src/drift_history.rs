//! The drift history: every reconciliation run kept with its summary and its valued rows, so
//! operations and finance can see the latest run, the trend over time and the story of one
//! position.
//!
//! [`crate::reconcile::reconcile`] records each run here: the counts per class, the positions that
//! were not in step (in-step positions are only counted), each valued at NetSuite's average cost
//! where it is known ([`crate::netsuite::UnitCosts`]), and the totals finance reads. The read
//! functions ([`latest`], [`snapshot`], [`trend`], [`position_history`]) return plain,
//! serialisable types for the CLI, reports and dashboards.
//!
//! **The value figure.** A row's value impact is `unexplained × unit cost`: positive when Clarus
//! holds more than NetSuite accounts for (NetSuite understates inventory value), negative when
//! NetSuite holds more than the warehouse (NetSuite overstates it). A row whose cost NetSuite
//! does not know has no value (`None`), never zero; the summary counts those rows apart. The
//! summary's [`DriftRunSummary::value_impact`] adds up the absolute values of the drifting rows,
//! so a gain on one SKU does not hide a loss on another; [`DriftRunSummary::net_value_impact`]
//! keeps the sign.
//!
//! **Currencies.** A row's value is in the currency of its location (that of the subsidiary
//! owning it, [`sync_core::money::LocationCurrencies`], from `[drift] currency` and
//! `[drift.location_currencies]`): NetSuite keeps average costs in the subsidiary's currency.
//! The summary's figures are per currency ([`ValueTotals`]); amounts of different currencies are
//! never added together. Runs recorded before currencies were kept read back in
//! [`Currency::UNSPECIFIED`] (`XXX`).

use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sync_core::money::{Amount, Currency, LocationCurrencies, ValueTotals};
use sync_core::{
    DriftClass, DriftReport, DriftRow, DriftSummary, LocationId, Sku, StockKey, StockStatus,
    Thresholds,
};

use crate::store::{NewDriftRow, NewDriftRun, Store, StoreError, StoredDriftRow, StoredDriftRun};
use sync_core::cost::UnitCosts;

/// Reading or writing the drift history failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A recorded summary or row could not be written or read back.
    #[error("drift history payload: {0}")]
    Payload(#[from] serde_json::Error),
}

/// One compared position, valued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValuedDriftRow {
    /// The item.
    pub sku: Sku,
    /// The NetSuite location.
    pub location: LocationId,
    /// Available or held.
    pub status: StockStatus,
    /// Clarus on hand.
    pub clarus: Decimal,
    /// NetSuite on hand.
    pub netsuite: Decimal,
    /// Signed on-hand change in flight from Clarus to NetSuite.
    pub in_flight: Decimal,
    /// `clarus − netsuite − in_flight`.
    pub unexplained: Decimal,
    /// Classification.
    pub class: DriftClass,
    /// NetSuite's average cost of one unit here, when known.
    pub unit_cost: Option<Decimal>,
    /// `unexplained × unit_cost`, when the cost is known.
    pub value_impact: Option<Decimal>,
    /// The currency of `unit_cost` and `value_impact`: the location's.
    #[serde(default)]
    pub currency: Currency,
}

impl ValuedDriftRow {
    /// Values a compared row at `costs`, in the currency of its location.
    pub fn new(row: &DriftRow, costs: Option<&UnitCosts>, currencies: &LocationCurrencies) -> Self {
        let unit_cost = costs.and_then(|c| c.unit_cost(&row.key.sku, &row.key.location));
        ValuedDriftRow {
            sku: row.key.sku.clone(),
            location: row.key.location.clone(),
            status: row.key.status,
            clarus: row.clarus,
            netsuite: row.netsuite,
            in_flight: row.in_flight,
            unexplained: row.unexplained,
            class: row.class,
            unit_cost,
            value_impact: unit_cost.map(|cost| row.unexplained * cost),
            currency: currencies.currency(&row.key.location),
        }
    }

    /// The value impact with its currency, when the cost is known.
    pub fn value(&self) -> Option<Amount> {
        self.value_impact.map(|value| Amount {
            value,
            currency: self.currency,
        })
    }

    /// The position.
    pub fn key(&self) -> StockKey {
        StockKey {
            sku: self.sku.clone(),
            location: self.location.clone(),
            status: self.status,
        }
    }
}

/// What one reconciliation run found, in figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftRunSummary {
    /// Positions compared.
    pub positions: usize,
    /// Positions where both systems agree (within the thresholds).
    pub in_step: usize,
    /// Positions that differ by what is in flight.
    pub explained_by_in_flight: usize,
    /// Positions with unexplained drift.
    pub drift: usize,
    /// Unexplained units over the drifting positions, each counted as a magnitude.
    pub unexplained_units: Decimal,
    /// Value of the unexplained drift per currency: the absolute value impacts of the drifting
    /// positions whose cost is known, added up.
    #[serde(deserialize_with = "totals_or_legacy")]
    pub value_impact: ValueTotals,
    /// The same with signs kept: positive when NetSuite understates inventory value overall.
    #[serde(deserialize_with = "totals_or_legacy")]
    pub net_value_impact: ValueTotals,
    /// Drifting positions whose cost NetSuite does not know (not in the value figures).
    pub drift_without_cost: usize,
    /// Whether NetSuite's costs were read; when `false` every value is unknown.
    pub valued: bool,
    /// The thresholds the run compared with.
    pub thresholds: Thresholds,
}

impl DriftRunSummary {
    /// Sums up a run from its counts and valued rows.
    pub fn new(
        counts: DriftSummary,
        rows: &[ValuedDriftRow],
        thresholds: Thresholds,
        valued: bool,
    ) -> Self {
        let mut summary = DriftRunSummary {
            positions: counts.positions,
            in_step: counts.in_step,
            explained_by_in_flight: counts.explained_by_in_flight,
            drift: counts.drift,
            unexplained_units: Decimal::ZERO,
            value_impact: ValueTotals::default(),
            net_value_impact: ValueTotals::default(),
            drift_without_cost: 0,
            valued,
            thresholds,
        };
        for row in rows.iter().filter(|r| r.class == DriftClass::Drift) {
            summary.unexplained_units += row.unexplained.abs();
            match row.value_impact {
                Some(value) => {
                    summary.value_impact.add(row.currency, value.abs());
                    summary.net_value_impact.add(row.currency, value);
                }
                None => summary.drift_without_cost += 1,
            }
        }
        summary
    }
}

/// Reads a summary's value figure: per currency, or a single amount recorded before
/// currencies were kept (read as [`Currency::UNSPECIFIED`]).
fn totals_or_legacy<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ValueTotals, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Recorded {
        Totals(ValueTotals),
        Legacy(Decimal),
    }
    Ok(match Recorded::deserialize(d)? {
        Recorded::Totals(totals) => totals,
        Recorded::Legacy(value) => {
            let mut totals = ValueTotals::default();
            if !value.is_zero() {
                totals.add(Currency::UNSPECIFIED, value);
            }
            totals
        }
    })
}

/// A recorded run: when it ran and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftRun {
    /// Store-assigned id, increasing with each run.
    pub id: i64,
    /// When the systems were compared.
    pub at: Timestamp,
    /// The figures.
    pub summary: DriftRunSummary,
}

/// A recorded run with its positions that were not in step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftSnapshot {
    /// The run.
    pub run: DriftRun,
    /// Drifting positions first, then those explained by in-flight movements; within each,
    /// valued rows by currency then value impact (largest magnitude first), unknown values
    /// after known ones, then by unexplained units, then by position.
    pub rows: Vec<ValuedDriftRow>,
}

/// One run in the history of one position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionPoint {
    /// The run.
    pub run_id: i64,
    /// When it ran.
    pub at: Timestamp,
    /// The position at that run; `None` when it was in step (or not held in either system).
    pub row: Option<ValuedDriftRow>,
}

/// One run in the history of one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuPoint {
    /// The run.
    pub run_id: i64,
    /// When it ran.
    pub at: Timestamp,
    /// The SKU's positions that were not in step at that run (by location and status); empty
    /// when all were in step.
    pub rows: Vec<ValuedDriftRow>,
}

/// The identity of a position in the store: `["SKU","location","available"]`, unambiguous
/// whatever characters the SKU holds.
pub fn position_id(key: &StockKey) -> String {
    serde_json::json!([key.sku, key.location, key.status]).to_string()
}

/// Values the rows of a comparison: every row that is not in step, at `costs` (`None` when
/// the costs could not be read), each in its location's currency.
pub fn value_rows(
    report: &DriftReport,
    costs: Option<&UnitCosts>,
    currencies: &LocationCurrencies,
) -> Vec<ValuedDriftRow> {
    report
        .rows
        .iter()
        .map(|row| ValuedDriftRow::new(row, costs, currencies))
        .collect()
}

/// Sorts rows as [`DriftSnapshot::rows`] are: drift first, then by currency and value impact.
pub fn sort_by_value_impact(rows: &mut [ValuedDriftRow]) {
    rows.sort_by(|a, b| {
        let class = |r: &ValuedDriftRow| match r.class {
            DriftClass::Drift => 0,
            DriftClass::ExplainedByInFlight => 1,
            DriftClass::InStep => 2,
        };
        class(a)
            .cmp(&class(b))
            // Values of different currencies are not compared: each currency's rows together.
            .then_with(|| match (a.value_impact, b.value_impact) {
                (Some(_), Some(_)) => a.currency.cmp(&b.currency),
                _ => std::cmp::Ordering::Equal,
            })
            .then_with(|| match (a.value_impact, b.value_impact) {
                (Some(x), Some(y)) => y.abs().cmp(&x.abs()),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| b.unexplained.abs().cmp(&a.unexplained.abs()))
            .then_with(|| a.key().cmp(&b.key()))
    });
}

/// Records a run: its summary and its rows, in one transaction.
pub async fn record(
    store: &dyn Store,
    at: Timestamp,
    summary: DriftRunSummary,
    mut rows: Vec<ValuedDriftRow>,
) -> Result<DriftSnapshot, HistoryError> {
    let mut new_rows = Vec::with_capacity(rows.len());
    for row in rows.iter().filter(|r| r.class != DriftClass::InStep) {
        new_rows.push(NewDriftRow {
            position: position_id(&row.key()),
            class: class_code(row.class).to_owned(),
            row: serde_json::to_value(row)?,
        });
    }
    let id = store
        .record_drift_run(NewDriftRun {
            at,
            summary: serde_json::to_value(&summary)?,
            rows: new_rows,
        })
        .await?;
    rows.retain(|r| r.class != DriftClass::InStep);
    sort_by_value_impact(&mut rows);
    Ok(DriftSnapshot {
        run: DriftRun { id, at, summary },
        rows,
    })
}

/// The latest recorded run with its rows, if any run was recorded.
pub async fn latest(store: &dyn Store) -> Result<Option<DriftSnapshot>, HistoryError> {
    match store.drift_runs(None, 1).await?.into_iter().next() {
        Some(run) => Ok(Some(with_rows(store, run).await?)),
        None => Ok(None),
    }
}

/// One recorded run with its rows; `None` when there is no such run (or it was pruned).
pub async fn snapshot(
    store: &dyn Store,
    run_id: i64,
) -> Result<Option<DriftSnapshot>, HistoryError> {
    // Runs are few (one per reconciliation, pruned by age): look among them.
    let found = store
        .drift_runs(None, usize::MAX)
        .await?
        .into_iter()
        .find(|r| r.id == run_id);
    match found {
        Some(run) => Ok(Some(with_rows(store, run).await?)),
        None => Ok(None),
    }
}

/// The trend: the summaries of the latest `limit` runs (only those at or after `since`, if
/// given), oldest first, ready to be drawn over time.
pub async fn trend(
    store: &dyn Store,
    since: Option<Timestamp>,
    limit: usize,
) -> Result<Vec<DriftRun>, HistoryError> {
    let mut runs = store
        .drift_runs(since, limit)
        .await?
        .into_iter()
        .map(run_from)
        .collect::<Result<Vec<_>, _>>()?;
    runs.reverse();
    Ok(runs)
}

/// The history of one position over the latest `limit` runs, newest first: for each run, the
/// position's row, or `None` when it was in step.
pub async fn position_history(
    store: &dyn Store,
    key: &StockKey,
    limit: usize,
) -> Result<Vec<PositionPoint>, HistoryError> {
    let runs = store.drift_runs(None, limit).await?;
    // The position has at most one row per run, so its newest `limit` rows cover these runs.
    let rows = store
        .drift_position_history(&position_id(key), limit)
        .await?;
    let mut points = Vec::with_capacity(runs.len());
    for run in runs {
        let row = match rows.iter().find(|r| r.run_id == run.id) {
            Some(stored) => Some(serde_json::from_value(stored.row.clone())?),
            None => None,
        };
        points.push(PositionPoint {
            run_id: run.id,
            at: run.at,
            row,
        });
    }
    Ok(points)
}

/// The history of one SKU (every location and status) over the latest `limit` runs, newest
/// first.
pub async fn sku_history(
    store: &dyn Store,
    sku: &Sku,
    limit: usize,
) -> Result<Vec<SkuPoint>, HistoryError> {
    let mut points = Vec::new();
    for run in store.drift_runs(None, limit).await? {
        let mut rows = Vec::new();
        for stored in store.drift_run_rows(run.id).await? {
            let row = row_from(&stored)?;
            if &row.sku == sku {
                rows.push(row);
            }
        }
        sort_by_value_impact(&mut rows);
        points.push(SkuPoint {
            run_id: run.id,
            at: run.at,
            rows,
        });
    }
    Ok(points)
}

/// Deletes the runs older than `days` days before `now`; returns how many.
pub async fn prune(store: &dyn Store, days: u32, now: Timestamp) -> Result<u64, HistoryError> {
    let keep = SignedDuration::from_hours(i64::from(days) * 24);
    let before = now.checked_sub(keep).unwrap_or(Timestamp::MIN);
    Ok(store.prune_drift_runs(before).await?)
}

fn class_code(class: DriftClass) -> &'static str {
    match class {
        DriftClass::InStep => "in_step",
        DriftClass::ExplainedByInFlight => "explained_by_in_flight",
        DriftClass::Drift => "drift",
    }
}

fn run_from(stored: StoredDriftRun) -> Result<DriftRun, HistoryError> {
    Ok(DriftRun {
        id: stored.id,
        at: stored.at,
        summary: serde_json::from_value(stored.summary)?,
    })
}

fn row_from(stored: &StoredDriftRow) -> Result<ValuedDriftRow, HistoryError> {
    Ok(serde_json::from_value(stored.row.clone())?)
}

async fn with_rows(store: &dyn Store, run: StoredDriftRun) -> Result<DriftSnapshot, HistoryError> {
    let mut rows = store
        .drift_run_rows(run.id)
        .await?
        .iter()
        .map(row_from)
        .collect::<Result<Vec<_>, _>>()?;
    sort_by_value_impact(&mut rows);
    Ok(DriftSnapshot {
        run: run_from(run)?,
        rows,
    })
}
