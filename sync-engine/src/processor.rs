//! The delivery processor: turns stored deliveries into core events and plans them.
//!
//! Each delivery is decoded by a [`DeliveryDecoder`] (the Clarus adapter re-reads the record it
//! names before trusting it), each resulting event is planned by the [`Engine`], and only then is
//! the delivery marked processed. A delivery whose event is blocked (for example by a missing
//! mapping) is put aside and tried again later; one that cannot be decoded is kept with a note
//! and an exception, never dropped silently. One bad delivery never stops the others.
//!
//! A delivery that keeps failing to decode for a passing reason (the source system unreachable,
//! its read refused) is tried again and again; once it has waited longer than
//! [`Processor::stall_after`] since it was received, a `delivery-stalled` exception names it
//! (owner `integration`), and it is resolved when the delivery is finally processed.
//!
//! Every "now" (what is due, when a deferred delivery is due again, how long one has waited) is
//! the engine's clock ([`Engine::clock`], see [`crate::clock`]).
//!
//! # Several instances
//!
//! Every instance may run a processor on one store: deliveries are taken with a claim
//! ([`ClusterStore::claim_deliveries`](crate::store::ClusterStore::claim_deliveries)) in the
//! name of [`Processor::with_holder`], for [`Processor::claim_ttl`], so two instances do not
//! decode the same delivery; marking it processed or deferring it ends the claim, and the claim
//! of an instance that died runs out and lets another take the delivery. A pass stops before a
//! delivery whose claim is about to run out (the rest are claimed again by the next pass).
//! Should a delivery still be decoded twice (a pass slower than its claim), its events are
//! duplicates in the ledger and planned once.

use crate::failure::Failure;
use std::sync::Arc;
use std::time::Duration;
use sync_core::ExceptionKind;
use sync_core::subject::ExceptionSubject;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp, Unit};
use serde_json::{Value, json};
use sync_core::Event;
use tracing::Instrument;

use crate::engine::{Engine, EngineError, IngestOutcome};
use crate::store::{Delivery, NewException, Store, StoreError};

/// Kind of the exception raised for a delivery that has waited too long to be decoded.
pub const DELIVERY_STALLED_KIND: &str = ExceptionKind::DeliveryStalled.code();
/// Runbook entry of [`DELIVERY_STALLED_KIND`].
pub const DELIVERY_STALLED_RUNBOOK: &str = "operations.md#delivery-stalled";

/// The key of the `delivery-stalled` exception of a delivery.
pub fn stalled_exception_key(delivery: i64) -> String {
    format!("EX-INTEGRATION-DELIVERY-{delivery}")
}

/// Why a delivery could not be turned into events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A look-up it needs failed for now (the source system is unreachable): try again later.
    #[error("retry later: {0}")]
    Retryable(#[source] Failure),
    /// The delivery is malformed or names something that does not exist.
    #[error("invalid delivery: {0}")]
    Invalid(#[source] Failure),
}

impl DecodeError {
    /// The same error, with `cause` kept as the source of its [`Failure`] (the message stays).
    pub fn caused_by(self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        match self {
            Self::Retryable(f) => Self::Retryable(f.with_cause(cause)),
            Self::Invalid(f) => Self::Invalid(f.with_cause(cause)),
        }
    }
}

/// Turns a stored delivery into the core events it stands for (none for events the
/// integration does not act on).
#[async_trait]
pub trait DeliveryDecoder: Send + Sync + 'static {
    /// Decodes one delivery.
    async fn decode(&self, delivery: &Delivery) -> Result<Vec<Event>, DecodeError>;
}

/// Counts of one processing pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessStats {
    /// Deliveries looked at.
    pub deliveries: usize,
    /// Events planned for the first time.
    pub planned: usize,
    /// Events that were duplicates.
    pub duplicates: usize,
    /// Deliveries put aside (blocked event or retryable decode failure).
    pub deferred: usize,
    /// Deliveries that could not be decoded.
    pub invalid: usize,
}

/// Processes stored deliveries.
pub struct Processor {
    store: Arc<dyn Store>,
    engine: Arc<Engine>,
    decoder: Arc<dyn DeliveryDecoder>,
    /// How long a blocked delivery waits before it is tried again.
    pub retry_after: Duration,
    /// How long after it was received a delivery that still cannot be decoded (a passing
    /// failure, tried again every [`Processor::retry_after`]) raises its `delivery-stalled`
    /// exception. 30 minutes by default.
    pub stall_after: Duration,
    /// How long the deliveries a pass takes are kept from other instances (5 minutes by
    /// default): longer than decoding one (a Clarus read of 30 s at most, with its retries) and
    /// planning it, well above the clock skew between instances. A dead instance's deliveries
    /// wait this long before another takes them.
    pub claim_ttl: Duration,
    holder: String,
}

impl std::fmt::Debug for Processor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processor").finish_non_exhaustive()
    }
}

impl Processor {
    /// A processor over a store, an engine and a decoder.
    pub fn new(
        store: Arc<dyn Store>,
        engine: Arc<Engine>,
        decoder: Arc<dyn DeliveryDecoder>,
    ) -> Self {
        Processor {
            store,
            engine,
            decoder,
            retry_after: Duration::from_secs(30),
            stall_after: crate::health::HealthConfig::default().delivery_stall,
            claim_ttl: Duration::from_secs(300),
            holder: crate::outbox::LOCAL_HOLDER.to_owned(),
        }
    }

    /// Claims the deliveries it processes in the name of `holder` (the instance's id;
    /// [`crate::outbox::LOCAL_HOLDER`] by default). Every instance sharing a store needs its own.
    pub fn with_holder(mut self, holder: impl Into<String>) -> Self {
        self.holder = holder.into();
        self
    }

    /// The holder the processor claims deliveries for.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The engine's time.
    fn now(&self) -> Timestamp {
        self.engine.clock().now()
    }

    /// Processes up to `limit` due deliveries, oldest first, claimed for this processor's
    /// holder; stops before one whose claim has less than a fifth of its time left.
    pub async fn process_due(&self, limit: usize) -> Result<ProcessStats, EngineError> {
        let now = self.now();
        let ttl = SignedDuration::try_from(self.claim_ttl).unwrap_or_default();
        let until = now + ttl;
        let stop_at = until - ttl / 5;
        let mut stats = ProcessStats::default();
        for delivery in self
            .store
            .claim_deliveries(now, limit, &self.holder, until)
            .await?
        {
            if self.now() >= stop_at {
                tracing::debug!(
                    id = delivery.id,
                    "the pass's claims are running out; the rest waits for the next pass"
                );
                break;
            }
            stats.deliveries += 1;
            let span = tracing::info_span!("delivery", id = delivery.id, source = %delivery.delivery.source);
            match self
                .process_one(&delivery, &mut stats)
                .instrument(span)
                .await
            {
                Ok(()) => {}
                // Other instances kept committing first: a passing condition. The delivery
                // stays claimed by this holder and the next pass takes it again.
                Err(EngineError::Contended { attempts }) => {
                    tracing::warn!(
                        id = delivery.id,
                        attempts,
                        "planning contended; the delivery waits for the next pass"
                    );
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(stats)
    }

    async fn process_one(
        &self,
        delivery: &Delivery,
        stats: &mut ProcessStats,
    ) -> Result<(), EngineError> {
        match self.decoder.decode(delivery).await {
            Ok(events) => {
                let mut blocked = false;
                for event in &events {
                    match self.engine.ingest(event, self.now()).await? {
                        IngestOutcome::Duplicate => stats.duplicates += 1,
                        IngestOutcome::Planned { .. } => stats.planned += 1,
                        IngestOutcome::Blocked { .. } => blocked = true,
                    }
                }
                if blocked {
                    stats.deferred += 1;
                    self.defer(delivery, "an event is blocked; see its exception")
                        .await?;
                    // Read at last: what holds it now is its event's own exception.
                    self.clear_stall(
                        delivery,
                        "decoded; its event now waits on its own exception",
                    )
                    .await?;
                } else {
                    self.store
                        .mark_delivery_processed(delivery.id, None, self.now())
                        .await?;
                    self.clear_stall(delivery, "processed").await?;
                }
            }
            Err(DecodeError::Retryable(message)) => {
                stats.deferred += 1;
                self.defer(delivery, &message).await?;
                self.check_stall(delivery, &message).await?;
            }
            Err(DecodeError::Invalid(message)) => {
                stats.invalid += 1;
                tracing::warn!(id = delivery.id, %message, "delivery cannot be decoded");
                self.store
                    .raise_exception(
                        NewException::of(
                            ExceptionKind::InvalidDelivery,
                            ExceptionSubject::Delivery(delivery.id).to_string(),
                            format!("delivery {}", delivery.id),
                            format!(
                                "delivery {} from {} cannot be used: {message}",
                                delivery.id, delivery.delivery.source
                            ),
                            delivery.delivery.headers.clone(),
                        ),
                        self.now(),
                    )
                    .await?;
                self.store
                    .mark_delivery_processed(delivery.id, Some(message.to_string()), self.now())
                    .await?;
                self.clear_stall(
                    delivery,
                    "processed as invalid; see its invalid-delivery exception",
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Whether the delivery was received longer than [`Processor::stall_after`] ago.
    fn stalled(&self, delivery: &Delivery, now: Timestamp) -> bool {
        let waited = now.duration_since(delivery.delivery.received_at);
        waited > SignedDuration::try_from(self.stall_after).unwrap_or(SignedDuration::MAX)
    }

    /// Raises, or refreshes with the latest reason, the `delivery-stalled` exception of a
    /// delivery that has waited too long. The store keeps no "first deferred at", so the wait
    /// counts from when the delivery was received.
    async fn check_stall(&self, delivery: &Delivery, reason: &str) -> Result<(), EngineError> {
        let now = self.now();
        if !self.stalled(delivery, now) {
            return Ok(());
        }
        let d = &delivery.delivery;
        let header = |name: &str| d.headers.get(name).and_then(Value::as_str);
        let record = record_id(&d.body);
        let mut about = Vec::new();
        match (header("resource_name"), header("event")) {
            (Some(resource), Some(event)) => about.push(format!("{resource}/{event}")),
            (Some(resource), None) => about.push(resource.to_owned()),
            _ => {}
        }
        if let Some(id) = &record {
            about.push(format!("record {id}"));
        }
        let named = if about.is_empty() {
            String::new()
        } else {
            format!(" ({})", about.join(", "))
        };
        let since = d.received_at.round(Unit::Second).unwrap_or(d.received_at);
        let minutes = self.stall_after.as_secs() / 60;
        let exception = NewException::of(
            ExceptionKind::DeliveryStalled,
            stalled_exception_key(delivery.id),
            format!("delivery {}", delivery.id),
            format!(
                "delivery {} from {}{named} has waited since {since} (more than {minutes} \
                 minutes) and still cannot be read; it is tried again every {} seconds; last \
                 reason: {reason}",
                delivery.id,
                d.source,
                self.retry_after.as_secs()
            ),
            json!({
                "delivery": delivery.id,
                "source": d.source,
                "resource": header("resource_name"),
                "event": header("event"),
                "record": record,
                "received_at": d.received_at,
                "reason": reason,
            }),
        );
        tracing::warn!(id = delivery.id, %reason, "delivery stalled");
        self.store.refresh_exception(exception, now).await?;
        Ok(())
    }

    /// Resolves the `delivery-stalled` exception of a delivery that moved on, if it had one.
    async fn clear_stall(&self, delivery: &Delivery, what: &str) -> Result<(), EngineError> {
        let now = self.now();
        let note = format!("delivery {} {what}", delivery.id);
        match self
            .store
            .resolve_exception(&stalled_exception_key(delivery.id), &note, now)
            .await
        {
            Ok(()) | Err(StoreError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn defer(&self, delivery: &Delivery, note: &str) -> Result<(), EngineError> {
        let until = self.now() + SignedDuration::try_from(self.retry_after).unwrap_or_default();
        self.store.defer_delivery(delivery.id, until, note).await?;
        Ok(())
    }
}

/// The id of the record a delivery's body names (`data.id`, or `id` at the top), if any.
fn record_id(body: &[u8]) -> Option<String> {
    let body: Value = serde_json::from_slice(body).ok()?;
    let record = match body.get("data") {
        Some(data @ Value::Object(_)) => data,
        _ => &body,
    };
    match record.get("id")? {
        Value::String(id) => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}
