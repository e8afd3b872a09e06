//! When each flow's NetSuite postings are sent: at once, or collected into batches.

use serde::Deserialize;

/// When a flow's NetSuite postings are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Cadence {
    /// As soon as planned.
    Immediate,
    /// Collected and sent every `every_secs` seconds, at most `max_lines` lines a transaction.
    Batched {
        /// Seconds between batches.
        every_secs: u64,
        /// Lines per NetSuite transaction.
        max_lines: usize,
    },
}

/// Cadence per flow. Despatches and receipts are immediate by default; adjustments may be
/// batched to stay inside NetSuite's governance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CadenceSettings {
    /// Fulfilments.
    pub despatches: Cadence,
    /// Item receipts.
    pub receipts: Cadence,
    /// Inventory adjustments and stock moves.
    pub adjustments: Cadence,
}

impl Default for CadenceSettings {
    fn default() -> Self {
        CadenceSettings {
            despatches: Cadence::Immediate,
            receipts: Cadence::Immediate,
            adjustments: Cadence::Immediate,
        }
    }
}
