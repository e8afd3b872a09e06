//! The `[close]` table of `sync.toml`: which items that do not block a month-end close by
//! default block it (see [`crate::close`] and `docs/decisions/close.md`).
//!
//! ```
//! use sync_engine::close_settings::CloseSettings;
//!
//! let settings: CloseSettings = toml::from_str("warnings_block = true").unwrap();
//! let rules = settings.rules();
//! assert!(rules.warnings_block);
//! assert!(!rules.earlier_periods_block);
//! assert!(rules.unconfirmed_drift_blocks);
//! assert!(toml::from_str::<CloseSettings>("warning_block = true").is_err());
//! ```

use serde::Deserialize;
use sync_core::close::CloseRules;

/// Close settings; every switch defaults to the rules' defaults ([`CloseRules::default`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CloseSettings {
    /// Open warnings of the period block (default `false`).
    pub warnings_block: bool,
    /// What would block an earlier period blocks this one too (default `false`).
    pub earlier_periods_block: bool,
    /// Errors of operations, the item master or the integration that hold no posting of the
    /// period block (default `false`).
    pub other_errors_block: bool,
    /// Drift seen at the latest reconciliation but not yet confirmed by an exception blocks
    /// (default `true`).
    pub unconfirmed_drift_blocks: bool,
}

impl Default for CloseSettings {
    fn default() -> Self {
        let rules = CloseRules::default();
        CloseSettings {
            warnings_block: rules.warnings_block,
            earlier_periods_block: rules.earlier_periods_block,
            other_errors_block: rules.other_errors_block,
            unconfirmed_drift_blocks: rules.unconfirmed_drift_blocks,
        }
    }
}

impl CloseSettings {
    /// The close rules these settings give.
    pub fn rules(&self) -> CloseRules {
        CloseRules {
            warnings_block: self.warnings_block,
            earlier_periods_block: self.earlier_periods_block,
            other_errors_block: self.other_errors_block,
            unconfirmed_drift_blocks: self.unconfirmed_drift_blocks,
        }
    }
}
