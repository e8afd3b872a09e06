//! Prometheus metrics: what the console serves at `/metrics`, in the OpenMetrics text format
//! (which Prometheus reads), encoded by the `prometheus-client` crate.
//!
//! Two kinds of figures:
//!
//! - **Read from the store at each scrape** ([`render`]): documents per flow and furthest stage,
//!   open exceptions by owner and kind, outbox depth (actions not yet done) and the age of the
//!   oldest. They are the truth the store holds, shared by every instance on one store.
//! - **Counted by this process** ([`Metrics`], one per process: [`global`]): NetSuite actions
//!   sent by the executor (by outcome, with their latency), NetSuite 429 answers, Clarus
//!   actions carried out by the executor (by outcome, with their latency), Clarus call failures
//!   of any caller (by how they are classified), and webhook deliveries accepted or refused (by HTTP
//!   status). They start at zero when the process starts, as Prometheus counters do.
//!
//! ```no_run
//! # async fn demo(store: &dyn sync_engine::store::Store) -> Result<(), sync_engine::metrics::MetricsError> {
//! let text = sync_engine::metrics::render(store, sync_engine::metrics::global(), jiff::Timestamp::now()).await?;
//! // Serve `text` with the content type sync_engine::metrics::CONTENT_TYPE.
//! assert!(text.ends_with("# EOF\n"));
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use jiff::Timestamp;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::monitor::{MonitorError, lifecycles, stage_counts};
use crate::store::{ActionStatus, Store, StoreError};

/// The content type to serve [`render`]'s text with.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The metrics could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The document lifecycles could not be read.
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    /// The text could not be written.
    #[error("encoding the metrics failed")]
    Encode(#[source] std::fmt::Error),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Intake {
    result: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FlowStage {
    flow: String,
    stage: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OwnerKind {
    owner: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    kind: String,
}

/// What this process counts: the hooks in the NetSuite executor, the Clarus error mapping and
/// the webhook intake add to the [`global`] one.
#[derive(Debug)]
pub struct Metrics {
    netsuite_requests: Family<Outcome, Counter>,
    netsuite_throttled: Counter,
    netsuite_latency: Histogram,
    clarus_failures: Family<Outcome, Counter>,
    clarus_actions: Family<Outcome, Counter>,
    clarus_latency: Histogram,
    webhooks: Family<Intake, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            netsuite_requests: Family::default(),
            netsuite_throttled: Counter::default(),
            // 10 ms to about 41 s.
            netsuite_latency: Histogram::new(exponential_buckets(0.01, 2.0, 13)),
            clarus_failures: Family::default(),
            clarus_actions: Family::default(),
            // 10 ms to about 41 s.
            clarus_latency: Histogram::new(exponential_buckets(0.01, 2.0, 13)),
            webhooks: Family::default(),
        }
    }
}

/// The process's metrics.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

impl Metrics {
    /// Fresh counters (tests; the process uses [`global`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// A NetSuite action sent (or looked up) by the executor, its outcome (`ok`, `retryable`,
    /// `ambiguous`, `rejected`) and how long it took.
    pub fn netsuite_request(&self, outcome: &str, took: Duration) {
        self.netsuite_requests
            .get_or_create(&Outcome {
                outcome: outcome.to_owned(),
            })
            .inc();
        self.netsuite_latency.observe(took.as_secs_f64());
    }

    /// NetSuite answered 429 (too many requests).
    pub fn netsuite_throttled(&self) {
        self.netsuite_throttled.inc();
    }

    /// A Clarus call failed, as classified (`retryable`, `ambiguous`, `rejected`).
    pub fn clarus_failure(&self, outcome: &str) {
        self.clarus_failures
            .get_or_create(&Outcome {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// A Clarus action (product, goods out, goods in, cancellation) carried out by the
    /// executor, its outcome (`ok`, `retryable`, `ambiguous`, `rejected`) and how long it took.
    pub fn clarus_action(&self, outcome: &str, took: Duration) {
        self.clarus_actions
            .get_or_create(&Outcome {
                outcome: outcome.to_owned(),
            })
            .inc();
        self.clarus_latency.observe(took.as_secs_f64());
    }

    /// A webhook delivery answered with `status`: accepted when 2xx, refused otherwise.
    pub fn webhook(&self, status: u16) {
        let result = if (200..300).contains(&status) {
            "accepted"
        } else {
            "refused"
        };
        self.webhooks
            .get_or_create(&Intake {
                result: result.to_owned(),
                status: status.to_string(),
            })
            .inc();
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "sync_netsuite_requests",
            "NetSuite actions sent or looked up by the executor, by outcome",
            self.netsuite_requests.clone(),
        );
        registry.register(
            "sync_netsuite_throttled",
            "NetSuite answers 429 (too many requests)",
            self.netsuite_throttled.clone(),
        );
        registry.register(
            "sync_netsuite_request_seconds",
            "Time the executor's NetSuite actions took",
            self.netsuite_latency.clone(),
        );
        registry.register(
            "sync_clarus_call_failures",
            "Clarus calls that failed, by how the failure was classified",
            self.clarus_failures.clone(),
        );
        registry.register(
            "sync_clarus_actions",
            "Clarus actions carried out by the executor, by outcome",
            self.clarus_actions.clone(),
        );
        registry.register(
            "sync_clarus_action_seconds",
            "Time the executor's Clarus actions took",
            self.clarus_latency.clone(),
        );
        registry.register(
            "sync_webhook_deliveries",
            "Webhook deliveries, accepted or refused, by HTTP status answered",
            self.webhooks.clone(),
        );
    }
}

/// The OpenMetrics text of the store's figures at `now` and of `metrics`' counters.
pub async fn render(
    store: &dyn Store,
    metrics: &Metrics,
    now: Timestamp,
) -> Result<String, MetricsError> {
    let mut registry = Registry::default();

    let documents = Family::<FlowStage, Gauge>::default();
    for count in stage_counts(&lifecycles(store).await?) {
        documents
            .get_or_create(&FlowStage {
                flow: count.flow.code().to_owned(),
                stage: count.stage.map_or("none", |s| s.code()).to_owned(),
            })
            .set(i64::try_from(count.count).unwrap_or(i64::MAX));
    }
    registry.register(
        "sync_documents",
        "Documents per flow and furthest stage reached",
        documents,
    );

    let mut open: BTreeMap<(String, String), i64> = BTreeMap::new();
    for e in store.open_exceptions().await? {
        *open
            .entry((e.exception.owner, e.exception.kind))
            .or_default() += 1;
    }
    let exceptions = Family::<OwnerKind, Gauge>::default();
    for ((owner, kind), n) in open {
        exceptions.get_or_create(&OwnerKind { owner, kind }).set(n);
    }
    registry.register(
        "sync_open_exceptions",
        "Open exceptions by owner and kind",
        exceptions,
    );

    let depth = Family::<Kind, Gauge>::default();
    let mut oldest: Option<Timestamp> = None;
    for a in store.action_records().await? {
        if matches!(a.status, ActionStatus::Done | ActionStatus::Failed) {
            continue;
        }
        depth.get_or_create(&Kind { kind: a.kind }).inc();
        oldest = Some(oldest.map_or(a.created_at, |o| o.min(a.created_at)));
    }
    registry.register(
        "sync_outbox_depth",
        "Outbox actions not yet done or given up, by kind",
        depth,
    );
    let age = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    age.set(oldest.map_or(0.0, |o| now.duration_since(o).as_secs_f64().max(0.0)));
    registry.register(
        "sync_outbox_oldest_age_seconds",
        "Age of the oldest outbox action not yet done (0 when none)",
        age,
    );

    metrics.register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)
        .map_err(MetricsError::Encode)?;
    Ok(text)
}

/// The outcome label of an action's result: `ok`, `retryable`, `ambiguous` or `rejected`.
pub fn outcome<T>(result: &Result<T, crate::outbox::ExecutionError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => error_outcome(e),
    }
}

/// The outcome label of an error: `retryable`, `ambiguous` or `rejected`.
pub fn error_outcome(error: &crate::outbox::ExecutionError) -> &'static str {
    use crate::outbox::ExecutionError::*;
    match error {
        Retryable(_) => "retryable",
        Ambiguous(_) => "ambiguous",
        Rejected(_) => "rejected",
    }
}

/// Counts a Clarus executor action begun at `started` in the [`global`] metrics.
pub fn clarus_outcome<T>(
    started: std::time::Instant,
    result: &Result<T, crate::outbox::ExecutionError>,
) {
    global().clarus_action(outcome(result), started.elapsed());
}

/// Counts a NetSuite executor call begun at `started` in the [`global`] metrics.
pub fn netsuite_outcome<T>(
    started: std::time::Instant,
    result: &Result<T, crate::outbox::ExecutionError>,
) {
    global().netsuite_request(outcome(result), started.elapsed());
}
