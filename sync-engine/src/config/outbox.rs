//! The outbox worker (`[outbox]`).

use std::time::Duration;

use serde::Deserialize;

/// Outbox worker settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxSettings {
    /// Actions running at once across documents.
    pub max_in_flight: usize,
    /// Attempts before an action is given up with an exception.
    pub max_attempts: u32,
    /// First retry delay in milliseconds (doubles per attempt).
    pub backoff_base_ms: u64,
    /// Longest retry delay in seconds.
    pub backoff_max_secs: u64,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            max_in_flight: 32,
            max_attempts: 12,
            backoff_base_ms: 200,
            backoff_max_secs: 300,
        }
    }
}

impl OutboxSettings {
    /// The outbox worker's configuration.
    pub fn outbox_config(&self) -> crate::outbox::OutboxConfig {
        crate::outbox::OutboxConfig {
            max_in_flight: self.max_in_flight,
            backoff_base: Duration::from_millis(self.backoff_base_ms),
            backoff_max: Duration::from_secs(self.backoff_max_secs),
            max_attempts: self.max_attempts,
            ..crate::outbox::OutboxConfig::default()
        }
    }
}
