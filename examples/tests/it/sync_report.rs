//! `sync report` against a store on disk: the HTML page and its JSON are written, with the
//! store's documents and exceptions in them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::support::cli::*;

use jiff::Timestamp;
use serde_json::Value;
use sync_engine::engine::Engine;
use sync_engine::store::{SqliteStore, Store};

/// A scratch directory `name` holding the configuration and the seeded store; answers the
/// directory and the configuration's path.
async fn seeded(name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch_dir(name);
    let config = write_config(&dir);
    seed(&dir.join("store.sqlite")).await;
    (dir, config)
}

/// Two sales orders, one of them held by an unknown SKU (an open item-master exception).
async fn seed(store_path: &Path) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(store_path).unwrap());
    let engine = Engine::open(store, one_location()).await.unwrap();
    let now = Timestamp::now();
    let orders = [("501", "MUG", "77"), ("600", "NEW<1>", "88")];
    ingest_mug_and_orders(&engine, now, &orders).await;
}

#[tokio::test]
async fn report_writes_the_page_and_its_json() {
    let (dir, config) = seeded("sync-report").await;
    let html = dir.join("out/report.html");
    let json = dir.join("out/report.json");

    let output = sync(
        &config,
        &[
            "report".as_ref(),
            "--out".as_ref(),
            html.as_os_str(),
            "--json".as_ref(),
            json.as_os_str(),
            "--guide-url".as_ref(),
            "https://intranet.example/ops.html".as_ref(),
        ],
    );
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

#[tokio::test]
async fn report_refuses_a_guide_url_that_could_run_script() {
    let (dir, config) = seeded("sync-report-guide").await;
    let html = dir.join("report.html");
    for guide in [
        "javascript:alert(document.domain)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        " JavaScript:alert(1)",
    ] {
        let output = sync(
            &config,
            &[
                "report".as_ref(),
                "--out".as_ref(),
                html.as_os_str(),
                "--guide-url".as_ref(),
                guide.as_ref(),
            ],
        );
        assert!(!output.status.success(), "{guide} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--guide-url"), "{stderr}");
        assert!(!html.exists(), "a page was written with {guide}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
