//! The `sync` binary's `drift` command against both simulators: `--now` reconciles the live
//! systems, values the drift at NetSuite's average cost, records the run and raises the
//! exceptions; the history then shows the latest run, the trend and one SKU's story.

use std::path::{Path, PathBuf};

use crate::support::cli::{json, scratch_dir, stdout};
use crate::support::service::{config_head, location_mappings, sync};

use examples::harness::{Systems, SystemsOptions};
use rust_decimal::Decimal;
use serde_json::Value;
use sim::clarus::StockStatus;
use sim::netsuite::{GOOD, ItemKind, NewItem};
use sync_engine::store::SqliteStore;

/// A configuration for the simulators, finance alerted above 10.00 of drift.
fn write_config(dir: &Path, systems: &Systems) -> PathBuf {
    let config = format!(
        r#"{head}
[webhook]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1/webhooks/clarus"

[drift]
value_alert_threshold = 10
currency = "EUR"

{mappings}"#,
        head = config_head(dir, systems, systems.clarus.base_url()),
        mappings = location_mappings(systems, systems.warehouse.0),
    );
    let path = dir.join("sync.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// A decimal as the JSON output writes it (a string).
fn dec(value: &Value) -> Decimal {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{value} is not a decimal string"))
}

async fn open_kinds(store_path: &Path) -> Vec<(String, String)> {
    let store = SqliteStore::open(store_path).unwrap();
    let mut kinds: Vec<(String, String)> = store
        .exceptions()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.resolved_at.is_none())
        .map(|e| (e.exception.kind, e.exception.owner))
        .collect();
    kinds.sort();
    kinds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_now_values_records_and_alerts_and_the_history_shows_the_trend() {
    let systems = Systems::start(&SystemsOptions::calm(31)).await.unwrap();
    let (ns, cl) = (systems.netsuite.handle(), systems.clarus.handle());
    let mut items = Vec::new();
    // MUG: Clarus has 3 more, cost 12.50 (37.50). CUP: in step. TEA: NetSuite has 2 more and
    // no cost.
    for (sku, netsuite, clarus, cost) in [
        ("MUG", 10, 13, Some(1250)),
        ("CUP", 5, 5, Some(300)),
        ("TEA", 4, 2, None),
    ] {
        let item = ns.add_item(NewItem::new(sku, ItemKind::Inventory)).unwrap();
        ns.set_on_hand(item, systems.location, GOOD, Decimal::from(netsuite));
        if let Some(cents) = cost {
            ns.set_average_cost(item, Some(Decimal::new(cents, 2)));
        }
        let product = cl.add_product(sku, sku).unwrap();
        cl.seed_stock(
            product,
            systems.bin,
            Decimal::from(clarus),
            StockStatus::Available,
            None,
        )
        .unwrap();
        items.push(item);
    }
    let dir = scratch_dir("sync-drift");
    let config = write_config(&dir, &systems);
    let store_path = dir.join("store.sqlite");

    // Nothing recorded yet.
    let out = stdout(&sync(&config, &["drift"]).await);
    assert!(out.contains("no reconciliation recorded yet"), "{out}");
    assert_eq!(
        json(&sync(&config, &["drift", "--json"]).await),
        Value::Null
    );

    // Reconcile now: the table shows both drifting positions, largest value first.
    let out = stdout(&sync(&config, &["drift", "--now"]).await);
    assert!(out.contains("reconciled: run #1 recorded"), "{out}");
    assert!(out.contains("3 positions, 1 in step"), "{out}");
    let mug = out
        .lines()
        .position(|l| l.contains("MUG"))
        .expect("MUG row");
    let tea = out
        .lines()
        .position(|l| l.contains("TEA"))
        .expect("TEA row");
    assert!(mug < tea, "valued rows first:\n{out}");
    assert!(out.contains("37.50"), "{out}");
    assert!(
        out.lines()
            .find(|l| l.contains("MUG"))
            .is_some_and(|l| l.trim_end().ends_with("EUR")),
        "each row names its currency:\n{out}"
    );
    assert!(
        out.lines()
            .find(|l| l.contains("TEA"))
            .is_some_and(|l| l.contains("unknown")),
        "{out}"
    );
    assert!(
        out.contains("total: 2 drifting position(s), 5 units unexplained, valued at EUR 37.50"),
        "{out}"
    );
    assert!(
        out.contains("1 drifting position(s) without a NetSuite cost"),
        "{out}"
    );

    // The same as JSON.
    let latest = json(&sync(&config, &["drift", "--json"]).await);
    let summary = &latest["run"]["summary"];
    assert_eq!(summary["drift"], 2);
    assert_eq!(dec(&summary["value_impact"]["EUR"]), Decimal::new(3750, 2));
    assert_eq!(latest["rows"][0]["currency"], "EUR");
    assert_eq!(summary["drift_without_cost"], 1);
    assert_eq!(latest["rows"][0]["sku"], "MUG");
    assert_eq!(dec(&latest["rows"][0]["unit_cost"]), Decimal::new(1250, 2));
    assert_eq!(latest["rows"][1]["sku"], "TEA");
    assert_eq!(dec(&latest["rows"][1]["unexplained"]), Decimal::from(-2));
    assert_eq!(latest["rows"][1]["value_impact"], Value::Null);
    let only_tea = json(&sync(&config, &["drift", "--sku", "TEA", "--json"]).await);
    assert_eq!(only_tea["rows"].as_array().unwrap().len(), 1);

    // Operations own the two positions; finance the value above 10.00.
    assert_eq!(
        open_kinds(&store_path).await,
        [
            ("drift-value".to_owned(), "finance".to_owned()),
            ("stock-drift".to_owned(), "operations".to_owned()),
            ("stock-drift".to_owned(), "operations".to_owned()),
        ]
    );

    // Fixed in NetSuite: the next run is clean and resolves everything.
    ns.set_on_hand(items[0], systems.location, GOOD, Decimal::from(13));
    ns.set_on_hand(items[2], systems.location, GOOD, Decimal::from(2));
    let out = stdout(&sync(&config, &["drift", "--now"]).await);
    assert!(out.contains("every position is in step"), "{out}");
    assert!(open_kinds(&store_path).await.is_empty());
    let status = json(&sync(&config, &["status", "--json"]).await);
    assert_eq!(
        status["last_reconciliation"]["summary"]["drift"], 0,
        "{status:#}"
    );

    // The trend, oldest first, and the story of one SKU, newest first.
    let trend = json(&sync(&config, &["drift", "--history", "10", "--json"]).await);
    let drift: Vec<i64> = trend
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["summary"]["drift"].as_i64().unwrap())
        .collect();
    assert_eq!(drift, [2, 0]);
    let out = stdout(&sync(&config, &["drift", "--history", "10"]).await);
    assert!(out.contains("drift over the last 2 run(s)"), "{out}");
    let story = json(
        &sync(
            &config,
            &["drift", "--history", "10", "--sku", "MUG", "--json"],
        )
        .await,
    );
    let rows: Vec<usize> = story
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["rows"].as_array().unwrap().len())
        .collect();
    assert_eq!(rows, [0, 1]);
    let out = stdout(&sync(&config, &["drift", "--history", "10", "--sku", "MUG"]).await);
    assert!(out.contains("SKU MUG over the last 2 run(s)"), "{out}");
    assert!(out.contains("in step"), "{out}");

    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_engine_reconciles_on_schedule_after_one_interval_and_keeps_the_history() {
    use examples::harness::{EngineOptions, RunningEngine};
    use std::time::{Duration, Instant};

    let systems = Systems::start(&SystemsOptions::calm(37)).await.unwrap();
    let dir = scratch_dir("sync-drift");
    let interval = Duration::from_millis(600);
    let started = Instant::now();
    let engine = RunningEngine::start(
        &systems,
        &EngineOptions::fast(dir.join("sync.sqlite")).reconciling_every(interval),
    )
    .await
    .unwrap();
    // Not at once: the first run waits one interval.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let early = engine.store.drift_runs(None, 10).await.unwrap();
    if started.elapsed() < interval {
        assert!(
            early.is_empty(),
            "a run {early:?} before the first interval"
        );
    }
    // Then on schedule, each run recorded.
    let deadline = Instant::now() + Duration::from_secs(15);
    let runs = loop {
        let runs = engine.store.drift_runs(None, 10).await.unwrap();
        if runs.len() >= 2 {
            break runs;
        }
        assert!(
            Instant::now() < deadline,
            "only {} run(s) recorded",
            runs.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(runs[0].at > runs[1].at);
    engine.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
