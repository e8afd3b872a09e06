//! When each flow's NetSuite postings are sent: at once, or collected into batches.

use serde::Deserialize;

pub use sync_core::batching::Cadence;

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
