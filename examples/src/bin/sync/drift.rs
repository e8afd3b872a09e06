//! `sync drift`: stock drift from the drift history, for people (tables) and machines (`--json`).
//!
//! ```text
//! sync drift                      the latest reconciliation: drifting and explained positions,
//!                                 largest value impact first, with totals
//! sync drift --now                reconcile against the live systems first (as the scheduled job
//!                                 does) and record the run
//! sync drift --history 24         the trend of the last 24 runs
//! sync drift --sku MUG-BLUE       only that SKU (with --history: its story over the runs)
//! sync drift --json               the same as JSON
//! ```

use std::sync::Arc;

use jiff::Timestamp;
use rust_decimal::Decimal;
use sync_core::money::ValueTotals;
use sync_core::{DriftClass, Sku, StockStatus};
use sync_engine::config::Config;
use sync_engine::drift_history::{self, DriftRun, DriftSnapshot, SkuPoint, ValuedDriftRow};
use sync_engine::reconcile::Reconciler;
use sync_engine::store::Store;
use sync_engine::text::printable;

use super::{BoxError, clarus_client, netsuite_client};

/// Arguments of `sync drift`.
#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    /// Reconcile now against NetSuite and Clarus (the same run as the scheduled one, recorded
    /// in the history and raising or resolving drift exceptions), then show it.
    #[arg(long)]
    now: bool,
    /// Show the trend of the last N runs instead of the latest run's positions.
    #[arg(long, value_name = "N")]
    history: Option<usize>,
    /// Only positions of this SKU; with --history, the SKU's positions over the runs.
    #[arg(long)]
    sku: Option<String>,
    /// Print JSON for machines instead of tables.
    #[arg(long)]
    json: bool,
}

/// Runs `sync drift`.
pub async fn drift(config: &Config, args: DriftArgs) -> Result<(), BoxError> {
    let store: Arc<dyn Store> = crate::open_configured_store(config).await?;
    if args.now {
        let reconciler = Reconciler::new(
            store.clone(),
            clarus_client(config)?,
            netsuite_client(config)?,
            config.mapping_tables()?,
            config.drift.reconcile_settings(),
        );
        let run = reconciler.run_once(Timestamp::now()).await?;
        if !args.json {
            println!(
                "reconciled: run #{} recorded{}",
                run.snapshot.run.id,
                match run.pruned_runs {
                    0 => String::new(),
                    n => format!(
                        ", {n} run(s) older than {} days pruned",
                        config.drift.history_days
                    ),
                }
            );
        }
    }
    let sku = args.sku.map(Sku::new);
    match (args.history, sku) {
        (Some(n), Some(sku)) => {
            let points = drift_history::sku_history(store.as_ref(), &sku, n).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&points)?);
            } else {
                print_sku_history(&sku, &points);
            }
        }
        (Some(n), None) => {
            let runs = drift_history::trend(store.as_ref(), None, n).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&runs)?);
            } else {
                print_trend(&runs);
            }
        }
        (None, sku) => {
            let mut latest = drift_history::latest(store.as_ref()).await?;
            if let (Some(snapshot), Some(sku)) = (latest.as_mut(), &sku) {
                snapshot.rows.retain(|r| &r.sku == sku);
            }
            if args.json {
                println!("{}", serde_json::to_string_pretty(&latest)?);
            } else {
                match latest {
                    Some(snapshot) => print_snapshot(&snapshot, sku.as_ref()),
                    None => println!(
                        "no reconciliation recorded yet: run `sync drift --now`, or start \
                         `sync run` (it reconciles every {} s)",
                        config.drift.interval_secs
                    ),
                }
            }
        }
    }
    Ok(())
}

fn status(status: StockStatus) -> &'static str {
    match status {
        StockStatus::Available => "available",
        StockStatus::Held => "held",
    }
}

fn class(class: DriftClass) -> &'static str {
    match class {
        DriftClass::Drift => "DRIFT",
        DriftClass::ExplainedByInFlight => "in flight",
        DriftClass::InStep => "in step",
    }
}

/// A time to the second, for people.
fn seconds(at: Timestamp) -> String {
    format!("{at:.0}")
}

fn units(d: Decimal) -> String {
    d.normalize().to_string()
}

fn money(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

fn money_or_unknown(d: Option<Decimal>) -> String {
    d.map_or_else(|| "unknown".to_owned(), money)
}

/// `EUR 12.50, USD 3.00`: one figure per currency, never added across; `0.00` when empty.
fn totals(t: &ValueTotals) -> String {
    if t.is_empty() {
        return money(Decimal::ZERO);
    }
    t.iter()
        .map(|a| format!("{} {}", a.currency, money(a.value)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints rows as columns: the first `left` columns aligned left, the rest right.
fn table(header: &[&str], rows: &[Vec<String>], left: usize) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i < left {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        println!("  {}", parts.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// The headers of the columns [`row_cells`] fills, in order.
const ROW_HEADERS: [&str; 11] = [
    "CLASS",
    "SKU",
    "LOCATION",
    "STATUS",
    "CLARUS",
    "NETSUITE",
    "IN FLIGHT",
    "UNEXPLAINED",
    "UNIT COST",
    "VALUE IMPACT",
    "CURRENCY",
];

/// The columns of a row (or the headers) but the SKU, for a table about one SKU.
fn without_sku<T>(columns: impl IntoIterator<Item = T>) -> impl Iterator<Item = T> {
    columns
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| (i != 1).then_some(c))
}

fn print_snapshot(snapshot: &DriftSnapshot, sku: Option<&Sku>) {
    let run = &snapshot.run;
    let s = &run.summary;
    println!(
        "drift run #{} at {}: {} positions, {} in step, {} explained by movements in flight, {} drifting",
        run.id,
        seconds(run.at),
        s.positions,
        s.in_step,
        s.explained_by_in_flight,
        s.drift
    );
    println!(
        "  tolerance: {} units or {} % of on-hand",
        units(s.thresholds.units),
        units(s.thresholds.percent)
    );
    if !s.valued {
        println!("  NetSuite costs could not be read at this run: no position is valued");
    }
    if let Some(sku) = sku {
        println!("  showing SKU {} only", printable(sku.as_str()));
    }
    if snapshot.rows.is_empty() {
        println!("  every position is in step");
        return;
    }
    let rows: Vec<Vec<String>> = snapshot.rows.iter().map(row_cells).collect();
    println!();
    table(&ROW_HEADERS, &rows, 4);
    let drifting: Vec<&ValuedDriftRow> = snapshot
        .rows
        .iter()
        .filter(|r| r.class == DriftClass::Drift)
        .collect();
    let unexplained: Decimal = drifting.iter().map(|r| r.unexplained.abs()).sum();
    let mut value = ValueTotals::default();
    let mut net = ValueTotals::default();
    for amount in drifting.iter().filter_map(|r| r.value()) {
        value.add(amount.currency, amount.value.abs());
        net.add(amount.currency, amount.value);
    }
    let without_cost = drifting.iter().filter(|r| r.value_impact.is_none()).count();
    let explained = snapshot.rows.len() - drifting.len();
    println!();
    println!(
        "total: {} drifting position(s), {} units unexplained, valued at {} (net {}, positive = \
         NetSuite understates stock){}; {} position(s) explained by movements in flight",
        drifting.len(),
        units(unexplained),
        totals(&value),
        totals(&net),
        match without_cost {
            0 => String::new(),
            n => format!("; {n} drifting position(s) without a NetSuite cost, value unknown"),
        },
        explained
    );
}

fn row_cells(r: &ValuedDriftRow) -> Vec<String> {
    vec![
        class(r.class).to_owned(),
        printable(r.sku.as_str()).into_owned(),
        printable(&r.location.to_string()).into_owned(),
        status(r.status).to_owned(),
        units(r.clarus),
        units(r.netsuite),
        units(r.in_flight),
        units(r.unexplained),
        money_or_unknown(r.unit_cost),
        money_or_unknown(r.value_impact),
        r.currency.to_string(),
    ]
}

fn print_trend(runs: &[DriftRun]) {
    if runs.is_empty() {
        println!("no reconciliation recorded yet");
        return;
    }
    println!("drift over the last {} run(s), oldest first:", runs.len());
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let s = &r.summary;
            vec![
                format!("#{}", r.id),
                seconds(r.at),
                s.positions.to_string(),
                s.in_step.to_string(),
                s.explained_by_in_flight.to_string(),
                s.drift.to_string(),
                units(s.unexplained_units),
                if s.valued {
                    totals(&s.value_impact)
                } else {
                    "unknown".to_owned()
                },
                s.drift_without_cost.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "RUN",
            "AT",
            "POSITIONS",
            "IN STEP",
            "IN FLIGHT",
            "DRIFTING",
            "UNEXPLAINED",
            "VALUE IMPACT",
            "NO COST",
        ],
        &rows,
        2,
    );
}

fn print_sku_history(sku: &Sku, points: &[SkuPoint]) {
    if points.is_empty() {
        println!("no reconciliation recorded yet");
        return;
    }
    println!(
        "SKU {} over the last {} run(s), newest first:",
        printable(sku.as_str()),
        points.len()
    );
    let mut rows = Vec::new();
    for point in points {
        if point.rows.is_empty() {
            let mut cells = vec![format!("#{}", point.run_id), seconds(point.at)];
            cells.push("in step".to_owned());
            cells.extend(std::iter::repeat_n(String::new(), 9));
            rows.push(cells);
        }
        for r in &point.rows {
            let mut cells = vec![format!("#{}", point.run_id), seconds(point.at)];
            cells.extend(without_sku(row_cells(r)));
            rows.push(cells);
        }
    }
    let header: Vec<&str> = ["RUN", "AT"]
        .into_iter()
        .chain(without_sku(ROW_HEADERS))
        .collect();
    table(&header, &rows, 5);
}
