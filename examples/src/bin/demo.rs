//! The end-to-end demo: both simulators in-process, a simulated warehouse day through the engine
//! to quiescence, then a summary, a JSON report, and the operations report as one self-contained
//! HTML page (with its JSON beside it).
//!
//! ```text
//! cargo run --release -p examples --bin demo -- [--orders 500] [--seed 7] [--calm]
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use examples::harness::{
    EngineOptions, RunningEngine, SetupError, SweepWatch, Systems, SystemsOptions,
    resend_lost_receipts,
};
use examples::report;
use examples::scenario::{self, ScenarioOptions, WarehouseDay};
use indicatif::{ProgressBar, ProgressStyle};
use sync_engine::report::DriftInput;
use sync_engine::report::html::HtmlOptions;
use sync_engine::service::backlog;

/// Runs a simulated warehouse day through the Clarus ⇄ NetSuite engine.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Sales orders in the day (purchase orders, returns, stock movements and, above 1,000
    /// orders, the opening stock in proportion). A day of 10,000 orders takes a few minutes in
    /// a release build: give it `--timeout-secs 1800`.
    #[arg(long, default_value_t = 500)]
    orders: usize,
    /// Seed of every random choice; the same seed plays the same day.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Turn faults off: no NetSuite errors or lost replies, no duplicate or lost webhooks.
    #[arg(long)]
    calm: bool,
    /// Where to write the JSON report.
    #[arg(long, default_value = "target/demo/report.json")]
    report: PathBuf,
    /// Where to write the operations report, a self-contained HTML page; its JSON goes beside
    /// it with the extension `.json`.
    #[arg(long, default_value = "target/demo/operations-report.html")]
    html_report: PathBuf,
    /// Give up if the day has not settled after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
    /// Seconds between the scheduled stock reconciliations (each kept in the drift history).
    #[arg(long, default_value_t = 3)]
    reconcile_every_secs: u64,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "error".into()),
        )
        .init();
    let args = Args::parse();
    match run(&args).await {
        Ok(true) => {}
        Ok(false) => std::process::exit(2),
        Err(e) => {
            eprintln!("demo failed: {e}");
            std::process::exit(1);
        }
    }
}

fn bar(len: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>22} [{bar:40}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

/// Waits until the engine has nothing left to do and the warehouse is idle for a while.
async fn settle(
    systems: &Systems,
    engine: &RunningEngine,
    day: &mut WarehouseDay,
    deadline: Instant,
    progress: &ProgressBar,
    total: usize,
) -> Result<bool, SetupError> {
    let mut quiet = 0;
    let mut sweeps = SweepWatch::default();
    while Instant::now() < deadline {
        let worked = day.step(systems)?;
        let idle = systems
            .clarus
            .handle()
            .wait_for_webhooks(Duration::ZERO)
            .await;
        // Operations works the queue as the runbook says: a lost receipt webhook is re-sent.
        let resent = resend_lost_receipts(systems, engine.store.as_ref()).await?;
        day.stats.receipts_resent += resent;
        let finished = day.stats.despatched + day.stats.cancelled + day.stats.received;
        progress.set_position(finished.min(total) as u64);
        // The store is asked only once the warehouse and the webhooks are quiet.
        if worked == 0
            && idle
            && resent == 0
            && backlog(engine.store.as_ref()).await?.is_empty()
            && sweeps.caught_up(systems, engine.store.as_ref()).await?
        {
            quiet += 1;
            // Long enough for a NetSuite poll and a Clarus sweep to find nothing new.
            if quiet >= 40 {
                return Ok(true);
            }
        } else {
            quiet = 0;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(false)
}

async fn run(args: &Args) -> Result<bool, SetupError> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.timeout_secs);
    let options = if args.calm {
        SystemsOptions::calm(args.seed)
    } else {
        SystemsOptions::faulty(args.seed)
    };
    let scenario_options = ScenarioOptions::day(args.orders, args.seed);
    println!(
        "Starting the NetSuite and Clarus simulators ({})",
        if args.calm {
            "calm"
        } else {
            "faults on: NetSuite 5xx and lost replies, duplicate, reordered and lost webhooks"
        }
    );
    let systems = Systems::start(&options).await?;
    let work = tempdir()?;
    let engine_options = EngineOptions::fast(work.join("sync.sqlite"))
        .reconciling_every(Duration::from_secs(args.reconcile_every_secs.max(1)));

    // Item master: NetSuite items reach Clarus as products.
    let mut seeded = scenario::seed_items(&systems, &scenario_options)?;
    let engine = RunningEngine::start(&systems, &engine_options).await?;
    let items = bar(seeded.items.len() as u64, "item master");
    while !scenario::products_ready(&systems, &seeded) {
        if Instant::now() > deadline {
            return Err("items did not reach Clarus in time".into());
        }
        let cl = systems.clarus.handle();
        let ready = seeded
            .items
            .iter()
            .filter(|(sku, _)| cl.find_product(sku).is_some())
            .count();
        items.set_position(ready as u64);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    items.finish();
    scenario::seed_clarus_stock(&systems, &scenario_options, &seeded)?;

    // The day: orders, purchase orders and returns through the warehouse.
    scenario::seed_orders(&systems, &scenario_options, &mut seeded)?;
    let total = seeded.sales_orders.len() + seeded.purchase_orders.len() + seeded.returns.len();
    let documents = bar(total as u64, "orders and receipts");
    let mut day = WarehouseDay::new(&scenario_options, &seeded);
    let mut settled = settle(&systems, &engine, &mut day, deadline, &documents, total).await?;
    documents.finish();

    // Stock movements once the picking is done.
    if settled {
        let moves = bar(scenario_options.movements as u64, "stock movements");
        day.move_stock(&systems, &seeded)?;
        moves.set_position(day.stats.movements as u64);
        settled = settle(&systems, &engine, &mut day, deadline, &moves, total).await?;
        moves.finish();
    }

    let unfinished = day.unfinished(&systems);
    let report = report::gather(
        &systems,
        &engine.store,
        &scenario_options,
        &day.stats,
        unfinished,
        started.elapsed().as_secs_f64(),
    )
    .await?;
    // The scheduled reconciliations of the day and the end-of-day one (made by `gather`) are
    // the drift history the report shows.
    let drift = DriftInput::from_history(engine.store.as_ref(), 500).await?;
    let html_json = args.html_report.with_extension("json");
    report::write_operations_report(
        engine.store.as_ref(),
        drift,
        jiff::Timestamp::now(),
        &args.html_report,
        Some(&html_json),
        &HtmlOptions {
            guide_url: report::local_guide_url(),
            ..HtmlOptions::default()
        },
    )
    .await?;
    engine.stop().await;

    println!();
    print!("{}", report.summary());
    if let Some(dir) = args.report.parent() {
        std::fs::create_dir_all(dir)?;
    }
    sync_engine::report::write_file(&args.report, serde_json::to_vec_pretty(&report)?)?;
    println!("\nJSON report: {}", args.report.display());
    println!(
        "Operations report (open in a browser): {} (JSON: {})",
        args.html_report.display(),
        html_json.display()
    );
    let _ = std::fs::remove_dir_all(&work);
    if !settled {
        eprintln!("the day did not settle within {} s", args.timeout_secs);
    }
    Ok(settled)
}

fn tempdir() -> Result<PathBuf, SetupError> {
    let dir = std::env::temp_dir().join(format!(
        "clarus-netsuite-demo-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
