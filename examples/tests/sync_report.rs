//! `sync report` against a store on disk: the HTML page and its JSON are written, with the
//! store's documents and exceptions in them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::Value;
use sync_core::*;
use sync_engine::engine::Engine;
use sync_engine::store::{SqliteStore, Store};

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sync-report-{}-{}",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_config(dir: &Path) -> PathBuf {
    let example = include_str!("../sync.example.toml");
    let store = dir.join("store.sqlite");
    let config = example.replace(
        "store_path = \"clarus-netsuite.sqlite\"",
        &format!("store_path = {:?}", store.display().to_string()),
    );
    assert_ne!(config, example, "the example's store_path line changed");
    let path = dir.join("sync.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// Two sales orders, one of them held by an unknown SKU (an open item-master exception).
async fn seed(store_path: &Path) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(store_path).unwrap());
    let mappings = Mappings::new(MappingTables {
        locations: vec![LocationMapping {
            location: "1".into(),
            warehouse: WarehouseId(10),
        }],
        ..MappingTables::default()
    })
    .unwrap();
    let engine = Engine::open(store, mappings).await.unwrap();
    let now = Timestamp::now();
    let event = |id: &str, payload: Payload| Event {
        source: SourceId {
            system: System::NetSuite,
            resource: "record".into(),
            id: id.into(),
            event: "updated".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: now,
        payload,
    };
    let item = Item {
        netsuite_id: "77".into(),
        sku: "MUG".into(),
        barcode: None,
        description: "Mug".into(),
        tracking: Tracking::None,
        inactive: false,
    };
    engine
        .ingest(&event("77", Payload::Item(item)), now)
        .await
        .unwrap();
    for (id, sku, item) in [("501", "MUG", "77"), ("600", "NEW<1>", "88")] {
        let order = Order {
            order: OrderRef::sales(id),
            tran_id: format!("SO{id}"),
            status: OrderStatus::Open,
            location: "1".into(),
            ship_method: None,
            expected_date: None,
            lines: vec![OrderLine {
                line: LineNo(1),
                item: item.into(),
                sku: sku.into(),
                quantity: Decimal::ONE,
                quantity_done: Decimal::ZERO,
                closed: false,
            }],
        };
        engine
            .ingest(&event(id, Payload::Order(order)), now)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn report_writes_the_page_and_its_json() {
    let dir = scratch_dir();
    let config = write_config(&dir);
    seed(&dir.join("store.sqlite")).await;
    let html = dir.join("out/report.html");
    let json = dir.join("out/report.json");

    let output = Command::new(env!("CARGO_BIN_EXE_sync"))
        .arg("--config")
        .arg(&config)
        .args(["report", "--out"])
        .arg(&html)
        .arg("--json")
        .arg(&json)
        .args(["--guide-url", "https://intranet.example/ops.html"])
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 open exceptions"));

    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["funnel"][0]["flow"], "sales_order");
    assert_eq!(report["funnel"][0]["documents"], 2);
    assert_eq!(report["exceptions"]["open"], 1);
    let listed = &report["exception_list"][0];
    assert_eq!(listed["kind"], "unknown-sku");
    assert_eq!(listed["owner"], "item_master");

    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("href=\"https://intranet.example/ops.html#unknown-sku\""));
    assert!(page.contains("data-metric=\"funnel.sales_order.documents\">2<"));
    assert!(page.contains("NEW&lt;1&gt;"), "SKU in the message shown");
    assert!(!page.contains("NEW<1>"), "SKU in the message is escaped");
    let _ = std::fs::remove_dir_all(&dir);
}
