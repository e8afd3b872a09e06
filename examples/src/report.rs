//! The end-of-day report: what each flow did, what NetSuite holds, what went wrong and for whom,
//! and whether the two systems agree on stock; and the writer of the operations report
//! (`sync_engine::report`) as HTML and JSON files.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;
use sim::netsuite::{RecordType, RequestKind};
use sync_engine::drift_history;
use sync_engine::reconcile::{DRIFT_KIND, ReconcileSettings, Reconciler, Reconciliation};
use sync_engine::report::html::{self, HtmlOptions};
use sync_engine::report::{DriftInput, OperationsReport, ReportOptions, build};
use sync_engine::store::{ActionStatus, Store, StoreError};

use crate::harness::{SetupError, Systems};
use crate::scenario::{ScenarioOptions, WarehouseStats};

/// Counts of one action kind by status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ActionTally {
    /// Applied.
    pub done: u64,
    /// Given up (an exception says why).
    pub failed: u64,
    /// Still waiting or being retried.
    pub pending: u64,
}

/// Exceptions of one owner.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OwnerTally {
    /// Still open.
    pub open: u64,
    /// Resolved (by a later event or a person).
    pub resolved: u64,
}

/// What the simulated webhooks did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WebhookTally {
    /// Webhooks fired by the warehouse.
    pub fired: usize,
    /// Of which sent twice.
    pub duplicated: usize,
    /// Of which never sent (caught later by the GraphQL sweep).
    pub lost: usize,
}

/// NetSuite's view of the load.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NetSuiteTally {
    /// Requests that reached NetSuite.
    pub requests: u64,
    /// Requests refused with 429 (concurrency limit); absorbed by the client.
    pub throttled: u64,
    /// 5xx answers injected before commit.
    pub server_errors: u64,
    /// Writes committed whose reply was lost.
    pub lost_replies: u64,
    /// Most requests in flight at once.
    pub max_in_flight: u64,
    /// Transactions created, by record type.
    pub transactions: BTreeMap<String, usize>,
    /// External ids held by more than one transaction (must be zero).
    pub duplicate_external_ids: usize,
    /// Requests by kind (`transform salesOrder>itemFulfillment`, `suiteql transaction`, ...).
    pub requests_by_kind: BTreeMap<String, u64>,
    /// Requests made to post transactions: creates, transforms, changes, look-ups by external
    /// id, reads of posted transactions and lot/serial number look-ups (polling, reconciliation
    /// and other reads aside).
    pub posting_requests: u64,
    /// Posting requests per transaction created (none when nothing was posted).
    pub requests_per_posted_transaction: Option<Decimal>,
}

/// Transaction types the engine posts.
const POSTED: [RecordType; 5] = [
    RecordType::ItemFulfillment,
    RecordType::ItemReceipt,
    RecordType::InventoryAdjustment,
    RecordType::InventoryStatusChange,
    RecordType::InventoryTransfer,
];

/// Whether a request serves a posting rather than polling or reconciliation (see
/// [`NetSuiteTally::posting_requests`]).
pub fn is_posting_request(kind: &RequestKind) -> bool {
    match kind {
        RequestKind::LookupByExternalId(_) => true,
        RequestKind::Read(record) => POSTED.iter().any(|t| t.as_str() == record),
        RequestKind::SuiteQl(table) => table == "inventorynumber",
        other => other.is_write(),
    }
}

/// Stock agreement after the day.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DriftTally {
    /// Positions (SKU × location × status) compared.
    pub positions: usize,
    /// In step.
    pub in_step: usize,
    /// Explained by movements still in flight.
    pub explained_by_in_flight: usize,
    /// Unexplained drift.
    pub drift: usize,
    /// Sum of the unexplained differences, in units.
    pub unexplained_units: Decimal,
    /// Value of the unexplained differences at NetSuite's average cost (magnitudes added up).
    pub value_impact: Decimal,
    /// Drifting positions whose cost NetSuite does not know (not in `value_impact`).
    pub drift_without_cost: usize,
    /// Reconciliation runs in the drift history, this final one included.
    pub history_runs: usize,
    /// The drifting positions: `SKU @ location (status): clarus / netsuite / in flight`.
    pub drifting: Vec<String>,
    /// What the scheduled reconciliations found while the day ran.
    pub during_day: DayDriftTally,
}

/// How far the engine's intake fell behind while the day ran: deliveries (Clarus webhooks)
/// stored by the intake and not yet planned, sampled now and then.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct IntakeLag {
    /// Most deliveries waiting at once.
    pub most_waiting: u64,
    /// The longest a waiting delivery had waited when sampled, in milliseconds.
    pub longest_wait_ms: u64,
}

impl IntakeLag {
    /// Samples the intake at `now`: how many deliveries wait, and since when the oldest.
    pub async fn sample(&mut self, store: &dyn Store, now: Timestamp) -> Result<(), StoreError> {
        self.most_waiting = self.most_waiting.max(store.unprocessed_count().await?);
        if let Some(oldest) = store.unprocessed_deliveries(now, 1).await?.first() {
            let waited = now.duration_since(oldest.delivery.received_at).as_millis();
            self.longest_wait_ms = self
                .longest_wait_ms
                .max(u64::try_from(waited).unwrap_or_default());
        }
        Ok(())
    }
}

/// How the day ran: how long it took, how often stock was reconciled, how far the intake fell
/// behind.
#[derive(Debug, Clone, Copy, Default)]
pub struct DayPace {
    /// Wall-clock seconds of the simulated day.
    pub elapsed_secs: f64,
    /// Seconds between the scheduled reconciliations.
    pub reconcile_every_secs: u64,
    /// The intake's lag.
    pub intake: IntakeLag,
}

/// Drift found by the scheduled reconciliations while the day ran, and the `stock-drift`
/// exceptions it raised (a position drifting in two reconciliations in a row raises one).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DayDriftTally {
    /// Seconds between the scheduled reconciliations.
    pub reconcile_every_secs: u64,
    /// Reconciliations in the drift history in which some position drifted.
    pub runs_with_drift: usize,
    /// Most positions drifting in one reconciliation.
    pub most_drifting: usize,
    /// `stock-drift` exceptions raised.
    pub exceptions_raised: usize,
    /// Of which resolved (a later reconciliation found the position back in step).
    pub exceptions_resolved: usize,
    /// Of which still open.
    pub exceptions_open: usize,
    /// How far the engine's intake fell behind.
    pub intake: IntakeLag,
}

/// The whole report, as written to JSON.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    /// When the report was made.
    pub generated_at: Timestamp,
    /// Wall-clock seconds of the simulated day.
    pub elapsed_secs: f64,
    /// Sales orders, purchase orders and returns seeded.
    pub seeded: BTreeMap<String, usize>,
    /// What the warehouse did.
    pub warehouse: WarehouseStats,
    /// Goods outs the warehouse could not finish, by Clarus status (no stock, say).
    pub unfinished_goods_outs: BTreeMap<String, usize>,
    /// Engine actions by kind.
    pub actions: BTreeMap<String, ActionTally>,
    /// NetSuite load and records.
    pub netsuite: NetSuiteTally,
    /// Webhooks.
    pub webhooks: WebhookTally,
    /// Exceptions by owner.
    pub exceptions_by_owner: BTreeMap<String, OwnerTally>,
    /// Open exceptions by kind.
    pub open_exceptions_by_kind: BTreeMap<String, u64>,
    /// Stock agreement.
    pub drift: DriftTally,
    /// Clarus goods outs despatched whose sales order has nothing fulfilled in NetSuite (must be
    /// empty once the day has settled).
    pub despatched_without_fulfilment: Vec<String>,
}

/// References of despatched goods outs whose NetSuite sales order shows no fulfilled quantity.
fn despatched_without_fulfilment(systems: &Systems) -> Vec<String> {
    let cl = systems.clarus.handle();
    let ns = systems.netsuite.handle();
    cl.goods_out_ids()
        .into_iter()
        .filter(|id| cl.goods_out_status(*id) == Some(sim::clarus::GoodsOutStatus::Completed))
        .filter_map(|id| {
            let order = cl.goods_out(id)?;
            let reference = order.get("reference")?.as_str()?.to_owned();
            let netsuite: u64 = match order.get("external_system_reference1")? {
                serde_json::Value::String(s) => s.parse().ok()?,
                serde_json::Value::Number(n) => n.as_u64()?,
                _ => return None,
            };
            let lines = ns.order_lines(
                sim::netsuite::OrderKind::SalesOrder,
                sim::netsuite::InternalId(netsuite),
            );
            lines
                .iter()
                .all(|l| l.processed.is_zero())
                .then(|| format!("{reference} (goods out {})", id.0))
        })
        .collect()
}

/// Reconciles the simulators' stock at `now` exactly as the scheduled reconciliation does
/// (`Reconciler::run_once`): drift exceptions raised and resolved, the run kept in the drift
/// history.
pub async fn reconcile_now(
    systems: &Systems,
    store: Arc<dyn Store>,
    now: Timestamp,
) -> Result<Reconciliation, SetupError> {
    let reconciler = Reconciler::new(
        store,
        systems.clarus_client()?,
        systems.netsuite_client()?,
        systems.mappings.clone(),
        ReconcileSettings::default(),
    );
    Ok(reconciler.run_once(now).await?)
}

/// Gathers the report from the simulators and the engine's store, reconciling stock on the way,
/// for a day that took `elapsed_secs` (see [`gather_paced`] for the day's reconciliation cadence
/// and intake lag, which explain drift raised during the day).
pub async fn gather(
    systems: &Systems,
    store: &Arc<dyn Store>,
    scenario: &ScenarioOptions,
    warehouse: &WarehouseStats,
    unfinished_goods_outs: BTreeMap<String, usize>,
    elapsed_secs: f64,
) -> Result<DemoReport, SetupError> {
    let pace = DayPace {
        elapsed_secs,
        ..DayPace::default()
    };
    gather_paced(
        systems,
        store,
        scenario,
        warehouse,
        unfinished_goods_outs,
        pace,
    )
    .await
}

/// [`gather`] for a day that ran at `pace`.
pub async fn gather_paced(
    systems: &Systems,
    store: &Arc<dyn Store>,
    scenario: &ScenarioOptions,
    warehouse: &WarehouseStats,
    unfinished_goods_outs: BTreeMap<String, usize>,
    pace: DayPace,
) -> Result<DemoReport, SetupError> {
    // Reconcile first: the final run resolves drift exceptions that earlier runs raised while
    // movements were on their way, so the exception tally below sees where things ended.
    let reconciled = reconcile_now(systems, store.clone(), Timestamp::now()).await?;
    let store = store.as_ref();
    let summary = &reconciled.snapshot.run.summary;
    let history = drift_history::trend(store, None, usize::MAX).await?;
    let drift_exceptions: Vec<_> = store
        .exceptions()
        .await?
        .into_iter()
        .filter(|e| e.exception.kind == DRIFT_KIND)
        .collect();
    let resolved = drift_exceptions
        .iter()
        .filter(|e| e.resolved_at.is_some())
        .count();
    let during_day = DayDriftTally {
        reconcile_every_secs: pace.reconcile_every_secs,
        runs_with_drift: history.iter().filter(|r| r.summary.drift > 0).count(),
        most_drifting: history.iter().map(|r| r.summary.drift).max().unwrap_or(0),
        exceptions_raised: drift_exceptions.len(),
        exceptions_resolved: resolved,
        exceptions_open: drift_exceptions.len() - resolved,
        intake: pace.intake,
    };
    let drift = DriftTally {
        positions: summary.positions,
        in_step: summary.in_step,
        explained_by_in_flight: summary.explained_by_in_flight,
        drift: summary.drift,
        unexplained_units: summary.unexplained_units,
        // The demo has one location, so one currency.
        value_impact: summary
            .value_impact
            .single_currency_total()
            .unwrap_or_default(),
        drift_without_cost: summary.drift_without_cost,
        history_runs: history.len(),
        drifting: reconciled
            .snapshot
            .rows
            .iter()
            .filter(|r| r.class == sync_core::DriftClass::Drift)
            .map(|r| {
                format!(
                    "{} @ {} ({:?}): clarus {} / netsuite {} / in flight {}",
                    r.sku, r.location, r.status, r.clarus, r.netsuite, r.in_flight
                )
            })
            .collect(),
        during_day,
    };
    let mut actions: BTreeMap<String, ActionTally> = BTreeMap::new();
    for count in store.action_counts().await? {
        let tally = actions.entry(count.kind).or_default();
        match count.status {
            ActionStatus::Done => tally.done += count.count,
            ActionStatus::Failed => tally.failed += count.count,
            ActionStatus::Pending | ActionStatus::Ambiguous => tally.pending += count.count,
        }
    }
    let mut exceptions_by_owner: BTreeMap<String, OwnerTally> = BTreeMap::new();
    let mut open_exceptions_by_kind: BTreeMap<String, u64> = BTreeMap::new();
    for e in store.exceptions().await? {
        let tally = exceptions_by_owner
            .entry(e.exception.owner.clone())
            .or_default();
        if e.resolved_at.is_some() {
            tally.resolved += 1;
        } else {
            tally.open += 1;
            *open_exceptions_by_kind.entry(e.exception.kind).or_default() += 1;
        }
    }

    let ns = systems.netsuite.handle();
    let stats = ns.stats();
    let transactions: BTreeMap<String, usize> = POSTED
        .into_iter()
        .map(|t| (t.as_str().to_owned(), ns.count(t)))
        .collect();
    let counts = ns.request_counts();
    let posting_requests = counts.count(is_posting_request);
    let posted: usize = transactions.values().sum();
    let requests_per_posted_transaction =
        (posted > 0).then(|| (Decimal::from(posting_requests) / Decimal::from(posted)).round_dp(2));
    let netsuite = NetSuiteTally {
        requests: stats.requests,
        throttled: stats.throttled,
        server_errors: stats.server_errors_before_commit,
        lost_replies: stats.commits_then_failed,
        max_in_flight: stats.max_in_flight,
        transactions,
        duplicate_external_ids: ns.duplicate_external_ids().len(),
        requests_by_kind: counts.by_label(),
        posting_requests,
        requests_per_posted_transaction,
    };

    let log = systems.clarus.handle().webhook_log();
    let webhooks = WebhookTally {
        fired: log.len(),
        duplicated: log.iter().filter(|w| w.copies.len() > 1).count(),
        lost: log.iter().filter(|w| w.lost).count(),
    };

    let despatched_without_fulfilment = despatched_without_fulfilment(systems);

    Ok(DemoReport {
        generated_at: Timestamp::now(),
        elapsed_secs: pace.elapsed_secs,
        seeded: BTreeMap::from([
            ("sales_orders".to_owned(), scenario.orders),
            ("purchase_orders".to_owned(), scenario.purchase_orders),
            ("return_authorisations".to_owned(), scenario.returns),
            ("items".to_owned(), scenario.skus),
        ]),
        warehouse: warehouse.clone(),
        unfinished_goods_outs,
        actions,
        netsuite,
        webhooks,
        exceptions_by_owner,
        open_exceptions_by_kind,
        drift,
        despatched_without_fulfilment,
    })
}

impl DemoReport {
    /// A summary for people, one line per figure.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let w = &self.warehouse;
        let _ = writeln!(out, "Simulated warehouse day in {:.1} s", self.elapsed_secs);
        let _ = writeln!(
            out,
            "  seeded:      {} sales orders, {} purchase orders, {} returns, {} items",
            self.seeded["sales_orders"],
            self.seeded["purchase_orders"],
            self.seeded["return_authorisations"],
            self.seeded["items"]
        );
        let _ = writeln!(
            out,
            "  warehouse:   {} despatched ({} short-picked, {} parcels), {} cancelled, {} receipts ({} into quarantine), {} stock movements",
            w.despatched,
            w.short_picked,
            w.parcels,
            w.cancelled,
            w.received,
            w.quarantined,
            w.movements
        );
        if w.receipts_resent > 0 {
            let _ = writeln!(
                out,
                "  operations:  {} lost goods-in webhooks re-sent from Clarus after `receipt-not-reported` (receipt lines cannot be read back)",
                w.receipts_resent
            );
        }
        if !self.unfinished_goods_outs.is_empty() {
            let _ = writeln!(
                out,
                "  not despatched (warehouse): {:?}",
                self.unfinished_goods_outs
            );
        }
        let _ = writeln!(out, "  documents per flow (done / failed / pending):");
        for (kind, t) in &self.actions {
            let _ = writeln!(
                out,
                "    {kind:<30} {:>5} / {:>3} / {:>3}",
                t.done, t.failed, t.pending
            );
        }
        let n = &self.netsuite;
        let _ = writeln!(out, "  NetSuite transactions created:");
        for (kind, count) in &n.transactions {
            let _ = writeln!(out, "    {kind:<30} {count:>5}");
        }
        let _ = writeln!(
            out,
            "  NetSuite load: {} requests, {} throttled (429, absorbed), {} injected 5xx, {} lost replies, at most {} in flight",
            n.requests, n.throttled, n.server_errors, n.lost_replies, n.max_in_flight
        );
        if let Some(per) = n.requests_per_posted_transaction {
            let _ = writeln!(
                out,
                "  NetSuite requests per posted transaction (polling aside): {per:.2} ({} requests for {} transactions)",
                n.posting_requests,
                n.transactions.values().sum::<usize>()
            );
        }
        let _ = writeln!(
            out,
            "  duplicates: {} webhooks sent twice, {} lost (caught by the sweep), {} duplicate NetSuite transactions",
            self.webhooks.duplicated, self.webhooks.lost, n.duplicate_external_ids
        );
        let _ = writeln!(out, "  exceptions by owner (open / resolved):");
        for (owner, t) in &self.exceptions_by_owner {
            let _ = writeln!(out, "    {owner:<30} {:>5} / {:>5}", t.open, t.resolved);
        }
        if !self.despatched_without_fulfilment.is_empty() {
            let _ = writeln!(
                out,
                "  DESPATCHED WITHOUT A FULFILMENT IN NETSUITE: {:?}",
                self.despatched_without_fulfilment
            );
        }
        if !self.open_exceptions_by_kind.is_empty() {
            let _ = writeln!(
                out,
                "  open exceptions by kind: {:?}",
                self.open_exceptions_by_kind
            );
        }
        let d = &self.drift;
        let _ = writeln!(
            out,
            "  stock: {} positions, {} in step, {} explained by in-flight movements, {} drifting ({} units unexplained, valued at {}; {} without a cost); {} reconciliations in the drift history",
            d.positions,
            d.in_step,
            d.explained_by_in_flight,
            d.drift,
            d.unexplained_units,
            d.value_impact.round_dp(2),
            d.drift_without_cost,
            d.history_runs
        );
        for row in &d.drifting {
            let _ = writeln!(out, "    drifting: {row}");
        }
        out.push_str(&self.drift_during_day());
        out
    }

    /// What the reconciliations found while the day ran, and why, in plain words; nothing when
    /// no position drifted in any of them.
    fn drift_during_day(&self) -> String {
        let d = &self.drift.during_day;
        let runs = self.drift.history_runs;
        if d.runs_with_drift == 0 {
            return String::new();
        }
        if d.exceptions_raised == 0 {
            let why = if d.intake.longest_wait_ms >= 1000 {
                format!(
                    "Clarus webhooks waited in the engine's intake (up to {}, the oldest for {} \
                     s): a reconciliation taken while they wait records what it sees but raises \
                     no drift, as their movements are not planned yet; the positions were in \
                     step once the intake caught up",
                    d.intake.most_waiting,
                    (Decimal::from(d.intake.longest_wait_ms) / Decimal::ONE_THOUSAND).round_dp(1)
                )
            } else {
                "each position was in step again at the next reconciliation (one is raised when \
                 a position drifts in two reconciliations in a row)"
                    .to_owned()
            };
            return wrapped(
                "  ",
                &format!(
                    "drift during the day: positions differed in {} of {runs} reconciliations \
                     (at most {}), and no stock-drift exception was raised: {why}.",
                    d.runs_with_drift, d.most_drifting
                ),
            );
        }
        let open = match d.exceptions_open {
            0 => "none remain open".to_owned(),
            n => format!("{n} remain open (the drifting positions above)"),
        };
        let mut out = wrapped(
            "  ",
            &format!(
                "drift during the day: {} stock-drift exceptions were raised and {} resolved; \
                 {open}.",
                d.exceptions_raised, d.exceptions_resolved
            ),
        );
        let cause = if d.intake.longest_wait_ms >= 1000 {
            format!(
                "Clarus sent webhooks faster than the engine planned them: up to {} waited in \
                 the engine's intake, the oldest for {} s. A reconciliation counts as in \
                 flight only the postings the engine has planned, not webhooks still waiting, so",
                d.intake.most_waiting,
                (Decimal::from(d.intake.longest_wait_ms) / Decimal::ONE_THOUSAND).round_dp(1)
            )
        } else {
            "Clarus had moved stock that the engine had not planned yet (a webhook on its way, \
             or lost until the sweep found it), so"
                .to_owned()
        };
        out.push_str(&wrapped(
            "    ",
            &format!(
                "Why: this day is compressed into {:.0} s and stock was reconciled every {} s (a \
                 real day reconciles hourly). {cause} Clarus stock already moved by despatches, \
                 receipts and movements differed from NetSuite's in {} of {runs} reconciliations \
                 (at most {} positions). A position drifting in two reconciliations in a row \
                 raises an exception; a later reconciliation resolves it once the position is \
                 back in step. `--reconcile-every-secs 3600` plays the day with hourly \
                 reconciliation (the drift history then holds the end-of-day run only).",
                self.elapsed_secs, d.reconcile_every_secs, d.runs_with_drift, d.most_drifting
            ),
        ));
        out
    }
}

/// `text` in lines of at most [`WRAP_WIDTH`] characters (a longer word stays whole), each
/// starting with `indent`.
fn wrapped(indent: &str, text: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.len() + 1 + word.len() > WRAP_WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if line.len() > indent.len() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The width [`wrapped`] text is kept to.
const WRAP_WIDTH: usize = 100;

/// Builds the operations report from the store at `now` and writes it as a self-contained HTML
/// page, and as JSON when `json` is given. Creates missing directories.
pub async fn write_operations_report(
    store: &dyn Store,
    drift: DriftInput,
    now: Timestamp,
    html: &Path,
    json: Option<&Path>,
    options: &HtmlOptions,
) -> Result<OperationsReport, SetupError> {
    let report = build(store, drift, &ReportOptions::default(), now).await?;
    for path in std::iter::once(html).chain(json) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
    }
    // Business data: readable by the owner only.
    sync_engine::report::write_file(html, html::render(&report, options))?;
    if let Some(json) = json {
        sync_engine::report::write_file(json, serde_json::to_vec_pretty(&report)?)?;
    }
    Ok(report)
}

/// A link to this checkout's operations guide (`docs/operations.md`) as a `file://` URL, when
/// the checkout is where the binary was built; the relative default otherwise.
pub fn local_guide_url() -> String {
    let guide = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/operations.md");
    match guide.canonicalize() {
        Ok(path) => format!("file://{}", path.display()),
        Err(_) => HtmlOptions::default().guide_url,
    }
}
