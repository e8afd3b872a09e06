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
mod http;
mod index;
mod introspection;
mod nodes;
mod parse;
mod schema;
mod state;
mod types;
mod validate;
mod webhooks;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

pub use graphql::GraphqlProfile;
pub use state::{ClarusId, GoodsOutStatus, StockStatus};
pub use webhooks::{DeliveryOutcome, WebhookBehaviour, WebhookRecord};

use crate::SimError;
use crate::governance::{
    Fault, FaultRates, GovernanceSettings, GovernanceStats, Governor, lock_unpoisoned as lock,
};
use crate::server::Server;
use schema::RequestSchemas;
use state::{ClarusError, Event, Placement, State};
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
        Warehouse {
            shared: self.handle.shared.clone(),
        }
    }

    /// Stops the server, closes open connections and abandons webhook deliveries still waiting.
    pub async fn shutdown(self) {
        self.handle.shared.webhooks.abort_all();
        self.server.shutdown().await;
    }
}

/// One on-hand balance in Clarus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StockKey {
    /// Product.
    pub product: ClarusId,
    /// Warehouse.
    pub warehouse: ClarusId,
    /// Available or held.
    pub status: StockStatus,
}

fn rejected(e: ClarusError) -> SimError {
    SimError::Rejected {
        code: e.symbol.to_string(),
        detail: e.details,
    }
}

/// Typed access to a running simulator's state, for seeding and assertions. Cheap to clone.
#[derive(Clone)]
pub struct ClarusHandle {
    shared: Arc<Shared>,
}

impl fmt::Debug for ClarusHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClarusHandle")
            .field("base_url", &self.shared.base_url)
            .finish()
    }
}

impl ClarusHandle {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    /// The warehouse driver.
    pub fn warehouse(&self) -> Warehouse {
        Warehouse {
            shared: self.shared.clone(),
        }
    }

    /// Adds a stock owner account.
    pub fn add_account(&self, code: &str, name: &str) -> ClarusId {
        let mut state = self.state();
        let id = state.allocate_id();
        state.accounts.insert(
            id,
            state::Named {
                code: code.into(),
                name: name.into(),
                warehouse: None,
            },
        );
        ClarusId(id)
    }

    /// Adds a warehouse with a goods-in location and one storage location.
    pub fn add_warehouse(&self, code: &str, name: &str) -> ClarusId {
        let mut state = self.state();
        let id = state.allocate_id();
        state.warehouses.insert(
            id,
            state::Named {
                code: code.into(),
                name: name.into(),
                warehouse: None,
            },
        );
        for suffix in ["GOODSIN", "A-01"] {
            let location = state.allocate_id();
            state.locations.insert(
                location,
                state::Named {
                    code: format!("{code}-{suffix}"),
                    name: suffix.into(),
                    warehouse: Some(id),
                },
            );
        }
        ClarusId(id)
    }

    /// Adds a location to a warehouse.
    pub fn add_location(&self, warehouse: ClarusId, code: &str) -> ClarusId {
        let mut state = self.state();
        let id = state.allocate_id();
        state.locations.insert(
            id,
            state::Named {
                code: code.into(),
                name: code.into(),
                warehouse: Some(warehouse.0),
            },
        );
        ClarusId(id)
    }

    /// Adds a carrier.
    pub fn add_carrier(&self, code: &str, name: &str) -> ClarusId {
        let mut state = self.state();
        let id = state.allocate_id();
        state.carriers.insert(
            id,
            state::Named {
                code: code.into(),
                name: name.into(),
                warehouse: None,
            },
        );
        ClarusId(id)
    }

    /// The location stock is put away to in a warehouse.
    pub fn default_location(&self, warehouse: ClarusId) -> Option<ClarusId> {
        self.state().default_location(warehouse.0).map(ClarusId)
    }

    /// Adds a product (as `POST /api/products` would, code unique).
    pub fn add_product(&self, code: &str, description: &str) -> Result<ClarusId, SimError> {
        let attrs = json!({"code": code, "description": description, "stock_unit_type_id": 1});
        self.state()
            .create_product(attrs.as_object().cloned().unwrap_or_default())
            .map(ClarusId)
            .map_err(rejected)
    }

    /// The product with this code.
    pub fn find_product(&self, code: &str) -> Option<ClarusId> {
        let state = self.state();
        state
            .products
            .iter()
            .find(|(_, p)| p.attrs.get("code").and_then(Value::as_str) == Some(code))
            .map(|(id, _)| ClarusId(*id))
    }

    /// A product as REST answers it.
    pub fn product(&self, id: ClarusId) -> Option<Value> {
        Some(self.state().product_json(id.0)).filter(|v| !v.is_null())
    }

    /// Puts stock at a location without firing any webhook (opening balances).
    pub fn seed_stock(
        &self,
        product: ClarusId,
        location: ClarusId,
        quantity: Decimal,
        status: StockStatus,
        batch: Option<&str>,
    ) -> Result<ClarusId, SimError> {
        let mut state = self.state();
        if !state.products.contains_key(&product.0) || !state.locations.contains_key(&location.0) {
            return Err(SimError::Rejected {
                code: "invalid_ids_provided".into(),
                detail: "unknown product or location".into(),
            });
        }
        Ok(ClarusId(state.put_stock(
            Placement {
                product: product.0,
                account: MAIN_ACCOUNT.0,
                location: location.0,
                status,
                batch: batch.map(str::to_string),
                serial: None,
            },
            quantity,
        )))
    }

    /// Puts serialised units at a location (one stock record of quantity 1 per serial number)
    /// without firing any webhook. Answers the stock ids.
    pub fn seed_serials(
        &self,
        product: ClarusId,
        location: ClarusId,
        serial_numbers: &[&str],
        status: StockStatus,
    ) -> Result<Vec<ClarusId>, SimError> {
        let mut state = self.state();
        if !state.products.contains_key(&product.0) || !state.locations.contains_key(&location.0) {
            return Err(SimError::Rejected {
                code: "invalid_ids_provided".into(),
                detail: "unknown product or location".into(),
            });
        }
        let in_stock = |state: &State, serial: &str| {
            state.stocks.values().any(|s| {
                s.product == product.0
                    && s.serial.as_deref() == Some(serial)
                    && !s.quantity.is_zero()
            })
        };
        if let Some(duplicate) = serial_numbers.iter().find(|s| in_stock(&state, s)) {
            return Err(SimError::Rejected {
                code: "serial_number_in_stock".into(),
                detail: format!("serial number {duplicate} is already in stock"),
            });
        }
        Ok(serial_numbers
            .iter()
            .map(|serial| {
                ClarusId(state.put_stock(
                    Placement {
                        product: product.0,
                        account: MAIN_ACCOUNT.0,
                        location: location.0,
                        status,
                        batch: None,
                        serial: Some((*serial).to_string()),
                    },
                    Decimal::ONE,
                ))
            })
            .collect())
    }

    /// On-hand of a product in a warehouse in a status (picked stock counts until despatched).
    pub fn on_hand(&self, product: ClarusId, warehouse: ClarusId, status: StockStatus) -> Decimal {
        self.state()
            .on_hand()
            .get(&(product.0, warehouse.0, status))
            .copied()
            .unwrap_or_default()
    }

    /// Every non-zero on-hand balance per product × warehouse × status.
    pub fn on_hand_totals(&self) -> BTreeMap<StockKey, Decimal> {
        self.state()
            .on_hand()
            .into_iter()
            .map(|((p, w, s), q)| {
                (
                    StockKey {
                        product: ClarusId(p),
                        warehouse: ClarusId(w),
                        status: s,
                    },
                    q,
                )
            })
            .collect()
    }

    /// The stock records of a product, as REST renders them.
    pub fn stocks(&self, product: ClarusId) -> Vec<Value> {
        let state = self.state();
        let ids: Vec<u64> = state
            .stocks
            .iter()
            .filter(|(_, s)| s.product == product.0 && !s.quantity.is_zero())
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter().map(|id| state.stock_json(id)).collect()
    }

    /// A goods out with its lines, picks and shipments (the webhook record).
    pub fn goods_out(&self, id: ClarusId) -> Option<Value> {
        Some(self.state().goods_out_json(id.0)).filter(|v| !v.is_null())
    }

    /// A goods out's status.
    pub fn goods_out_status(&self, id: ClarusId) -> Option<GoodsOutStatus> {
        self.state().goods_outs.get(&id.0).map(|o| o.status)
    }

    /// The quantity picked for a goods out over all its lines (despatched included).
    pub fn goods_out_picked(&self, id: ClarusId) -> Option<Decimal> {
        self.state()
            .goods_outs
            .get(&id.0)
            .map(|o| o.lines.iter().map(|l| l.picked()).sum())
    }

    /// Goods outs with this reference, in id order.
    pub fn find_goods_outs(&self, reference: &str) -> Vec<ClarusId> {
        let state = self.state();
        state
            .goods_outs
            .iter()
            .filter(|(_, o)| o.attrs.get("reference").and_then(Value::as_str) == Some(reference))
            .map(|(id, _)| ClarusId(*id))
            .collect()
    }

    /// A goods-in receipt with its lines and received stock.
    pub fn goods_in(&self, id: ClarusId) -> Option<Value> {
        Some(self.state().goods_in_json(id.0)).filter(|v| !v.is_null())
    }

    /// Goods-in receipts with this reference, in id order.
    pub fn find_goods_ins(&self, reference: &str) -> Vec<ClarusId> {
        let state = self.state();
        state
            .goods_ins
            .iter()
            .filter(|(_, r)| r.attrs.get("reference").and_then(Value::as_str) == Some(reference))
            .map(|(id, _)| ClarusId(*id))
            .collect()
    }

    /// Every goods out id, in id order.
    pub fn goods_out_ids(&self) -> Vec<ClarusId> {
        self.state()
            .goods_outs
            .keys()
            .map(|id| ClarusId(*id))
            .collect()
    }

    /// Every goods-in receipt id, in id order.
    pub fn goods_in_ids(&self) -> Vec<ClarusId> {
        self.state()
            .goods_ins
            .keys()
            .map(|id| ClarusId(*id))
            .collect()
    }

    /// Every webhook fired so far (delivered, pending, failed or lost), in firing order.
    pub fn webhook_log(&self) -> Vec<WebhookRecord> {
        self.shared.webhooks.log()
    }

    /// The webhooks fired so far of `resource` and one of `events` (delivered, pending, failed
    /// or lost), in firing order: [`ClarusHandle::webhook_log`] without copying the others.
    pub fn webhook_log_of(&self, resource: &str, events: &[&str]) -> Vec<WebhookRecord> {
        self.shared.webhooks.log_of(resource, events)
    }

    /// Sends again every webhook of `resource`/`event` that never reached its receiver (lost,
    /// or every attempt failed), to its automation's current destinations: what a person does
    /// from Clarus's automation log when the integration reports a webhook missing. Answers how
    /// many were sent again.
    pub fn resend_undelivered(&self, resource: &str, event: &str) -> usize {
        let pending = |r: &WebhookRecord| r.copies.contains(&DeliveryOutcome::Pending);
        let undelivered: Vec<WebhookRecord> = self
            .shared
            .webhooks
            .log_of(resource, &[event])
            .into_iter()
            .filter(|r| !r.delivered() && !pending(r))
            .collect();
        for record in &undelivered {
            let targets = {
                let state = lock(&self.shared.state);
                webhooks::targets_for(&state, resource, event, &record.payload)
            };
            self.shared.webhooks.send_again(record.sequence, targets);
        }
        undelivered.len()
    }

    /// Waits until no webhook copy is waiting or being sent (or `timeout` passes; answers whether
    /// it became idle).
    pub async fn wait_for_webhooks(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.shared.webhooks.in_flight() > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// Replaces the webhook behaviour (duplicates, reordering, loss, retries).
    pub fn set_webhook_behaviour(&self, behaviour: WebhookBehaviour) {
        self.shared.webhooks.set_behaviour(behaviour);
    }

    /// Queues a fault for the next write request.
    pub fn inject_fault(&self, fault: Fault) {
        self.shared.governor.script(fault);
    }

    /// Replaces the random fault rates.
    pub fn set_faults(&self, faults: FaultRates) {
        self.shared.governor.set_faults(faults);
    }

    /// Counters of the governance layer.
    pub fn stats(&self) -> GovernanceStats {
        self.shared.governor.stats()
    }

    /// Invalidates every issued access token.
    pub fn revoke_tokens(&self) {
        lock(&self.shared.tokens).clear();
    }
}

/// One parcel of a despatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parcel {
    /// The carrier's tracking number.
    pub tracking_number: String,
    /// Weight in kilograms.
    pub weight_kg: Option<Decimal>,
}

/// One line of a receipt into stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedLine {
    /// Product received (must be on the receipt).
    pub product: ClarusId,
    /// Quantity received.
    pub quantity: Decimal,
    /// Batch (lot) number.
    pub batch: Option<String>,
    /// Serial numbers; when given there must be one per unit.
    pub serial_numbers: Vec<String>,
}

/// Drives the simulated warehouse floor. Every action fires its webhooks.
#[derive(Clone)]
pub struct Warehouse {
    shared: Arc<Shared>,
}

impl fmt::Debug for Warehouse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Warehouse").finish_non_exhaustive()
    }
}

impl Warehouse {
    fn run<T>(
        &self,
        action: impl FnOnce(&mut State) -> Result<(T, Vec<Event>), ClarusError>,
    ) -> Result<T, SimError> {
        let mut state = lock(&self.shared.state);
        let (value, events) = action(&mut state).map_err(rejected)?;
        self.shared.fire(&state, events);
        Ok(value)
    }

    /// Allocates stock to a pending order (what `process_picks_async` does).
    pub fn allocate(&self, goods_out: ClarusId) -> Result<GoodsOutStatus, SimError> {
        self.run(|s| s.allocate(goods_out.0))
    }

    /// Shorts the unallocated remainder of a part-allocated order.
    pub fn short_order_lines(&self, goods_out: ClarusId) -> Result<(), SimError> {
        self.run(|s| s.short_order_lines(&[goods_out.0]).map(|e| ((), e)))
    }

    /// Picks everything allocated to an ALLOCATED order.
    pub fn pick(&self, goods_out: ClarusId) -> Result<(), SimError> {
        self.run(|s| s.pick(goods_out.0, &HashMap::new()).map(|e| ((), e)))
    }

    /// Picks less than allocated: at most `picked` of each listed product; the rest is released
    /// and the line marked SHORT.
    pub fn short_pick(
        &self,
        goods_out: ClarusId,
        picked: &[(ClarusId, Decimal)],
    ) -> Result<(), SimError> {
        let caps: HashMap<u64, Decimal> = picked.iter().map(|(p, q)| (p.0, *q)).collect();
        self.run(|s| s.pick(goods_out.0, &caps).map(|e| ((), e)))
    }

    /// Despatches a picked order with a carrier and one tracking number per parcel: COMPLETED.
    pub fn despatch(
        &self,
        goods_out: ClarusId,
        carrier: ClarusId,
        parcels: &[Parcel],
    ) -> Result<(), SimError> {
        self.ship(goods_out, carrier, parcels, None)
    }

    /// Ships part of a picked order in a shipment of its own (at most `lines` of each listed
    /// product, with one tracking number per parcel); the order stays open for the rest and
    /// `goods_out.updated` fires. A later [`Warehouse::despatch`] ships the rest and completes it.
    pub fn despatch_part(
        &self,
        goods_out: ClarusId,
        carrier: ClarusId,
        lines: &[(ClarusId, Decimal)],
        parcels: &[Parcel],
    ) -> Result<(), SimError> {
        let part: HashMap<u64, Decimal> = lines.iter().map(|(p, q)| (p.0, *q)).collect();
        self.ship(goods_out, carrier, parcels, Some(&part))
    }

    /// One shipment of a picked order: `part` (quantity per product) or everything left.
    fn ship(
        &self,
        goods_out: ClarusId,
        carrier: ClarusId,
        parcels: &[Parcel],
        part: Option<&HashMap<u64, Decimal>>,
    ) -> Result<(), SimError> {
        let packages = parcels
            .iter()
            .map(|p| (p.tracking_number.clone(), p.weight_kg))
            .collect();
        self.run(|s| {
            s.despatch(goods_out.0, carrier.0, packages, part)
                .map(|e| ((), e))
        })
    }

    /// Records a failed pick of an ALLOCATED or PICK order on which nothing was picked (every
    /// line shorted, or no stock where it should be): allocations are released, every line is
    /// SHORT and the order is COMPLETED with nothing despatched and no shipment, firing
    /// `goods_out.completed`. An order with picked stock is refused: despatch it.
    pub fn fail_pick(&self, goods_out: ClarusId) -> Result<(), SimError> {
        self.run(|s| s.fail_pick(goods_out.0).map(|e| ((), e)))
    }

    /// Cancels an order from the warehouse side.
    pub fn cancel(&self, goods_out: ClarusId) -> Result<(), SimError> {
        self.run(|s| s.cancel_goods_out(goods_out.0).map(|(_, e)| ((), e)))
    }

    /// Receives stock against a goods-in receipt into `status` (held = quarantine: the stock is
    /// placed on hold as it is put away, firing `stock` / `placed_on_hold` after `received`). With
    /// `complete`, the receipt is completed (put away); otherwise it stays part-received.
    pub fn receive(
        &self,
        goods_in: ClarusId,
        lines: &[ReceivedLine],
        status: StockStatus,
        complete: bool,
    ) -> Result<(), SimError> {
        self.run(|s| {
            let receipt = s
                .goods_ins
                .get(&goods_in.0)
                .cloned()
                .ok_or_else(|| ClarusError::not_found("Goods in receipt", goods_in.0))?;
            if !matches!(receipt.status.as_str(), "pending" | "receiving") {
                return Err(ClarusError::unprocessable(
                    932,
                    "goods_in_receipt_closed",
                    format!("The receipt is {}", receipt.status),
                ));
            }
            let warehouse = receipt
                .attrs
                .get("warehouse_id")
                .and_then(crate::json::id_from_json)
                .unwrap_or(1);
            let account = receipt
                .attrs
                .get("account_id")
                .and_then(crate::json::id_from_json)
                .unwrap_or(1);
            let location = s.default_location(warehouse).ok_or_else(|| {
                ClarusError::unprocessable(
                    907,
                    "location_not_found",
                    "The warehouse has no location",
                )
            })?;
            for line in lines {
                if !receipt.lines.iter().any(|l| l.product == line.product.0) {
                    return Err(ClarusError::unprocessable(
                        933,
                        "product_not_on_receipt",
                        format!("Product {} is not on the receipt", line.product),
                    ));
                }
                if line.quantity <= Decimal::ZERO {
                    return Err(ClarusError::unprocessable(
                        934,
                        "invalid_quantity",
                        "Received quantity must be positive",
                    ));
                }
                if !line.serial_numbers.is_empty()
                    && Decimal::from(line.serial_numbers.len()) != line.quantity
                {
                    return Err(ClarusError::unprocessable(
                        935,
                        "serial_count_mismatch",
                        "One serial number per unit is needed",
                    ));
                }
            }
            let mut events = Vec::new();
            let reference = receipt.attrs.get("reference").cloned();
            for line in lines {
                let mut created = Vec::new();
                if line.serial_numbers.is_empty() {
                    let stock = s.put_stock(
                        Placement {
                            product: line.product.0,
                            account,
                            location,
                            status,
                            batch: line.batch.clone(),
                            serial: None,
                        },
                        line.quantity,
                    );
                    created.push((stock, line.quantity, None));
                } else {
                    for serial in &line.serial_numbers {
                        let stock = s.put_stock(
                            Placement {
                                product: line.product.0,
                                account,
                                location,
                                status,
                                batch: line.batch.clone(),
                                serial: Some(serial.clone()),
                            },
                            Decimal::ONE,
                        );
                        created.push((stock, Decimal::ONE, Some(serial.clone())));
                    }
                }
                let receipt_line = receipt
                    .lines
                    .iter()
                    .find(|l| l.product == line.product.0 && l.received_quantity() < l.expected)
                    .or_else(|| receipt.lines.iter().find(|l| l.product == line.product.0))
                    .map(|l| l.id);
                for (stock, quantity, serial) in created {
                    if let Some(r) = s.goods_ins.get_mut(&goods_in.0)
                        && let Some(l) = r.lines.iter_mut().find(|l| Some(l.id) == receipt_line)
                    {
                        l.received.push(state::Received {
                            stock,
                            quantity,
                            batch: line.batch.clone(),
                            serial,
                            status,
                        });
                    }
                    events.push(s.stock_event(
                        "received",
                        stock,
                        quantity,
                        json!({"goods_in_receipt_id": goods_in.0, "reference": reference}),
                    ));
                    if status == StockStatus::Held {
                        // Stock received into quarantine is placed on hold as it is put away,
                        // with the `stock` webhook that comes with it.
                        events.push(s.stock_event(
                            "placed_on_hold",
                            stock,
                            quantity,
                            json!({"reason": "received_on_hold"}),
                        ));
                    }
                }
            }
            let now = jiff::Timestamp::now();
            if let Some(r) = s.goods_ins.get_mut(&goods_in.0) {
                r.status = if complete {
                    "completed".into()
                } else {
                    "receiving".into()
                };
                r.received_at = Some(now);
                r.updated = now;
            }
            let record = s.goods_in_json(goods_in.0);
            events.push(Event {
                resource: "goods_in",
                event: if complete {
                    "completed"
                } else {
                    "moved_to_part"
                },
                record,
            });
            Ok(((), events))
        })
    }

    /// Adjusts available stock of a product at a location by `delta` (positive adds a new
    /// batch-less record or tops up one; negative takes free stock, oldest first).
    pub fn adjust(
        &self,
        product: ClarusId,
        location: ClarusId,
        delta: Decimal,
        reason: &str,
    ) -> Result<(), SimError> {
        self.run(|s| adjust(s, product.0, location.0, delta, reason).map(|e| ((), e)))
    }

    /// Writes off broken stock (a negative adjustment with reason `breakage`).
    pub fn breakage(
        &self,
        product: ClarusId,
        location: ClarusId,
        quantity: Decimal,
    ) -> Result<(), SimError> {
        self.adjust(product, location, -quantity, "breakage")
    }

    /// Puts `quantity` of a product's free available stock in a warehouse on hold.
    pub fn hold(
        &self,
        product: ClarusId,
        warehouse: ClarusId,
        quantity: Decimal,
        reason: &str,
    ) -> Result<(), SimError> {
        self.run(|s| {
            change_status(
                s,
                product.0,
                warehouse.0,
                quantity,
                StockStatus::Held,
                reason,
            )
            .map(|e| ((), e))
        })
    }

    /// Releases `quantity` of a product's held stock in a warehouse.
    pub fn release(
        &self,
        product: ClarusId,
        warehouse: ClarusId,
        quantity: Decimal,
        reason: &str,
    ) -> Result<(), SimError> {
        self.run(|s| {
            change_status(
                s,
                product.0,
                warehouse.0,
                quantity,
                StockStatus::Available,
                reason,
            )
            .map(|e| ((), e))
        })
    }

    /// Counts a product's available stock at a location; a difference is adjusted (reason
    /// `stock_check`). Answers the difference (counted − expected).
    pub fn stock_check(
        &self,
        product: ClarusId,
        location: ClarusId,
        counted: Decimal,
    ) -> Result<Decimal, SimError> {
        self.run(|s| {
            let expected: Decimal = s
                .stocks
                .values()
                .filter(|st| {
                    st.product == product.0
                        && st.location == location.0
                        && st.status == StockStatus::Available
                })
                .map(|st| st.quantity)
                .sum();
            let (check, _task) = s.create_stock_check(location.0)?;
            let difference = counted - expected;
            let events = if difference.is_zero() {
                Vec::new()
            } else {
                adjust(s, product.0, location.0, difference, "stock_check")?
            };
            if let Some(c) = s.stock_checks.get_mut(&check) {
                c.status = if difference.is_zero() {
                    "passed".into()
                } else {
                    "resolved".into()
                };
                c.product = Some(product.0);
                c.expected = Some(expected);
                c.counted = Some(counted);
            }
            Ok((difference, events))
        })
    }
}

fn adjust(
    s: &mut State,
    product: u64,
    location: u64,
    delta: Decimal,
    reason: &str,
) -> Result<Vec<Event>, ClarusError> {
    if !s.products.contains_key(&product) || !s.locations.contains_key(&location) {
        return Err(ClarusError::unprocessable(
            37,
            "invalid_ids_provided",
            "Unknown product or location",
        ));
    }
    let extra = json!({"reason": reason});
    if delta > Decimal::ZERO {
        let stock = s.put_stock(
            Placement {
                product,
                account: MAIN_ACCOUNT.0,
                location,
                status: StockStatus::Available,
                batch: None,
                serial: None,
            },
            delta,
        );
        return Ok(vec![s.stock_event(
            "positively_adjusted",
            stock,
            delta,
            extra,
        )]);
    }
    let mut need = -delta;
    let candidates: Vec<u64> = s
        .stocks
        .iter()
        .filter(|(_, st)| {
            st.product == product && st.location == location && st.status == StockStatus::Available
        })
        .map(|(id, _)| *id)
        .collect();
    let free: Decimal = candidates.iter().map(|id| s.free_quantity(*id)).sum();
    if free < need {
        return Err(ClarusError::unprocessable(
            912,
            "invalid_adjustment_quantity",
            format!("Only {} is free to adjust", free.normalize()),
        ));
    }
    let mut events = Vec::new();
    for id in candidates {
        if need.is_zero() {
            break;
        }
        let take = s.free_quantity(id).min(need);
        if take > Decimal::ZERO {
            events.push(s.negative_adjustment(id, take, extra.clone())?);
            need -= take;
        }
    }
    Ok(events)
}

fn change_status(
    s: &mut State,
    product: u64,
    warehouse: u64,
    quantity: Decimal,
    to: StockStatus,
    reason: &str,
) -> Result<Vec<Event>, ClarusError> {
    let from = if to == StockStatus::Held {
        StockStatus::Available
    } else {
        StockStatus::Held
    };
    let candidates: Vec<u64> = s
        .stocks
        .iter()
        .filter(|(_, st)| {
            st.product == product
                && st.warehouse == warehouse
                && st.status == from
                && !st.quantity.is_zero()
        })
        .map(|(id, _)| *id)
        .collect();
    let free: Decimal = candidates.iter().map(|id| s.free_quantity(*id)).sum();
    if quantity <= Decimal::ZERO || free < quantity {
        return Err(ClarusError::unprocessable(
            911,
            "not_enough_free_stock",
            format!("Only {} {} is free", free.normalize(), from.as_str()),
        ));
    }
    let mut need = quantity;
    let mut events = Vec::new();
    for id in candidates {
        if need.is_zero() {
            break;
        }
        let take = s.free_quantity(id).min(need);
        if take > Decimal::ZERO {
            events.push(s.set_status(
                id,
                take,
                to,
                json!({"description": reason, "reason": reason}),
            )?);
            need -= take;
        }
    }
    Ok(events)
}
