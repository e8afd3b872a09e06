//! Snapshot reconciliation: Clarus on-hand against NetSuite on-hand, with the movements still in
//! the outbox counted as in flight, per SKU × location × status.
//!
//! The snapshots come from the adapters (`clarus::StockSnapshotReader`,
//! `netsuite::OnHandReader`), the unit costs from `netsuite::CostReader`; [`reconcile`] adds the
//! in-flight rows from the store, runs the core's drift computation, records the run with its
//! valued rows in the [drift history](crate::drift_history) (pruned to the retention), raises an
//! exception for operations for every drifting position, resolves the drift exceptions of
//! positions that are back in step, and raises one exception for finance when the value of the
//! unexplained drift exceeds the configured threshold. [`Reconciler`] reads both systems and
//! reconciles; the scheduled job and `sync drift --now` both run it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use sync_core::ExceptionKind;

use clarus_client::ClarusClient;
use jiff::Timestamp;
use netsuite_client::NetSuiteClient;
use rust_decimal::Decimal;
use sync_core::drift::compare;
use sync_core::drift_alerts::{DriftAlerts, OpenAlert, value_key};
use sync_core::money::LocationCurrencies;
use sync_core::{DriftClass, DriftReport, Mappings, PlannedAction, StockKey, StockRow, Thresholds};

use crate::clarus::StockSnapshotReader;
use crate::drift_history::{self, DriftRunSummary, DriftSnapshot, HistoryError};
use crate::engine::{EngineError, stored_exception};
use crate::netsuite::{CostReader, OnHandReader, SnapshotError, UnitCosts};
use crate::store::{ActionFilter, ExceptionQuery, NewException, Store};

/// Kind of the exceptions raised for drifting positions.
pub const DRIFT_KIND: &str = ExceptionKind::StockDrift.code();

/// Kind of the exception raised for finance when the value of the unexplained drift exceeds
/// the threshold.
pub const DRIFT_VALUE_KIND: &str = ExceptionKind::DriftValue.code();

/// Runbook entry of [`DRIFT_VALUE_KIND`].
pub const DRIFT_VALUE_RUNBOOK: &str = "operations.md#drift-value";

/// How reconciliation runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileSettings {
    /// Tolerated differences.
    pub thresholds: Thresholds,
    /// Time between scheduled runs.
    pub interval: Duration,
    /// Days of drift history kept; older runs are pruned at each run.
    pub history_days: u32,
    /// Value of unexplained drift above which finance is alerted, compared with each currency's
    /// total on its own (values of different currencies are never added); `None` never alerts
    /// finance.
    pub value_alert_threshold: Option<Decimal>,
    /// The currency of each location's costs (the subsidiary's), for the drift values.
    pub currencies: LocationCurrencies,
    /// Consecutive runs a position must drift in before its `stock-drift` exception is raised
    /// (1: at once). At 2, a difference seen while a movement was still on its way to the
    /// engine (a webhook queued, or lost until the sweep finds it) is confirmed by the next run
    /// before anyone is alerted. An open exception is always refreshed or resolved.
    pub confirm_runs: u32,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        ReconcileSettings {
            thresholds: Thresholds::default(),
            interval: Duration::from_secs(3600),
            history_days: 90,
            value_alert_threshold: None,
            confirm_runs: 1,
            currencies: LocationCurrencies::default(),
        }
    }
}

/// What one reconciliation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    /// The comparison, as the core computed it.
    pub report: DriftReport,
    /// The run as recorded in the drift history, with its valued rows.
    pub snapshot: DriftSnapshot,
    /// Runs pruned from the history because they were older than the retention.
    pub pruned_runs: u64,
}

/// A reconciliation could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// Reading Clarus stock failed.
    #[error("reading Clarus stock failed: {0}")]
    Clarus(#[from] clarus_client::Error),
    /// Reading NetSuite on-hand failed.
    #[error(transparent)]
    NetSuite(#[from] SnapshotError),
    /// The store failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<HistoryError> for EngineError {
    fn from(e: HistoryError) -> Self {
        match e {
            HistoryError::Store(e) => EngineError::Store(e),
            HistoryError::Payload(e) => EngineError::Serde(e),
        }
    }
}

/// How many rows a periodic reader of the store takes at a time.
pub const READ_PAGE: usize = 500;

/// The signed on-hand changes of NetSuite actions not yet done (pending or ambiguous), read by
/// pages of [`READ_PAGE`] unfinished actions (never the whole outbox).
pub async fn in_flight_rows(store: &dyn Store) -> Result<Vec<StockRow>, EngineError> {
    let mut rows = Vec::new();
    let unfinished = ActionFilter::unfinished();
    let mut after = 0;
    loop {
        let page = store.actions_page(&unfinished, after, READ_PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(rows);
        };
        after = last.seq;
        for action in page {
            let planned: PlannedAction = serde_json::from_value(action.action.payload)?;
            rows.extend(planned.action.on_hand_changes());
        }
    }
}

/// Compares the two snapshots, counting in-flight movements; values the rows at `costs`
/// (`None` when NetSuite's costs could not be read), records the run in the drift history and
/// prunes runs older than the retention; raises an exception for each drifting position (not
/// while the intake is behind on Clarus webhooks: their movements are not in flight yet) and
/// resolves those of positions no longer drifting; raises or resolves the finance exception
/// on the value of the drift.
pub async fn reconcile(
    store: &dyn Store,
    clarus: Vec<StockRow>,
    netsuite: Vec<StockRow>,
    costs: Option<&UnitCosts>,
    settings: &ReconcileSettings,
    now: Timestamp,
) -> Result<Reconciliation, EngineError> {
    let in_flight = in_flight_rows(store).await?;
    let report = compare(clarus, netsuite, in_flight, settings.thresholds);

    let rows = drift_history::value_rows(&report, costs, &settings.currencies);
    let summary = DriftRunSummary::new(report.summary, &rows, settings.thresholds, costs.is_some());
    let snapshot = drift_history::record(store, now, summary, rows).await?;
    let pruned_runs = drift_history::prune(store, settings.history_days, now).await?;

    // The drift exceptions open before this run: read once, to refresh, confirm and resolve.
    let mut open_before: Vec<NewException> = Vec::new();
    let drift_kinds = ExceptionQuery::open_of(&[DRIFT_KIND, DRIFT_VALUE_KIND]);
    let mut after = None;
    loop {
        let page = store
            .exceptions_page(&drift_kinds, after.as_ref(), READ_PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.cursor());
        open_before.extend(page.into_iter().map(|e| e.exception));
    }
    let open: Vec<OpenAlert<'_>> = open_before
        .iter()
        .filter_map(|e| {
            let kind = if e.kind == DRIFT_KIND {
                ExceptionKind::StockDrift
            } else if e.kind == DRIFT_VALUE_KIND {
                ExceptionKind::DriftValue
            } else {
                return None;
            };
            Some(OpenAlert { key: &e.key, kind })
        })
        .collect();
    // Clarus webhooks queued in the intake may carry movements the engine has not planned (not
    // yet in flight): a difference seen now may be theirs, so this run raises no new drift.
    // Open drift is still refreshed, and resolved when back in step.
    let waiting = crate::clarus::horizon::oldest_waiting(store, now).await?;
    let behind = crate::clarus::intake_behind(now, waiting);
    if let Some(since) = behind {
        tracing::info!(
            waiting_since = %since,
            drifting = report.summary.drift,
            "reconciliation while the intake is behind on Clarus webhooks: no new drift raised"
        );
    }
    let alerts = DriftAlerts {
        confirm_runs: settings.confirm_runs,
    };
    let confirmed =
        confirmed_positions(store, &report, &open, behind.is_some(), alerts, now).await?;
    let value_exception = match settings.value_alert_threshold {
        Some(threshold) if snapshot.run.summary.value_impact.any_above(threshold) => {
            Some(value_exception(&snapshot, threshold, now)?)
        }
        _ => None,
    };
    let decision = alerts.decide(
        &report.rows,
        &open,
        behind.is_some(),
        |key| !alerts.needs_history() || confirmed.contains(key),
        value_exception.as_ref().map(|e| e.key.as_str()),
        now,
    );
    for exception in &decision.refresh {
        store
            .refresh_exception(stored_exception(exception)?, now)
            .await?;
    }
    if let Some(exception) = value_exception {
        store.raise_exception(exception, now).await?;
    }
    for (key, note) in &decision.resolve {
        store.resolve_exception(key, note, now).await?;
    }
    Ok(Reconciliation {
        report,
        snapshot,
        pruned_runs,
    })
}

/// The drifting positions that are not open yet and drifted in each of the last
/// `confirm_runs` runs, as the core decides ([`DriftAlerts::confirmed`]); read only where the
/// core needs history and may raise new drift.
async fn confirmed_positions(
    store: &dyn Store,
    report: &DriftReport,
    open: &[OpenAlert<'_>],
    intake_behind: bool,
    alerts: DriftAlerts,
    now: Timestamp,
) -> Result<HashSet<StockKey>, EngineError> {
    let mut confirmed = HashSet::new();
    if !alerts.needs_history() || intake_behind {
        return Ok(confirmed);
    }
    let open: HashSet<&str> = open.iter().map(|o| o.key).collect();
    let recent_runs: Vec<i64> = store
        .drift_runs(None, alerts.confirm_runs as usize)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    for row in report.rows.iter().filter(|r| r.class == DriftClass::Drift) {
        let opened = row
            .exception(now)
            .is_some_and(|e| open.contains(e.key.as_str()));
        if opened {
            continue;
        }
        let drifted_in: Vec<i64> = store
            .drift_position_history(
                &drift_history::position_id(&row.key),
                alerts.confirm_runs as usize,
            )
            .await?
            .into_iter()
            .filter(|h| h.class == "drift")
            .map(|h| h.run_id)
            .collect();
        if alerts.confirmed(&recent_runs, &drifted_in) {
            confirmed.insert(row.key.clone());
        }
    }
    Ok(confirmed)
}

/// The finance exception of the day (UTC) `now` falls in: one per day while the value stays
/// above the threshold, so finance is reminded daily but not at every run.
fn value_exception(
    snapshot: &DriftSnapshot,
    threshold: Decimal,
    now: Timestamp,
) -> Result<NewException, serde_json::Error> {
    let summary = &snapshot.run.summary;
    let (key, day) = value_key(now);
    let day = day.to_string();
    let mut message = format!(
        "unexplained stock drift valued at {} (threshold {threshold} in each currency; net {}) \
         over {} drifting position(s)",
        rounded(&summary.value_impact),
        rounded(&summary.net_value_impact),
        summary.drift
    );
    if summary.drift_without_cost > 0 {
        message.push_str(&format!(
            "; {} more without a NetSuite cost",
            summary.drift_without_cost
        ));
    }
    let largest: Vec<String> = snapshot
        .rows
        .iter()
        .filter(|r| r.class == DriftClass::Drift && r.value_impact.is_some())
        .take(3)
        .map(|r| {
            format!(
                "{} @ {}: {} units, {} {:.2}",
                r.sku,
                r.location,
                r.unexplained,
                r.currency,
                r.value_impact.unwrap_or_default()
            )
        })
        .collect();
    if !largest.is_empty() {
        message.push_str(&format!("; largest: {}", largest.join(", ")));
    }
    Ok(NewException::of(
        ExceptionKind::DriftValue,
        key.as_str().to_owned(),
        format!("inventory value {day}"),
        message,
        serde_json::json!({
            "day": day,
            "threshold": threshold,
            "run": snapshot.run,
        }),
    ))
}

/// `EUR 12.50, USD 3.00`: each currency's total to the cent; `none` when nothing is valued.
fn rounded(totals: &sync_core::money::ValueTotals) -> String {
    if totals.is_empty() {
        return "none".to_owned();
    }
    totals
        .iter()
        .map(|a| format!("{} {:.2}", a.currency, a.value))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads both systems and reconciles: the scheduled reconciliation and an on-demand one run
/// exactly this.
///
/// ```no_run
/// # async fn demo(
/// #     store: std::sync::Arc<dyn sync_engine::store::Store>,
/// #     clarus: clarus_client::ClarusClient,
/// #     netsuite: netsuite_client::NetSuiteClient,
/// #     mappings: sync_core::Mappings,
/// # ) -> Result<(), sync_engine::reconcile::ReconcileError> {
/// use sync_engine::reconcile::{ReconcileSettings, Reconciler};
///
/// let reconciler = Reconciler::new(store, clarus, netsuite, mappings, ReconcileSettings::default());
/// let run = reconciler.run_once(jiff::Timestamp::now()).await?;
/// println!("{} drifting, valued at {}", run.snapshot.run.summary.drift, run.snapshot.run.summary.value_impact);
/// # Ok(()) }
/// ```
pub struct Reconciler {
    store: Arc<dyn Store>,
    clarus: StockSnapshotReader,
    netsuite: OnHandReader,
    costs: CostReader,
    settings: ReconcileSettings,
}

impl std::fmt::Debug for Reconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconciler")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Reconciler {
    /// A reconciler of the positions `mappings` place.
    pub fn new(
        store: Arc<dyn Store>,
        clarus: ClarusClient,
        netsuite: NetSuiteClient,
        mappings: Mappings,
        settings: ReconcileSettings,
    ) -> Self {
        Reconciler {
            store,
            clarus: StockSnapshotReader::new(clarus, mappings.clone()),
            costs: CostReader::new(netsuite.clone(), mappings.clone()),
            netsuite: OnHandReader::new(netsuite, mappings),
            settings,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &ReconcileSettings {
        &self.settings
    }

    /// Reads Clarus stock, NetSuite on-hand and NetSuite costs, then [`reconcile`]s. When the
    /// costs cannot be read the run is still recorded, with every value unknown.
    pub async fn run_once(&self, now: Timestamp) -> Result<Reconciliation, ReconcileError> {
        let (clarus, _) = self.clarus.read().await?;
        let (netsuite, _) = self.netsuite.read().await?;
        let costs = match self.costs.read().await {
            Ok(costs) => Some(costs),
            Err(e) => {
                tracing::warn!(error = %e, "reading NetSuite costs failed; drift is not valued");
                None
            }
        };
        Ok(reconcile(
            self.store.as_ref(),
            clarus,
            netsuite,
            costs.as_ref(),
            &self.settings,
            now,
        )
        .await?)
    }
}
