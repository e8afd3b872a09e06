//! NetSuite polling (`[poll]`).

use std::time::Duration;

use serde::Deserialize;

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
