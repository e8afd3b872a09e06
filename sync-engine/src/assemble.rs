//! Assembly of a complete engine from its parts: the one place where the store, the two
//! clients, the executors, the webhook intake, the NetSuite poller and the Clarus sweep are
//! joined into a [`Service`].
//!
//! The `sync` runner builds the clients from its configuration file and environment, the demo
//! builds them for the simulators; both then call [`assemble`] (or [`assemble_with_health`] to
//! set the health thresholds), so they run the same engine. The service's [`Health`] registry is
//! shared with the webhook intake, which serves it as `GET /readyz`.
//!
//! [`assemble_with_clock`] hands one business clock (see [`crate::clock`]) to every part: the
//! engine (and so the poller, the sweeps, the processor and every scheduled job), the outbox, the
//! batcher, the webhook intake, the Clarus decoder and executor. [`assemble`] and
//! [`assemble_with_health`] use the system clock.
//!
//! [`assemble_clustered`] sets how this instance shares the store with others (see
//! [`crate::cluster`]): its id, its leases' timings and the NetSuite share; the other functions
//! use [`ClusterSettings::default`] (this process's generated id). Either way the service gets
//! the [`Heartbeat`] job, and the NetSuite client's concurrency pool (shared by every clone of
//! the client: poller, executor, reconciliation) is sized to this instance's share of the limit
//! the client was built with, [`netsuite_slots`](crate::cluster::netsuite_slots)`(limit,
//! reserve, live instances)`: at assembly from the instances alive then, and again by the
//! heartbeat whenever the live instances change.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clarus_client::webhook::{WebhookSecret, WebhookTarget};
use clarus_client::{ClarusClient, ClarusId, HttpUrl};
use netsuite_client::NetSuiteClient;
use sync_core::{Mappings, Tenant};

use crate::batch::Batcher;
use crate::clarus::SweepError;
use crate::clarus::{ClarusDecoder, ClarusExecutor, ClarusSweep, ExecutorSettings, MovementSweep};
use crate::clock::{self, SharedClock};
use crate::cluster::{ClusterSettings, Heartbeat, Leadership, NetSuiteShare};
use crate::config::CadenceSettings;
use crate::engine::{Engine, EngineError};
use crate::exceptions::RequestHandler;
use crate::health::{Connection, Health};
use crate::intake::{IntakeConfig, IntakeLimits, router_with_clock};
use crate::netsuite::{
    ExecutorConfig, NetSuiteExecutor, NetSuitePoller, PollError, PollerConfig, SnapshotError,
};
use crate::outbox::{Outbox, OutboxConfig};
use crate::processor::Processor;
use crate::reconcile::{ReconcileError, ReconcileSettings, Reconciler};
use crate::router::Router;
use crate::service::{JobError, Scheduled, Service};
use crate::store::Store;

/// Why an engine could not be assembled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// The store could not be read.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The store could not be read while setting up batches.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Subscribing the webhooks in Clarus failed.
    #[error("subscribing Clarus webhooks failed: {0}")]
    Subscribe(#[from] clarus_client::Error),
    /// The webhook URL is not usable.
    #[error("webhook URL: {0}")]
    Url(String),
}

/// How often the engine looks for retries and resolutions people made from the command line.
pub const REQUEST_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Everything an engine is made of.
pub struct Parts {
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// Mapping tables.
    pub mappings: Mappings,
    /// NetSuite client (its concurrency budget is the account's).
    pub netsuite: NetSuiteClient,
    /// Clarus client.
    pub clarus: ClarusClient,
    /// Tenant name used in idempotency keys.
    pub tenant: Tenant,
    /// Clarus subdomain (webhooks from another tenant are refused).
    pub subdomain: String,
    /// Clarus account (stock owner) for goods outs and receipts.
    pub clarus_account: ClarusId,
    /// Clarus stock unit type for new products.
    pub stock_unit_type: ClarusId,
    /// The NetSuite account's settings for postings.
    pub netsuite_executor: ExecutorConfig,
    /// NetSuite polling.
    pub poller: PollerConfig,
    /// Pause between NetSuite polls.
    pub poll_interval: Duration,
    /// Pause between Clarus sweeps.
    pub sweep_interval: Duration,
    /// How far back of their watermarks the Clarus sweeps look again (clock differences);
    /// `None` keeps the sweeps' default.
    pub sweep_overlap: Option<Duration>,
    /// Outbox retries and parallelism.
    pub outbox: OutboxConfig,
    /// Where webhooks are taken, when this process takes them: the bound listener, the URL
    /// Clarus reaches it at (without `/{resource}/{event}`), the shared secret and body limit.
    pub webhooks: Option<WebhookParts>,
    /// How long a blocked delivery waits before it is tried again.
    pub retry_blocked_after: Duration,
    /// Scheduled stock reconciliation: thresholds, interval, history and value alert.
    pub reconcile: Option<ReconcileSettings>,
    /// Immediate or batched postings per flow.
    pub cadence: CadenceSettings,
    /// Further scheduled jobs (alerts, stuck-document detection, ...).
    pub extra_scheduled: Vec<Arc<dyn Scheduled>>,
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts").finish_non_exhaustive()
    }
}

/// The webhook intake's parts.
#[derive(Debug)]
pub struct WebhookParts {
    /// The bound listener.
    pub listener: tokio::net::TcpListener,
    /// The URL Clarus calls, without the `/{resource}/{event}` suffix.
    pub public_url: HttpUrl,
    /// The shared secret each delivery must present (and, during a rotation, the previous
    /// one, see [`WebhookSecret::with_previous`]).
    pub secret: WebhookSecret,
    /// Largest body accepted.
    pub max_body_bytes: usize,
    /// Prefix of the automations' names in Clarus.
    pub automation_prefix: String,
    /// Timeouts, connections and refusals the intake grants (`[webhook]` settings).
    pub limits: IntakeLimits,
}

struct PollJob {
    poller: NetSuitePoller,
    interval: Duration,
}

#[async_trait]
impl Scheduled for PollJob {
    fn name(&self) -> &str {
        "netsuite-poll"
    }
    fn interval(&self) -> Duration {
        self.interval
    }
    fn connections(&self) -> &[Connection] {
        &[Connection::NetSuite]
    }
    async fn run_once(&self, _: &Engine) -> Result<usize, JobError> {
        let reports = self.poller.poll_once().await.map_err(poll_error)?;
        Ok(reports.len())
    }
}

/// A Clarus sweep run on a schedule. A run counts nothing: the sweep reports in its own log
/// lines and exceptions.
macro_rules! clarus_sweep_job {
    ($job:ident, $sweep:ty, $name:literal) => {
        struct $job {
            sweep: $sweep,
            interval: Duration,
        }

        #[async_trait]
        impl Scheduled for $job {
            fn name(&self) -> &str {
                $name
            }
            fn interval(&self) -> Duration {
                self.interval
            }
            fn connections(&self) -> &[Connection] {
                &[Connection::Clarus]
            }
            async fn run_once(&self, engine: &Engine) -> Result<usize, JobError> {
                self.sweep.run(engine).await.map_err(sweep_error)?;
                Ok(0)
            }
        }
    };
}

clarus_sweep_job!(SweepJob, ClarusSweep, "clarus-sweep");
clarus_sweep_job!(MovementSweepJob, MovementSweep, "clarus-movement-sweep");

/// Scheduled reconciliation: both snapshots, costs, in-flight movements, drift history and
/// exceptions. The first run comes one interval after the service starts, not at once: at
/// start-up the engine is still working off what happened while it was stopped (deliveries,
/// the first poll), and comparing stock then would report that backlog as drift.
///
/// For the same reason a run first waits, a little, for the warehouse events already received to
/// be processed: stock that left Clarus but is not yet planned is in no one's "in flight". The
/// wait is bounded ([`MAX_QUIET_WAIT`], and half the interval), so a queue that never empties
/// delays a run but cannot skip it.
struct ReconcileJob {
    reconciler: Arc<Reconciler>,
    first_run_at: std::sync::Mutex<Option<std::time::Instant>>,
}

/// The longest a scheduled reconciliation waits for the delivery queue to empty.
const MAX_QUIET_WAIT: Duration = Duration::from_secs(10);

#[async_trait]
impl Scheduled for ReconcileJob {
    fn name(&self) -> &str {
        "reconcile"
    }
    fn interval(&self) -> Duration {
        self.reconciler.settings().interval
    }
    fn connections(&self) -> &[Connection] {
        BOTH
    }
    async fn run_once(&self, engine: &Engine) -> Result<usize, JobError> {
        {
            let now = std::time::Instant::now();
            let mut first = self
                .first_run_at
                .lock()
                .map_err(|_| JobError::transient("reconcile schedule lock poisoned"))?;
            let at = *first.get_or_insert(now + self.interval());
            if now < at {
                return Ok(0);
            }
        }
        let wait_until = std::time::Instant::now() + MAX_QUIET_WAIT.min(self.interval() / 2);
        loop {
            let waiting = engine
                .store()
                .unprocessed_deliveries(engine.clock().now(), 1)
                .await
                .map_err(JobError::of)?;
            if waiting.is_empty() {
                break;
            }
            if std::time::Instant::now() >= wait_until {
                tracing::info!("reconciling while warehouse events still wait to be processed");
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let run = self
            .reconciler
            .run_once(engine.clock().now())
            .await
            .map_err(reconcile_error)?;
        let summary = &run.snapshot.run.summary;
        tracing::info!(
            positions = summary.positions,
            drift = summary.drift,
            value_impact = %summary.value_impact,
            pruned_runs = run.pruned_runs,
            "stock reconciled"
        );
        Ok(summary.positions)
    }
}

/// The same reconciliation on demand, without the schedule's start-up delay: a person's retry
/// of a drift exception reads both systems at once.
struct StockRecheck {
    reconciler: Arc<Reconciler>,
}

#[async_trait]
impl Scheduled for StockRecheck {
    fn name(&self) -> &str {
        "stock-recheck"
    }
    fn interval(&self) -> Duration {
        self.reconciler.settings().interval
    }
    fn connections(&self) -> &[Connection] {
        BOTH
    }
    async fn run_once(&self, engine: &Engine) -> Result<usize, JobError> {
        let run = self
            .reconciler
            .run_once(engine.clock().now())
            .await
            .map_err(reconcile_error)?;
        Ok(run.snapshot.run.summary.positions)
    }
}

/// The connections a reconciliation reads.
const BOTH: &[Connection] = &[Connection::Clarus, Connection::NetSuite];

/// A failed poll: NetSuite's failures are classified (credentials refused cannot pass by
/// waiting); a store or planning failure is no connection's fault.
fn poll_error(e: PollError) -> JobError {
    match &e {
        PollError::NetSuite { .. } => JobError::netsuite(e),
        _ => JobError::of(e),
    }
}

/// A failed Clarus sweep: a GraphQL read the tenant's schema refuses, or credentials refused,
/// cannot pass by waiting.
fn sweep_error(e: SweepError) -> JobError {
    match &e {
        SweepError::Clarus(_) => JobError::clarus(e),
        SweepError::Engine(_) | SweepError::Store(_) | SweepError::Kept(_) => JobError::of(e),
    }
}

/// A failed reconciliation, blamed on the system whose read failed.
fn reconcile_error(e: ReconcileError) -> JobError {
    match &e {
        ReconcileError::Clarus(_) => JobError::clarus(e),
        ReconcileError::NetSuite(SnapshotError::NetSuite(_)) => JobError::netsuite(e),
        ReconcileError::Engine(_) => JobError::of(e),
    }
}

/// An assembled engine, ready to run.
pub struct Assembled {
    /// The service to run.
    pub service: Service,
    /// The planner (for reports and people's actions while it runs).
    pub engine: Arc<Engine>,
}

impl std::fmt::Debug for Assembled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assembled").finish_non_exhaustive()
    }
}

/// Joins the parts into a service, subscribing the Clarus webhooks the sync needs (idempotently)
/// when this process takes webhooks. Health thresholds are the defaults
/// ([`crate::health::HealthConfig::default`]); [`assemble_with_health`] sets them.
pub async fn assemble(parts: Parts) -> Result<Assembled, AssembleError> {
    assemble_with_health(parts, Health::default()).await
}

/// [`assemble`] with the given health registry: the service reports every scheduled run to it,
/// the intake serves it as `GET /readyz`, and the processor raises `delivery-stalled` after its
/// [`delivery_stall`](crate::health::HealthConfig::delivery_stall). Keep a clone to read it, or
/// read `service.health`.
pub async fn assemble_with_health(
    parts: Parts,
    health: Health,
) -> Result<Assembled, AssembleError> {
    assemble_with_clock(parts, health, clock::system()).await
}

/// [`assemble_with_health`] on the given business clock: the engine, the outbox, the batcher,
/// the webhook intake and the Clarus decoder and executor all read the time from `clock`. The
/// health registry keeps its own clock; give it the same one with
/// [`Health::on_clock`](crate::health::Health::on_clock).
///
/// ```no_run
/// # async fn demo(parts: sync_engine::assemble::Parts)
/// # -> Result<(), sync_engine::assemble::AssembleError> {
/// use sync_engine::assemble::assemble_with_clock;
/// use sync_engine::clock::ManualClock;
/// use sync_engine::health::{Health, HealthConfig};
///
/// let clock = ManualClock::new("2026-03-01T09:00:00Z".parse().unwrap());
/// let health = Health::on_clock(HealthConfig::default(), clock.shared());
/// let assembled = assemble_with_clock(parts, health, clock.shared()).await?;
/// # let _ = assembled; Ok(()) }
/// ```
pub async fn assemble_with_clock(
    parts: Parts,
    health: Health,
    clock: SharedClock,
) -> Result<Assembled, AssembleError> {
    assemble_clustered(parts, health, clock, ClusterSettings::default()).await
}

/// [`assemble_with_clock`] as one instance of a cluster sharing the store (`[cluster]`
/// settings): the instance's id and lease timings for the leader-only jobs, the heartbeat, and
/// the NetSuite share (`cluster.netsuite_share`, by default the client's concurrency limit less
/// one slot, divided among the live instances). See [`crate::cluster`].
pub async fn assemble_clustered(
    parts: Parts,
    health: Health,
    clock: SharedClock,
    cluster: ClusterSettings,
) -> Result<Assembled, AssembleError> {
    let leadership = Arc::new(Leadership::from_settings(cluster));
    let share = netsuite_share(&parts.netsuite, &leadership, parts.store.as_ref(), &clock).await;
    let heartbeat = Heartbeat::new(leadership.clone(), clock.now())
        .with_health(health.clone())
        .with_netsuite_share(share);
    let store = parts.store;
    let engine = Arc::new(
        Engine::open(store.clone(), parts.mappings.clone())
            .await?
            .with_cadence(parts.cadence.clone())
            .with_clock(clock.clone()),
    );

    let mut intake_limits = IntakeLimits::default();
    let intake = match parts.webhooks {
        Some(webhooks) => {
            // One instance at a time: two instances starting together on a fresh tenant
            // would both find no automation and both create one.
            let target = WebhookTarget::new(
                webhooks.public_url,
                Some(webhooks.secret.clone()),
                &webhooks.automation_prefix,
            );
            crate::cluster::one_at_a_time(
                store.as_ref(),
                &leadership,
                &clock,
                crate::cluster::AUTOMATIONS_JOB,
                parts
                    .clarus
                    .ensure_webhook_automations(&target, crate::clarus::SYNC_SUBSCRIPTIONS),
            )
            .await
            .map_err(|e| match e {
                crate::cluster::SerialError::Lease { source, .. } => AssembleError::Store(source),
                crate::cluster::SerialError::Work(e) => AssembleError::Subscribe(e),
            })?;
            intake_limits = webhooks.limits.clone();
            let app = router_with_clock(
                store.clone(),
                IntakeConfig {
                    secret: webhooks.secret,
                    max_body_bytes: webhooks.max_body_bytes,
                },
                webhooks.limits,
                Some(health.clone()),
                clock.clone(),
            );
            Some((webhooks.listener, app))
        }
        None => None,
    };

    let clarus_executor = ClarusExecutor::new(
        parts.clarus.clone(),
        ExecutorSettings {
            account_id: parts.clarus_account,
            stock_unit_type_id: parts.stock_unit_type,
        },
    )
    .with_store(store.clone())
    .with_clock(clock.clone());
    let netsuite_executor = NetSuiteExecutor::new(parts.netsuite.clone(), parts.netsuite_executor);
    let batcher = Batcher::for_cadence_with_clock(
        store.clone(),
        Arc::new(netsuite_executor.clone()),
        parts.cadence.adjustments,
        clock.clone(),
    )
    .await?;
    let executor = Arc::new(Router::new(
        Arc::new(clarus_executor),
        Arc::new(netsuite_executor),
    ));
    let mut movement_sweep =
        MovementSweep::new(parts.clarus.clone(), parts.tenant.clone(), store.clone());
    let decoder = ClarusDecoder::new(
        parts.clarus.clone(),
        parts.subdomain,
        parts.tenant,
        store.clone(),
    )
    .with_clock(clock.clone());
    let mut sweep = ClarusSweep::new(
        parts.clarus.clone(),
        decoder.despatch_reader().clone(),
        store.clone(),
    );
    if let Some(overlap) = parts.sweep_overlap {
        sweep.overlap = overlap;
        movement_sweep.overlap = overlap;
    }
    let mut scheduled: Vec<Arc<dyn Scheduled>> = Vec::new();
    if let Some(batcher) = batcher {
        scheduled.push(Arc::new(batcher));
    }
    let mut stock_recheck: Option<Arc<dyn Scheduled>> = None;
    if let Some(settings) = parts.reconcile {
        let reconciler = Arc::new(Reconciler::new(
            store.clone(),
            parts.clarus.clone(),
            parts.netsuite.clone(),
            parts.mappings.clone(),
            settings,
        ));
        stock_recheck = Some(Arc::new(StockRecheck {
            reconciler: reconciler.clone(),
        }));
        // Clarus products checked against the item master, on the reconciliation's schedule.
        scheduled.push(Arc::new(
            crate::clarus::ProductSweep::new(parts.clarus.clone())
                .every(reconciler.settings().interval),
        ));
        scheduled.push(Arc::new(ReconcileJob {
            reconciler,
            first_run_at: std::sync::Mutex::new(None),
        }));
    }
    // Retries people ask for run here, with this engine's clients; a drift retry re-reads
    // stock through the same reconciliation as the schedule.
    scheduled.push(Arc::new(RequestHandler::new(
        stock_recheck,
        REQUEST_POLL_INTERVAL,
    )));
    let poller = NetSuitePoller::new(parts.netsuite, engine.clone(), parts.poller);
    // Claims on deliveries and actions are taken in this instance's name, so that instances
    // sharing the store never run the same one.
    let mut processor = Processor::new(store.clone(), engine.clone(), Arc::new(decoder))
        .with_holder(leadership.instance().as_str());
    processor.retry_after = parts.retry_blocked_after;
    processor.stall_after = health.config().delivery_stall;

    let service = Service {
        store: store.clone(),
        engine: engine.clone(),
        processor: Arc::new(processor),
        outbox: Outbox::new(store, executor, parts.outbox)
            .with_clock(clock)
            .with_holder(leadership.instance().as_str()),
        scheduled: {
            scheduled.push(Arc::new(PollJob {
                poller,
                interval: parts.poll_interval,
            }));
            scheduled.push(Arc::new(SweepJob {
                sweep,
                interval: parts.sweep_interval,
            }));
            scheduled.push(Arc::new(MovementSweepJob {
                sweep: movement_sweep,
                interval: parts.sweep_interval,
            }));
            scheduled.extend(parts.extra_scheduled);
            // The tenant's schema, checked at start-up, every 10 minutes, and again soon after
            // a Clarus job's read is refused for good.
            let schema_check = crate::clarus::ClarusSchemaCheck::new(parts.clarus.clone());
            let mut scheduled = schema_check.watch_all(scheduled);
            scheduled.insert(0, Arc::new(schema_check));
            // Every instance beats, whatever it leads.
            scheduled.insert(0, Arc::new(heartbeat));
            scheduled
        },
        intake,
        intake_limits,
        idle_poll: Duration::from_millis(10),
        health,
        leadership,
    };
    Ok(Assembled { service, engine })
}

/// This instance's share of the NetSuite client's concurrency limit (the limit it was built
/// with counts as the account's), applied at once for the instances alive now (this one
/// included); the heartbeat applies it again as instances come and go.
async fn netsuite_share(
    netsuite: &NetSuiteClient,
    leadership: &Leadership,
    store: &dyn Store,
    clock: &SharedClock,
) -> NetSuiteShare {
    let budget = netsuite.concurrency_budget().clone();
    let account_limit = budget.ceiling();
    let reserve = leadership.settings().netsuite_reserve(account_limit);
    let share = NetSuiteShare::new(budget, account_limit, reserve);
    let me = leadership.instance().as_str();
    let since = clock.now()
        - jiff::SignedDuration::try_from(leadership.settings().instance_ttl)
            .unwrap_or(jiff::SignedDuration::MAX);
    let others = match store.live_instances(since).await {
        Ok(live) => live.iter().filter(|i| i.id != me).count(),
        Err(e) => {
            tracing::warn!(error = %e, "the live instances could not be read; sizing the NetSuite share for this one alone until the first heartbeat");
            0
        }
    };
    share.apply(others + 1);
    share
}
