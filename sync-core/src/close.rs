//! Month-end close: what blocks closing a period, what is only shown, and the totals finance
//! ties out against NetSuite.
//!
//! The rules, applied by [`assess`] to facts the engine reads from its store:
//!
//! - **Blocking**: warehouse activity (despatches, receipts, stock movements) that happened in
//!   the period and is not posted to NetSuite (queued, failed, or withheld by an exception);
//!   failed NetSuite postings of the period; unexplained stock drift (open `stock-drift` and
//!   `drift-value` exceptions, and positions drifting at the latest reconciliation that no
//!   exception confirms yet); finance's open errors of the period.
//! - **Shown, not blocking** (each can be made blocking in [`CloseRules`]): warnings (such as
//!   short despatches), items of earlier periods, and other owners' errors that hold no posting
//!   of the period (an order held for an unknown SKU blocks the close only through the
//!   despatch it holds, which is then an unposted document).
//! - **Left out**: items of later periods; they cannot change the books of this one.
//!
//! An exception belongs to the periods of the warehouse activity it concerns (the engine finds
//! that activity through the exception's document); one that concerns no activity belongs to
//! the period it was raised in. Drift is not dated: it is the state of stock now, and always
//! concerns the close.
//!
//! The totals ([`TieOut`]) are per flow and NetSuite transaction type: documents, units, and
//! value at NetSuite's average cost, each for all activity of the period and for what is posted.
//! Values are kept per currency ([`ValueTotals`]): amounts of different currencies are never
//! added together. A line whose cost is unknown has no value and is counted apart.
//!
//! ```
//! use jiff::Timestamp;
//! use rust_decimal::Decimal;
//! use sync_core::close::*;
//!
//! let november: ClosePeriod = "2026-11".parse().unwrap();
//! let at: Timestamp = "2026-11-15T10:00:00Z".parse().unwrap();
//! let short_pick = OpenException {
//!     key: "EXC-short-despatch-SO-501".into(),
//!     kind: "short-despatch".into(),
//!     owner: "operations".into(),
//!     severity: "warning".into(),
//!     document: "sales order 501".into(),
//!     message: "4 of 5 despatched".into(),
//!     raised_at: at,
//!     runbook: "operations.md#short-despatch".into(),
//!     concerns: vec![at],
//!     ledger_action: false,
//! };
//! let inputs = CloseInputs { exceptions: vec![short_pick], ..CloseInputs::default() };
//! let check = assess(&november, &CloseRules::default(), &inputs, &NoCosts);
//! assert!(!check.blocking, "a warning is shown without blocking");
//! assert_eq!(check.items[0].category, CloseCategory::Warning);
//!
//! let strict = CloseRules { warnings_block: true, ..CloseRules::default() };
//! assert!(assess(&november, &strict, &inputs, &NoCosts).blocking);
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::exception::ExceptionKind;
use crate::ids::{LocationId, Sku};
use crate::mapping::StockPlace;
use crate::money::{Amount, ValueTotals};

/// A period to close: from `start` (inclusive) to `end` (exclusive), in a time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosePeriod {
    /// First day.
    pub start: Date,
    /// The day after the last day.
    pub end: Date,
    /// The time zone the days are in (NetSuite's, for posting dates).
    pub time_zone: TimeZone,
}

/// A period that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a period: expected YYYY-MM")]
pub struct PeriodError {
    /// What was given.
    pub input: String,
}

/// Where a moment falls relative to a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodRelation {
    /// Before its first day.
    Earlier,
    /// In it.
    Within,
    /// On or after the day after its last day.
    Later,
}

impl ClosePeriod {
    /// The calendar month of `year` and `month` (1-12), in UTC.
    pub fn month(year: i16, month: i8) -> Result<Self, PeriodError> {
        let error = || PeriodError {
            input: format!("{year:04}-{month:02}"),
        };
        let start = Date::new(year, month, 1).map_err(|_| error())?;
        let end = start
            .checked_add(jiff::Span::new().months(1))
            .map_err(|_| error())?;
        Ok(ClosePeriod {
            start,
            end,
            time_zone: TimeZone::UTC,
        })
    }

    /// The same days in another time zone.
    pub fn in_time_zone(mut self, time_zone: TimeZone) -> Self {
        self.time_zone = time_zone;
        self
    }

    /// Where `at` falls relative to the period.
    pub fn relation(&self, at: Timestamp) -> PeriodRelation {
        let day = self.time_zone.to_datetime(at).date();
        if day < self.start {
            PeriodRelation::Earlier
        } else if day < self.end {
            PeriodRelation::Within
        } else {
            PeriodRelation::Later
        }
    }

    /// Whether `at` falls in the period.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.relation(at) == PeriodRelation::Within
    }

    /// `2026-11` for a calendar month, else `2026-11-01..2026-12-01` (end exclusive).
    pub fn label(&self) -> String {
        let next = self.start.checked_add(jiff::Span::new().months(1)).ok();
        if self.start.day() == 1 && next == Some(self.end) {
            format!("{:04}-{:02}", self.start.year(), self.start.month())
        } else {
            self.range()
        }
    }

    /// `2026-11-01..2026-12-01` (end exclusive).
    pub fn range(&self) -> String {
        format!("{}..{}", self.start, self.end)
    }
}

impl FromStr for ClosePeriod {
    type Err = PeriodError;

    /// Reads `YYYY-MM`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || PeriodError {
            input: s.to_owned(),
        };
        let (year, month) = s.trim().split_once('-').ok_or_else(error)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(error());
        }
        let year: i16 = year.parse().map_err(|_| error())?;
        let month: i8 = month.parse().map_err(|_| error())?;
        ClosePeriod::month(year, month).map_err(|_| error())
    }
}

/// Which of the items that do not block by default block the close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloseRules {
    /// Open warnings of the period (short despatches, barcode differences) block.
    pub warnings_block: bool,
    /// Items of earlier periods that would block their own period block this one too.
    pub earlier_periods_block: bool,
    /// Open errors of operations, the item master or the integration that hold no posting of
    /// the period block.
    pub other_errors_block: bool,
    /// Positions drifting at the latest reconciliation without an exception yet (waiting for
    /// `[drift] confirm_runs`) block.
    pub unconfirmed_drift_blocks: bool,
}

impl Default for CloseRules {
    /// Only unposted activity, failed postings, unexplained drift (confirmed or not) and
    /// finance's errors of the period block.
    fn default() -> Self {
        CloseRules {
            warnings_block: false,
            earlier_periods_block: false,
            other_errors_block: false,
            unconfirmed_drift_blocks: true,
        }
    }
}

/// Why an item is on the close list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseCategory {
    /// Warehouse activity of the period not posted to NetSuite.
    UnpostedDocument,
    /// A NetSuite posting that the outbox gave up on.
    FailedPosting,
    /// Stock drift an exception confirms (`stock-drift`, `drift-value`).
    UnexplainedDrift,
    /// A position drifting at the latest reconciliation, not yet confirmed by an exception.
    UnconfirmedDrift,
    /// An open error owned by finance.
    FinanceException,
    /// An open warning.
    Warning,
    /// An item of an earlier period.
    EarlierPeriod,
    /// Another owner's open error that holds no posting of the period.
    OtherException,
}

impl CloseCategory {
    /// A short, stable name (`unposted_document`, ...).
    pub fn code(self) -> &'static str {
        match self {
            CloseCategory::UnpostedDocument => "unposted_document",
            CloseCategory::FailedPosting => "failed_posting",
            CloseCategory::UnexplainedDrift => "unexplained_drift",
            CloseCategory::UnconfirmedDrift => "unconfirmed_drift",
            CloseCategory::FinanceException => "finance_exception",
            CloseCategory::Warning => "warning",
            CloseCategory::EarlierPeriod => "earlier_period",
            CloseCategory::OtherException => "other_exception",
        }
    }

    /// The category for people.
    pub fn label(self) -> &'static str {
        match self {
            CloseCategory::UnpostedDocument => "not posted to NetSuite",
            CloseCategory::FailedPosting => "failed posting",
            CloseCategory::UnexplainedDrift => "unexplained drift",
            CloseCategory::UnconfirmedDrift => "drift not yet confirmed",
            CloseCategory::FinanceException => "finance exception",
            CloseCategory::Warning => "warning",
            CloseCategory::EarlierPeriod => "earlier period",
            CloseCategory::OtherException => "other exception",
        }
    }
}

impl fmt::Display for CloseCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Where the NetSuite posting of one piece of warehouse activity stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostingState {
    /// Posted.
    Posted,
    /// In the outbox, not yet done.
    Queued,
    /// The outbox gave up.
    Failed,
    /// Nothing was queued and an open exception holds it.
    Withheld,
    /// Nothing was queued and nothing holds it: there is nothing to post.
    NothingToPost,
}

impl PostingState {
    /// Whether the posting is settled (posted, or nothing to post).
    pub fn is_settled(self) -> bool {
        matches!(self, PostingState::Posted | PostingState::NothingToPost)
    }

    /// A short, stable name (`queued`, ...).
    pub fn code(self) -> &'static str {
        match self {
            PostingState::Posted => "posted",
            PostingState::Queued => "queued",
            PostingState::Failed => "failed",
            PostingState::Withheld => "withheld",
            PostingState::NothingToPost => "nothing_to_post",
        }
    }
}

/// The NetSuite transaction a piece of warehouse activity posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionType {
    /// Item Fulfillment of a sales order.
    ItemFulfillment,
    /// Item Receipt of a purchase order or return authorisation.
    ItemReceipt,
    /// Inventory Adjustment.
    InventoryAdjustment,
    /// Inventory Status Change (a hold or release within a location).
    InventoryStatusChange,
    /// Inventory Transfer (a hold or release to or from a quarantine location).
    InventoryTransfer,
}

impl TransactionType {
    /// A short, stable name (`item_fulfillment`, ...).
    pub fn code(self) -> &'static str {
        match self {
            TransactionType::ItemFulfillment => "item_fulfillment",
            TransactionType::ItemReceipt => "item_receipt",
            TransactionType::InventoryAdjustment => "inventory_adjustment",
            TransactionType::InventoryStatusChange => "inventory_status_change",
            TransactionType::InventoryTransfer => "inventory_transfer",
        }
    }

    /// NetSuite's name of the transaction.
    pub fn label(self) -> &'static str {
        match self {
            TransactionType::ItemFulfillment => "Item Fulfillment",
            TransactionType::ItemReceipt => "Item Receipt",
            TransactionType::InventoryAdjustment => "Inventory Adjustment",
            TransactionType::InventoryStatusChange => "Inventory Status Change",
            TransactionType::InventoryTransfer => "Inventory Transfer",
        }
    }
}

impl fmt::Display for TransactionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One line of a posting as finance ties it out: the units the transaction carries (positive
/// for fulfilments, receipts and transfers; signed for adjustments) of a SKU at a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TieOutLine {
    /// The item.
    pub sku: Sku,
    /// The NetSuite location, when known (activity not yet planned as a posting has none, and
    /// then no value).
    pub location: Option<LocationId>,
    /// Units.
    pub units: Decimal,
}

/// The transaction type and lines of a NetSuite ledger action; `None` for other actions.
///
/// ```
/// use sync_core::close::{TransactionType, tie_out_lines};
/// use sync_core::Action;
///
/// let cancel = Action::CancelGoodsOut { order: sync_core::OrderRef::sales("501"), reference: "SO1".into() };
/// assert!(tie_out_lines(&cancel).is_none());
/// ```
pub fn tie_out_lines(action: &Action) -> Option<(TransactionType, Vec<TieOutLine>)> {
    let line = |sku: &Sku, location: &LocationId, units| TieOutLine {
        sku: sku.clone(),
        location: Some(location.clone()),
        units,
    };
    match action {
        Action::FulfilSalesOrder(f) => Some((
            TransactionType::ItemFulfillment,
            f.lines
                .iter()
                .map(|l| line(&l.sku, &f.location, l.quantity))
                .collect(),
        )),
        Action::ReceivePurchaseOrder(r) | Action::ReceiveReturnAuthorisation(r) => Some((
            TransactionType::ItemReceipt,
            r.lines
                .iter()
                .map(|l| {
                    let location = match &l.place {
                        Some(StockPlace::Location { location }) => location,
                        _ => &r.location,
                    };
                    line(&l.line.sku, location, l.line.quantity)
                })
                .collect(),
        )),
        Action::PostInventoryAdjustment(a) => Some((
            TransactionType::InventoryAdjustment,
            vec![line(&a.sku, &a.location, a.quantity)],
        )),
        Action::MoveStock(m) => {
            let transfer = matches!(m.from, StockPlace::Location { .. })
                || matches!(m.to, StockPlace::Location { .. });
            let from = match &m.from {
                StockPlace::Location { location } => location,
                StockPlace::Status { .. } => &m.location,
            };
            Some((
                if transfer {
                    TransactionType::InventoryTransfer
                } else {
                    TransactionType::InventoryStatusChange
                },
                vec![line(&m.sku, from, m.quantity)],
            ))
        }
        _ => None,
    }
}

/// One despatch, receipt or stock movement, as the close sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    /// The order, or the movement for adjustments.
    pub document: String,
    /// The despatch, receipt or movement.
    pub activity: String,
    /// The flow (`sales_order`, `purchase_order`, `return_authorisation`, `adjustment`).
    pub flow: String,
    /// When it happened in Clarus: the posting's transaction date.
    pub occurred_at: Timestamp,
    /// Its NetSuite posting.
    pub posting: PostingState,
    /// The transaction it posts (or would post).
    pub transaction: TransactionType,
    /// Its lines.
    pub lines: Vec<TieOutLine>,
}

/// An open exception as the close sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenException {
    /// Its key.
    pub key: String,
    /// Its kind (`short-despatch`, `action-failed`, `stock-drift`, ...).
    pub kind: String,
    /// Its owner (`operations`, `finance`, `item_master`, `integration`).
    pub owner: String,
    /// `error` or `warning`.
    pub severity: String,
    /// The document concerned.
    pub document: String,
    /// What happened.
    pub message: String,
    /// When it was raised.
    pub raised_at: Timestamp,
    /// Runbook anchor in the operations guide.
    pub runbook: String,
    /// When the warehouse activity it concerns happened; empty when it concerns none (it then
    /// belongs to the period it was raised in).
    pub concerns: Vec<Timestamp>,
    /// Whether it reports a NetSuite ledger posting the outbox gave up on.
    pub ledger_action: bool,
}

/// A position drifting at the latest reconciliation without an open exception.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftPosition {
    /// The stock position (SKU, location, status).
    pub document: String,
    /// When the reconciliation saw it.
    pub seen_at: Timestamp,
    /// Clarus on hand.
    pub clarus: Decimal,
    /// NetSuite on hand.
    pub netsuite: Decimal,
    /// In flight to NetSuite.
    pub in_flight: Decimal,
    /// `clarus − netsuite − in_flight`.
    pub unexplained: Decimal,
    /// Its value at NetSuite's average cost, when known.
    pub value: Option<Amount>,
}

/// NetSuite's unit cost of a SKU at a location, in the location's currency.
pub trait Costing {
    /// The unit cost, when known.
    fn unit_cost(&self, sku: &Sku, location: &LocationId) -> Option<Amount>;
}

/// No costs known: every value is unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCosts;

impl Costing for NoCosts {
    fn unit_cost(&self, _: &Sku, _: &LocationId) -> Option<Amount> {
        None
    }
}

/// What the close is assessed on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CloseInputs {
    /// Every despatch, receipt and stock movement known.
    pub activity: Vec<Activity>,
    /// Every open exception.
    pub exceptions: Vec<OpenException>,
    /// Positions drifting at the latest reconciliation without an open exception.
    pub unconfirmed_drift: Vec<DriftPosition>,
}

/// One item on the close list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloseItem {
    /// Why it is listed.
    pub category: CloseCategory,
    /// Whether it blocks the close.
    pub blocking: bool,
    /// The document concerned (an order, a movement, a stock position).
    pub document: String,
    /// The despatch, receipt or movement, for warehouse activity.
    pub activity: Option<String>,
    /// The flow, for warehouse activity.
    pub flow: Option<String>,
    /// The posting's state, for warehouse activity.
    pub posting: Option<PostingState>,
    /// The exception's key (for `sync exceptions resolve`).
    pub key: Option<String>,
    /// The exception's kind.
    pub kind: Option<String>,
    /// The exception's owner.
    pub owner: Option<String>,
    /// The exception's severity.
    pub severity: Option<String>,
    /// When it happened (activity) or was raised (exception) or seen (drift).
    pub at: Timestamp,
    /// What it is, for people.
    pub message: String,
    /// The runbook anchor, for exceptions.
    pub runbook: Option<String>,
    /// Its value, when known (activity and drift).
    pub value: Option<Amount>,
}

/// Totals of one flow and transaction type in the period, to tie out against NetSuite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TieOut {
    /// The flow.
    pub flow: String,
    /// The NetSuite transaction.
    pub transaction: TransactionType,
    /// Despatches, receipts or movements of the period.
    pub documents: usize,
    /// Those posted.
    pub posted_documents: usize,
    /// Units of all of them.
    pub units: Decimal,
    /// Units posted: what NetSuite's transactions of the period should add up to.
    pub posted_units: Decimal,
    /// Value of all of them at NetSuite's average cost, per currency.
    pub value: ValueTotals,
    /// Value posted, per currency.
    pub posted_value: ValueTotals,
    /// Lines whose value is unknown (no cost, or no location yet): not in the values.
    pub lines_without_value: usize,
}

/// The outcome of [`assess`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloseAssessment {
    /// Whether any item blocks the close.
    pub blocking: bool,
    /// Blocking items first, then by category, then oldest first.
    pub items: Vec<CloseItem>,
    /// Per flow and transaction type, in that order.
    pub totals: Vec<TieOut>,
}

impl CloseAssessment {
    /// The items that block.
    pub fn blockers(&self) -> impl Iterator<Item = &CloseItem> {
        self.items.iter().filter(|i| i.blocking)
    }

    /// The items shown without blocking.
    pub fn non_blocking(&self) -> impl Iterator<Item = &CloseItem> {
        self.items.iter().filter(|i| !i.blocking)
    }
}

/// Kinds of the exceptions that report unexplained drift.
pub const DRIFT_EXCEPTION_KINDS: &[&str] = &[
    ExceptionKind::StockDrift.code(),
    ExceptionKind::DriftValue.code(),
];

/// Kind of the exceptions for actions the outbox gave up on.
pub const ACTION_FAILED_KIND: &str = ExceptionKind::ActionFailed { action: None }.code();

/// Applies the close rules to `inputs` for `period`. Pure: the same inputs always give the same
/// assessment.
pub fn assess(
    period: &ClosePeriod,
    rules: &CloseRules,
    inputs: &CloseInputs,
    costs: &dyn Costing,
) -> CloseAssessment {
    let mut items = Vec::new();
    let mut totals: BTreeMap<(String, TransactionType), TieOut> = BTreeMap::new();
    for a in &inputs.activity {
        let relation = period.relation(a.occurred_at);
        let value = value_lines(&a.lines, costs);
        if relation == PeriodRelation::Within {
            let t = totals
                .entry((a.flow.clone(), a.transaction))
                .or_insert_with(|| TieOut {
                    flow: a.flow.clone(),
                    transaction: a.transaction,
                    documents: 0,
                    posted_documents: 0,
                    units: Decimal::ZERO,
                    posted_units: Decimal::ZERO,
                    value: ValueTotals::default(),
                    posted_value: ValueTotals::default(),
                    lines_without_value: 0,
                });
            let units: Decimal = a.lines.iter().map(|l| l.units).sum();
            t.documents += 1;
            t.units += units;
            t.value.merge(&value.totals);
            t.lines_without_value += value.unknown;
            if a.posting == PostingState::Posted {
                t.posted_documents += 1;
                t.posted_units += units;
                t.posted_value.merge(&value.totals);
            }
        }
        if a.posting.is_settled() {
            continue;
        }
        let (category, blocking) = match relation {
            PeriodRelation::Later => continue,
            PeriodRelation::Within if a.posting == PostingState::Failed => {
                (CloseCategory::FailedPosting, true)
            }
            PeriodRelation::Within => (CloseCategory::UnpostedDocument, true),
            PeriodRelation::Earlier => (CloseCategory::EarlierPeriod, rules.earlier_periods_block),
        };
        let single = value
            .totals
            .iter()
            .next()
            .filter(|_| value.unknown == 0 && value.totals.currencies().count() == 1);
        items.push(CloseItem {
            category,
            blocking,
            document: a.document.clone(),
            activity: Some(a.activity.clone()),
            flow: Some(a.flow.clone()),
            posting: Some(a.posting),
            key: None,
            kind: None,
            owner: None,
            severity: None,
            at: a.occurred_at,
            message: format!(
                "{}: {} ({})",
                a.transaction.label(),
                a.activity,
                a.posting.code().replace('_', " ")
            ),
            runbook: None,
            value: single,
        });
    }

    for e in &inputs.exceptions {
        let Some((category, blocking)) = classify_exception(period, rules, e) else {
            continue;
        };
        items.push(CloseItem {
            category,
            blocking,
            document: e.document.clone(),
            activity: None,
            flow: None,
            posting: None,
            key: Some(e.key.clone()),
            kind: Some(e.kind.clone()),
            owner: Some(e.owner.clone()),
            severity: Some(e.severity.clone()),
            at: e.raised_at,
            message: e.message.clone(),
            runbook: Some(e.runbook.clone()),
            value: None,
        });
    }

    for d in &inputs.unconfirmed_drift {
        items.push(CloseItem {
            category: CloseCategory::UnconfirmedDrift,
            blocking: rules.unconfirmed_drift_blocks,
            document: d.document.clone(),
            activity: None,
            flow: None,
            posting: None,
            key: None,
            kind: None,
            owner: None,
            severity: None,
            at: d.seen_at,
            message: format!(
                "Clarus {}, NetSuite {}, in flight {}; {} unexplained",
                d.clarus, d.netsuite, d.in_flight, d.unexplained
            ),
            runbook: None,
            value: d.value,
        });
    }

    items.sort_by(|a, b| {
        b.blocking
            .cmp(&a.blocking)
            .then(a.category.cmp(&b.category))
            .then(a.at.cmp(&b.at))
            .then_with(|| a.document.cmp(&b.document))
    });
    CloseAssessment {
        blocking: items.iter().any(|i| i.blocking),
        items,
        totals: totals.into_values().collect(),
    }
}

/// The category of an open exception and whether it blocks; `None` when it belongs to a later
/// period only.
pub fn classify_exception(
    period: &ClosePeriod,
    rules: &CloseRules,
    e: &OpenException,
) -> Option<(CloseCategory, bool)> {
    if DRIFT_EXCEPTION_KINDS.contains(&e.kind.as_str()) {
        return Some((CloseCategory::UnexplainedDrift, true));
    }
    let dates: &[Timestamp] = if e.concerns.is_empty() {
        std::slice::from_ref(&e.raised_at)
    } else {
        &e.concerns
    };
    let relations: Vec<PeriodRelation> = dates.iter().map(|d| period.relation(*d)).collect();
    let relation = if relations.contains(&PeriodRelation::Within) {
        PeriodRelation::Within
    } else if relations.contains(&PeriodRelation::Earlier) {
        PeriodRelation::Earlier
    } else {
        return None;
    };
    let warning = e.severity != "error";
    let (category, blocks) = if warning {
        (CloseCategory::Warning, rules.warnings_block)
    } else if e.kind == ACTION_FAILED_KIND && e.ledger_action {
        (CloseCategory::FailedPosting, true)
    } else if e.owner == "finance" {
        (CloseCategory::FinanceException, true)
    } else {
        (CloseCategory::OtherException, rules.other_errors_block)
    };
    Some(match relation {
        PeriodRelation::Earlier => (
            CloseCategory::EarlierPeriod,
            blocks && rules.earlier_periods_block,
        ),
        _ => (category, blocks),
    })
}

struct Valued {
    totals: ValueTotals,
    unknown: usize,
}

fn value_lines(lines: &[TieOutLine], costs: &dyn Costing) -> Valued {
    let mut valued = Valued {
        totals: ValueTotals::default(),
        unknown: 0,
    };
    for line in lines {
        match line
            .location
            .as_ref()
            .and_then(|location| costs.unit_cost(&line.sku, location))
        {
            Some(cost) => valued.totals.add(cost.currency, line.units * cost.value),
            None => valued.unknown += 1,
        }
    }
    valued
}

#[cfg(test)]
#[path = "close_tests.rs"]
mod tests;
