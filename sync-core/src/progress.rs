//! Warehouse progress of a goods out before it is despatched: the milestones operations watch
//! between "sent to Clarus" and "despatched".
//!
//! Progress is informational. It posts nothing and raises nothing; it is recorded so that a
//! sales order's lifecycle shows when the warehouse acknowledged it and when picking started.

use crate::ids::{GoodsOutId, NetSuiteId, Tenant};
use crate::source::{Name, Revision, SourceId, System};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A milestone a goods out reaches in the warehouse before it is despatched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoodsOutMilestone {
    /// Clarus processed the goods out for picking: stock is allocated and the order is on a
    /// pick list (goods out `processed`, pick list `created`).
    Acknowledged,
    /// The warehouse picked the goods out, or part of it (pick list `picked` or `completed`).
    Picking,
}

impl GoodsOutMilestone {
    /// A short, stable name: `acknowledged`, `picking`.
    pub fn code(self) -> &'static str {
        match self {
            GoodsOutMilestone::Acknowledged => "acknowledged",
            GoodsOutMilestone::Picking => "picking",
        }
    }
}

impl fmt::Display for GoodsOutMilestone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A goods out reached a milestone in the warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsOutProgress {
    /// Clarus tenant.
    pub tenant: Tenant,
    /// Clarus goods-out id.
    pub goods_out: GoodsOutId,
    /// NetSuite sales order internal id (the goods out's `external_system_reference1`).
    pub order: NetSuiteId,
    /// The milestone reached.
    pub milestone: GoodsOutMilestone,
}

impl GoodsOutProgress {
    /// The source identity of this progress: one per goods out and milestone,
    /// `(Clarus, goods_out, <id>, <milestone>, Sequence(0))`.
    ///
    /// Whichever webhook reports a milestone first (a goods out `processed`, a pick list
    /// `created`, or a redelivery of either), the identity is the same, so the first report is
    /// recorded and every later one plans nothing.
    pub fn source_id(&self) -> SourceId {
        SourceId {
            system: System::Clarus,
            resource: Name::new("goods_out"),
            id: Name::new(self.goods_out.to_string()),
            event: Name::new(self.milestone.code()),
            revision: Revision::Sequence(0),
        }
    }
}
