//! Plausibility limits on what Clarus reports (`[limits]`).

use serde::Deserialize;

/// Plausibility limits (`[limits]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSettings {
    /// The largest quantity one stock movement may move; a larger one raises
    /// `implausible-quantity` for operations instead of being posted. Default 100,000.
    pub max_movement_quantity: rust_decimal::Decimal,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        LimitsSettings {
            max_movement_quantity: sync_core::Mappings::DEFAULT_MOVEMENT_LIMIT,
        }
    }
}
