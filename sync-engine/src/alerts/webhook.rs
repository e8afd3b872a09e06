//! A generic JSON webhook sink with a Slack-compatible message shape.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use url::Url;

use super::{Alert, AlertSink, DeliveryError};

/// Posts each alert as JSON to a URL: `{"text": ..., "blocks": [{"type": "section", "text":
/// {"type": "mrkdwn", "text": ...}}, ...]}`.
///
/// Slack incoming webhooks render the blocks; Microsoft Teams incoming webhooks and most chat
/// tools read `text` and ignore the rest. The URL usually carries a token, so `Debug` shows only
/// its scheme and host.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use sync_engine::alerts::WebhookSink;
/// let url = "https://hooks.slack.com/services/T000/B000/XXXX".parse()?;
/// let sink = WebhookSink::new("ops-slack", url, Duration::from_secs(10))?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WebhookSink {
    name: String,
    url: Url,
    client: reqwest::Client,
}

impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSink")
            .field("name", &self.name)
            .field("url", &redacted_url(&self.url))
            .finish_non_exhaustive()
    }
}

/// Whether alerts may be posted to `url`: `https`, or `http` to a loopback host.
pub(crate) fn is_secure_url(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => match url.host() {
            Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// The URL without path, query or credentials, for logs.
fn redacted_url(url: &Url) -> String {
    format!(
        "{}://{}/<redacted>",
        url.scheme(),
        url.host_str().unwrap_or("?")
    )
}

impl WebhookSink {
    /// A sink posting to `url`, giving up on one request after `timeout`.
    ///
    /// The URL must be `https`; plain `http` is accepted only for a loopback host (`localhost`,
    /// `127.0.0.0/8`, `::1`: simulators and tests), because the URL and the alerts carry a
    /// token and business details. Redirects are never followed: a webhook answering 3xx is a
    /// failed delivery, so a compromised or misconfigured receiver cannot send the alert (or,
    /// after a downgrade, its token) somewhere else.
    pub fn new(
        name: impl Into<String>,
        url: Url,
        timeout: Duration,
    ) -> Result<Self, DeliveryError> {
        if !is_secure_url(&url) {
            return Err(DeliveryError::Insecure(format!(
                "webhook URL {} must use https (http only for a loopback host)",
                redacted_url(&url)
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| DeliveryError::Transport(e.to_string()))?;
        Ok(WebhookSink {
            name: name.into(),
            url,
            client,
        })
    }

    /// The JSON body posted for an alert.
    pub fn body(alert: &Alert) -> Value {
        let examples = alert
            .example_lines()
            .iter()
            .map(|line| format!("• {}", escape_mrkdwn(line)))
            .collect::<Vec<_>>()
            .join("\n");
        let header = format!(
            "*{}*\nRaised between {} and {}.",
            escape_mrkdwn(&alert.title()),
            alert.first_raised_at,
            alert.last_raised_at
        );
        let runbook =
            if alert.runbook.starts_with("http://") || alert.runbook.starts_with("https://") {
                format!("What to do: <{}|runbook>", alert.runbook)
            } else {
                format!("What to do: `{}`", escape_mrkdwn(&alert.runbook))
            };
        let section =
            |text: String| json!({"type": "section", "text": {"type": "mrkdwn", "text": text}});
        json!({
            "text": alert.plain_text(),
            "blocks": [section(header), section(examples), section(runbook)],
        })
    }
}

/// Escapes the three characters Slack's mrkdwn treats as control characters.
fn escape_mrkdwn(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[async_trait]
impl AlertSink for WebhookSink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, alert: &Alert) -> Result<(), DeliveryError> {
        let response = self
            .client
            .post(self.url.clone())
            .json(&Self::body(alert))
            .send()
            .await
            .map_err(|e| {
                // reqwest's error text includes the URL, which may carry a token.
                let e = e.without_url();
                if e.is_timeout() {
                    DeliveryError::Transport(format!("timed out: {e}"))
                } else {
                    DeliveryError::Transport(e.to_string())
                }
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(DeliveryError::Rejected {
            status: status.as_u16(),
            body: body.chars().take(512).collect(),
        })
    }
}
