//! Alerts: new exceptions pushed to the people who own them.
//!
//! The [`Alerter`] is a [`Scheduled`](crate::job::Scheduled) job. Each run it reads the
//! exceptions raised or reopened since its cursor, groups them per owner and kind (one failing
//! SKU with five hundred exceptions makes one alert with a count and a few examples), routes
//! each group to the sinks configured for the owner ([`Routes`]), throttles each sink, owner and
//! kind to one alert per window, and retries failed deliveries with backoff on later runs. Its
//! state (cursor, last sent times, alerts waiting to be delivered) is kept in one store
//! watermark, so a restart loses nothing and sends nothing twice on purpose.
//!
//! Two sinks are provided: a JSON webhook with a Slack-compatible body (`text` plus `blocks`;
//! Teams incoming webhooks read `text`), see [`WebhookSink`], and email over SMTP, see
//! [`EmailSink`]. Delivery never blocks or fails the sync: every delivery has a timeout, errors
//! are logged and kept for the next run.

mod alert;
mod alerter;
mod email;
mod settings;
mod sink;
mod webhook;

pub use alert::{Alert, AlertExample};
pub use alerter::{AlertRun, Alerter, AlerterSettings, Routes, STATE_WATERMARK};
pub use email::{EmailSecurity, EmailSink, EmailSinkConfig};
pub use settings::{AlertSettingsError, AlertsSettings, EmailSettings, WebhookSettings};
pub use sink::{AlertSink, DeliveryError};
pub use webhook::WebhookSink;
