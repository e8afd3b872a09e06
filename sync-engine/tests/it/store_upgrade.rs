//! A store written by an earlier version of the engine opens in this one: the migrations run on
//! a real file, and what the earlier engine recorded reads back and keeps working.
//!
//! `tests/fixtures/store-schema-5.sqlite` is the SQLite store of a demo day (15 sales orders with
//! NetSuite faults and webhook chaos) run by the engine at schema version 5, before the cluster
//! (6), adapter state (7), retention (8) and audit-index (9) migrations. The figures below are
//! what that engine left in it: 153 planned events, 83 actions all done, three open exceptions
//! (two short despatches, one movement posted through the sweep), four reconciliation runs and
//! 80 per-record Clarus watermarks that migration 7 moves into the adapter state.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;
use sync_core::Event;
use sync_engine::engine::{Engine, IngestOutcome};
use sync_engine::monitor::lifecycles;
use sync_engine::service::backlog;
use sync_engine::store::{ExceptionQuery, SqliteStore, StateKey, Store, StoreError};

use crate::support::events::mappings;
use crate::support::store::temp_dir;

const FIXTURE: &str = "tests/fixtures/store-schema-5.sqlite";

/// A copy of the fixture in a fresh directory (the original stays at version 5).
fn copy_of_fixture() -> std::path::PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let path = temp_dir("upgrade").join("sync.sqlite");
    std::fs::copy(&source, &path).expect("the fixture copies");
    path
}

fn user_version(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_store_written_at_schema_version_5_opens_migrated_and_reads_back() {
    let path = copy_of_fixture();
    assert_eq!(user_version(&path), 5);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("the old store opens"));
    assert!(user_version(&path) > 5, "the migrations ran");

    // Every action the earlier engine did is done, and nothing is left to do.
    let left = backlog(store.as_ref()).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
    let mut done: BTreeMap<String, usize> = BTreeMap::new();
    for record in store.action_records().await.unwrap() {
        *done.entry(record.kind.clone()).or_default() += 1;
    }
    assert_eq!(done.values().sum::<usize>(), 83, "{done:?}");
    assert_eq!(done.get("fulfil_sales_order"), Some(&14));
    assert_eq!(done.get("create_goods_out"), Some(&15));

    // The open exceptions, with owners and runbook entries as raised.
    let open = store
        .exceptions_page(
            &ExceptionQuery {
                open: Some(true),
                ..ExceptionQuery::default()
            },
            None,
            100,
        )
        .await
        .unwrap();
    let mut kinds: Vec<(String, String)> = open
        .iter()
        .map(|e| (e.exception.kind.clone(), e.exception.owner.clone()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("movement-rebuilt".to_owned(), "finance".to_owned()),
            ("short-despatch".to_owned(), "operations".to_owned()),
            ("short-despatch".to_owned(), "operations".to_owned()),
        ]
    );

    // The lifecycles and the drift history read as before.
    let documents = lifecycles(store.as_ref()).await.unwrap();
    assert!(documents.len() >= 15, "{} lifecycles", documents.len());
    assert_eq!(store.drift_runs(None, 10).await.unwrap().len(), 4);

    // Migration 7 moved the per-record Clarus watermarks into the adapter state.
    let stages = store
        .adapter_state(&StateKey::new("clarus.goods_in.stages", "1275"))
        .await
        .unwrap();
    assert!(
        stages.is_some(),
        "the receipt stages of goods in 1275 moved"
    );
    let watermarks = store
        .watermark("clarus.goods_in.1275.stages")
        .await
        .unwrap();
    assert_eq!(watermarks, None, "nothing left behind in the watermarks");

    // The engine opens on it from the state log alone (version 5 kept no snapshot), knows every
    // event it planned, and keeps working: an event seen before plans nothing.
    let engine = Engine::open(store.clone(), mappings())
        .await
        .expect("engine opens");
    let open_in_view = engine.with_state(|s| s.open_exceptions().count()).await;
    assert_eq!(
        open_in_view, 2,
        "the two short despatches the planner raised"
    );
    let events = store.recorded_events().await.unwrap();
    assert_eq!(events.len(), 153);
    let first: Event = serde_json::from_value(events[0].event.clone()).unwrap();
    let again = engine.ingest(&first, Timestamp::now()).await.unwrap();
    assert!(matches!(again, IngestOutcome::Duplicate), "{again:?}");

    // And people's work goes on: an assignment is recorded on an exception of the old version.
    let key = &open[0].exception.key;
    store
        .record_audit(key, "assigned", Some("to ops-1 by lead"), Timestamp::now())
        .await
        .unwrap();
    assert!(matches!(
        store
            .record_audit("EX-NONE", "assigned", None, Timestamp::now())
            .await,
        Err(StoreError::NotFound { .. })
    ));
    drop(engine);
    drop(store);

    // A second opening finds the schema current and changes nothing.
    let version = user_version(&path);
    let again = SqliteStore::open(&path).expect("the migrated store opens again");
    assert_eq!(user_version(&path), version);
    assert_eq!(again.recorded_events().await.unwrap().len(), 153);
}
