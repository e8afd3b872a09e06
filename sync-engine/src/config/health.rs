//! Scheduled-job and delivery health (`[health]`) and document monitoring (`[monitor]`).

use std::time::Duration;

use serde::Deserialize;

/// Health settings (`[health]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthSettings {
    /// Failed runs in a row after which a scheduled job raises its `job-failing` exception (an
    /// error that waiting cannot clear, such as refused credentials, raises it at once).
    pub failures_before_exception: u32,
    /// Seconds a delivery may keep failing to be read before it raises its `delivery-stalled`
    /// exception.
    pub delivery_stall_secs: u64,
    /// Seconds without a success after which a job or connection is stale in `/readyz`, at the
    /// least (a job is stale after three of its intervals when that is longer).
    pub stale_floor_secs: u64,
}

impl Default for HealthSettings {
    fn default() -> Self {
        let d = crate::health::HealthConfig::default();
        HealthSettings {
            failures_before_exception: d.failures_before_exception,
            delivery_stall_secs: d.delivery_stall.as_secs(),
            stale_floor_secs: d.stale_floor.as_secs(),
        }
    }
}

impl HealthSettings {
    /// The health registry's configuration.
    pub fn health_config(&self) -> crate::health::HealthConfig {
        crate::health::HealthConfig {
            failures_before_exception: self.failures_before_exception,
            stale_floor: Duration::from_secs(self.stale_floor_secs),
            delivery_stall: Duration::from_secs(self.delivery_stall_secs),
        }
    }
}

/// Document monitoring settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorSettings {
    /// Age thresholds per stage after which a document is raised as stuck.
    pub stuck: crate::monitor::StuckConfig,
}
