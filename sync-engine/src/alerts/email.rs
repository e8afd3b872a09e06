//! Email over SMTP, with `lettre`.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Alert, AlertSink, DeliveryError};

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailSecurity {
    /// Plain SMTP, then STARTTLS, which must succeed (port 587 usually).
    #[default]
    StartTls,
    /// TLS from the first byte (port 465 usually).
    Tls,
    /// No encryption at all: only for a relay on the same host or network, and for tests.
    /// Refused together with credentials, which would cross the network in clear.
    None,
}

/// Where and how to send alert emails.
#[derive(Clone)]
pub struct EmailSinkConfig {
    /// The SMTP server's host name (also the name its TLS certificate must carry).
    pub host: String,
    /// The SMTP port.
    pub port: u16,
    /// Connection security.
    pub security: EmailSecurity,
    /// User name and password, when the server requires authentication.
    pub credentials: Option<(String, String)>,
    /// The sender, e.g. `Sync alerts <sync@example.com>`.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// Gives up on one message after this long.
    pub timeout: Duration,
}

impl std::fmt::Debug for EmailSinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSinkConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field(
                "credentials",
                &self
                    .credentials
                    .as_ref()
                    .map(|(user, _)| (user, "<redacted>")),
            )
            .field("from", &self.from)
            .field("to", &self.to)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Sends each alert as a plain-text email to a list of recipients.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use sync_engine::alerts::{EmailSecurity, EmailSink, EmailSinkConfig};
/// let sink = EmailSink::new(
///     "finance-mail",
///     EmailSinkConfig {
///         host: "smtp.example.com".into(),
///         port: 587,
///         security: EmailSecurity::StartTls,
///         credentials: Some(("alerts".into(), std::env::var("SMTP_PASSWORD")?)),
///         from: "Sync alerts <sync@example.com>".into(),
///         to: vec!["finance@example.com".into()],
///         timeout: Duration::from_secs(10),
///     },
/// )?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EmailSink {
    name: String,
    config: EmailSinkConfig,
    from: Mailbox,
    to: Vec<Mailbox>,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for EmailSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSink")
            .field("name", &self.name)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl EmailSink {
    /// A sink sending to `config.to`; fails when an address cannot be parsed, there are no
    /// recipients, or credentials would be sent without TLS ([`EmailSecurity::None`] with
    /// credentials: [`DeliveryError::Insecure`]).
    pub fn new(name: impl Into<String>, config: EmailSinkConfig) -> Result<Self, DeliveryError> {
        if config.security == EmailSecurity::None && config.credentials.is_some() {
            return Err(DeliveryError::Insecure(format!(
                "SMTP credentials for {} would be sent in clear: use `start_tls` or `tls`",
                config.host
            )));
        }
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| DeliveryError::Message(format!("sender `{}`: {e}", config.from)))?;
        let to = config
            .to
            .iter()
            .map(|address| {
                address
                    .parse::<Mailbox>()
                    .map_err(|e| DeliveryError::Message(format!("recipient `{address}`: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err(DeliveryError::Message("no recipients".into()));
        }
        let builder = match config.security {
            EmailSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            }
            EmailSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                    .map_err(smtp_error)?
            }
            EmailSecurity::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host).map_err(smtp_error)?
            }
        };
        let mut builder = builder.port(config.port).timeout(Some(config.timeout));
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(EmailSink {
            name: name.into(),
            transport: builder.build(),
            config,
            from,
            to,
        })
    }

    fn message(&self, alert: &Alert) -> Result<Message, DeliveryError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(alert.title())
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        builder
            .body(alert.plain_text())
            .map_err(|e| DeliveryError::Message(e.to_string()))
    }
}

fn smtp_error(e: lettre::transport::smtp::Error) -> DeliveryError {
    if e.is_timeout() {
        return DeliveryError::Transport(format!("timed out: {e}"));
    }
    match e.status() {
        Some(code) => DeliveryError::Smtp {
            code: code.to_string().parse().ok(),
            message: e.to_string(),
        },
        None => DeliveryError::Transport(e.to_string()),
    }
}

#[async_trait]
impl AlertSink for EmailSink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, alert: &Alert) -> Result<(), DeliveryError> {
        let message = self.message(alert)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(smtp_error)
    }
}
