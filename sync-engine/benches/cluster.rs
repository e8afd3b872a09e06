//! Several instances on one PostgreSQL database: what one, two and three instances do together.
//!
//! For each cluster size `n` (1, 2, 3), in a fresh schema each:
//!
//! 1. **Webhooks accepted per second**: `n` webhook intakes (the real [`intake::router`], each
//!    with its own connection pool) on loopback; a client posts `CLUSTER_BENCH_WEBHOOKS`
//!    deliveries (default 3,000), 64 at a time, round-robin over the intakes. Each is stored
//!    before it is answered `202`; every one must be answered `202` and be in the store.
//! 2. **Events planned per second**: `n` engines ([`Engine::ingest`], the version-checked plan
//!    commit) plan `CLUSTER_BENCH_EVENTS` item events (default 600) between them, at once.
//! 3. **Within the NetSuite share**: one engine plans a despatch for each of
//!    `CLUSTER_BENCH_ORDERS` sales orders (default 300); then `n` outboxes, each claiming
//!    actions in its own name, post the fulfilments to the simulated NetSuite (50 ms a request,
//!    15 in flight at most, 429 beyond), each through a client sized to its share,
//!    [`netsuite_slots`]`(15, 1, n)`. The cluster must never exceed the account's limit: no 429
//!    answered, every fulfilment posted once.
//!
//! ```text
//! cargo bench -p sync-engine --features postgres --bench cluster
//! ```
//!
//! `SYNC_BENCH_DATABASE_URL` names the database (default
//! `postgres://postgres@127.0.0.1:5432/test`). The process exits non-zero when a check fails.
//! All instances run in this one process, on the machine's cores: the figures show what the
//! shared database and the shared NetSuite account allow, not what separate machines would add.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clarus_client::Secret;
use clarus_client::webhook::WebhookSecret;
use futures_util::StreamExt;
use jiff::Timestamp;
use rust_decimal::Decimal;
use sim::netsuite::{
    GOOD, ItemKind, NetSuiteConfig, NetSuiteSim, NewItem, NewOrder, NewOrderLine, OrderKind,
    RecordType, RunningNetSuite,
};
use sync_core::{
    Despatch, DespatchLine, Event, GoodsOutId, Item, LineNo, LocationMapping, MappingTables,
    Mappings, Order, OrderLine, OrderRef, OrderStatus, Package, Payload, Revision, SourceId,
    System, Tracking, TrackingNumber, WarehouseId,
};
use sync_engine::cluster::netsuite_slots;
use sync_engine::engine::{Engine, IngestOutcome};
use sync_engine::intake::{self, IntakeConfig};
use sync_engine::netsuite::{ExecutorConfig, NetSuiteExecutor};
use sync_engine::outbox::{Outbox, OutboxConfig};
use sync_engine::router::Router;
use sync_engine::store::{ActionStatus, PgOptions, PgStore, Store};
use tokio::sync::watch;

mod support;

use support::{BenchError, ClarusAccepts, client, netsuite_event};

const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const SECRET: &str = "cluster-bench-webhook-secret-0123456789";
/// Latency of every simulated NetSuite request.
const LATENCY: Duration = Duration::from_millis(50);
/// The simulated account's concurrency limit.
const ACCOUNT_LIMIT: usize = 15;
/// Slots left to other integrations (the default share).
const RESERVE: usize = 1;
const ITEMS: usize = 20;
const WAREHOUSE: WarehouseId = WarehouseId(10);
const FULFIL: &str = "fulfil_sales_order";

/// A fresh schema per measurement, dropped at the end.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(url: &str, what: &str, n: usize) -> Self {
        Schema {
            url: url.to_owned(),
            name: format!("bench_{what}_{n}_{}", std::process::id()),
        }
    }

    async fn store(&self) -> Result<Arc<dyn Store>, BenchError> {
        let store = PgStore::connect(
            &self.url,
            PgOptions {
                schema: Some(self.name.clone()),
                ..PgOptions::default()
            },
        )
        .await?;
        Ok(Arc::new(store))
    }

    async fn drop_now(&self) {
        use sqlx::{Connection, Executor};
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.url).await {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                    self.name
                )))
                .await;
            let _ = conn.close().await;
        }
    }
}

/// Webhooks accepted per second by `n` intakes on one schema.
async fn webhooks(url: &str, n: usize, total: usize) -> Result<f64, BenchError> {
    let schema = Schema::new(url, "intake", n);
    let mut stores = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..n {
        let store = schema.store().await?;
        let app = intake::router(
            store.clone(),
            IntakeConfig {
                secret: WebhookSecret::new(Secret::new(SECRET)),
                max_body_bytes: 1 << 20,
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        bases.push(format!(
            "http://{}/webhooks/clarus/goods_out/completed?token={SECRET}",
            listener.local_addr()?
        ));
        tokio::spawn(async move { axum::serve(listener, app).await });
        stores.push(store);
    }
    let http = reqwest::Client::new();
    let started = Instant::now();
    let answers: Vec<Result<reqwest::StatusCode, reqwest::Error>> =
        futures_util::stream::iter(0..total)
            .map(|i| {
                let request = http
                    .post(&bases[i % n])
                    .header("X-ClarusWMS-Subdomain", "acme")
                    .body(format!(r#"{{"data":{{"id":{i},"status":"completed"}}}}"#));
                async move { request.send().await.map(|r| r.status()) }
            })
            .buffer_unordered(64)
            .collect()
            .await;
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let accepted = answers
        .iter()
        .filter(|a| matches!(a, Ok(s) if s.as_u16() == 202))
        .count();
    let stored = stores[0]
        .unprocessed_deliveries(Timestamp::now(), total + 1)
        .await?
        .len();
    schema.drop_now().await;
    if accepted != total || stored != total {
        return Err(format!("{accepted} of {total} answered 202, {stored} stored").into());
    }
    Ok(rate)
}

fn item_event(id: &str, sku: &str, at: Timestamp) -> Event {
    let item = Item {
        netsuite_id: id.into(),
        sku: sku.into(),
        barcode: None,
        description: sku.to_owned(),
        tracking: Tracking::None,
        inactive: false,
    };
    netsuite_event("inventoryItem", id, at, Payload::Item(item))
}

fn mappings(location: &str) -> Result<Mappings, BenchError> {
    Ok(Mappings::new(MappingTables {
        locations: vec![LocationMapping {
            location: location.into(),
            warehouse: WAREHOUSE,
        }],
        ..MappingTables::default()
    })?)
}

/// Events planned per second by `n` engines on one schema, at once.
async fn planning(url: &str, n: usize, total: usize) -> Result<(f64, u64), BenchError> {
    let schema = Schema::new(url, "plan", n);
    let mut engines = Vec::new();
    for _ in 0..n {
        engines.push(Arc::new(
            Engine::open(schema.store().await?, mappings("1")?).await?,
        ));
    }
    let now = Timestamp::now();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (k, engine) in engines.iter().enumerate() {
        let engine = engine.clone();
        let mine: Vec<Event> = (0..total)
            .filter(|i| i % n == k)
            .map(|i| item_event(&(10_000 + i).to_string(), &format!("P{i}"), now))
            .collect();
        tasks.spawn(async move {
            for event in mine {
                engine.ingest(&event, now).await?;
            }
            Ok::<_, BenchError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let stale = engines.iter().map(|e| e.stale_commits()).sum();
    schema.drop_now().await;
    Ok((rate, stale))
}

/// What `n` outboxes did with the fulfilments.
struct Share {
    slots: usize,
    rate: f64,
    throttled: u64,
    max_in_flight: u64,
    fulfilments: usize,
    duplicates: usize,
    failed: u64,
}

/// Seeds the account and plans one fulfilment per order with one engine.
async fn plan_fulfilments(
    ns: &RunningNetSuite,
    store: Arc<dyn Store>,
    orders: usize,
) -> Result<(), BenchError> {
    let h = ns.handle();
    let location = h.add_location("Main warehouse", None)?;
    let location_id = location.0.to_string();
    let mut items = Vec::with_capacity(ITEMS);
    for i in 0..ITEMS {
        let sku = format!("SKU-{i:03}");
        let id = h.add_item(NewItem::new(&sku, ItemKind::Inventory))?;
        h.set_on_hand(id, location, GOOD, Decimal::from(orders * 10));
        items.push((id, sku));
    }
    let engine = Engine::open(store.clone(), mappings(&location_id)?).await?;
    let now = Timestamp::now();
    for (id, sku) in &items {
        engine
            .ingest(&item_event(&id.0.to_string(), sku, now), now)
            .await?;
    }
    let outbox = Outbox::new(
        store.clone(),
        Arc::new(Router::new(
            Arc::new(ClarusAccepts),
            Arc::new(ClarusAccepts),
        )),
        OutboxConfig::default(),
    );
    let mut despatches = Vec::with_capacity(orders);
    for n in 0..orders {
        let picks = [(n % ITEMS, 2), ((n + 1) % ITEMS, 3)];
        let id = h.add_order(
            OrderKind::SalesOrder,
            NewOrder {
                location: Some(location),
                lines: picks
                    .iter()
                    .map(|&(i, q)| NewOrderLine {
                        item: items[i].0,
                        quantity: Decimal::from(q),
                        location: None,
                    })
                    .collect(),
                ..NewOrder::default()
            },
        )?;
        let lines: Vec<(LineNo, String, String, Decimal)> = h
            .order_lines(OrderKind::SalesOrder, id)
            .into_iter()
            .zip(picks)
            .map(|(line, (i, _))| {
                (
                    LineNo(line.line),
                    items[i].0.0.to_string(),
                    items[i].1.clone(),
                    line.quantity,
                )
            })
            .collect();
        let order = id.0.to_string();
        let event = netsuite_event(
            "salesOrder",
            &order,
            now,
            Payload::Order(Order {
                order: OrderRef::sales(order.as_str()),
                tran_id: format!("SO{order}"),
                status: OrderStatus::Open,
                location: location_id.as_str().into(),
                ship_method: None,
                expected_date: None,
                lines: lines
                    .iter()
                    .map(|(line, item, sku, quantity)| OrderLine {
                        line: *line,
                        item: item.as_str().into(),
                        sku: sku.as_str().into(),
                        quantity: *quantity,
                        quantity_done: Decimal::ZERO,
                        closed: false,
                    })
                    .collect(),
            }),
        );
        if !matches!(
            engine.ingest(&event, now).await?,
            IngestOutcome::Planned { exceptions: 0, .. }
        ) {
            return Err(format!("order {order} did not plan cleanly").into());
        }
        despatches.push((order, lines));
    }
    // The goods outs those plans release, out of the way.
    while outbox.run_due().await? > 0 {}
    for (n, (order, lines)) in despatches.into_iter().enumerate() {
        let despatch = Despatch {
            tenant: "acme".into(),
            goods_out: GoodsOutId(n as u64 + 1),
            despatch: "1".into(),
            order: order.as_str().into(),
            warehouse: WAREHOUSE,
            carrier: None,
            service: None,
            despatched_at: now,
            lines: lines
                .iter()
                .map(|(line, _, sku, quantity)| DespatchLine {
                    order_line: *line,
                    sku: sku.as_str().into(),
                    requested: *quantity,
                    quantity: *quantity,
                    lots: vec![],
                    serials: vec![],
                })
                .collect(),
            packages: vec![Package {
                tracking_number: Some(TrackingNumber::new(format!("TRK-{n}"))),
                weight_kg: None,
            }],
        };
        let event = Event {
            source: SourceId {
                system: System::Clarus,
                resource: "goods_out".into(),
                id: (n + 1).to_string().as_str().into(),
                event: "despatched".into(),
                revision: Revision::Sequence(1),
            },
            occurred_at: now,
            payload: Payload::Despatch(despatch),
        };
        if !matches!(
            engine.ingest(&event, now).await?,
            IngestOutcome::Planned { exceptions: 0, .. }
        ) {
            return Err(format!("the despatch of order {order} did not plan cleanly").into());
        }
    }
    Ok(())
}

async fn count(store: &dyn Store, status: ActionStatus) -> Result<u64, BenchError> {
    Ok(store
        .action_counts()
        .await?
        .into_iter()
        .filter(|c| c.kind == FULFIL && c.status == status)
        .map(|c| c.count)
        .sum())
}

/// `n` outboxes post the fulfilments, each within its share of the account.
async fn netsuite_share(url: &str, n: usize, orders: usize) -> Result<Share, BenchError> {
    let schema = Schema::new(url, "share", n);
    let ns = NetSuiteSim::start(NetSuiteConfig {
        latency: LATENCY,
        concurrency_limit: Some(ACCOUNT_LIMIT),
        ..NetSuiteConfig::default()
    })
    .await?;
    plan_fulfilments(&ns, schema.store().await?, orders).await?;
    let slots = netsuite_slots(ACCOUNT_LIMIT, RESERVE, n);
    let watcher = schema.store().await?;
    let (stop, stopped) = watch::channel(false);
    let before = ns.handle().stats();
    let started = Instant::now();
    let mut workers = Vec::new();
    for k in 0..n {
        let executor = NetSuiteExecutor::new(client(&ns, slots).await?, ExecutorConfig::default());
        let outbox = Outbox::new(
            schema.store().await?,
            Arc::new(Router::new(Arc::new(ClarusAccepts), Arc::new(executor))),
            OutboxConfig::default(),
        )
        .with_holder(format!("bench-{k}"));
        let stopped = stopped.clone();
        workers.push(tokio::spawn(async move { outbox.run(stopped).await }));
    }
    let failed = loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let done = count(&*watcher, ActionStatus::Done).await?;
        let failed = count(&*watcher, ActionStatus::Failed).await?;
        if done + failed >= orders as u64 || workers.iter().any(|w| w.is_finished()) {
            break failed;
        }
    };
    let rate = orders as f64 / started.elapsed().as_secs_f64();
    let after = ns.handle().stats();
    stop.send(true)?;
    for worker in workers {
        worker.await??;
    }
    let share = Share {
        slots,
        rate,
        throttled: after.throttled - before.throttled,
        max_in_flight: after.max_in_flight,
        fulfilments: ns.handle().count(RecordType::ItemFulfillment),
        duplicates: ns.handle().duplicate_external_ids().len(),
        failed,
    };
    ns.shutdown().await;
    schema.drop_now().await;
    Ok(share)
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run() -> Result<bool, BenchError> {
    let url = std::env::var("SYNC_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
    let deliveries = env("CLUSTER_BENCH_WEBHOOKS", 3_000);
    let events = env("CLUSTER_BENCH_EVENTS", 600);
    let orders = env("CLUSTER_BENCH_ORDERS", 300);
    println!(
        "cluster on PostgreSQL: {deliveries} webhooks, {events} events, {orders} fulfilments \
         (NetSuite: {ACCOUNT_LIMIT} in flight at most, {} ms a request)",
        LATENCY.as_millis()
    );
    println!(
        "{:>9} {:>14} {:>14} {:>6} {:>6} {:>15} {:>6} {:>9} {:>11} {:>10}",
        "instances",
        "webhooks/s",
        "events/s",
        "stale",
        "slots",
        "fulfilments/s",
        "429s",
        "in flight",
        "fulfilments",
        "duplicate"
    );
    let mut ok = true;
    for n in 1..=3 {
        let accepted = webhooks(&url, n, deliveries).await?;
        let (planned, stale) = planning(&url, n, events).await?;
        let share = netsuite_share(&url, n, orders).await?;
        println!(
            "{n:>9} {accepted:>14.0} {planned:>14.0} {stale:>6} {:>6} {:>15.1} {:>6} {:>9} {:>11} {:>10}",
            share.slots * n,
            share.rate,
            share.throttled,
            share.max_in_flight,
            share.fulfilments,
            share.duplicates
        );
        if share.throttled > 0
            || share.duplicates > 0
            || share.failed > 0
            || share.fulfilments != orders
            || share.max_in_flight > ACCOUNT_LIMIT as u64
        {
            eprintln!("cluster: {n} instances left their NetSuite share or lost a fulfilment");
            ok = false;
        }
    }
    Ok(ok)
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; this binary takes no arguments of its own.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("cluster: {e}");
            ExitCode::FAILURE
        }
    }
}
