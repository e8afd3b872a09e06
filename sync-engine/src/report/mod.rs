//! The operations report: one document for the people who run the business, built from the
//! store at a point in time.
//!
//! [`OperationsReport`] is the JSON report (every quantity and value a [`Decimal`], written as a
//! string); [`html::render`] turns it into one self-contained HTML page with charts. It holds:
//!
//! - the lifecycle funnel of every [`Flow`]: how many documents reached each stage;
//! - the exceptions: open and resolved per owner, open ones per age bucket, and the list itself
//!   (open first) with each one's runbook anchor in the operations guide;
//! - the backlog: actions and deliveries still to do;
//! - stock drift over time and by SKU, from the reconciliation history given as a [`DriftInput`].
//!
//! ```no_run
//! # async fn demo(store: &dyn sync_engine::store::Store) -> Result<(), Box<dyn std::error::Error>> {
//! use sync_engine::report::{DriftInput, ReportOptions, build, html};
//!
//! let report = build(store, DriftInput::default(), &ReportOptions::default(), jiff::Timestamp::now()).await?;
//! sync_engine::report::write_file("report.json", serde_json::to_vec_pretty(&report)?)?;
//! sync_engine::report::write_file("report.html", html::render(&report, &html::HtmlOptions::default()))?;
//! # Ok(()) }
//! ```

pub mod html;

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sync_core::{DriftClass, LocationId, Sku, StockStatus};

use crate::drift_history::{self, DriftRun, HistoryError, ValuedDriftRow};
use crate::monitor::{DocumentLifecycle, Flow, MonitorError, Stage, lifecycles};
use crate::service::backlog;
use crate::store::{ActionStatus, Store, StoreError, StoredException};

/// Errors building a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Lifecycles could not be derived.
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A report file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Writes a report file readable and writable by its owner only (0600 on Unix): reports show
/// documents, customers' orders, stock and values, so they are not left world-readable. The
/// file is created or truncated, and an existing file is brought back to 0600.
pub fn write_file(
    path: impl AsRef<std::path::Path>,
    contents: impl AsRef<[u8]>,
) -> Result<(), ReportError> {
    use std::io::Write as _;

    let path = path.as_ref();
    let error = |source| ReportError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(error)?;
    }
    file.write_all(contents.as_ref()).map_err(error)?;
    file.sync_all().map_err(error)
}

/// Every flow, in the order the report shows them.
pub const FLOWS: [Flow; 4] = [
    Flow::SalesOrder,
    Flow::PurchaseOrder,
    Flow::ReturnAuthorisation,
    Flow::Adjustment,
];

/// How the report is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    /// Most exceptions listed one by one (open ones first); the counts always cover all of them.
    pub exception_limit: usize,
}

impl Default for ReportOptions {
    /// Up to 1,000 exceptions listed.
    fn default() -> Self {
        ReportOptions {
            exception_limit: 1000,
        }
    }
}

/// One reconciliation run, a point of the drift trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftTrendPoint {
    /// When the run compared the two systems.
    pub at: Timestamp,
    /// Positions (SKU × location × status) compared.
    pub positions: u64,
    /// Positions drifting beyond what in-flight movements and thresholds explain.
    pub drift: u64,
    /// Sum of the unexplained differences of drifting positions, in units, without sign.
    pub unexplained_units: Decimal,
    /// Valuation of the unexplained differences (quantity × NetSuite average cost), where the
    /// cost is known.
    pub value_impact: Option<Decimal>,
}

impl DriftTrendPoint {
    /// The point of one recorded reconciliation run.
    pub fn from_run(run: &DriftRun) -> Self {
        let summary = &run.summary;
        DriftTrendPoint {
            at: run.at,
            positions: summary.positions as u64,
            drift: summary.drift as u64,
            unexplained_units: summary.unexplained_units,
            // One figure only when one currency is involved: currencies are never added.
            value_impact: summary
                .valued
                .then(|| summary.value_impact.single_currency_total())
                .flatten(),
        }
    }
}

/// One compared stock position of the latest reconciliation, with its valuation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftPositionRow {
    /// Item.
    pub sku: Sku,
    /// NetSuite location.
    pub location: LocationId,
    /// Available or held.
    pub status: StockStatus,
    /// In step, explained by in-flight movements, or drifting.
    pub class: DriftClass,
    /// Clarus on hand.
    pub clarus: Decimal,
    /// NetSuite on hand.
    pub netsuite: Decimal,
    /// Signed on-hand change in flight from Clarus to NetSuite.
    pub in_flight: Decimal,
    /// `clarus − netsuite − in_flight`.
    pub unexplained: Decimal,
    /// `unexplained` × NetSuite average cost, where the cost is known.
    pub value_impact: Option<Decimal>,
}

impl DriftPositionRow {
    /// The row of a recorded position.
    pub fn from_valued(row: &ValuedDriftRow) -> Self {
        DriftPositionRow {
            sku: row.sku.clone(),
            location: row.location.clone(),
            status: row.status,
            class: row.class,
            clarus: row.clarus,
            netsuite: row.netsuite,
            in_flight: row.in_flight,
            unexplained: row.unexplained,
            value_impact: row.value_impact,
        }
    }
}

/// The reconciliation history the report shows: runs over time and the positions of the latest
/// run that are not in step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftInput {
    /// Reconciliation runs, any order (the report sorts them by time).
    pub trend: Vec<DriftTrendPoint>,
    /// Positions of the latest run.
    pub positions: Vec<DriftPositionRow>,
}

impl DriftInput {
    /// The drift history as the report shows it: the last `runs` reconciliation runs and the
    /// positions of the latest one that were not in step.
    pub async fn from_history(store: &dyn Store, runs: usize) -> Result<Self, HistoryError> {
        let trend = drift_history::trend(store, None, runs).await?;
        let positions = match drift_history::latest(store).await? {
            Some(latest) => latest
                .rows
                .iter()
                .map(DriftPositionRow::from_valued)
                .collect(),
            None => Vec::new(),
        };
        Ok(DriftInput {
            trend: trend.iter().map(DriftTrendPoint::from_run).collect(),
            positions,
        })
    }
}

/// How many documents of a flow reached a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FunnelStage {
    /// The stage.
    pub stage: Stage,
    /// Documents that currently have the stage reached.
    pub reached: u64,
}

/// The lifecycle funnel of one flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowFunnel {
    /// The flow.
    pub flow: Flow,
    /// Documents of the flow seen.
    pub documents: u64,
    /// Every stage of the flow, in order.
    pub stages: Vec<FunnelStage>,
}

/// The lifecycle funnel of every flow in [`FLOWS`] order, flows without documents included.
pub fn funnel(lifecycles: &[DocumentLifecycle]) -> Vec<FlowFunnel> {
    FLOWS
        .iter()
        .map(|&flow| {
            let documents: Vec<&DocumentLifecycle> =
                lifecycles.iter().filter(|l| l.flow == flow).collect();
            FlowFunnel {
                flow,
                documents: documents.len() as u64,
                stages: flow
                    .stages()
                    .iter()
                    .map(|&stage| FunnelStage {
                        stage,
                        reached: documents
                            .iter()
                            .filter(|l| l.reached(stage).is_some())
                            .count() as u64,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// How long an open exception has been open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AgeBucket {
    /// Less than an hour.
    #[serde(rename = "under_1h")]
    UnderOneHour,
    /// One hour up to a day.
    #[serde(rename = "1h_to_24h")]
    HoursToDay,
    /// One day up to a week.
    #[serde(rename = "1d_to_7d")]
    DaysToWeek,
    /// A week or more.
    #[serde(rename = "over_7d")]
    OverWeek,
}

impl AgeBucket {
    /// Every bucket, youngest first.
    pub const ALL: [AgeBucket; 4] = [
        AgeBucket::UnderOneHour,
        AgeBucket::HoursToDay,
        AgeBucket::DaysToWeek,
        AgeBucket::OverWeek,
    ];

    /// The bucket of an age; a negative age (raised after the report's time) is the youngest.
    pub fn of(age: SignedDuration) -> Self {
        let secs = age.as_secs();
        if secs < 3_600 {
            AgeBucket::UnderOneHour
        } else if secs < 86_400 {
            AgeBucket::HoursToDay
        } else if secs < 7 * 86_400 {
            AgeBucket::DaysToWeek
        } else {
            AgeBucket::OverWeek
        }
    }

    /// A short, stable name (`under_1h`, `1h_to_24h`, `1d_to_7d`, `over_7d`), as in the JSON.
    pub fn code(self) -> &'static str {
        match self {
            AgeBucket::UnderOneHour => "under_1h",
            AgeBucket::HoursToDay => "1h_to_24h",
            AgeBucket::DaysToWeek => "1d_to_7d",
            AgeBucket::OverWeek => "over_7d",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            AgeBucket::UnderOneHour => "< 1 h",
            AgeBucket::HoursToDay => "1 h – 24 h",
            AgeBucket::DaysToWeek => "1 – 7 days",
            AgeBucket::OverWeek => "> 7 days",
        }
    }
}

/// Open exceptions in one age bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AgeCount {
    /// The bucket.
    pub bucket: AgeBucket,
    /// Open exceptions in it.
    pub open: u64,
}

/// The exceptions of one owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerExceptions {
    /// The owner (`operations`, `finance`, `item_master`, `integration`).
    pub owner: String,
    /// Open exceptions.
    pub open: u64,
    /// Resolved exceptions.
    pub resolved: u64,
    /// Open exceptions per age bucket, every bucket listed.
    pub open_by_age: Vec<AgeCount>,
}

/// Open exceptions of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindCount {
    /// The kind (`unknown-sku`, ...).
    pub kind: String,
    /// Open exceptions of the kind.
    pub open: u64,
}

/// The exception queue in figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExceptionSummary {
    /// Open exceptions.
    pub open: u64,
    /// Resolved exceptions.
    pub resolved: u64,
    /// Per owner, by owner name.
    pub by_owner: Vec<OwnerExceptions>,
    /// Open exceptions per age bucket, every bucket listed.
    pub open_by_age: Vec<AgeCount>,
    /// Open exceptions per kind, most first.
    pub open_by_kind: Vec<KindCount>,
}

/// One exception as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExceptionEntry {
    /// Its key (for `sync exceptions resolve`).
    pub key: String,
    /// Its kind.
    pub kind: String,
    /// Who must act.
    pub owner: String,
    /// `error` or `warning`.
    pub severity: String,
    /// The document concerned.
    pub document: String,
    /// What happened.
    pub message: String,
    /// Runbook anchor in the operations guide (`operations.md#unknown-sku`).
    pub runbook: String,
    /// When it was first raised.
    pub raised_at: Timestamp,
    /// Seconds from raising to the report's time (to resolution for a resolved one).
    pub age_secs: i64,
    /// When it was resolved, if it was.
    pub resolved_at: Option<Timestamp>,
}

impl ExceptionEntry {
    /// Whether it is still open.
    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }
}

/// Work still to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BacklogSection {
    /// Actions waiting to run or to be retried.
    pub pending_actions: u64,
    /// Actions whose last attempt had no answer (looked up before any resend).
    pub ambiguous_actions: u64,
    /// Actions given up (each has an `action-failed` exception).
    pub failed_actions: u64,
    /// Actions done.
    pub done_actions: u64,
    /// Webhook deliveries not yet processed (due or deferred).
    pub unprocessed_deliveries: u64,
}

impl BacklogSection {
    /// Reads the backlog and the action counts from the store.
    pub async fn read(store: &dyn Store) -> Result<Self, StoreError> {
        let b = backlog(store).await?;
        let mut section = BacklogSection {
            pending_actions: b.pending_actions,
            ambiguous_actions: b.ambiguous_actions,
            unprocessed_deliveries: b.unprocessed_deliveries,
            ..BacklogSection::default()
        };
        for count in store.action_counts().await? {
            match count.status {
                ActionStatus::Failed => section.failed_actions += count.count,
                ActionStatus::Done => section.done_actions += count.count,
                ActionStatus::Pending | ActionStatus::Ambiguous => {}
            }
        }
        Ok(section)
    }
}

/// Drift of one SKU in the latest reconciliation, over all its positions given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkuDrift {
    /// Item.
    pub sku: Sku,
    /// Positions of the SKU given.
    pub positions: u64,
    /// Positions of the SKU drifting.
    pub drifting: u64,
    /// Sum of the unexplained differences of its drifting positions, without sign.
    pub unexplained_units: Decimal,
    /// Signed sum of the unexplained differences of its drifting positions (Clarus above
    /// NetSuite is positive).
    pub net_units: Decimal,
    /// Signed valuation of its drifting positions, over those whose cost is known; `None` when
    /// no cost is known.
    pub value_impact: Option<Decimal>,
}

/// Stock drift over time and by SKU.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DriftSection {
    /// Reconciliation runs, oldest first.
    pub trend: Vec<DriftTrendPoint>,
    /// Per SKU with drifting positions, most unexplained units first.
    pub by_sku: Vec<SkuDrift>,
    /// Positions of the latest run, drifting ones first, then most unexplained first.
    pub positions: Vec<DriftPositionRow>,
    /// Positions drifting in the latest run.
    pub drifting_positions: u64,
    /// Sum of the unexplained differences of drifting positions, without sign.
    pub unexplained_units: Decimal,
    /// Valuation of the drifting positions whose cost is known, each counted without sign (as
    /// the drift history's run summary and `sync drift` count it); `None` when none is known.
    pub value_impact: Option<Decimal>,
}

impl DriftSection {
    /// Orders the history and sums the latest positions per SKU.
    pub fn from_input(input: DriftInput) -> Self {
        let DriftInput {
            mut trend,
            mut positions,
        } = input;
        trend.sort_by_key(|p| p.at);
        positions.sort_by(|a, b| {
            (b.class == DriftClass::Drift)
                .cmp(&(a.class == DriftClass::Drift))
                .then_with(|| b.unexplained.abs().cmp(&a.unexplained.abs()))
                .then_with(|| (&a.sku, &a.location, a.status).cmp(&(&b.sku, &b.location, b.status)))
        });
        let mut by_sku: BTreeMap<&Sku, SkuDrift> = BTreeMap::new();
        for row in &positions {
            let entry = by_sku.entry(&row.sku).or_insert_with(|| SkuDrift {
                sku: row.sku.clone(),
                positions: 0,
                drifting: 0,
                unexplained_units: Decimal::ZERO,
                net_units: Decimal::ZERO,
                value_impact: None,
            });
            entry.positions += 1;
            if row.class == DriftClass::Drift {
                entry.drifting += 1;
                entry.unexplained_units += row.unexplained.abs();
                entry.net_units += row.unexplained;
                if let Some(value) = row.value_impact {
                    *entry.value_impact.get_or_insert(Decimal::ZERO) += value;
                }
            }
        }
        let mut by_sku: Vec<SkuDrift> = by_sku.into_values().filter(|s| s.drifting > 0).collect();
        by_sku.sort_by(|a, b| {
            b.unexplained_units
                .cmp(&a.unexplained_units)
                .then_with(|| a.sku.cmp(&b.sku))
        });
        let drifting: Vec<&DriftPositionRow> = positions
            .iter()
            .filter(|r| r.class == DriftClass::Drift)
            .collect();
        let value_impact = drifting
            .iter()
            .filter_map(|r| r.value_impact.map(|v| v.abs()))
            .reduce(|a, b| a + b);
        DriftSection {
            drifting_positions: drifting.len() as u64,
            unexplained_units: drifting.iter().map(|r| r.unexplained.abs()).sum(),
            value_impact,
            trend,
            by_sku,
            positions,
        }
    }
}

/// The whole report, as written to JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationsReport {
    /// The time the report describes (ages are counted to it).
    pub generated_at: Timestamp,
    /// Lifecycle funnel per flow.
    pub funnel: Vec<FlowFunnel>,
    /// Exceptions in figures.
    pub exceptions: ExceptionSummary,
    /// Exceptions one by one, open first, then by time raised (up to
    /// [`ReportOptions::exception_limit`]).
    pub exception_list: Vec<ExceptionEntry>,
    /// Exceptions left out of the list by the limit.
    pub exception_list_omitted: u64,
    /// Work still to do.
    pub backlog: BacklogSection,
    /// Stock drift.
    pub drift: DriftSection,
}

impl OperationsReport {
    /// Builds the report from what was read: lifecycles, every exception (open first, as
    /// [`ExceptionStore::exceptions`](crate::store::ExceptionStore::exceptions) returns them),
    /// the backlog and the drift history, at `now`.
    pub fn from_parts(
        lifecycles: &[DocumentLifecycle],
        exceptions: &[StoredException],
        backlog: BacklogSection,
        drift: DriftInput,
        options: &ReportOptions,
        now: Timestamp,
    ) -> Self {
        let mut entries: Vec<ExceptionEntry> = exceptions
            .iter()
            .map(|e| ExceptionEntry {
                key: e.exception.key.clone(),
                kind: e.exception.kind.clone(),
                owner: e.exception.owner.clone(),
                severity: e.exception.severity.clone(),
                document: e.exception.document.clone(),
                message: e.exception.message.clone(),
                runbook: e.exception.runbook.clone(),
                raised_at: e.raised_at,
                age_secs: e
                    .resolved_at
                    .unwrap_or(now)
                    .duration_since(e.raised_at)
                    .as_secs(),
                resolved_at: e.resolved_at,
            })
            .collect();
        // Open first, then oldest first: stable, so the store's order is kept within each.
        entries.sort_by_key(|e| (!e.is_open(), e.raised_at));

        let summary = summarise(&entries, now);
        let omitted = entries.len().saturating_sub(options.exception_limit) as u64;
        entries.truncate(options.exception_limit);
        OperationsReport {
            generated_at: now,
            funnel: funnel(lifecycles),
            exceptions: summary,
            exception_list: entries,
            exception_list_omitted: omitted,
            backlog,
            drift: DriftSection::from_input(drift),
        }
    }
}

fn age_counts(counts: &BTreeMap<AgeBucket, u64>) -> Vec<AgeCount> {
    AgeBucket::ALL
        .iter()
        .map(|&bucket| AgeCount {
            bucket,
            open: counts.get(&bucket).copied().unwrap_or(0),
        })
        .collect()
}

fn summarise(entries: &[ExceptionEntry], now: Timestamp) -> ExceptionSummary {
    #[derive(Default)]
    struct Owner {
        open: u64,
        resolved: u64,
        by_age: BTreeMap<AgeBucket, u64>,
    }
    let mut owners: BTreeMap<&str, Owner> = BTreeMap::new();
    let mut by_age: BTreeMap<AgeBucket, u64> = BTreeMap::new();
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut open, mut resolved) = (0, 0);
    for e in entries {
        let owner = owners.entry(&e.owner).or_default();
        if e.is_open() {
            let bucket = AgeBucket::of(now.duration_since(e.raised_at));
            open += 1;
            owner.open += 1;
            *owner.by_age.entry(bucket).or_default() += 1;
            *by_age.entry(bucket).or_default() += 1;
            *by_kind.entry(&e.kind).or_default() += 1;
        } else {
            resolved += 1;
            owner.resolved += 1;
        }
    }
    let mut open_by_kind: Vec<KindCount> = by_kind
        .into_iter()
        .map(|(kind, open)| KindCount {
            kind: kind.to_owned(),
            open,
        })
        .collect();
    open_by_kind.sort_by(|a, b| b.open.cmp(&a.open).then_with(|| a.kind.cmp(&b.kind)));
    ExceptionSummary {
        open,
        resolved,
        by_owner: owners
            .into_iter()
            .map(|(owner, o)| OwnerExceptions {
                owner: owner.to_owned(),
                open: o.open,
                resolved: o.resolved,
                open_by_age: age_counts(&o.by_age),
            })
            .collect(),
        open_by_age: age_counts(&by_age),
        open_by_kind,
    }
}

/// Builds the report from the store at `now`, with the drift history given.
pub async fn build(
    store: &dyn Store,
    drift: DriftInput,
    options: &ReportOptions,
    now: Timestamp,
) -> Result<OperationsReport, ReportError> {
    let lifecycles = lifecycles(store).await?;
    let exceptions = store.exceptions().await?;
    let backlog = BacklogSection::read(store).await?;
    Ok(OperationsReport::from_parts(
        &lifecycles,
        &exceptions,
        backlog,
        drift,
        options,
        now,
    ))
}

#[cfg(test)]
mod tests;

#[cfg(all(test, unix))]
mod file_mode_tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn report_files_are_private_to_their_owner() {
        let dir = std::env::temp_dir().join(format!("sync-report-mode-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("report.html");
        // An existing world-readable file is brought back to 0600 and overwritten.
        std::fs::write(&path, "old and longer contents").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::write_file(&path, "<html></html>").unwrap();
        let fresh = dir.join("report.json");
        super::write_file(&fresh, "{}").unwrap();
        for (file, contents) in [(&path, "<html></html>"), (&fresh, "{}")] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
            assert_eq!(std::fs::read_to_string(file).unwrap(), contents);
        }
        let missing = super::write_file(dir.join("no/such/dir.json"), "{}").unwrap_err();
        assert!(missing.to_string().contains("dir.json"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
