//! The delivery side of alerts: where an alert goes.

use async_trait::async_trait;

use super::Alert;

/// Why an alert could not be delivered, or a sink not built. Every variant a delivery returns
/// is retried on a later run; [`DeliveryError::Insecure`] comes only from building a sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The receiver answered with a non-success HTTP status.
    #[error("webhook answered {status}: {body}")]
    Rejected {
        /// The HTTP status code.
        status: u16,
        /// The start of the body the receiver sent.
        body: String,
    },
    /// The receiver could not be reached, or the connection failed.
    #[error("cannot reach the receiver: {0}")]
    Transport(String),
    /// The SMTP server refused the message.
    #[error("SMTP server refused the message{}: {message}", code.map(|c| format!(" ({c})")).unwrap_or_default())]
    Smtp {
        /// The SMTP reply code, when the server gave one.
        code: Option<u16>,
        /// What went wrong.
        message: String,
    },
    /// No answer within the delivery timeout.
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The message could not be built (for example an address the server would reject).
    #[error("cannot build the message: {0}")]
    Message(String),
    /// The sink would send secrets or alerts without encryption: a plain-http webhook URL to a
    /// host other than loopback, or SMTP credentials without TLS. Refused when the sink is built.
    #[error("refused, not encrypted: {0}")]
    Insecure(String),
}

/// Somewhere alerts are delivered: a webhook, an email list.
#[async_trait]
pub trait AlertSink: Send + Sync + std::fmt::Debug + 'static {
    /// A stable name, used in routing, logs and the alerter's state.
    fn name(&self) -> &str;
    /// Delivers one alert. Implementations should bound their own time; the alerter also
    /// applies its delivery timeout.
    async fn deliver(&self, alert: &Alert) -> Result<(), DeliveryError>;
}
