//! The `sync` binary's `close-check` and `status` against a store on disk: exit code 3 while
//! anything blocks the close, 0 once everything of the period is posted; an item-master error
//! that holds no posting is shown without blocking unless `[close]` says otherwise; `--csv`
//! writes the report for a spreadsheet.

use std::path::Path;
use std::sync::Arc;

use crate::support::cli::*;

use jiff::Timestamp;
use rust_decimal::Decimal;
use sync_core::*;
use sync_engine::engine::Engine;
use sync_engine::store::{ActionStatus, SqliteStore, Store};

fn business_time() -> Timestamp {
    "2026-11-15T10:00:00Z".parse().unwrap()
}

/// Runs `sync` with `args`, checks its exit code and answers the JSON it printed.
fn printed_json(config: &Path, args: &[&str], exit_code: i32) -> serde_json::Value {
    let output = sync(config, args);
    assert_eq!(
        output.status.code(),
        Some(exit_code),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A despatched sales order whose fulfilment is not yet posted, plus an order held by an
/// unknown SKU (an open exception for the item master).
async fn seed(store_path: &Path) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(store_path).unwrap());
    let engine = Engine::open(store, one_location()).await.unwrap();
    // Planned during the period, as a running engine would have.
    let now = business_time();
    ingest_mug_and_orders(&engine, now, &[("501", "MUG", "77"), ("600", "NEW", "88")]).await;
    let despatch = Despatch {
        tenant: "acme".into(),
        goods_out: GoodsOutId(9),
        despatch: "1".into(),
        order: "501".into(),
        warehouse: WarehouseId(10),
        carrier: None,
        service: None,
        despatched_at: business_time(),
        lines: vec![DespatchLine {
            order_line: LineNo(1),
            sku: "MUG".into(),
            requested: Decimal::ONE,
            quantity: Decimal::ONE,
            lots: vec![],
            serials: vec![],
        }],
        packages: vec![],
    };
    engine
        .ingest(
            &event(
                System::Clarus,
                "9",
                business_time(),
                Payload::Despatch(despatch),
            ),
            now,
        )
        .await
        .unwrap();
}

/// Marks every action done, as the outbox would once NetSuite and Clarus took them.
async fn post_everything(store_path: &Path) {
    let store = SqliteStore::open(store_path).unwrap();
    for action in store.actions().await.unwrap() {
        if action.status != ActionStatus::Done {
            store
                .complete_action(&action.action.key, Some("1".into()), Timestamp::now())
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn close_check_exits_3_while_anything_blocks_and_0_once_clear() {
    let dir = scratch_dir("sync-close-check");
    let config = write_config(&dir);
    let store_path = dir.join("store.sqlite");
    seed(&store_path).await;

    let csv_path = dir.join("close.csv");
    let csv_arg = csv_path.to_str().unwrap();
    let args = [
        "close-check",
        "--period",
        "2026-11",
        "--json",
        "--csv",
        csv_arg,
    ];
    let report = printed_json(&config, &args, 3);
    assert_eq!(report["blocking"], true);
    assert_eq!(report["period"], "2026-11");
    let items = report["items"].as_array().unwrap();
    let summary: Vec<(&str, bool)> = items
        .iter()
        .map(|i| {
            (
                i["category"].as_str().unwrap(),
                i["blocking"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("unposted_document", true), ("other_exception", false)],
        "{report:#}"
    );
    assert_eq!(items[1]["owner"], "item_master");
    assert_eq!(report["totals"][0]["transaction"], "item_fulfillment");
    assert_eq!(report["totals"][0]["units"], "1");
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv.starts_with("record,category,blocking,"), "{csv}");
    assert!(csv.contains("item,unposted_document,yes,"), "{csv}");
    assert!(
        csv.contains("total,,,,,sales_order,item_fulfillment,"),
        "{csv}"
    );

    // The table for people says the same.
    let table = sync(&config, &["close-check", "--period", "2026-11"]);
    assert_eq!(table.status.code(), Some(3));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("BLOCKED"), "{text}");
    assert!(text.contains("goods out 9"), "{text}");
    assert!(text.contains("shown, not blocking: 1"), "{text}");
    assert!(text.contains("Item Fulfillment"), "{text}");

    let status = printed_json(&config, &["status", "--json"], 0);
    let documents = status["documents"].as_array().unwrap();
    assert!(
        documents
            .iter()
            .any(|d| d["flow"] == "sales_order" && d["stage"] == "despatched" && d["count"] == 1),
        "{documents:?}"
    );
    assert_eq!(status["open_exceptions"], 1);
    assert_eq!(status["open_exceptions_by_owner"]["item_master"], 1);
    assert!(status["last_reconciliation"].is_null(), "{status:#}");

    // A period without activity has nothing of November's.
    let report = printed_json(
        &config,
        &["close-check", "--period", "2026-10", "--json"],
        0,
    );
    assert!(report["items"].as_array().unwrap().is_empty(), "{report:#}");

    // Everything posted: November can close with the item-master error open...
    post_everything(&store_path).await;
    let report = printed_json(
        &config,
        &["close-check", "--period", "2026-11", "--json"],
        0,
    );
    assert_eq!(report["blocking"], false);
    assert_eq!(report["totals"][0]["posted_units"], "1");
    let key = report["items"][0]["key"].as_str().unwrap().to_owned();

    // ...unless the configuration makes other owners' errors block.
    let strict = dir.join("strict.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let switched = text.replace("other_errors_block = false", "other_errors_block = true");
    assert_ne!(switched, text, "the example's [close] table changed");
    std::fs::write(&strict, switched).unwrap();
    let blocked = sync(&strict, &["close-check", "--period", "2026-11"]);
    assert_eq!(blocked.status.code(), Some(3));
    let resolved = sync(
        &config,
        &["exceptions", "resolve", &key, "--note", "item not stocked"],
    );
    assert!(resolved.status.success());
    let clear = sync(&strict, &["close-check", "--period", "2026-11"]);
    assert_eq!(clear.status.code(), Some(0));

    let bad = sync(&config, &["close-check", "--period", "2026-13"]);
    assert_eq!(bad.status.code(), Some(2), "clap rejects a bad period");
    let _ = std::fs::remove_dir_all(&dir);
}
