//! The records the Clarus simulator keeps, and the error and event types its operations answer.

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::clarus::MAIN_ACCOUNT;

/// A Clarus record id (an integer in REST, a string in GraphQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClarusId(pub u64);

impl std::fmt::Display for ClarusId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Stock status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StockStatus {
    /// Available for allocation.
    Available,
    /// On hold (quarantine): stays where it is but cannot be allocated.
    Held,
}

impl StockStatus {
    /// The wire value, `available` or `held`.
    pub fn as_str(self) -> &'static str {
        match self {
            StockStatus::Available => "available",
            StockStatus::Held => "held",
        }
    }
}

/// The default goods-out statuses (`GoodsOutStatusId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoodsOutStatus {
    /// 1 DRAFT.
    Draft,
    /// 2 PENDING, awaiting allocation.
    Pending,
    /// 3 PICK, being picked.
    Pick,
    /// 5 ALLOCATED.
    Allocated,
    /// 6 COMPLETED, dispatched.
    Completed,
    /// 7 PART_ALLOCATED.
    PartAllocated,
    /// 8 CANCELLED.
    Cancelled,
}

impl GoodsOutStatus {
    /// The numeric status id.
    pub fn id(self) -> u64 {
        match self {
            GoodsOutStatus::Draft => 1,
            GoodsOutStatus::Pending => 2,
            GoodsOutStatus::Pick => 3,
            GoodsOutStatus::Allocated => 5,
            GoodsOutStatus::Completed => 6,
            GoodsOutStatus::PartAllocated => 7,
            GoodsOutStatus::Cancelled => 8,
        }
    }

    /// The status code, e.g. `COMPLETED`.
    pub fn code(self) -> &'static str {
        match self {
            GoodsOutStatus::Draft => "DRAFT",
            GoodsOutStatus::Pending => "PENDING",
            GoodsOutStatus::Pick => "PICK",
            GoodsOutStatus::Allocated => "ALLOCATED",
            GoodsOutStatus::Completed => "COMPLETED",
            GoodsOutStatus::PartAllocated => "PART_ALLOCATED",
            GoodsOutStatus::Cancelled => "CANCELLED",
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            GoodsOutStatus::Draft => "Draft",
            GoodsOutStatus::Pending => "Pending",
            GoodsOutStatus::Pick => "Pick",
            GoodsOutStatus::Allocated => "Allocated",
            GoodsOutStatus::Completed => "Completed",
            GoodsOutStatus::PartAllocated => "Part Allocated",
            GoodsOutStatus::Cancelled => "Cancelled",
        }
    }
}

/// An error answered as `{"errors":[{code, symbol, details, source?}]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClarusError {
    pub status: u16,
    pub code: u32,
    pub symbol: &'static str,
    pub details: String,
    pub source: Option<String>,
}

impl ClarusError {
    pub(crate) fn unprocessable(
        code: u32,
        symbol: &'static str,
        details: impl Into<String>,
    ) -> Self {
        Self {
            status: 422,
            code,
            symbol,
            details: details.into(),
            source: None,
        }
    }

    pub(crate) fn not_found(what: &str, id: u64) -> Self {
        Self {
            status: 404,
            code: 904,
            symbol: "record_not_found",
            details: format!("{what} {id} not found"),
            source: None,
        }
    }

    pub(crate) fn at(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }
}

/// A webhook-worthy event: resource name, event name and the full record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub resource: &'static str,
    pub event: &'static str,
    pub record: Value,
}

#[derive(Debug, Clone)]
pub(crate) struct Named {
    pub code: String,
    pub name: String,
    pub warehouse: Option<u64>,
}

impl Named {
    pub(crate) fn new(
        code: impl Into<String>,
        name: impl Into<String>,
        warehouse: Option<u64>,
    ) -> Self {
        Self {
            code: code.into(),
            name: name.into(),
            warehouse,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub attrs: Map<String, Value>,
    pub created: Timestamp,
    pub updated: Timestamp,
}

#[derive(Debug, Clone)]
pub(crate) struct Stock {
    pub product: u64,
    pub account: u64,
    pub warehouse: u64,
    pub location: u64,
    pub status: StockStatus,
    pub quantity: Decimal,
    pub batch: Option<String>,
    pub serial: Option<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// Where stock is put: product, owner, location, status and batch/serial.
#[derive(Debug, Clone)]
pub(crate) struct Placement {
    pub product: u64,
    pub account: u64,
    pub location: u64,
    pub status: StockStatus,
    pub batch: Option<String>,
    pub serial: Option<String>,
}

impl Placement {
    /// Stock of the seeded account at a location, with no batch or serial number.
    pub(crate) fn main_account(product: u64, location: u64, status: StockStatus) -> Self {
        Self {
            product,
            account: MAIN_ACCOUNT.0,
            location,
            status,
            batch: None,
            serial: None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Pick {
    pub stock: u64,
    pub quantity: Decimal,
    pub batch: Option<String>,
    pub serial: Option<String>,
    pub location: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct GoodsOutLine {
    pub id: u64,
    pub product: u64,
    pub order_quantity: Decimal,
    pub allocations: Vec<(u64, Decimal)>,
    pub picks: Vec<Pick>,
    pub dispatch_quantity: Decimal,
    pub short_status: String,
    pub attrs: Map<String, Value>,
    pub created: Timestamp,
}

impl GoodsOutLine {
    pub(crate) fn allocated(&self) -> Decimal {
        self.allocations.iter().map(|(_, q)| *q).sum::<Decimal>() + self.picked()
    }

    pub(crate) fn picked(&self) -> Decimal {
        self.picks.iter().map(|p| p.quantity).sum()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct GoodsOut {
    pub attrs: Map<String, Value>,
    pub address: Option<Value>,
    pub status: GoodsOutStatus,
    pub lines: Vec<GoodsOutLine>,
    pub shipments: Vec<u64>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub dispatched: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub stock: u64,
    pub quantity: Decimal,
    pub batch: Option<String>,
    pub serial: Option<String>,
    pub status: StockStatus,
}

#[derive(Debug, Clone)]
pub(crate) struct GoodsInLine {
    pub id: u64,
    pub product: u64,
    pub expected: Decimal,
    pub received: Vec<Received>,
    pub attrs: Map<String, Value>,
}

impl GoodsInLine {
    pub(crate) fn received_quantity(&self) -> Decimal {
        self.received.iter().map(|r| r.quantity).sum()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct GoodsIn {
    pub attrs: Map<String, Value>,
    pub address: Option<Value>,
    pub status: String,
    pub lines: Vec<GoodsInLine>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub received_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub id: u64,
    pub tracking_number: Option<String>,
    pub attrs: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub(crate) struct Shipment {
    pub goods_out: u64,
    pub attrs: Map<String, Value>,
    pub status: String,
    pub tracking_number: Option<String>,
    pub packages: Vec<Package>,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// A pick list: the picking work of one or more goods outs. Processing picks opens one per
/// goods out; picking marks it `picked`; despatch `completed`; cancelling the goods out
/// `cancelled`. Pick lists have their own id sequence, as each Clarus table does.
#[derive(Debug, Clone)]
pub(crate) struct PickList {
    pub goods_outs: Vec<u64>,
    pub account: u64,
    pub warehouse: u64,
    pub status: &'static str,
    pub created: Timestamp,
    pub updated: Timestamp,
}

#[derive(Debug, Clone)]
pub(crate) struct AutomationAction {
    pub id: u64,
    pub attrs: Map<String, Value>,
    pub parameters: Vec<(u64, Map<String, Value>)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Automation {
    pub resource_name: String,
    pub event: String,
    pub name: Option<String>,
    pub enabled: bool,
    pub conditions: Vec<(u64, Map<String, Value>)>,
    pub actions: Vec<AutomationAction>,
}

impl Automation {
    pub(crate) fn parameter(action: &AutomationAction, code: &str) -> Option<String> {
        action.parameters.iter().find_map(|(_, p)| {
            (p.get("parameter_code").and_then(Value::as_str) == Some(code))
                .then(|| p.get("value").and_then(Value::as_str).map(str::to_string))
                .flatten()
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct StockCheck {
    pub location: u64,
    pub status: String,
    pub task: u64,
    pub product: Option<u64>,
    pub expected: Option<Decimal>,
    pub counted: Option<Decimal>,
}
