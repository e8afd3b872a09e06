//! Month-end close: reads the store and applies the close rules of [`sync_core::close`] into a
//! [`CloseReport`], the view model that `sync close-check`, the console's close page and its
//! CSV export all show.
//!
//! What the report is built from:
//!
//! - warehouse activity and its postings: the document lifecycles ([`crate::monitor`]), with
//!   each despatch's, receipt's and movement's lines from its NetSuite ledger action (SKU,
//!   location, units), or from the Clarus event while no action is planned;
//! - open exceptions, each dated by the activity it concerns (its document, or for an
//!   `action-failed` exception the action it names);
//! - the latest reconciliation of the [drift history](crate::drift_history): drifting positions
//!   that no open `stock-drift` exception confirms yet;
//! - optionally NetSuite's unit costs with each location's currency ([`Valuation`]), to value
//!   the totals. Without them every value is unknown, never zero.
//!
//! ```no_run
//! # async fn demo(store: &dyn sync_engine::store::Store) -> Result<(), Box<dyn std::error::Error>> {
//! use sync_engine::close::{ClosePeriod, CloseRules, close_report};
//!
//! let period: ClosePeriod = "2026-11".parse()?;
//! let period = period.in_time_zone(jiff::tz::TimeZone::get("America/New_York")?);
//! let report = close_report(store, &period, &CloseRules::default(), None, jiff::Timestamp::now()).await?;
//! for item in report.blockers() {
//!     println!("{}: {} ({})", item.category.label(), item.document, item.message);
//! }
//! std::fs::write("close-2026-11.csv", report.to_csv())?;
//! # Ok(()) }
//! ```

use std::collections::{HashMap, HashSet};
use sync_core::subject::ExceptionSubject;

use jiff::Timestamp;
use serde::Serialize;
use sync_core::close::{
    Activity, CloseAssessment, CloseInputs, DriftPosition, OpenException, PostingState, TieOutLine,
    TransactionType, assess, tie_out_lines,
};
use sync_core::money::{Amount, LocationCurrencies};
use sync_core::{DocumentRef, Event, LocationId, PlannedAction, Sku};

use crate::engine::document_key;
use crate::monitor::{Flow, MonitorError, Posting, lifecycles};
use crate::netsuite::UnitCosts;
use crate::reconcile::DRIFT_KIND;
use crate::store::{OutboxAction, Store, StoreError};

pub use sync_core::close::{
    CloseCategory, CloseItem, ClosePeriod, CloseRules, Costing, NoCosts, PeriodError, TieOut,
};

mod csv;

/// The close could not be assessed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CloseError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The document lifecycles could not be read.
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    /// The drift history could not be read.
    #[error(transparent)]
    DriftHistory(#[from] crate::drift_history::HistoryError),
}

/// NetSuite's unit costs and each location's currency: what values the close totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valuation {
    /// Average costs by SKU (and location).
    pub costs: UnitCosts,
    /// The currency of each location's costs.
    pub currencies: LocationCurrencies,
}

impl Costing for Valuation {
    fn unit_cost(&self, sku: &Sku, location: &LocationId) -> Option<Amount> {
        Some(Amount {
            value: self.costs.unit_cost(sku, location)?,
            currency: self.currencies.currency(location),
        })
    }
}

/// The latest reconciliation as the close shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReconciliationSeen {
    /// When it compared the systems.
    pub at: Timestamp,
    /// Positions compared.
    pub positions: usize,
    /// Positions drifting.
    pub drift: usize,
}

/// Everything about closing one period: what blocks, what is only shown, and the totals to tie
/// out. Serialises to the JSON `sync close-check --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloseReport {
    /// The period, `2026-11`.
    pub period: String,
    /// Its days, `2026-11-01..2026-12-01` (end exclusive).
    pub range: String,
    /// The time zone the days are in.
    pub time_zone: String,
    /// When the report was made.
    pub generated_at: Timestamp,
    /// The rules applied.
    pub rules: CloseRules,
    /// Whether anything blocks the close.
    pub blocking: bool,
    /// Blocking items first, then by category, oldest first.
    pub items: Vec<CloseItem>,
    /// Per flow and NetSuite transaction type.
    pub totals: Vec<TieOut>,
    /// Whether NetSuite's costs were given, so values could be computed.
    pub valued: bool,
    /// The latest reconciliation, when one was recorded.
    pub last_reconciliation: Option<ReconciliationSeen>,
}

impl CloseReport {
    /// The items that block the close.
    pub fn blockers(&self) -> impl Iterator<Item = &CloseItem> {
        self.items.iter().filter(|i| i.blocking)
    }

    /// The items shown without blocking.
    pub fn non_blocking(&self) -> impl Iterator<Item = &CloseItem> {
        self.items.iter().filter(|i| !i.blocking)
    }

    /// How many items of each category block, and how many are only shown, in category order.
    pub fn counts(&self) -> Vec<(CloseCategory, usize, usize)> {
        let mut counts: std::collections::BTreeMap<CloseCategory, (usize, usize)> =
            Default::default();
        for item in &self.items {
            let c = counts.entry(item.category).or_default();
            if item.blocking {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
        }
        counts.into_iter().map(|(k, (b, n))| (k, b, n)).collect()
    }

    /// The report as CSV for a spreadsheet: one row per item (`record` = `item`), then per
    /// flow and transaction type one `total` row with documents and units and one `value` row
    /// per currency. Text that a spreadsheet would read as a formula is prefixed with `'`.
    pub fn to_csv(&self) -> String {
        csv::report(self)
    }
}

/// Reads the store and assesses closing `period` under `rules`, valuing the totals with
/// `valuation` when given.
pub async fn close_report(
    store: &dyn Store,
    period: &ClosePeriod,
    rules: &CloseRules,
    valuation: Option<&Valuation>,
    now: Timestamp,
) -> Result<CloseReport, CloseError> {
    let inputs = close_inputs(store).await?;
    let costs: &dyn Costing = match valuation {
        Some(v) => v,
        None => &NoCosts,
    };
    let CloseAssessment {
        blocking,
        items,
        totals,
    } = assess(period, rules, &inputs.inputs, costs);
    Ok(CloseReport {
        period: period.label(),
        range: period.range(),
        time_zone: period.time_zone.iana_name().unwrap_or("UTC").to_owned(),
        generated_at: now,
        rules: *rules,
        blocking,
        items,
        totals,
        valued: valuation.is_some(),
        last_reconciliation: inputs.last_reconciliation,
    })
}

struct Read {
    inputs: CloseInputs,
    last_reconciliation: Option<ReconciliationSeen>,
}

/// The ledger actions and the lines of each despatch, receipt and movement, by its document.
struct Parts {
    lines: HashMap<String, (TransactionType, Vec<TieOutLine>)>,
    /// Action key → the activity document it posts.
    actions: HashMap<String, String>,
}

async fn parts(store: &dyn Store) -> Result<Parts, CloseError> {
    let actions = store.actions().await?;
    let mut by_document: HashMap<&str, Vec<&OutboxAction>> = HashMap::new();
    let mut by_event: HashMap<String, Vec<&OutboxAction>> = HashMap::new();
    let records = store.action_records().await?;
    let event_of: HashMap<&str, &str> = records
        .iter()
        .map(|r| (r.key.as_str(), r.event_key.as_str()))
        .collect();
    for a in &actions {
        by_document.entry(&a.action.document).or_default().push(a);
        if let Some(event) = event_of.get(a.action.key.as_str()) {
            by_event.entry((*event).to_owned()).or_default().push(a);
        }
    }
    let mut parts = Parts {
        lines: HashMap::new(),
        actions: HashMap::new(),
    };
    for recorded in store.recorded_events().await? {
        let Ok(event) = serde_json::from_value::<Event>(recorded.event) else {
            continue;
        };
        let Some((part, fallback)) = activity_of(&event) else {
            continue;
        };
        let name = part.to_string();
        let mut seen = HashSet::new();
        let mut ledger: Option<(TransactionType, Vec<TieOutLine>)> = None;
        for action in by_document
            .get(document_key(&part).as_str())
            .into_iter()
            .flatten()
            .chain(by_event.get(&recorded.event_key).into_iter().flatten())
        {
            if !seen.insert(action.action.key.as_str()) {
                continue;
            }
            let Ok(planned) =
                serde_json::from_value::<PlannedAction>(action.action.payload.clone())
            else {
                continue;
            };
            if let Some((transaction, lines)) = tie_out_lines(&planned.action) {
                parts
                    .actions
                    .insert(action.action.key.clone(), name.clone());
                let entry = ledger.get_or_insert((transaction, Vec::new()));
                entry.1.extend(lines);
            }
        }
        // A later version of the same despatch or receipt replaces the lines of the first.
        parts.lines.insert(name, ledger.unwrap_or(fallback));
    }
    Ok(parts)
}

/// The activity document of a despatch, receipt or movement event, with its lines as Clarus
/// reported them (no location yet).
fn activity_of(event: &Event) -> Option<(DocumentRef, (TransactionType, Vec<TieOutLine>))> {
    let line = |sku: &Sku, units| TieOutLine {
        sku: sku.clone(),
        location: None,
        units,
    };
    Some(match &event.payload {
        sync_core::Payload::Despatch(d) => (
            DocumentRef::Despatch {
                tenant: d.tenant.clone(),
                goods_out: d.goods_out,
                despatch: d.despatch.clone(),
            },
            (
                TransactionType::ItemFulfillment,
                d.lines.iter().map(|l| line(&l.sku, l.quantity)).collect(),
            ),
        ),
        sync_core::Payload::Receipt(r) => (
            DocumentRef::Receipt {
                tenant: r.tenant.clone(),
                goods_in: r.goods_in,
                receipt: r.receipt.clone(),
            },
            (
                TransactionType::ItemReceipt,
                r.lines.iter().map(|l| line(&l.sku, l.quantity)).collect(),
            ),
        ),
        sync_core::Payload::StockMovement(m) => {
            use sync_core::MovementKind::*;
            let (transaction, units) = match m.kind {
                PositiveAdjustment | StockCheckGain => {
                    (TransactionType::InventoryAdjustment, m.quantity)
                }
                NegativeAdjustment | StockCheckLoss | Breakage => {
                    (TransactionType::InventoryAdjustment, -m.quantity)
                }
                Hold | Release => (TransactionType::InventoryStatusChange, m.quantity),
            };
            (
                DocumentRef::Movement {
                    tenant: m.tenant.clone(),
                    movement: m.id,
                },
                (transaction, vec![line(&m.sku, units)]),
            )
        }
        _ => return None,
    })
}

fn posting_state(posting: Posting) -> PostingState {
    match posting {
        Posting::Posted { .. } => PostingState::Posted,
        Posting::Queued => PostingState::Queued,
        Posting::Failed => PostingState::Failed,
        Posting::Withheld => PostingState::Withheld,
        Posting::NothingToPost => PostingState::NothingToPost,
    }
}

async fn close_inputs(store: &dyn Store) -> Result<Read, CloseError> {
    let lifecycles = lifecycles(store).await?;
    let mut parts = parts(store).await?;
    let mut activity = Vec::new();
    // Document name → when the activity it names (or its order's activity) happened.
    let mut dates: HashMap<String, Vec<Timestamp>> = HashMap::new();
    for l in &lifecycles {
        let order = l.document.to_string();
        for a in &l.activity {
            let name = a.document.to_string();
            let (transaction, lines) = parts
                .lines
                .remove(&name)
                .unwrap_or_else(|| (default_transaction(l.flow), Vec::new()));
            dates.entry(name.clone()).or_default().push(a.occurred_at);
            dates.entry(order.clone()).or_default().push(a.occurred_at);
            activity.push(Activity {
                document: order.clone(),
                activity: name,
                flow: l.flow.code().to_owned(),
                occurred_at: a.occurred_at,
                posting: posting_state(a.posting),
                transaction,
                lines,
            });
        }
    }

    let mut exceptions = Vec::new();
    let mut drift_documents = HashSet::new();
    for e in store.open_exceptions().await? {
        let x = e.exception;
        if x.kind == DRIFT_KIND {
            drift_documents.insert(x.document.clone());
        }
        let failed_action = (x.kind == sync_core::close::ACTION_FAILED_KIND)
            .then(|| x.payload.get("action").and_then(|a| a.as_str()))
            .flatten()
            .and_then(|key| parts.actions.get(key));
        let ledger_action = x.kind == sync_core::close::ACTION_FAILED_KIND
            && (failed_action.is_some()
                || matches!(
                    ExceptionSubject::parse(&x.key),
                    Some(ExceptionSubject::Batch(_))
                ));
        let concerns = failed_action
            .and_then(|activity| dates.get(activity))
            .or_else(|| dates.get(&x.document))
            .cloned()
            .unwrap_or_default();
        exceptions.push(OpenException {
            key: x.key,
            kind: x.kind,
            owner: x.owner,
            severity: x.severity,
            document: x.document,
            message: x.message,
            raised_at: e.raised_at,
            runbook: x.runbook,
            concerns,
            ledger_action,
        });
    }

    let latest = crate::drift_history::latest(store).await?;
    let mut unconfirmed_drift = Vec::new();
    if let Some(snapshot) = &latest {
        for row in &snapshot.rows {
            if row.class != sync_core::DriftClass::Drift {
                continue;
            }
            let document = DocumentRef::StockPosition {
                sku: row.sku.clone(),
                location: row.location.clone(),
                status: row.status,
            }
            .to_string();
            if !drift_documents.contains(&document) {
                unconfirmed_drift.push(DriftPosition {
                    document,
                    seen_at: snapshot.run.at,
                    clarus: row.clarus,
                    netsuite: row.netsuite,
                    in_flight: row.in_flight,
                    unexplained: row.unexplained,
                    value: row.value(),
                });
            }
        }
    }
    Ok(Read {
        inputs: CloseInputs {
            activity,
            exceptions,
            unconfirmed_drift,
        },
        last_reconciliation: latest.map(|s| ReconciliationSeen {
            at: s.run.at,
            positions: s.run.summary.positions,
            drift: s.run.summary.drift,
        }),
    })
}

fn default_transaction(flow: Flow) -> TransactionType {
    match flow {
        Flow::SalesOrder => TransactionType::ItemFulfillment,
        Flow::PurchaseOrder | Flow::ReturnAuthorisation => TransactionType::ItemReceipt,
        Flow::Adjustment => TransactionType::InventoryAdjustment,
    }
}
