//! Start-up of the engine on a large state log, with and without a snapshot.
//!
//! Plans a day of items, sales orders and despatches through the real [`Engine::ingest`] into a
//! SQLite file, then opens the engine on it three ways and reports, for each, the wall time of
//! [`Engine::open`] and the memory it took:
//!
//! 1. no snapshot: the whole state log applied, a page at a time;
//! 2. a snapshot at the head: the snapshot loaded, nothing applied;
//! 3. a snapshot 10% of the log before the head: the snapshot and the last 10% applied.
//!
//! Each opening runs in a child process (this program with `--open <store> <state file>`), so
//! that its peak resident memory (`VmHWM`, Linux) is its own; the figure given is that peak less
//! the process's resident memory just before opening. It checks that the three views are equal. A measurement, not a criterion micro-benchmark:
//!
//! ```text
//! cargo bench -p sync-engine --bench startup
//! ```
//!
//! `STARTUP_BENCH_ORDERS` changes the number of orders (default 20,000; each adds an order
//! event and, for every other order, a despatch). Figures in `docs/decisions/snapshots.md`.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use rust_decimal::Decimal;
use sync_core::{
    Despatch, DespatchLine, Event, GoodsOutId, Item, LineNo, LocationMapping, MappingTables,
    Mappings, MemoryState, Order, OrderLine, OrderRef, OrderStatus, Payload, Revision, SourceId,
    System, Tracking, WarehouseId,
};
use sync_engine::engine::Engine;
use sync_engine::store::{SqliteStore, Store};

type BenchError = Box<dyn std::error::Error + Send + Sync>;

const ITEMS: u64 = 500;

fn now() -> Timestamp {
    "2026-11-27T09:00:00Z".parse().expect("a timestamp")
}

fn source(system: System, resource: &str, id: String) -> SourceId {
    SourceId {
        system,
        resource: resource.into(),
        id: id.as_str().into(),
        event: "updated".into(),
        revision: Revision::Sequence(1),
    }
}

fn item(n: u64) -> Event {
    Event {
        source: source(System::NetSuite, "item", format!("{}", 10_000 + n)),
        occurred_at: now(),
        payload: Payload::Item(Item {
            netsuite_id: format!("{}", 10_000 + n).as_str().into(),
            sku: format!("SKU{n}").as_str().into(),
            barcode: None,
            description: format!("item {n}"),
            tracking: Tracking::None,
            inactive: false,
        }),
    }
}

fn order(n: u64) -> Event {
    let id = format!("{}", 100_000 + n);
    let lines = (0..2)
        .map(|l| {
            let sku = (n * 7 + l * 13) % ITEMS;
            OrderLine {
                line: LineNo(l + 1),
                item: format!("{}", 10_000 + sku).as_str().into(),
                sku: format!("SKU{sku}").as_str().into(),
                quantity: Decimal::from(1 + (n + l) % 5),
                quantity_done: Decimal::ZERO,
                closed: false,
            }
        })
        .collect();
    Event {
        source: source(System::NetSuite, "salesorder", id.clone()),
        occurred_at: now(),
        payload: Payload::Order(Order {
            order: OrderRef::sales(id.as_str()),
            tran_id: format!("SO{id}"),
            status: OrderStatus::Open,
            location: "1".into(),
            ship_method: None,
            expected_date: None,
            lines,
        }),
    }
}

fn despatch(n: u64) -> Event {
    let sku = (n * 7) % ITEMS;
    let quantity = Decimal::from(1 + n % 5);
    Event {
        source: source(System::Clarus, "goods_out", format!("{}", 500_000 + n)),
        occurred_at: now(),
        payload: Payload::Despatch(Despatch {
            tenant: "acme".into(),
            goods_out: GoodsOutId(500_000 + n),
            despatch: "1".into(),
            order: format!("{}", 100_000 + n).as_str().into(),
            warehouse: WarehouseId(10),
            carrier: None,
            service: None,
            despatched_at: now(),
            lines: vec![DespatchLine {
                order_line: LineNo(1),
                sku: format!("SKU{sku}").as_str().into(),
                requested: quantity,
                quantity,
                lots: vec![],
                serials: vec![],
            }],
            packages: vec![],
        }),
    }
}

fn mappings() -> Result<Mappings, BenchError> {
    Ok(Mappings::new(MappingTables {
        locations: vec![LocationMapping {
            location: "1".into(),
            warehouse: WarehouseId(10),
        }],
        ..MappingTables::default()
    })?)
}

/// A figure (kB) from `/proc/self/status`, 0 where there is none.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// In the child: opens the engine on `store`, writes the view to `out` and prints the time
/// taken and the peak resident memory above what was resident before.
async fn open_once(store: &Path, out: &Path) -> Result<(), BenchError> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(store)?);
    let mappings = mappings()?;
    let before = status_kib("VmRSS:");
    let started = Instant::now();
    let engine = Engine::open(store, mappings).await?;
    let secs = started.elapsed().as_secs_f64();
    let peak = status_kib("VmHWM:").saturating_sub(before);
    let state = engine.with_state(serde_json::to_string).await?;
    std::fs::write(out, state)?;
    println!("{secs} {peak}");
    Ok(())
}

/// Opens the engine on `store` in a child process; returns the view, the seconds and the peak
/// memory (bytes).
fn measure(store: &Path, out: &Path) -> Result<(MemoryState, f64, usize), BenchError> {
    let output = Command::new(std::env::current_exe()?)
        .arg("--open")
        .arg(store)
        .arg(out)
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "opening failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let text = String::from_utf8(output.stdout)?;
    let mut figures = text.split_whitespace();
    let secs: f64 = figures.next().ok_or("no time")?.parse()?;
    let peak_kib: usize = figures.next().ok_or("no memory")?.parse()?;
    let state: MemoryState = serde_json::from_str(&std::fs::read_to_string(out)?)?;
    Ok((state, secs, peak_kib * 1024))
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

async fn run() -> Result<(), BenchError> {
    let orders: u64 = std::env::var("STARTUP_BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = std::env::temp_dir().join(format!("sync-startup-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("ledger.sqlite");

    let started = Instant::now();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path)?);
    let engine = Engine::open(store.clone(), mappings()?).await?;
    let mut events = (0..ITEMS).map(item).collect::<Vec<_>>();
    for n in 0..orders {
        events.push(order(n));
        if n % 2 == 1 {
            events.push(despatch(n - 1));
        }
    }
    let tenth = events.len() - events.len() / 10;
    for (i, event) in events.iter().enumerate() {
        if i == tenth {
            engine.save_snapshot().await?;
        }
        engine.ingest(event, now()).await?;
    }
    let head = store.ledger_head().await?;
    eprintln!(
        "{} events planned, {head} state-log entries, in {:.1} s",
        events.len(),
        started.elapsed().as_secs_f64()
    );
    drop(engine);
    drop(store);

    // A fresh copy without the snapshots for the full replay.
    let bare = dir.join("bare.sqlite");
    std::fs::copy(&path, &bare)?;
    {
        let conn = rusqlite::Connection::open(&bare)?;
        conn.execute("DELETE FROM state_snapshots", [])?;
    }
    let out = dir.join("view.json");
    let (full, full_secs, full_peak) = measure(&bare, &out)?;
    eprintln!(
        "no snapshot:            open {full_secs:.3} s, peak memory +{:.1} MiB",
        mib(full_peak)
    );

    let (behind, behind_secs, behind_peak) = measure(&path, &out)?;
    eprintln!(
        "snapshot 10% behind:    open {behind_secs:.3} s, peak memory +{:.1} MiB",
        mib(behind_peak)
    );

    {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path)?);
        let engine = Engine::open(store, mappings()?).await?;
        engine.save_snapshot().await?;
    }
    let (at_head, head_secs, head_peak) = measure(&path, &out)?;
    eprintln!(
        "snapshot at the head:   open {head_secs:.3} s, peak memory +{:.1} MiB",
        mib(head_peak)
    );
    let size: usize = serde_json::to_string(&at_head)?.len();
    eprintln!("view: {:.1} MiB as JSON", mib(size));
    std::fs::remove_dir_all(&dir)?;
    if full != behind || full != at_head {
        return Err("the views opened from snapshots differ from the full replay's".into());
    }
    Ok(())
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let args: Vec<String> = std::env::args().collect();
    let result = match args.as_slice() {
        [_, flag, store, out] if flag == "--open" => {
            runtime.block_on(open_once(Path::new(store), Path::new(out)))
        }
        _ => runtime.block_on(run()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("startup bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}
