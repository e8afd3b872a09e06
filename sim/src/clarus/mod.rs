//! A stateful Clarus WMS simulator.
//!
//! Serves `POST /oauth/token` (client credentials), the REST operations the client uses under a
//! configurable prefix (`/api` by default) with request bodies validated against Clarus's request
//! schemas (`clarus-client/spec/clarus-requests.json`, 422 on failure), `POST /graphql` for the
//! documented list roots (as documented, or with the extras a richer tenant serves: see
//! [`GraphqlProfile`]), and a [`Warehouse`] driver that picks, short-picks, despatches,
//! receives, adjusts, holds and counts. Every change fires webhooks to the URLs registered
//! through automations, with seeded duplicates, reordering and loss, and every webhook fired is
//! logged.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sim::SimError> {
//! use sim::clarus::{ClarusConfig, ClarusSim, StockStatus};
//!
//! let clarus = ClarusSim::start(ClarusConfig::default()).await?;
//! let handle = clarus.handle();
//! let product = handle.add_product("SKU-1", "Widget")?;
//! let location = handle.default_location(sim::clarus::MAIN_WAREHOUSE).expect("seeded");
//! handle.seed_stock(product, location, rust_decimal::Decimal::from(10), StockStatus::Available, None)?;
//! println!("Clarus simulator at {}", clarus.base_url());
//! clarus.shutdown().await;
//! # Ok(()) }
//! ```

mod documented;
mod failed_pick;
mod graphql;
mod handle;
mod http;
mod index;
mod introspection;
mod nodes;
mod parse;
mod schema;
mod state;
mod types;
mod validate;
mod warehouse;
mod webhooks;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

pub use graphql::GraphqlProfile;
pub use handle::{ClarusHandle, StockKey};
pub use state::{ClarusId, GoodsOutStatus, StockStatus};
pub use warehouse::{Parcel, ReceivedLine, Warehouse};
pub use webhooks::{DEFAULT_PAYLOADS_KEPT, DeliveryOutcome, WebhookBehaviour, WebhookRecord};

use crate::SimError;
use crate::governance::{FaultRates, GovernanceSettings, Governor};
use crate::server::Server;
use schema::RequestSchemas;
use state::{ClarusError, Event, State};
use webhooks::Webhooks;

/// The seeded stock owner account (id 1, code `ACME`).
pub const MAIN_ACCOUNT: ClarusId = ClarusId(1);
/// The seeded warehouse (id 1, code `WH1`), with locations 1 (`WH1-GOODSIN`) and 2 (`WH1-A-01`).
pub const MAIN_WAREHOUSE: ClarusId = ClarusId(1);
/// The seeded carrier DPD (id 1); UPS is id 2.
pub const DPD: ClarusId = ClarusId(1);

/// The default request schemas: the project-owned subset of Clarus's OpenAPI file,
/// `clarus-client/spec/clarus-requests.json` in this repository.
pub const DEFAULT_SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../clarus-client/spec/clarus-requests.json"
);

/// Settings of a Clarus simulator.
#[derive(Clone)]
pub struct ClarusConfig {
    /// Address to bind; port 0 picks a free port. Default `127.0.0.1:0`.
    pub bind: SocketAddr,
    /// Time every governed request takes. Default zero.
    pub latency: Duration,
    /// A random extra delay up to this much, per request. Default zero.
    pub latency_jitter: Duration,
    /// Requests in flight at once; beyond it, 429 (Clarus documents no limit). Default none.
    pub concurrency_limit: Option<usize>,
    /// Fault injection rates for requests. Default none.
    pub faults: FaultRates,
    /// Seed of the random generators (faults, webhooks, tokens). Default 0.
    pub seed: u64,
    /// The tenant; `X-Clarus-Subdomain` must carry it. Default `acme-warehouse`.
    pub subdomain: String,
    /// OAuth client id. Default `sim-client`.
    pub client_id: String,
    /// OAuth client secret. Default `sim-secret`.
    pub client_secret: String,
    /// Lifetime of access tokens. Default two hours.
    pub token_ttl: Duration,
    /// REST path prefix, `/api` (the spec) or `/api/v1` (some samples). Default `/api`.
    pub api_prefix: String,
    /// Path of the OpenAPI file whose request schemas validate REST bodies (any file with the
    /// operations' `requestBody` and the `components` they refer to, such as Clarus's full
    /// `clarus-api.json`). Default [`DEFAULT_SPEC_PATH`].
    pub spec_path: PathBuf,
    /// Webhook duplicates, reordering and loss.
    pub webhooks: WebhookBehaviour,
    /// Largest GraphQL page (`first` is clamped to it). Default 500.
    pub graphql_max_page_size: usize,
    /// The GraphQL served: as documented, or extended. Default [`GraphqlProfile::Extended`].
    pub graphql_profile: GraphqlProfile,
    /// Value of the `X-ClarusWMS-API-Domain` webhook header. Default `clarus-api.com`.
    pub api_domain: String,
}

impl fmt::Debug for ClarusConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClarusConfig")
            .field("bind", &self.bind)
            .field("latency", &self.latency)
            .field("concurrency_limit", &self.concurrency_limit)
            .field("faults", &self.faults)
            .field("seed", &self.seed)
            .field("subdomain", &self.subdomain)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("api_prefix", &self.api_prefix)
            .field("spec_path", &self.spec_path)
            .field("webhooks", &self.webhooks)
            .field("graphql_profile", &self.graphql_profile)
            .finish_non_exhaustive()
    }
}

impl Default for ClarusConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            latency: Duration::ZERO,
            latency_jitter: Duration::ZERO,
            concurrency_limit: None,
            faults: FaultRates::NONE,
            seed: 0,
            subdomain: "acme-warehouse".into(),
            client_id: "sim-client".into(),
            client_secret: "sim-secret".into(),
            token_ttl: Duration::from_secs(7200),
            api_prefix: "/api".into(),
            spec_path: PathBuf::from(DEFAULT_SPEC_PATH),
            webhooks: WebhookBehaviour::default(),
            graphql_max_page_size: 500,
            graphql_profile: GraphqlProfile::default(),
            api_domain: "clarus-api.com".into(),
        }
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

pub(crate) struct Shared {
    state: Mutex<State>,
    governor: Governor,
    webhooks: Webhooks,
    schemas: Arc<RequestSchemas>,
    tokens: Mutex<HashMap<String, Instant>>,
    subdomain: String,
    client_id: String,
    client_secret: String,
    token_ttl: Duration,
    prefix: String,
    max_page_size: usize,
    graphql_profile: GraphqlProfile,
    tracking: AtomicU64,
    base_url: String,
}

impl Shared {
    /// Fires the webhooks of the automations that match each event.
    fn fire(&self, state: &State, mut events: Vec<Event>) {
        // Every stock movement also updates the product's balance in its warehouse.
        let mut touched: Vec<(u64, u64)> = Vec::new();
        for event in &events {
            if event.resource == "stock" {
                let key = (
                    event
                        .record
                        .get("product_id")
                        .and_then(crate::json::id_from_json)
                        .unwrap_or_default(),
                    event
                        .record
                        .get("warehouse_id")
                        .and_then(crate::json::id_from_json)
                        .unwrap_or_default(),
                );
                if !touched.contains(&key) {
                    touched.push(key);
                }
            }
        }
        for (product, warehouse) in touched {
            events.push(Event {
                resource: "stock_balance",
                event: "updated",
                record: state.balance_json(product, warehouse),
            });
        }
        for event in events {
            let payload = webhooks::payload(&event.record);
            let targets = webhooks::targets(state, &event, &payload);
            self.webhooks.fire(&event, &payload, targets);
        }
    }

    fn next_tracking(&self) -> u64 {
        self.tracking.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// Entry point: [`ClarusSim::start`].
#[derive(Debug)]
pub struct ClarusSim;

impl ClarusSim {
    /// Loads the request schemas, starts a simulator on `config.bind` and answers once it accepts
    /// connections.
    pub async fn start(config: ClarusConfig) -> Result<RunningClarus, SimError> {
        let schemas = RequestSchemas::load(&config.spec_path)?;
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| SimError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: config.bind,
            source,
        })?;
        let prefix = format!("/{}", config.api_prefix.trim_matches('/'));
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new()),
            governor: Governor::new(GovernanceSettings {
                latency: config.latency,
                latency_jitter: config.latency_jitter,
                concurrency_limit: config.concurrency_limit,
                faults: config.faults,
                seed: config.seed,
            }),
            webhooks: Webhooks::new(
                config.webhooks,
                config.seed,
                config.subdomain.clone(),
                config.api_domain.clone(),
            ),
            schemas,
            tokens: Mutex::new(HashMap::new()),
            subdomain: config.subdomain,
            client_id: config.client_id,
            client_secret: config.client_secret,
            token_ttl: config.token_ttl,
            prefix,
            max_page_size: config.graphql_max_page_size.max(1),
            graphql_profile: config.graphql_profile,
            tracking: AtomicU64::new(config.seed % 1_000_000),
            base_url: format!("http://{addr}"),
        });
        let server = Server::start(listener, http::router(shared.clone())).map_err(|source| {
            SimError::Bind {
                addr: config.bind,
                source,
            }
        })?;
        Ok(RunningClarus {
            handle: ClarusHandle { shared },
            server,
        })
    }
}

/// A running Clarus simulator. Dropping it stops the server; prefer [`RunningClarus::shutdown`].
pub struct RunningClarus {
    handle: ClarusHandle,
    server: Server,
}

impl fmt::Debug for RunningClarus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningClarus")
            .field("base_url", &self.base_url())
            .finish()
    }
}

impl RunningClarus {
    /// The API base URL, e.g. `http://127.0.0.1:40124` (REST under the prefix, `/graphql`,
    /// `/oauth/token`).
    pub fn base_url(&self) -> &str {
        &self.handle.shared.base_url
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Direct, typed access to the simulator's state.
    pub fn handle(&self) -> ClarusHandle {
        self.handle.clone()
    }

    /// The warehouse driver.
    pub fn warehouse(&self) -> Warehouse {
        self.handle.warehouse()
    }

    /// Stops the server, closes open connections and abandons webhook deliveries still waiting.
    pub async fn shutdown(self) {
        self.handle.shared.webhooks.abort_all();
        self.server.shutdown().await;
    }
}

fn rejected(e: ClarusError) -> SimError {
    SimError::Rejected {
        code: e.symbol.to_string(),
        detail: e.details,
    }
}
