//! The webhook endpoint (`[webhook]`) and its shared secret (`CLARUS_WEBHOOK_SECRET`).

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, MAX_KEEP_DAYS, MAX_TIMEOUT_SECS, WEBHOOK_SECRET_VAR};
use crate::intake::IntakeLimits;

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

    pub(super) fn check(&self) -> Result<(), ConfigError> {
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

/// Processed deliveries are kept 90 days by default.
fn default_keep_deliveries_days() -> u32 {
    90
}

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

fn default_automation_prefix() -> String {
    "netsuite-sync".into()
}

fn default_max_body() -> usize {
    1024 * 1024
}

/// Checks a webhook shared secret: at least [`crate::intake::MIN_SECRET_CHARS`] characters, so
/// that it cannot be guessed. [`Config::from_toml`](super::Config::from_toml) applies it to
/// `CLARUS_WEBHOOK_SECRET` and `CLARUS_WEBHOOK_SECRET_PREVIOUS` when they are set, so
/// `sync check-config` and start-up refuse a short one.
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

#[cfg(test)]
mod tests {
    use super::*;

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
