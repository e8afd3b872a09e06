//! Stock reconciliation (`[drift]`).

use std::time::Duration;

use rust_decimal::Decimal;
use serde::Deserialize;
use sync_core::Thresholds;

/// Reconciliation settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DriftSettings {
    /// Seconds between snapshot reconciliations.
    pub interval_secs: u64,
    /// Tolerated difference in units.
    pub units: Decimal,
    /// Tolerated difference in percent of on-hand.
    pub percent: Decimal,
    /// Days of drift history kept (each run's summary and the positions not in step).
    pub history_days: u32,
    /// Value of unexplained drift, in the account currency at NetSuite's average cost, above
    /// which one exception is raised for finance (`drift-value`). Absent: finance is not
    /// alerted on value.
    pub value_alert_threshold: Option<Decimal>,
    /// Consecutive reconciliations a position must drift in before its `stock-drift`
    /// exception is raised (1: at once; 2 confirms a difference seen at a busy moment).
    pub confirm_runs: u32,
    /// The account's base currency (ISO 4217, `USD`): the currency of NetSuite's costs at
    /// locations without one of their own. Absent: values are shown in `XXX` (no currency).
    pub currency: Option<sync_core::money::Currency>,
    /// Locations whose subsidiary keeps another currency (`[drift.location_currencies]`,
    /// location internal id to currency code).
    pub location_currencies: std::collections::BTreeMap<String, sync_core::money::Currency>,
}

impl Default for DriftSettings {
    fn default() -> Self {
        DriftSettings {
            interval_secs: 3600,
            units: Decimal::ZERO,
            percent: Decimal::ZERO,
            history_days: 90,
            value_alert_threshold: None,
            confirm_runs: 1,
            currency: None,
            location_currencies: std::collections::BTreeMap::new(),
        }
    }
}

impl DriftSettings {
    /// The thresholds for the core's drift computation.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            units: self.units,
            percent: self.percent,
        }
    }

    /// The settings of the scheduled (and on-demand) reconciliation.
    pub fn reconcile_settings(&self) -> crate::reconcile::ReconcileSettings {
        crate::reconcile::ReconcileSettings {
            thresholds: self.thresholds(),
            interval: Duration::from_secs(self.interval_secs),
            history_days: self.history_days,
            value_alert_threshold: self.value_alert_threshold,
            confirm_runs: self.confirm_runs,
            currencies: self.currencies(),
        }
    }

    /// The currency of each location's costs.
    pub fn currencies(&self) -> sync_core::money::LocationCurrencies {
        let mut currencies =
            sync_core::money::LocationCurrencies::new(self.currency.unwrap_or_default());
        for (location, currency) in &self.location_currencies {
            currencies.insert(location.as_str().into(), *currency);
        }
        currencies
    }
}
