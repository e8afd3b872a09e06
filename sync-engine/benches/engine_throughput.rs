//! Whole-system throughput of the engine's NetSuite side against the simulated account.
//!
//! The simulated NetSuite answers every request after 50 ms and refuses (429) anything beyond 15
//! requests in flight, so no client can do better than 15 / 50 ms = 300 requests per second. This
//! benchmark seeds items and sales orders, plans one Clarus despatch per order through the real
//! [`Engine::ingest`] (so the outbox holds one `fulfil_sales_order` action per order), then times
//! the real [`Outbox`] running them with the real [`NetSuiteExecutor`] through a client whose
//! concurrency budget is the account's 15. It prints the achieved rate against the bound, the 429s
//! the simulator answered, and checks that every action is done, no exception was raised and no
//! fulfilment was posted twice.
//!
//! A whole-system measurement (one timed run of a few seconds), not a criterion micro-benchmark:
//!
//! ```text
//! cargo bench -p sync-engine --bench engine_throughput
//! ```
//!
//! `ENGINE_BENCH_ORDERS` changes the number of orders (default 600). The process exits non-zero
//! when a check fails or the rate is below 90% of the bound.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jiff::Timestamp;
use rust_decimal::Decimal;
use sim::netsuite::{
    GOOD, ItemKind, NetSuiteConfig, NetSuiteSim, NewItem, NewOrder, NewOrderLine, OrderKind,
    RecordType,
};
use sync_core::{
    Despatch, DespatchLine, Event, GoodsOutId, Item, LineNo, LocationMapping, MappingTables,
    Mappings, Order, OrderLine, OrderRef, OrderStatus, Package, Payload, PlannedAction, Revision,
    SourceId, System, Tracking, TrackingNumber, WarehouseId,
};
use sync_engine::engine::{Engine, IngestOutcome};
use sync_engine::netsuite::{ExecutorConfig, NetSuiteExecutor};
use sync_engine::outbox::{ActionExecutor, ExecutionError, Outbox, OutboxConfig};
use sync_engine::router::Router;
use sync_engine::store::{ActionStatus, SqliteStore, Store};
use tokio::sync::watch;

/// Latency of every simulated NetSuite request.
const LATENCY: Duration = Duration::from_millis(50);
/// The simulated account's concurrency limit (and the client's budget).
const LIMIT: usize = 15;
/// Items in the catalogue; each order has two lines of two of them.
const ITEMS: usize = 20;
/// The share of the bound the engine must reach.
const TARGET: f64 = 0.90;
const WAREHOUSE: WarehouseId = WarehouseId(10);
const FULFIL: &str = "fulfil_sales_order";

mod support;

use support::BenchError;

/// The NetSuite executor, timed: how long actions spend in it (NetSuite requests and waits for
/// a slot of the client's budget), as opposed to the outbox and the store.
struct Timed {
    inner: NetSuiteExecutor,
    calls: AtomicU64,
    micros: AtomicU64,
}

#[async_trait]
impl ActionExecutor for Timed {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        let started = Instant::now();
        let result = self.inner.execute(action).await;
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.micros
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        result
    }
    async fn find_applied(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        self.inner.find_applied(action).await
    }
}

/// One sales order in the simulator and the engine's view of it.
struct SeededOrder {
    id: String,
    lines: Vec<(LineNo, String, Decimal)>,
}

/// Removes the SQLite file and its WAL companions when dropped.
struct TempDb(PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

struct Figures {
    orders: usize,
    wall: Duration,
    requests: u64,
    throttled: u64,
    max_in_flight: u64,
    executor_mean: Duration,
    done: u64,
    failed: u64,
    exceptions: usize,
    fulfilments: usize,
    duplicates: usize,
}

async fn run(orders: usize) -> Result<Figures, BenchError> {
    let ns = NetSuiteSim::start(NetSuiteConfig {
        latency: LATENCY,
        concurrency_limit: Some(LIMIT),
        ..NetSuiteConfig::default()
    })
    .await?;
    let h = ns.handle();
    let location = h.add_location("Main warehouse", None)?;
    let location_id = location.0.to_string();

    // Items with plenty of stock, and sales orders of two lines each.
    let mut items = Vec::with_capacity(ITEMS);
    for i in 0..ITEMS {
        let sku = format!("SKU-{i:03}");
        let id = h.add_item(NewItem::new(&sku, ItemKind::Inventory))?;
        h.set_on_hand(id, location, GOOD, Decimal::from(orders * 10));
        items.push((id, sku));
    }
    let mut seeded = Vec::with_capacity(orders);
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
        let lines = h
            .order_lines(OrderKind::SalesOrder, id)
            .into_iter()
            .zip(picks)
            .map(|(line, (i, _))| (LineNo(line.line), items[i].1.clone(), line.quantity))
            .collect();
        seeded.push(SeededOrder {
            id: id.0.to_string(),
            lines,
        });
    }

    let mappings = Mappings::new(MappingTables {
        locations: vec![LocationMapping {
            location: location_id.as_str().into(),
            warehouse: WAREHOUSE,
        }],
        ..MappingTables::default()
    })?;
    let db = TempDb(
        std::env::temp_dir().join(format!("engine-throughput-{}.sqlite", std::process::id())),
    );
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db.0)?);
    let engine = Engine::open(store.clone(), mappings).await?;
    let client = support::client(&ns, LIMIT).await?;
    let netsuite = Arc::new(Timed {
        inner: NetSuiteExecutor::new(client, ExecutorConfig::default()),
        calls: AtomicU64::new(0),
        micros: AtomicU64::new(0),
    });
    let outbox = Outbox::new(
        store.clone(),
        Arc::new(Router::new(
            Arc::new(support::ClarusAccepts),
            netsuite.clone(),
        )),
        OutboxConfig::default(),
    );

    // The NetSuite side of the engine learns the items and orders (what the poller would ingest).
    let now = Timestamp::now();
    for (id, sku) in &items {
        let item = Item {
            netsuite_id: id.0.to_string().as_str().into(),
            sku: sku.as_str().into(),
            barcode: None,
            description: sku.clone(),
            tracking: Tracking::None,
            inactive: false,
        };
        engine
            .ingest(
                &support::netsuite_event(
                    "inventoryItem",
                    &id.0.to_string(),
                    now,
                    Payload::Item(item),
                ),
                now,
            )
            .await?;
    }
    for order in &seeded {
        let event = support::netsuite_event(
            "salesOrder",
            &order.id,
            now,
            Payload::Order(Order {
                order: OrderRef::sales(order.id.as_str()),
                tran_id: format!("SO{}", order.id),
                status: OrderStatus::Open,
                location: location_id.as_str().into(),
                ship_method: None,
                expected_date: None,
                lines: order
                    .lines
                    .iter()
                    .map(|(line, sku, quantity)| OrderLine {
                        line: *line,
                        item: items
                            .iter()
                            .find(|(_, s)| s == sku)
                            .map(|(id, _)| id.0.to_string())
                            .unwrap_or_default()
                            .as_str()
                            .into(),
                        sku: sku.as_str().into(),
                        quantity: *quantity,
                        quantity_done: Decimal::ZERO,
                        closed: false,
                    })
                    .collect(),
            }),
        );
        match engine.ingest(&event, now).await? {
            IngestOutcome::Planned { exceptions: 0, .. } => {}
            other => return Err(format!("order {} planned as {other:?}", order.id).into()),
        }
    }
    // The Clarus products and goods outs those plans release, out of the way.
    while outbox.run_due().await? > 0 {}

    // Clarus despatched every order in full.
    for (n, order) in seeded.iter().enumerate() {
        let despatch = Despatch {
            tenant: "acme".into(),
            goods_out: GoodsOutId(n as u64 + 1),
            despatch: "1".into(),
            order: order.id.as_str().into(),
            warehouse: WAREHOUSE,
            carrier: None,
            service: None,
            despatched_at: now,
            lines: order
                .lines
                .iter()
                .map(|(line, sku, quantity)| DespatchLine {
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
        match engine.ingest(&event, now).await? {
            IngestOutcome::Planned { exceptions: 0, .. } => {}
            other => {
                return Err(format!("despatch of order {} planned as {other:?}", order.id).into());
            }
        }
    }
    let queued = count(&*store, ActionStatus::Pending).await?;
    if queued != orders as u64 {
        return Err(format!("{queued} fulfilments queued, expected {orders}").into());
    }

    // The measurement: the outbox runs until every fulfilment is done (or one fails).
    let before = h.stats();
    let (stop, stopped) = watch::channel(false);
    let started = Instant::now();
    let worker = {
        let outbox = outbox.clone();
        tokio::spawn(async move { outbox.run(stopped).await })
    };
    let (done, failed) = loop {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let done = count(&*store, ActionStatus::Done).await?;
        let failed = count(&*store, ActionStatus::Failed).await?;
        if done + failed >= orders as u64 || worker.is_finished() {
            break (done, failed);
        }
    };
    let wall = started.elapsed();
    let after = h.stats();
    stop.send(true)?;
    worker.await??;

    let calls = netsuite.calls.load(Ordering::Relaxed).max(1);
    let figures = Figures {
        orders,
        wall,
        requests: after.requests - before.requests,
        throttled: after.throttled - before.throttled,
        max_in_flight: after.max_in_flight,
        executor_mean: Duration::from_micros(netsuite.micros.load(Ordering::Relaxed) / calls),
        done,
        failed,
        exceptions: store.exceptions().await?.len(),
        fulfilments: h.count(RecordType::ItemFulfillment),
        duplicates: h.duplicate_external_ids().len(),
    };
    ns.shutdown().await;
    Ok(figures)
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

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; this binary takes no arguments of its own.
    let orders = std::env::var("ENGINE_BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let f = match runtime.block_on(run(orders)) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("engine_throughput: set-up failed: {e}");
            return ExitCode::FAILURE;
        }
    };

    let secs = f.wall.as_secs_f64();
    let bound = LIMIT as f64 / LATENCY.as_secs_f64();
    let per_action = f.requests as f64 / f.done.max(1) as f64;
    let request_rate = f.requests as f64 / secs;
    let action_rate = f.done as f64 / secs;
    let share = request_rate / bound;
    println!(
        "engine_throughput: {} fulfilments, NetSuite latency {} ms, limit {LIMIT}",
        f.orders,
        LATENCY.as_millis()
    );
    println!("  wall time             {secs:.3} s");
    println!(
        "  NetSuite requests     {} ({per_action:.2} per fulfilment)",
        f.requests
    );
    println!(
        "  request rate          {request_rate:.1}/s of {bound:.0}/s bound = {:.1}%",
        share * 100.0
    );
    println!(
        "  fulfilment rate       {action_rate:.1}/s of {:.1}/s bound",
        bound / per_action
    );
    println!(
        "  429s at the simulator {} (max {} in flight)",
        f.throttled, f.max_in_flight
    );
    println!(
        "  executor time/action  {:.1} ms (minimum {:.0} ms: {per_action:.2} requests x {} ms)",
        f.executor_mean.as_secs_f64() * 1000.0,
        per_action * LATENCY.as_secs_f64() * 1000.0,
        LATENCY.as_millis()
    );
    println!(
        "  done {} / failed {} / exceptions {} / NetSuite fulfilments {} / duplicate external ids {}",
        f.done, f.failed, f.exceptions, f.fulfilments, f.duplicates
    );

    let mut ok = true;
    let mut check = |pass: bool, what: String| {
        if !pass {
            println!("  FAILED: {what}");
            ok = false;
        }
    };
    check(
        f.done == f.orders as u64,
        format!("{} of {} fulfilments done", f.done, f.orders),
    );
    check(f.failed == 0, format!("{} actions failed", f.failed));
    check(
        f.exceptions == 0,
        format!("{} exceptions raised", f.exceptions),
    );
    check(
        f.fulfilments == f.orders && f.duplicates == 0,
        format!(
            "{} fulfilments in NetSuite for {} orders, {} duplicate external ids",
            f.fulfilments, f.orders, f.duplicates
        ),
    );
    check(
        share >= TARGET,
        format!(
            "{:.1}% of the bound, below {:.0}%",
            share * 100.0,
            TARGET * 100.0
        ),
    );
    if ok {
        println!(
            "  ok: at least {:.0}% of the bound, no exception",
            TARGET * 100.0
        );
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
