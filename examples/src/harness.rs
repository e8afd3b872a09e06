//! Wiring of the whole integration against the built-in simulators: both simulators, the clients,
//! the engine with its store, intake, outbox, NetSuite poller and Clarus sweep.
//!
//! The demo, the per-flow examples and the end-to-end tests all start from here, so they run the
//! same code a production deployment runs, with only the endpoints pointing at the simulators.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clarus_client::webhook::WebhookSecret;
use clarus_client::{ClarusClient, ClarusConfig, Credentials, HttpUrl, Secret};
use netsuite_client::NetSuiteClient;
use netsuite_client::account::{AllowHttp, Endpoint};
use netsuite_client::auth::{ClientCredentialsAuth, ClientCredentialsConfig, JwtAlgorithm};
use sim::clarus::{ClarusSim, RunningClarus, WebhookBehaviour};
use sim::netsuite::{NetSuiteConfig, NetSuiteSim, RunningNetSuite};
use sim::{FaultRates, netsuite};
use sync_core::{
    AccountMapping, CarrierId, LocationMapping, MappingTables, Mappings, MovementKind,
    ShipMethodMapping, StatusMapping, StockPlace, WarehouseId,
};
use sync_engine::assemble::{Assembled, Parts, WebhookParts, assemble};
use sync_engine::config::CadenceSettings;
use sync_engine::engine::Engine;
use sync_engine::netsuite::{ExecutorConfig, PollerConfig};
use sync_engine::outbox::OutboxConfig;
use sync_engine::reconcile::ReconcileSettings;
use sync_engine::store::{ExceptionQuery, SqliteStore, Store};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The Clarus tenant the demo runs as (used in idempotency keys).
pub const TENANT: &str = "acme";
/// The Clarus subdomain of the simulated tenant.
pub const SUBDOMAIN: &str = "acme-warehouse";
const WEBHOOK_SECRET: &str = "demo-webhook-secret-0123456789abcdef";
const DEMO_KEY: &[u8] = include_bytes!("../demo/simulator-m2m-key.pem");
/// How far back of their watermarks the Clarus sweeps start against the simulators.
const SWEEP_OVERLAP: Duration = Duration::from_secs(2);

/// How far back of its watermark the NetSuite poll starts against the simulator: longer than
/// the re-read window (2 s), as `[poll] overlap_secs` must be on a real account.
const POLL_OVERLAP: Duration = Duration::from_secs(5);

/// Anything that went wrong setting the demo up.
pub type SetupError = Box<dyn std::error::Error + Send + Sync>;

/// How the simulated systems behave.
#[derive(Debug, Clone)]
pub struct SystemsOptions {
    /// Seed of every random choice (faults, webhook duplicates and loss).
    pub seed: u64,
    /// Latency of every NetSuite request.
    pub netsuite_latency: Duration,
    /// NetSuite's account concurrency limit.
    pub netsuite_limit: usize,
    /// NetSuite faults (5xx before commit, commit then lost reply).
    pub netsuite_faults: FaultRates,
    /// Clarus webhook duplicates, loss and reordering.
    pub webhooks: WebhookBehaviour,
}

impl SystemsOptions {
    /// Well-behaved systems: no faults, no duplicates, nothing lost.
    pub fn calm(seed: u64) -> Self {
        SystemsOptions {
            seed,
            netsuite_latency: Duration::ZERO,
            netsuite_limit: 15,
            netsuite_faults: FaultRates::NONE,
            webhooks: WebhookBehaviour {
                duplicate_rate: 0.0,
                loss_rate: 0.0,
                reorder_window: Duration::ZERO,
                ..WebhookBehaviour::default()
            },
        }
    }

    /// A bad day: NetSuite faults including lost replies, duplicated, reordered and lost webhooks.
    pub fn faulty(seed: u64) -> Self {
        SystemsOptions {
            seed,
            netsuite_latency: Duration::from_millis(5),
            netsuite_limit: 15,
            netsuite_faults: FaultRates {
                server_error_before_commit: 0.05,
                commit_then_fail: 0.05,
                drop_connection_share: 0.5,
            },
            webhooks: WebhookBehaviour {
                duplicate_rate: 0.3,
                loss_rate: 0.05,
                reorder_window: Duration::from_millis(30),
                ..WebhookBehaviour::default()
            },
        }
    }
}

/// Both simulators with the reference data the integration needs (a location and warehouse,
/// a carrier, a Clarus account) and the mapping tables that join them.
pub struct Systems {
    /// The NetSuite simulator.
    pub netsuite: RunningNetSuite,
    /// The Clarus simulator.
    pub clarus: RunningClarus,
    /// NetSuite location of the warehouse.
    pub location: netsuite::InternalId,
    /// The Clarus warehouse.
    pub warehouse: sim::clarus::ClarusId,
    /// The Clarus location stock is kept at.
    pub bin: sim::clarus::ClarusId,
    /// The Clarus carrier despatches go out with.
    pub carrier: sim::clarus::ClarusId,
    /// The Clarus account (stock owner).
    pub account: sim::clarus::ClarusId,
    /// The mapping tables between the two.
    pub mappings: Mappings,
}

impl std::fmt::Debug for Systems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Systems").finish_non_exhaustive()
    }
}

impl Systems {
    /// Starts both simulators and seeds the reference data.
    pub async fn start(options: &SystemsOptions) -> Result<Systems, SetupError> {
        let netsuite = NetSuiteSim::start(NetSuiteConfig {
            latency: options.netsuite_latency,
            concurrency_limit: Some(options.netsuite_limit),
            faults: options.netsuite_faults,
            seed: options.seed,
            ..NetSuiteConfig::default()
        })
        .await?;
        let clarus = ClarusSim::start(sim::clarus::ClarusConfig {
            seed: options.seed,
            subdomain: SUBDOMAIN.into(),
            webhooks: options.webhooks,
            ..sim::clarus::ClarusConfig::default()
        })
        .await?;
        let ns = netsuite.handle();
        let location = ns.add_location("Main warehouse", None)?;
        let cl = clarus.handle();
        let account = cl.add_account("ACME", "Acme Trading");
        let warehouse = cl.add_warehouse("MAIN", "Main warehouse");
        let bin = cl
            .default_location(warehouse)
            .unwrap_or_else(|| cl.add_location(warehouse, "A-01-01"));
        let carrier = cl.add_carrier("DPD", "DPD Next Day");
        let location_id = location.0.to_string();
        let mappings = Mappings::new(MappingTables {
            locations: vec![LocationMapping {
                location: location_id.as_str().into(),
                warehouse: WarehouseId(warehouse.0),
            }],
            adjustment_accounts: [
                MovementKind::PositiveAdjustment,
                MovementKind::NegativeAdjustment,
                MovementKind::Breakage,
                MovementKind::StockCheckGain,
                MovementKind::StockCheckLoss,
            ]
            .into_iter()
            .map(|kind| AccountMapping {
                kind,
                reason: None,
                account: "540".into(),
            })
            .collect(),
            stock_statuses: vec![StatusMapping {
                location: location_id.as_str().into(),
                sellable: StockPlace::Status {
                    status: netsuite::GOOD.0.to_string().as_str().into(),
                },
                quarantine: StockPlace::Status {
                    status: netsuite::QUARANTINE.0.to_string().as_str().into(),
                },
            }],
            ship_methods: vec![ShipMethodMapping {
                carrier: CarrierId(carrier.0),
                service: None,
                ship_method: "92".into(),
            }],
        })?;
        Ok(Systems {
            netsuite,
            clarus,
            location,
            warehouse,
            bin,
            carrier,
            account,
            mappings,
        })
    }

    /// A NetSuite client for the simulator, signing in with OAuth 2.0 client credentials.
    pub fn netsuite_client(&self) -> Result<NetSuiteClient, SetupError> {
        let endpoint = Endpoint::new(self.netsuite.base_url(), AllowHttp::Yes)?;
        let auth = ClientCredentialsAuth::new(ClientCredentialsConfig::new(
            &endpoint,
            "demo-client",
            "demo-certificate",
            JwtAlgorithm::ES256,
            DEMO_KEY,
        )?)?;
        Ok(NetSuiteClient::builder(Arc::new(auth))
            .endpoint(endpoint)
            .concurrency_limit(15)
            .build()?)
    }

    /// Whether no Clarus webhook is waiting to be delivered right now.
    pub async fn webhooks_idle(&self) -> bool {
        self.clarus.handle().wait_for_webhooks(Duration::ZERO).await
    }

    /// A Clarus client for the simulator.
    pub fn clarus_client(&self) -> Result<ClarusClient, SetupError> {
        Ok(ClarusClient::new(
            ClarusConfig::builder(
                SUBDOMAIN,
                Credentials::client_credentials("sim-client", Secret::new("sim-secret")),
            )
            .base_url(self.clarus.base_url())
            .allow_insecure_http(true)
            .timeout(Duration::from_secs(10))
            .build()?,
        )?)
    }
}

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The SQLite file.
    pub store_path: PathBuf,
    /// Pause between NetSuite polls and Clarus sweeps.
    pub poll_interval: Duration,
    /// Outbox retries.
    pub outbox: OutboxConfig,
    /// Scheduled stock reconciliation (recorded in the drift history), or none.
    pub reconcile: Option<ReconcileSettings>,
}

impl EngineOptions {
    /// Fast settings for the simulators.
    pub fn fast(store_path: impl AsRef<Path>) -> Self {
        EngineOptions {
            store_path: store_path.as_ref().to_owned(),
            poll_interval: Duration::from_millis(150),
            outbox: OutboxConfig {
                max_in_flight: 32,
                backoff_base: Duration::from_millis(20),
                backoff_max: Duration::from_millis(500),
                max_attempts: 25,
                idle_poll: Duration::from_millis(10),
            },
            reconcile: None,
        }
    }

    /// Runs the scheduled reconciliation every `interval` (exact thresholds, the default
    /// history retention, a drift confirmed by two runs), as `sync run` does every
    /// `[drift] interval_secs`.
    pub fn reconciling_every(mut self, interval: Duration) -> Self {
        self.reconcile = Some(ReconcileSettings {
            interval,
            confirm_runs: 2,
            ..ReconcileSettings::default()
        });
        self
    }
}

/// A running engine: stop it gracefully, or kill it to simulate a crash.
pub struct RunningEngine {
    /// Its store.
    pub store: Arc<dyn Store>,
    /// Its planner.
    pub engine: Arc<Engine>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for RunningEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEngine").finish_non_exhaustive()
    }
}

impl RunningEngine {
    /// Opens the store, subscribes the webhooks and starts every part of the engine, assembled
    /// exactly as `sync run` assembles it, with the simulators' clients.
    pub async fn start(systems: &Systems, options: &EngineOptions) -> Result<Self, SetupError> {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&options.store_path)?);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let public_url = HttpUrl::parse(&format!(
            "http://{}/webhooks/clarus",
            listener.local_addr()?
        ))?;
        let Assembled { service, engine } = assemble(Parts {
            store: store.clone(),
            mappings: systems.mappings.clone(),
            netsuite: systems.netsuite_client()?,
            clarus: systems.clarus_client()?,
            tenant: TENANT.into(),
            subdomain: SUBDOMAIN.into(),
            clarus_account: clarus_client::ClarusId::new(systems.account.0 as i64),
            stock_unit_type: clarus_client::ClarusId::new(1),
            netsuite_executor: ExecutorConfig {
                mappings: Some(systems.mappings.clone()),
                ..ExecutorConfig::default()
            },
            // The simulators share this process's clock: a changed record needs re-reading
            // only briefly, and the poll and the sweeps need only a short overlap (real
            // accounts keep the defaults, which cover clock differences). With the default
            // 5 minutes, a day compressed into minutes would read every order of the day
            // again at each poll.
            poller: PollerConfig {
                reread_window: Duration::from_secs(2),
                overlap: POLL_OVERLAP,
                ..PollerConfig::default()
            },
            poll_interval: options.poll_interval,
            sweep_interval: options.poll_interval * 4,
            sweep_overlap: Some(SWEEP_OVERLAP),
            outbox: options.outbox.clone(),
            webhooks: Some(WebhookParts {
                listener,
                public_url,
                secret: WebhookSecret::new(Secret::new(WEBHOOK_SECRET)),
                max_body_bytes: 1 << 20,
                automation_prefix: "netsuite-sync".into(),
                limits: sync_engine::intake::IntakeLimits::default(),
            }),
            retry_blocked_after: Duration::from_millis(300),
            reconcile: options.reconcile.clone(),
            cadence: CadenceSettings::default(),
            extra_scheduled: Vec::new(),
        })
        .await?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            if let Err(e) = service.run(stopped).await {
                tracing::error!(error = %e, "engine stopped with an error");
            }
        });
        Ok(RunningEngine {
            store,
            engine,
            stop,
            task,
        })
    }

    /// Stops gracefully: running actions finish, nothing new starts.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Stops at once, as a crash would: whatever was in flight is abandoned mid-way.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// What operations does about `receipt-not-reported` (the runbook in `docs/operations.md`):
/// while one is open, re-send from Clarus every goods-in `completed` webhook that never reached
/// the integration. Clarus documents no read of receipt lines, so a lost receipt webhook is
/// recovered only this way. Answers how many webhooks were sent again.
pub async fn resend_lost_receipts(
    systems: &Systems,
    store: &dyn Store,
) -> Result<usize, SetupError> {
    let filter = ExceptionQuery::open_of(&["receipt-not-reported"]);
    if store.exceptions_page(&filter, None, 1).await?.is_empty() {
        return Ok(0);
    }
    Ok(systems
        .clarus
        .handle()
        .resend_undelivered("goods_in", "completed"))
}

/// Whether the engine's Clarus sweeps have caught up with the warehouse: every completed goods
/// out's despatch is reported, and the movement sweep has read up to the newest stock movement
/// (adjustment, hold or release). Until then a lost webhook may still be waiting to be caught.
pub async fn sweeps_caught_up(systems: &Systems, store: &dyn Store) -> Result<bool, SetupError> {
    SweepWatch::default().caught_up(systems, store).await
}

/// [`sweeps_caught_up`] asked again and again over a day: it remembers the goods outs whose
/// despatch is reported (that stays so), and asks the store only about the others.
#[derive(Debug, Default)]
pub struct SweepWatch {
    reported: HashSet<u64>,
}

impl SweepWatch {
    /// Whether the engine's Clarus sweeps have caught up with the warehouse (see
    /// [`sweeps_caught_up`]).
    pub async fn caught_up(
        &mut self,
        systems: &Systems,
        store: &dyn Store,
    ) -> Result<bool, SetupError> {
        let cl = systems.clarus.handle();
        for id in cl.goods_out_ids() {
            if self.reported.contains(&id.0)
                || cl.goods_out_status(id) != Some(sim::clarus::GoodsOutStatus::Completed)
            {
                continue;
            }
            let goods_out = clarus_client::ClarusId::new(id.0 as i64);
            if !sync_engine::clarus::despatch_reported(store, goods_out).await? {
                return Ok(false);
            }
            self.reported.insert(id.0);
        }
        movements_swept(systems, store).await
    }
}

/// Whether the movement sweep has read up to the newest stock movement.
async fn movements_swept(systems: &Systems, store: &dyn Store) -> Result<bool, SetupError> {
    let cl = systems.clarus.handle();
    let movements = [
        "positively_adjusted",
        "negatively_adjusted",
        "placed_on_hold",
        "released_from_hold",
    ];
    let newest = cl
        .webhook_log_of("stock", &movements)
        .iter()
        .filter_map(|w| {
            w.payload
                .get("data")?
                .get("created_at")?
                .as_str()?
                .parse::<jiff::Timestamp>()
                .ok()
        })
        .max();
    let Some(newest) = newest else {
        return Ok(true);
    };
    let swept = store
        .watermark(sync_engine::clarus::MOVEMENT_SWEEP_WATERMARK)
        .await?
        .and_then(|w| w.parse::<jiff::Timestamp>().ok());
    Ok(swept.is_some_and(|swept| swept >= newest))
}
