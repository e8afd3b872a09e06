//! Engine configuration: a TOML file for everything that is not secret, environment variables
//! for everything that is.
//!
//! Every endpoint (NetSuite, Clarus, the webhook listen address) is configurable, so the same
//! engine runs against the real systems, a sandbox or the simulators. See
//! `examples/sync.example.toml` for a commented example; secrets are read by the clients
//! (`NETSUITE_*`, `CLARUS_CLIENT_ID`, `CLARUS_CLIENT_SECRET`) and by the intake
//! (`CLARUS_WEBHOOK_SECRET`), and the store's PostgreSQL password by
//! [`crate::store_location`] (`SYNC_STORE_PASSWORD` or `PGPASSWORD`).

pub use crate::cadence::{Cadence, CadenceSettings};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rust_decimal::Decimal;
use serde::Deserialize;
use sync_core::{MappingTables, Thresholds};

use crate::intake::IntakeLimits;
use crate::store_location::{StoreLocation, StoreOptions};

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

/// The PostgreSQL store's settings (`[postgres]`), used when `store` is a `postgres://` URL.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresSettings {
    /// Connections in the pool, per instance of the engine. Default 8.
    pub max_connections: u32,
    /// Seconds a store call waits for a free connection before it fails (and is retried as
    /// transient). Default 10.
    pub acquire_timeout_secs: u64,
    /// The schema the tables live in, created when missing. Absent: the connection's
    /// `search_path` (usually `public`).
    pub schema: Option<String>,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        let d = StoreOptions::default();
        PostgresSettings {
            max_connections: d.max_connections,
            acquire_timeout_secs: d.acquire_timeout.as_secs(),
            schema: d.schema,
        }
    }
}

impl PostgresSettings {
    /// How [`crate::store_location::open_store`] opens the configured store.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            max_connections: self.max_connections,
            acquire_timeout: Duration::from_secs(self.acquire_timeout_secs),
            schema: self.schema.clone(),
        }
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_POOL_CONNECTIONS).contains(&self.max_connections) {
            return Err(ConfigError::Invalid(format!(
                "postgres.max_connections must be between 1 and {MAX_POOL_CONNECTIONS}"
            )));
        }
        if !(1..=MAX_TIMEOUT_SECS).contains(&self.acquire_timeout_secs) {
            return Err(ConfigError::Invalid(format!(
                "postgres.acquire_timeout_secs must be between 1 and {MAX_TIMEOUT_SECS}"
            )));
        }
        if self.schema.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(ConfigError::Invalid(
                "postgres.schema cannot be empty (leave it out for the search_path)".into(),
            ));
        }
        Ok(())
    }
}

/// Most connections a PostgreSQL pool may have.
const MAX_POOL_CONNECTIONS: u32 = 1000;

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

/// NetSuite connection settings (credentials come from `NETSUITE_*` variables).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetSuiteSettings {
    /// Account id, e.g. `1234567` or `1234567_SB1`.
    pub account_id: String,
    /// Overrides the host derived from the account id (simulators, proxies).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Allows a plain `http` base URL (simulators only).
    #[serde(default)]
    pub allow_http: bool,
    /// Requests in flight at once; read from `governanceLimits` when absent.
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Per-location segments of inventory postings (`[netsuite.locations."<id>"]`).
    #[serde(default)]
    pub locations: std::collections::BTreeMap<String, NetSuiteLocationSettings>,
}

/// Clarus connection settings (credentials come from `CLARUS_CLIENT_ID` and
/// `CLARUS_CLIENT_SECRET`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClarusSettings {
    /// API base URL, `https://clarus-api.com` by default.
    #[serde(default = "default_clarus_url")]
    pub base_url: String,
    /// Tenant subdomain sent as `X-Clarus-Subdomain`.
    pub subdomain: String,
    /// REST path prefix: `/api` (the spec) or `/api/v1` (older samples).
    #[serde(default = "default_prefix")]
    pub path_prefix: String,
    /// Allows a plain `http` base URL (simulators only).
    #[serde(default)]
    pub allow_http: bool,
    /// The Clarus account (stock owner) orders and receipts are created under.
    pub account_id: i64,
    /// The Clarus stock unit type new products are created with (Clarus requires one).
    pub stock_unit_type_id: i64,
    /// Seconds the Clarus sweeps leave a record to its webhook before acting on it, and look
    /// back of their watermark (`sweep_overlap_secs`, default 300, within
    /// [`SWEEP_OVERLAP_SECS`]).
    #[serde(default = "default_sweep_overlap_secs")]
    pub sweep_overlap_secs: u64,
}

/// The accepted `[clarus] sweep_overlap_secs`: at least a second (at 0 a sweep would rebuild,
/// poorer, a record whose webhook is on its way), at most a day (a lost webhook is caught only
/// an overlap after its record, and the movement sweep lists an overlap's transactions again on
/// every run).
pub const SWEEP_OVERLAP_SECS: std::ops::RangeInclusive<u64> = 1..=86_400;

fn default_sweep_overlap_secs() -> u64 {
    300
}

impl ClarusSettings {
    /// The Clarus sweeps' overlap (`sweep_overlap_secs`).
    pub fn sweep_overlap(&self) -> Duration {
        Duration::from_secs(self.sweep_overlap_secs)
    }
}

/// Webhook endpoint settings (the shared secret comes from `CLARUS_WEBHOOK_SECRET`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The URL Clarus reaches the endpoint at (behind a proxy it differs from `listen`),
    /// without the `/{resource}/{event}` suffix.
    pub public_url: String,
    /// Largest body accepted.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Prefix of the names of the automations created in Clarus.
    #[serde(default = "default_automation_prefix")]
    pub automation_prefix: String,
    /// Seconds a connection may take to send a request's headers (from its opening or the end
    /// of its previous request) before it is closed.
    #[serde(default = "default_header_timeout_secs")]
    pub header_timeout_secs: u64,
    /// Seconds the body of an authenticated delivery may take to arrive (`408` after).
    #[serde(default = "default_body_timeout_secs")]
    pub body_timeout_secs: u64,
    /// Seconds a whole request may take, from its headers to the answer (`408` after).
    #[serde(default = "default_request_timeout_secs")]
    pub request_timeout_secs: u64,
    /// Connections open at once; further ones wait in the listen backlog.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Refused requests one address may make in a minute before it is answered `429`.
    #[serde(default = "default_refusals_per_minute")]
    pub refusals_per_minute: u32,
    /// Days a processed delivery (the webhook body as received, with its identifying headers)
    /// is kept before the `retention` job deletes it; deliveries not yet processed are kept
    /// until they are. What was decided from them stays in the ledger. See
    /// [`crate::retention`].
    #[serde(default = "default_keep_deliveries_days")]
    pub keep_deliveries_days: u32,
}

impl WebhookSettings {
    /// The intake's limits from these settings (the rest as [`IntakeLimits::default`]).
    pub fn intake_limits(&self) -> IntakeLimits {
        IntakeLimits {
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            body_timeout: Duration::from_secs(self.body_timeout_secs),
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            max_connections: self.max_connections,
            refusals_per_minute: self.refusals_per_minute,
            ..IntakeLimits::default()
        }
    }

    fn check(&self) -> Result<(), ConfigError> {
        // Upper bounds keep deadlines and the connection semaphore within what tokio takes.
        for (name, value, most) in [
            (
                "header_timeout_secs",
                self.header_timeout_secs,
                MAX_TIMEOUT_SECS,
            ),
            (
                "body_timeout_secs",
                self.body_timeout_secs,
                MAX_TIMEOUT_SECS,
            ),
            (
                "request_timeout_secs",
                self.request_timeout_secs,
                MAX_TIMEOUT_SECS,
            ),
            (
                "max_connections",
                self.max_connections as u64,
                MAX_CONNECTIONS,
            ),
            (
                "refusals_per_minute",
                u64::from(self.refusals_per_minute),
                u64::from(u32::MAX),
            ),
            (
                "keep_deliveries_days",
                u64::from(self.keep_deliveries_days),
                MAX_KEEP_DAYS,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid(format!(
                    "webhook.{name} must be at least 1"
                )));
            }
            if value > most {
                return Err(ConfigError::Invalid(format!(
                    "webhook.{name} must be at most {most}"
                )));
            }
        }
        Ok(())
    }
}

/// Longest retention of processed deliveries accepted, in days (ten years).
const MAX_KEEP_DAYS: u64 = 3_653;

/// Processed deliveries are kept 90 days by default.
fn default_keep_deliveries_days() -> u32 {
    90
}

/// History is kept 90 days by default.
fn default_keep_history_days() -> u32 {
    90
}

/// Longest intake timeout accepted, in seconds (a day).
const MAX_TIMEOUT_SECS: u64 = 86_400;

/// Most intake connections accepted at once.
const MAX_CONNECTIONS: u64 = 1 << 20;

fn default_header_timeout_secs() -> u64 {
    IntakeLimits::default().header_timeout.as_secs()
}

fn default_body_timeout_secs() -> u64 {
    IntakeLimits::default().body_timeout.as_secs()
}

fn default_request_timeout_secs() -> u64 {
    IntakeLimits::default().request_timeout.as_secs()
}

fn default_max_connections() -> usize {
    IntakeLimits::default().max_connections
}

fn default_refusals_per_minute() -> u32 {
    IntakeLimits::default().refusals_per_minute
}

/// NetSuite polling settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PollSettings {
    /// Seconds between polls.
    pub interval_secs: u64,
    /// Seconds the `lastmodifieddate` watermark is moved back on each poll (clock skew,
    /// time zones); duplicates are recognised and ignored.
    pub overlap_secs: u64,
    /// Seconds between Clarus GraphQL sweeps that catch webhooks that never came.
    pub sweep_interval_secs: u64,
    /// The NetSuite account's time zone (IANA name), in which SuiteQL reads timestamps and
    /// transaction dates are written.
    pub time_zone: String,
    /// Go-live cut-over, RFC 3339 with an offset (`"2026-12-01T00:00:00Z"`): on a new store,
    /// orders last modified before it are not read. The store keeps the value of its first
    /// poll; once it has ingested a record this setting is ignored. Absent: every open order is
    /// read.
    #[serde(deserialize_with = "rfc3339")]
    pub start_from: Option<jiff::Timestamp>,
    /// Hours after the store's first poll during which a goods out or goods-in receipt Clarus
    /// already has for an order (same `reference`, not cancelled) is adopted instead of created
    /// (one look-up per create in that time). 0: never. Default 72.
    pub adopt_existing_hours: u64,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            interval_secs: 60,
            overlap_secs: 300,
            sweep_interval_secs: 300,
            time_zone: "UTC".into(),
            start_from: None,
            adopt_existing_hours: 72,
        }
    }
}

impl PollSettings {
    /// The go-live window (`crate::netsuite::PollerConfig::adopt_existing_for`).
    pub fn adopt_existing_for(&self) -> Duration {
        Duration::from_secs(self.adopt_existing_hours.saturating_mul(3600))
    }
}

/// `start_from`: an RFC 3339 string, or a TOML offset date-time written without quotes.
fn rfc3339<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<jiff::Timestamp>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Text(String),
        Toml(toml::value::Datetime),
    }
    let text = match Written::deserialize(deserializer)? {
        Written::Text(text) => text,
        Written::Toml(datetime) => datetime.to_string(),
    };
    text.trim().parse::<jiff::Timestamp>().map(Some).map_err(|e| {
        serde::de::Error::custom(format!(
            "{text:?} is not an RFC 3339 time with an offset (e.g. \"2026-12-01T00:00:00Z\"): {e}"
        ))
    })
}

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

fn default_clarus_url() -> String {
    "https://clarus-api.com".into()
}

fn default_prefix() -> String {
    "/api".into()
}

fn default_automation_prefix() -> String {
    "netsuite-sync".into()
}

/// The environment variable holding the webhook shared secret.
pub const WEBHOOK_SECRET_VAR: &str = "CLARUS_WEBHOOK_SECRET";

/// The environment variable holding, during a rotation, the previous webhook shared secret,
/// accepted as well until Clarus delivers with the new one.
pub const WEBHOOK_SECRET_PREVIOUS_VAR: &str = "CLARUS_WEBHOOK_SECRET_PREVIOUS";

/// Checks a webhook shared secret: at least [`crate::intake::MIN_SECRET_CHARS`] characters, so
/// that it cannot be guessed. [`Config::from_toml`] applies it to `CLARUS_WEBHOOK_SECRET` and
/// `CLARUS_WEBHOOK_SECRET_PREVIOUS` when they are set, so `sync check-config` and start-up
/// refuse a short one.
pub fn check_webhook_secret(secret: &str) -> Result<(), ConfigError> {
    check_webhook_secret_named(WEBHOOK_SECRET_VAR, secret)
}

/// [`check_webhook_secret`] naming the variable `var` in its error.
pub fn check_webhook_secret_named(var: &str, secret: &str) -> Result<(), ConfigError> {
    let chars = secret.chars().count();
    if chars < crate::intake::MIN_SECRET_CHARS {
        return Err(ConfigError::Invalid(format!(
            "{var} is {chars} characters long; the webhook shared secret must be \
             at least {} (e.g. `sync webhooks rotate-secret` or `openssl rand -hex 32`)",
            crate::intake::MIN_SECRET_CHARS
        )));
    }
    Ok(())
}

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

fn default_max_body() -> usize {
    1024 * 1024
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

// ------------------------------------------------------------------ NetSuite location segments

/// The segments a NetSuite location's inventory adjustments, transfers and status changes name
/// (`[netsuite.locations."<location internal id>"]`): OneWorld accounts need `subsidiary` on
/// them; `department` and `class` where the account classifies by them. Values are internal ids.
/// Fulfilments and receipts take these from their order and need none.
///
/// ```toml
/// [netsuite.locations."1"]
/// subsidiary = "3"
/// department = "8"
/// class = "12"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetSuiteLocationSettings {
    /// `subsidiary` internal id.
    #[serde(default)]
    pub subsidiary: Option<String>,
    /// `department` internal id.
    #[serde(default)]
    pub department: Option<String>,
    /// `class` internal id.
    #[serde(default)]
    pub class: Option<String>,
}

impl Config {
    /// The per-location segments for the NetSuite executor
    /// (`NetSuiteExecutor::with_location_segments`), checked: every location and value is a
    /// NetSuite internal id (digits).
    pub fn netsuite_location_segments(
        &self,
    ) -> Result<crate::netsuite::LocationSegments, ConfigError> {
        let internal_id = |value: &str, what: &str| -> Result<sync_core::NetSuiteId, ConfigError> {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ConfigError::Invalid(format!(
                    "netsuite.locations: {what} {value:?} is not a NetSuite internal id"
                )));
            }
            Ok(value.into())
        };
        let mut out = crate::netsuite::LocationSegments::new();
        for (location, settings) in &self.netsuite.locations {
            let location_id = internal_id(location, "location")?;
            let field = |value: &Option<String>, name: &str| {
                value
                    .as_deref()
                    .map(|v| internal_id(v, &format!("{location}.{name}")))
                    .transpose()
            };
            out.insert(
                location_id.as_str().into(),
                crate::netsuite::Segments {
                    subsidiary: field(&settings.subsidiary, "subsidiary")?,
                    department: field(&settings.department, "department")?,
                    class: field(&settings.class, "class")?,
                },
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod netsuite_location_tests {
    use super::*;

    fn config(locations: &str) -> Result<Config, ConfigError> {
        Config::from_toml(&format!(
            r#"
store = "sync.sqlite"
tenant = "acme"
[netsuite]
account_id = "1234567"
{locations}
[clarus]
subdomain = "acme"
account_id = 1
stock_unit_type_id = 1
[webhook]
listen = "127.0.0.1:0"
public_url = "https://sync.example.com/webhooks"
"#
        ))
    }

    #[test]
    fn location_segments_are_read_and_checked() {
        let c = config(
            r#"[netsuite.locations."12"]
subsidiary = "3"
class = "9"
[netsuite.locations."14"]
department = "8""#,
        )
        .unwrap();
        let segments = c.netsuite_location_segments().unwrap();
        let twelve = segments.get(&"12".into()).unwrap();
        assert_eq!(twelve.subsidiary, Some("3".into()));
        assert_eq!(twelve.department, None);
        assert_eq!(twelve.class, Some("9".into()));
        assert_eq!(
            segments.get(&"14".into()).unwrap().department,
            Some("8".into())
        );
        assert!(segments.get(&"15".into()).is_none());

        let none = config("").unwrap();
        assert!(none.netsuite_location_segments().unwrap().is_empty());

        let bad = config("[netsuite.locations.\"12\"]\nsubsidiary = \"Parent Co\"").unwrap();
        assert!(bad.netsuite_location_segments().is_err());
        assert!(config("[netsuite.locations.\"12\"]\nsubsidary = \"3\"").is_err());
    }

    #[test]
    fn a_short_webhook_secret_is_refused() {
        let short = check_webhook_secret("s3cr3t").unwrap_err().to_string();
        assert!(
            short.contains("CLARUS_WEBHOOK_SECRET is 6 characters long"),
            "{short}"
        );
        assert!(check_webhook_secret(&"x".repeat(31)).is_err());
        assert!(check_webhook_secret(&"x".repeat(32)).is_ok());
    }
}

#[cfg(test)]
mod sweep_overlap_tests {
    use super::*;

    fn config(clarus: &str) -> Result<Config, ConfigError> {
        Config::from_toml(&format!(
            "store = \"sync.sqlite\"\ntenant = \"acme\"\n[netsuite]\naccount_id = \"1\"\n\
             [clarus]\nsubdomain = \"acme\"\naccount_id = 1\nstock_unit_type_id = 1\n{clarus}\n\
             [webhook]\nlisten = \"127.0.0.1:0\"\npublic_url = \"https://sync.example.com/w\"\n"
        ))
    }

    #[test]
    fn the_sweep_overlap_is_read_defaulted_and_bounded() {
        let default = config("").unwrap();
        assert_eq!(default.clarus.sweep_overlap(), Duration::from_secs(300));
        let set = config("sweep_overlap_secs = 45").unwrap();
        assert_eq!(set.clarus.sweep_overlap(), Duration::from_secs(45));
        assert!(config("sweep_overlap_secs = 86400").is_ok());
        for bad in [0, 86_401] {
            let err = config(&format!("sweep_overlap_secs = {bad}")).unwrap_err();
            assert!(err.to_string().contains("sweep_overlap_secs"), "{err}");
        }
    }
}
