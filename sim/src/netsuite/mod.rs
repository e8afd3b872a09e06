//! A stateful NetSuite SuiteTalk REST simulator.
//!
//! Serves, under `/services/rest`: the OAuth 2.0 token endpoint, the record API for the record
//! types in [`RecordType`] (create answers 204 + `Location`, `eid:` addressing, unique external
//! ids, `expandSubResources`, `fields`, `replace`), transforms from orders to fulfilments and
//! receipts with real line semantics, on-hand per item × location × status (× lot/serial), SuiteQL
//! (see `docs/decisions/sim-scope.md` for the supported subset), the account concurrency limit
//! (429 `CONCURRENCY_LIMIT_EXCEEDED`), latency, and injected faults including commit-then-fail.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sim::SimError> {
//! use sim::netsuite::{NetSuiteConfig, NetSuiteSim, NewItem, ItemKind};
//!
//! let ns = NetSuiteSim::start(NetSuiteConfig::default()).await?;
//! let handle = ns.handle();
//! let warehouse = handle.add_location("Main warehouse", Some("WH-1"))?;
//! let item = handle.add_item(NewItem::new("SKU-1", ItemKind::Inventory))?;
//! handle.set_on_hand(item, warehouse, sim::netsuite::GOOD, rust_decimal::Decimal::from(10));
//! println!("NetSuite simulator at {}", ns.base_url());
//! ns.shutdown().await;
//! # Ok(()) }
//! ```

mod error;
mod handle;
mod http;
mod jobs;
mod oneworld;
mod records;
mod schema;
mod state;
mod suiteql;
mod traffic;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use handle::{
    NetSuiteHandle, NewItem, NewOrder, NewOrderLine, OnHandKey, OrderKind, OrderLineState,
};
pub use records::RecordType;
pub use state::ItemKind;
pub use traffic::{RequestCounts, RequestKind};

use crate::SimError;
use crate::governance::{FaultRates, GovernanceSettings, Governor};
use crate::server::Server;
use state::State;

/// A NetSuite internal id (`id` on the wire, always a string there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InternalId(pub u64);

impl fmt::Display for InternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The seeded inventory status "Good" (id 1), the default status of stock.
pub const GOOD: InternalId = InternalId(1);
/// The seeded inventory status "Quarantine" (id 2).
pub const QUARANTINE: InternalId = InternalId(2);
/// The seeded inventory status "Damaged" (id 3).
pub const DAMAGED: InternalId = InternalId(3);

/// Settings of a NetSuite simulator.
#[derive(Debug, Clone)]
pub struct NetSuiteConfig {
    /// Address to bind; port 0 picks a free port. Default `127.0.0.1:0`.
    pub bind: SocketAddr,
    /// Time every governed request takes before it is handled. Default zero.
    pub latency: Duration,
    /// A random extra delay up to this much, per request. Default zero.
    pub latency_jitter: Duration,
    /// Requests allowed in flight at once across the account; beyond it, 429. Default 15.
    pub concurrency_limit: Option<usize>,
    /// Fault injection rates. Default none.
    pub faults: FaultRates,
    /// Seed of the random generator behind faults, jitter and tokens. Default 0.
    pub seed: u64,
    /// Lifetime of issued access tokens. Default one hour.
    pub token_ttl: Duration,
    /// Whether fulfilments and adjustments may drive on-hand below zero. Default false.
    pub allow_negative_inventory: bool,
    /// A OneWorld account (with subsidiaries): inventory adjustments, transfers and status
    /// changes need a `subsidiary` (400 `USER_ERROR` "Please enter value(s) for: Subsidiary"
    /// without one), and a location that names its subsidiary must belong to it. Default false.
    pub one_world: bool,
}

impl Default for NetSuiteConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            latency: Duration::ZERO,
            latency_jitter: Duration::ZERO,
            concurrency_limit: Some(15),
            faults: FaultRates::NONE,
            seed: 0,
            token_ttl: Duration::from_secs(3600),
            allow_negative_inventory: false,
            one_world: false,
        }
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
    governor: Governor,
    tokens: Mutex<HashMap<String, Instant>>,
    jobs: Mutex<jobs::Jobs>,
    traffic: traffic::Traffic,
    base_url: String,
    token_ttl: Duration,
}

/// Entry point: [`NetSuiteSim::start`].
#[derive(Debug)]
pub struct NetSuiteSim;

impl NetSuiteSim {
    /// Starts a simulator on `config.bind` and answers once it accepts connections.
    pub async fn start(config: NetSuiteConfig) -> Result<RunningNetSuite, SimError> {
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
        let shared = Arc::new(Shared {
            state: Mutex::new({
                let mut state = State::new(config.allow_negative_inventory);
                state.one_world = config.one_world;
                state
            }),
            governor: Governor::new(GovernanceSettings {
                latency: config.latency,
                latency_jitter: config.latency_jitter,
                concurrency_limit: config.concurrency_limit,
                faults: config.faults,
                seed: config.seed,
            }),
            tokens: Mutex::new(HashMap::new()),
            jobs: Mutex::new(jobs::Jobs::default()),
            traffic: traffic::Traffic::default(),
            base_url: format!("http://{addr}"),
            token_ttl: config.token_ttl,
        });
        let server = Server::start(listener, http::router(shared.clone())).map_err(|source| {
            SimError::Bind {
                addr: config.bind,
                source,
            }
        })?;
        Ok(RunningNetSuite {
            handle: NetSuiteHandle { shared },
            server,
        })
    }
}

/// A running NetSuite simulator. Dropping it stops the server; prefer [`RunningNetSuite::shutdown`].
pub struct RunningNetSuite {
    handle: NetSuiteHandle,
    server: Server,
}

impl fmt::Debug for RunningNetSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningNetSuite")
            .field("base_url", &self.base_url())
            .finish()
    }
}

impl RunningNetSuite {
    /// The account base URL, e.g. `http://127.0.0.1:40123` (paths start with `/services/rest`).
    pub fn base_url(&self) -> &str {
        &self.handle.shared.base_url
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Direct, typed access to the simulator's state.
    pub fn handle(&self) -> NetSuiteHandle {
        self.handle.clone()
    }

    /// Stops the server and closes open connections.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
