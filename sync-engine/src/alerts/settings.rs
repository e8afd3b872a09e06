//! The `[alerts]` section of the configuration: sinks, routes and timing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::webhook::is_secure_url;
use super::{
    AlertSink, Alerter, AlerterSettings, DeliveryError, EmailSecurity, EmailSink, EmailSinkConfig,
    Routes, WebhookSink,
};

/// Why the alert settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlertSettingsError {
    /// A route names a sink that is not defined.
    #[error("alerts.routes.{owner}: no sink named `{sink}`")]
    UnknownSink {
        /// The owner (or `*`) whose route names it.
        owner: String,
        /// The missing sink.
        sink: String,
    },
    /// Two sinks have the same name.
    #[error("alerts: sink name `{0}` is used twice")]
    DuplicateSink(String),
    /// A secret's environment variable is not set.
    #[error("alerts sink `{sink}`: environment variable {variable} is not set")]
    MissingSecret {
        /// The sink.
        sink: String,
        /// The variable.
        variable: String,
    },
    /// A webhook URL is not a valid http(s) URL (the URL itself is not shown: it may hold a
    /// token).
    #[error("alerts sink `{sink}`: the webhook URL is not a valid http(s) URL")]
    InvalidUrl {
        /// The sink.
        sink: String,
    },
    /// A webhook URL is plain `http` to a host other than loopback: the URL's token and the
    /// alerts would cross the network unencrypted.
    #[error(
        "alerts sink `{sink}`: the webhook URL must use https (plain http is accepted only for \
         localhost, 127.0.0.0/8 and ::1)"
    )]
    InsecureUrl {
        /// The sink.
        sink: String,
    },
    /// An email sink has a user name and password but `security = "none"`: the SMTP password
    /// would be sent in clear.
    #[error(
        "alerts sink `{sink}`: SMTP authentication without TLS would send the password in \
         clear; set security = \"start_tls\" or \"tls\""
    )]
    PlaintextCredentials {
        /// The sink.
        sink: String,
    },
    /// A sink could not be built (an email address that does not parse, for example).
    #[error("alerts sink `{sink}`: {source}")]
    Sink {
        /// The sink.
        sink: String,
        /// Why.
        source: DeliveryError,
    },
    /// A value is out of range.
    #[error("alerts: {0}")]
    Invalid(String),
}

/// A webhook sink. The URL usually carries a token, so it is read from the environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// The environment variable holding the webhook URL.
    pub url_env: String,
}

/// An email sink.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// SMTP host.
    pub host: String,
    /// SMTP port; 587 for STARTTLS, 465 for TLS, 25 without encryption when absent.
    pub port: Option<u16>,
    /// `start_tls` (default), `tls` or `none`.
    #[serde(default)]
    pub security: EmailSecurity,
    /// SMTP user name, when the server requires authentication; refused with `security =
    /// "none"`.
    pub username: Option<String>,
    /// The environment variable holding the SMTP password (required with `username`).
    pub password_env: Option<String>,
    /// Sender address, e.g. `Sync alerts <sync@example.com>`.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
}

/// The `[alerts]` configuration.
///
/// ```
/// use sync_engine::alerts::AlertsSettings;
/// let settings: AlertsSettings = toml::from_str(r#"
///     throttle_secs = 900
///     [webhooks.ops-chat]
///     url_env = "ALERTS_OPS_WEBHOOK_URL"
///     [email.finance-mail]
///     host = "smtp.example.com"
///     username = "alerts"
///     password_env = "ALERTS_SMTP_PASSWORD"
///     from = "Sync alerts <sync@example.com>"
///     to = ["finance@example.com"]
///     [routes]
///     operations = ["ops-chat"]
///     finance = ["finance-mail", "ops-chat"]
///     "*" = ["ops-chat"]
/// "#).unwrap();
/// let env = |name: &str| match name {
///     "ALERTS_OPS_WEBHOOK_URL" => Some("https://hooks.example.com/T/B/X".to_string()),
///     "ALERTS_SMTP_PASSWORD" => Some("secret".to_string()),
///     _ => None,
/// };
/// let alerter = settings.build(env).unwrap();
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsSettings {
    /// Seconds between runs.
    pub interval_secs: u64,
    /// At most one alert per sink, owner and kind in this many seconds.
    pub throttle_secs: u64,
    /// Examples shown per alert.
    pub examples: usize,
    /// Seconds one delivery may take.
    pub delivery_timeout_secs: u64,
    /// Seconds before the first retry (doubling after each failure).
    pub retry_base_secs: u64,
    /// Longest wait between retries, in seconds.
    pub retry_max_secs: u64,
    /// Failed attempts after which an alert is dropped.
    pub max_attempts: u32,
    /// Prefix turning runbook entries into links.
    pub runbook_base_url: Option<String>,
    /// Webhook sinks by name.
    pub webhooks: BTreeMap<String, WebhookSettings>,
    /// Email sinks by name.
    pub email: BTreeMap<String, EmailSettings>,
    /// Owner (`operations`, `finance`, `item_master`, `integration`, or `*` for every owner
    /// without a route) to sink names.
    pub routes: BTreeMap<String, Vec<String>>,
}

impl Default for AlertsSettings {
    fn default() -> Self {
        let d = AlerterSettings::default();
        AlertsSettings {
            interval_secs: d.interval.as_secs(),
            throttle_secs: d.throttle.as_secs(),
            examples: d.examples,
            delivery_timeout_secs: d.delivery_timeout.as_secs(),
            retry_base_secs: d.retry_base.as_secs(),
            retry_max_secs: d.retry_max.as_secs(),
            max_attempts: d.max_attempts,
            runbook_base_url: None,
            webhooks: BTreeMap::new(),
            email: BTreeMap::new(),
            routes: BTreeMap::new(),
        }
    }
}

impl AlertsSettings {
    /// Timing settings of the alerter.
    pub fn alerter_settings(&self) -> Result<AlerterSettings, AlertSettingsError> {
        if self.interval_secs == 0 || self.delivery_timeout_secs == 0 || self.max_attempts == 0 {
            return Err(AlertSettingsError::Invalid(
                "interval_secs, delivery_timeout_secs and max_attempts must be at least 1".into(),
            ));
        }
        if self.retry_base_secs > self.retry_max_secs {
            return Err(AlertSettingsError::Invalid(
                "retry_base_secs must not exceed retry_max_secs".into(),
            ));
        }
        Ok(AlerterSettings {
            interval: Duration::from_secs(self.interval_secs),
            throttle: Duration::from_secs(self.throttle_secs),
            examples: self.examples,
            delivery_timeout: Duration::from_secs(self.delivery_timeout_secs),
            retry_base: Duration::from_secs(self.retry_base_secs),
            retry_max: Duration::from_secs(self.retry_max_secs),
            max_attempts: self.max_attempts,
            runbook_base_url: self.runbook_base_url.clone(),
        })
    }

    /// Builds the sinks and routes, reading secrets through `env` (normally
    /// `|name| std::env::var(name).ok()`).
    pub fn build(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Alerter, AlertSettingsError> {
        let settings = self.alerter_settings()?;
        let timeout = settings.delivery_timeout;
        let mut sinks: BTreeMap<&str, Arc<dyn AlertSink>> = BTreeMap::new();
        for (name, webhook) in &self.webhooks {
            let secret = |variable: &str| {
                env(variable).ok_or_else(|| AlertSettingsError::MissingSecret {
                    sink: name.clone(),
                    variable: variable.to_owned(),
                })
            };
            let url: url::Url = secret(&webhook.url_env)?
                .parse()
                .ok()
                .filter(|u: &url::Url| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| AlertSettingsError::InvalidUrl { sink: name.clone() })?;
            if !is_secure_url(&url) {
                return Err(AlertSettingsError::InsecureUrl { sink: name.clone() });
            }
            let sink = WebhookSink::new(name.clone(), url, timeout).map_err(|source| {
                AlertSettingsError::Sink {
                    sink: name.clone(),
                    source,
                }
            })?;
            sinks.insert(name, Arc::new(sink));
        }
        for (name, email) in &self.email {
            if sinks.contains_key(name.as_str()) {
                return Err(AlertSettingsError::DuplicateSink(name.clone()));
            }
            if email.security == EmailSecurity::None && email.username.is_some() {
                return Err(AlertSettingsError::PlaintextCredentials { sink: name.clone() });
            }
            let credentials = match (&email.username, &email.password_env) {
                (Some(user), Some(variable)) => {
                    let password =
                        env(variable).ok_or_else(|| AlertSettingsError::MissingSecret {
                            sink: name.clone(),
                            variable: variable.clone(),
                        })?;
                    Some((user.clone(), password))
                }
                (None, None) => None,
                _ => {
                    return Err(AlertSettingsError::Invalid(format!(
                        "email.{name}: username and password_env go together"
                    )));
                }
            };
            let port = email.port.unwrap_or(match email.security {
                EmailSecurity::StartTls => 587,
                EmailSecurity::Tls => 465,
                EmailSecurity::None => 25,
            });
            let config = EmailSinkConfig {
                host: email.host.clone(),
                port,
                security: email.security,
                credentials,
                from: email.from.clone(),
                to: email.to.clone(),
                timeout,
            };
            let sink = EmailSink::new(name.clone(), config).map_err(|source| {
                AlertSettingsError::Sink {
                    sink: name.clone(),
                    source,
                }
            })?;
            sinks.insert(name, Arc::new(sink));
        }
        let mut routes = Routes::new();
        for (owner, names) in &self.routes {
            for sink_name in names {
                let sink = sinks.get(sink_name.as_str()).ok_or_else(|| {
                    AlertSettingsError::UnknownSink {
                        owner: owner.clone(),
                        sink: sink_name.clone(),
                    }
                })?;
                routes = if owner == "*" {
                    routes.fallback(sink.clone())
                } else {
                    routes.route(owner.clone(), sink.clone())
                };
            }
        }
        Ok(Alerter::new(routes, settings))
    }
}
