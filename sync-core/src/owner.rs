//! Who acts on an exception, and how urgently.

use serde::{Deserialize, Serialize};

/// Who must act on an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// Warehouse operations: stock discrepancies and fulfilment status in Clarus.
    Operations,
    /// Finance: inventory value, accounts and invoicing in NetSuite.
    Finance,
    /// Whoever owns the item master: SKUs, barcodes, tracking.
    ItemMaster,
    /// The integration's administrators: mappings, configuration, unexpected input.
    Integration,
}

impl Owner {
    /// The owner as stored and routed (`operations`, `finance`, `item_master`, `integration`),
    /// the same text as its serde form.
    ///
    /// ```
    /// use sync_core::Owner;
    ///
    /// assert_eq!(Owner::ItemMaster.code(), "item_master");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            Self::Operations => "operations",
            Self::Finance => "finance",
            Self::ItemMaster => "item_master",
            Self::Integration => "integration",
        }
    }
}

/// How urgent an exception is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look; nothing is blocked.
    Warning,
    /// A document (or part of one) is blocked until someone acts.
    Error,
}

impl Severity {
    /// The severity as stored (`warning`, `error`), the same text as its serde form.
    ///
    /// ```
    /// use sync_core::Severity;
    ///
    /// assert_eq!(Severity::Warning.code(), "warning");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}
