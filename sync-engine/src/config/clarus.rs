//! The Clarus connection (`[clarus]`).

use std::time::Duration;

use serde::Deserialize;

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

fn default_clarus_url() -> String {
    "https://clarus-api.com".into()
}

fn default_prefix() -> String {
    "/api".into()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{Config, ConfigError};

    fn config(clarus: &str) -> Result<Config, ConfigError> {
        super::super::minimal_config(r#"store = "sync.sqlite""#, "", clarus)
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
