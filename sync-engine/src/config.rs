//! Engine configuration: a TOML file for everything that is not secret, environment variables
//! for everything that is.
//!
//! Every endpoint (NetSuite, Clarus, the webhook listen address) is configurable, so the same
//! engine runs against the real systems, a sandbox or the simulators. See
//! `examples/sync.example.toml` for a commented example; secrets are read by the clients
//! (`NETSUITE_*`, `CLARUS_CLIENT_ID`, `CLARUS_CLIENT_SECRET`) and by the intake
//! (`CLARUS_WEBHOOK_SECRET`), and the store's PostgreSQL password by
//! [`crate::store_location`] (`SYNC_STORE_PASSWORD` or `PGPASSWORD`).

mod clarus;
mod drift;
mod health;
mod limits;
mod netsuite;
mod outbox;
mod poll;
mod store;
mod webhook;

pub use crate::cadence::{Cadence, CadenceSettings};
pub use clarus::{ClarusSettings, SWEEP_OVERLAP_SECS};
pub use drift::DriftSettings;
pub use health::{HealthSettings, MonitorSettings};
pub use limits::LimitsSettings;
pub use netsuite::{NetSuiteLocationSettings, NetSuiteSettings};
pub use outbox::OutboxSettings;
pub use poll::PollSettings;
pub use store::PostgresSettings;
pub use webhook::{WebhookSettings, check_webhook_secret, check_webhook_secret_named};

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::Deserialize;
use sync_core::MappingTables;

use crate::store_location::StoreLocation;

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid configuration: {0}")]
    Parse(#[from] toml::de::Error),
    /// A value is out of range or contradicts another.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the ledger, outbox and exceptions are (`store`, or its older name `store_path`):
    /// the path of a SQLite file, or a `postgres://` URL (its password never shown).
    #[serde(rename = "store", alias = "store_path")]
    pub store: StoreLocation,
    /// Days state-log entries covered by a snapshot and the recorded events of finished
    /// documents are kept before the `history-retention` job deletes them (1 to 3653, default
    /// 90). See [`crate::retention::HistoryRetention`].
    #[serde(default = "default_keep_history_days")]
    pub keep_history_days: u32,
    /// The PostgreSQL store's pool (`[postgres]`); ignored for a SQLite store.
    #[serde(default)]
    pub postgres: PostgresSettings,
    /// The Clarus tenant name used in idempotency keys (usually the subdomain).
    pub tenant: String,
    /// NetSuite connection.
    pub netsuite: NetSuiteSettings,
    /// Clarus connection.
    pub clarus: ClarusSettings,
    /// The webhook endpoint.
    pub webhook: WebhookSettings,
    /// NetSuite polling.
    #[serde(default)]
    pub poll: PollSettings,
    /// The outbox worker.
    #[serde(default)]
    pub outbox: OutboxSettings,
    /// Immediate or batched flows.
    #[serde(default)]
    pub cadence: CadenceSettings,
    /// Stock reconciliation.
    #[serde(default)]
    pub drift: DriftSettings,
    /// Mapping tables between the two systems.
    #[serde(default)]
    pub mappings: MappingTables,
    /// Alert sinks and routing by owner.
    #[serde(default)]
    pub alerts: crate::alerts::AlertsSettings,
    /// Document monitoring.
    #[serde(default)]
    pub monitor: MonitorSettings,
    /// What blocks a month-end close (`[close]`). See [`crate::close_settings`].
    #[serde(default)]
    pub close: crate::close_settings::CloseSettings,
    /// Scheduled-job and delivery health: when a failing job or a stalled delivery raises an
    /// exception, and when readiness turns a job or connection stale.
    #[serde(default)]
    pub health: HealthSettings,
    /// Plausibility limits on what Clarus reports.
    #[serde(default)]
    pub limits: LimitsSettings,
    /// How this instance shares a PostgreSQL store with others (`[cluster]`: instance id,
    /// lease timings, the NetSuite share). See [`crate::cluster`].
    #[serde(default)]
    pub cluster: crate::cluster::ClusterSettings,
    /// The operations console (`[console]`); `sync run` serves it when present. See
    /// [`crate::console_settings`].
    #[serde(default)]
    pub console: Option<crate::console_settings::ConsoleSettings>,
}

/// The environment variable holding the webhook shared secret.
pub const WEBHOOK_SECRET_VAR: &str = "CLARUS_WEBHOOK_SECRET";

/// The environment variable holding, during a rotation, the previous webhook shared secret,
/// accepted as well until Clarus delivers with the new one.
pub const WEBHOOK_SECRET_PREVIOUS_VAR: &str = "CLARUS_WEBHOOK_SECRET_PREVIOUS";

/// Longest retention of processed deliveries accepted, in days (ten years).
const MAX_KEEP_DAYS: u64 = 3_653;

/// History is kept 90 days by default.
fn default_keep_history_days() -> u32 {
    90
}

/// Longest intake timeout accepted, in seconds (a day).
const MAX_TIMEOUT_SECS: u64 = 86_400;

/// A TOML error, unless the line it points at holds a PostgreSQL URL: then its message and line
/// number only, without the line (the URL may hold a password).
fn parse_error(text: &str, error: toml::de::Error) -> ConfigError {
    let Some(span) = error.span() else {
        return error.into();
    };
    // The line holding the span's start (byte offsets; any that is not a char boundary is
    // treated as the whole text, to stay on the safe side).
    let at = span.start.min(text.len());
    let (before, after) = match (text.get(..at), text.get(at..)) {
        (Some(before), Some(after)) => (before, after),
        _ => ("", text),
    };
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let end = before.len() + after.find('\n').unwrap_or(after.len());
    let line_text = text.get(start..end).unwrap_or(text);
    if !line_text.to_ascii_lowercase().contains("postgres") {
        return error.into();
    }
    let line = before.matches('\n').count() + 1;
    ConfigError::Invalid(format!(
        "line {line}: {} (the line is not shown, it may hold a password)",
        error.message().trim_end()
    ))
}

impl Config {
    /// Reads and checks a TOML file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Parses and checks TOML text.
    ///
    /// An error never quotes a line holding a PostgreSQL URL (it may hold a password).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| parse_error(text, e))?;
        if table.contains_key("store") && table.contains_key("store_path") {
            return Err(ConfigError::Invalid(
                "both `store` and `store_path` are set: keep only `store` (`store_path` is its \
                 older name)"
                    .into(),
            ));
        }
        // Checked here so that a bad URL is refused without the line that holds it.
        if let Some(toml::Value::String(store)) =
            table.get("store").or_else(|| table.get("store_path"))
        {
            StoreLocation::parse(store).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        }
        let config: Config = toml::from_str(text).map_err(|e| parse_error(text, e))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        self.postgres.check()?;
        self.cluster.validate().map_err(ConfigError::Invalid)?;
        if !SWEEP_OVERLAP_SECS.contains(&self.clarus.sweep_overlap_secs) {
            return Err(ConfigError::Invalid(format!(
                "clarus.sweep_overlap_secs must be {} to {}",
                SWEEP_OVERLAP_SECS.start(),
                SWEEP_OVERLAP_SECS.end()
            )));
        }
        if let Some(console) = &self.console {
            console.validate().map_err(ConfigError::Invalid)?;
        }
        if jiff::tz::TimeZone::get(&self.poll.time_zone).is_err() {
            return Err(ConfigError::Invalid(format!(
                "poll.time_zone: unknown time zone {:?}",
                self.poll.time_zone
            )));
        }
        if self.outbox.max_in_flight == 0 {
            return Err(ConfigError::Invalid(
                "outbox.max_in_flight must be at least 1".into(),
            ));
        }
        if self.netsuite.concurrency == Some(0) {
            return Err(ConfigError::Invalid(
                "netsuite.concurrency must be at least 1".into(),
            ));
        }
        for (flow, cadence) in [
            ("despatches", self.cadence.despatches),
            ("receipts", self.cadence.receipts),
            ("adjustments", self.cadence.adjustments),
        ] {
            if let Cadence::Batched {
                every_secs,
                max_lines,
            } = cadence
                && (every_secs == 0 || max_lines == 0)
            {
                return Err(ConfigError::Invalid(format!(
                    "cadence.{flow}: every_secs and max_lines must be at least 1"
                )));
            }
        }
        if self.drift.units < Decimal::ZERO || self.drift.percent < Decimal::ZERO {
            return Err(ConfigError::Invalid(
                "drift thresholds cannot be negative".into(),
            ));
        }
        if self.drift.interval_secs == 0 {
            return Err(ConfigError::Invalid(
                "drift.interval_secs must be at least 1".into(),
            ));
        }
        if self.drift.history_days == 0 {
            return Err(ConfigError::Invalid(
                "drift.history_days must be at least 1".into(),
            ));
        }
        if self.drift.confirm_runs == 0 {
            return Err(ConfigError::Invalid(
                "drift.confirm_runs must be at least 1".into(),
            ));
        }
        if self
            .drift
            .value_alert_threshold
            .is_some_and(|v| v < Decimal::ZERO)
        {
            return Err(ConfigError::Invalid(
                "drift.value_alert_threshold cannot be negative".into(),
            ));
        }
        if self.health.failures_before_exception == 0 {
            return Err(ConfigError::Invalid(
                "health.failures_before_exception must be at least 1".into(),
            ));
        }
        if self.health.delivery_stall_secs == 0 || self.health.stale_floor_secs == 0 {
            return Err(ConfigError::Invalid(
                "health.delivery_stall_secs and health.stale_floor_secs must be at least 1".into(),
            ));
        }
        if self.limits.max_movement_quantity <= rust_decimal::Decimal::ZERO {
            return Err(ConfigError::Invalid(
                "limits.max_movement_quantity must be positive".into(),
            ));
        }
        self.webhook.check()?;
        if !(1..=MAX_KEEP_DAYS).contains(&u64::from(self.keep_history_days)) {
            return Err(ConfigError::Invalid(format!(
                "keep_history_days must be 1 to {MAX_KEEP_DAYS}"
            )));
        }
        if let Ok(secret) = std::env::var(WEBHOOK_SECRET_VAR) {
            check_webhook_secret(&secret)?;
        }
        if let Ok(previous) = std::env::var(WEBHOOK_SECRET_PREVIOUS_VAR)
            && !previous.trim().is_empty()
        {
            check_webhook_secret_named(WEBHOOK_SECRET_PREVIOUS_VAR, &previous)?;
        }
        self.mapping_tables()?;
        Ok(())
    }

    /// The mapping tables, validated and indexed, with the configured limits.
    pub fn mapping_tables(&self) -> Result<sync_core::Mappings, ConfigError> {
        Ok(sync_core::Mappings::new(self.mappings.clone())
            .map_err(|e| ConfigError::Invalid(format!("mappings: {e}")))?
            .with_movement_limit(self.limits.max_movement_quantity))
    }
}

/// The smallest whole configuration, for the tests of one part of it: `store` holds the store
/// keys, `netsuite` and `clarus` extra lines (keys, then tables) of those sections.
#[cfg(test)]
pub(crate) fn minimal_config(
    store: &str,
    netsuite: &str,
    clarus: &str,
) -> Result<Config, ConfigError> {
    Config::from_toml(&format!(
        r#"{store}
tenant = "acme"
[netsuite]
account_id = "1234567"
{netsuite}
[clarus]
subdomain = "acme"
account_id = 1
stock_unit_type_id = 1
{clarus}
[webhook]
listen = "127.0.0.1:0"
public_url = "https://sync.example.com/webhooks"
"#
    ))
}
