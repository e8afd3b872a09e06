//! The delivery processor: turns stored deliveries into core events and plans them.
//!
//! Each delivery is decoded by a [`DeliveryDecoder`] (the Clarus adapter re-reads the record it
//! names before trusting it), each resulting event is planned by the [`Engine`], and only then is
//! the delivery marked processed. A delivery whose event is blocked (for example by a missing
//! mapping) is put aside and tried again later; one that cannot be decoded is kept with a note
//! and an exception, never dropped silently. One bad delivery never stops the others.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use sync_core::Event;
use tracing::Instrument;

use crate::engine::{Engine, EngineError, IngestOutcome};
use crate::store::{Delivery, NewException, Store};

/// Why a delivery could not be turned into events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A look-up it needs failed for now (the source system is unreachable): try again later.
    #[error("retry later: {0}")]
    Retryable(String),
    /// The delivery is malformed or names something that does not exist.
    #[error("invalid delivery: {0}")]
    Invalid(String),
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
        }
    }

    /// Processes up to `limit` due deliveries, oldest first.
    pub async fn process_due(&self, limit: usize) -> Result<ProcessStats, EngineError> {
        let now = Timestamp::now();
        let mut stats = ProcessStats::default();
        for delivery in self.store.unprocessed_deliveries(now, limit).await? {
            stats.deliveries += 1;
            let span = tracing::info_span!("delivery", id = delivery.id, source = %delivery.delivery.source);
            self.process_one(&delivery, &mut stats)
                .instrument(span)
                .await?;
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
                    match self.engine.ingest(event, Timestamp::now()).await? {
                        IngestOutcome::Duplicate => stats.duplicates += 1,
                        IngestOutcome::Planned { .. } => stats.planned += 1,
                        IngestOutcome::Blocked { .. } => blocked = true,
                    }
                }
                if blocked {
                    stats.deferred += 1;
                    self.defer(delivery, "an event is blocked; see its exception")
                        .await?;
                } else {
                    self.store
                        .mark_delivery_processed(delivery.id, None)
                        .await?;
                }
            }
            Err(DecodeError::Retryable(message)) => {
                stats.deferred += 1;
                self.defer(delivery, &message).await?;
            }
            Err(DecodeError::Invalid(message)) => {
                stats.invalid += 1;
                tracing::warn!(id = delivery.id, %message, "delivery cannot be decoded");
                self.store
                    .raise_exception(
                        NewException {
                            key: format!("EX-DELIVERY-{}", delivery.id),
                            kind: crate::exceptions::INVALID_DELIVERY_KIND.into(),
                            owner: "integration".into(),
                            severity: "error".into(),
                            document: format!("delivery {}", delivery.id),
                            message: format!(
                                "delivery {} from {} cannot be used: {message}",
                                delivery.id, delivery.delivery.source
                            ),
                            runbook: "operations.md#invalid-delivery".into(),
                            payload: delivery.delivery.headers.clone(),
                        },
                        Timestamp::now(),
                    )
                    .await?;
                self.store
                    .mark_delivery_processed(delivery.id, Some(message))
                    .await?;
            }
        }
        Ok(())
    }

    async fn defer(&self, delivery: &Delivery, note: &str) -> Result<(), EngineError> {
        let until =
            Timestamp::now() + SignedDuration::try_from(self.retry_after).unwrap_or_default();
        self.store.defer_delivery(delivery.id, until, note).await?;
        Ok(())
    }
}
