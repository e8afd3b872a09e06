//! Shared set-up of the tests that run the `sync` binary against a store on disk: a scratch
//! directory, the example configuration pointed at it, and a small seeded ledger.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use jiff::Timestamp;
use rust_decimal::Decimal;
use std::sync::Arc;
use sync_core::*;

use sync_engine::engine::Engine;
use sync_engine::store::Store;
use sync_engine::store_location::{StoreLocation, StoreOptions, open_store};

/// A fresh directory under the system's temporary directory.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "{name}-{}-{}",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The test database (`SYNC_TEST_DATABASE_URL`, else PostgreSQL on this machine).
const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A store in a schema of its own in the test database.
pub struct PostgresStore {
    /// The store, its schema created and migrated.
    pub store: Arc<dyn Store>,
    /// The database's URL.
    pub url: String,
    /// The schema, `<prefix>_<process>_<nanoseconds>`.
    pub schema: String,
}

/// A store in a fresh schema of the test database, with at most `max_connections`. Where
/// PostgreSQL cannot be reached the test is skipped (`None`, after saying which `part`), unless
/// `CI` is set: there it fails.
pub async fn postgres_store(
    prefix: &str,
    max_connections: u32,
    part: &str,
) -> Option<PostgresStore> {
    let url = std::env::var("SYNC_TEST_DATABASE_URL").unwrap_or(DEFAULT_DATABASE_URL.into());
    let schema = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    );
    let options = StoreOptions {
        max_connections,
        schema: Some(schema.clone()),
        ..StoreOptions::default()
    };
    match open_store(&StoreLocation::parse(&url).unwrap(), &options).await {
        Ok(store) => Some(PostgresStore { store, url, schema }),
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("PostgreSQL store not reachable ({e}): {part} is skipped");
            None
        }
        Err(e) => panic!("PostgreSQL store not reachable and CI is set: {e}"),
    }
}

/// The example configuration with its store in `dir` (`dir/store.sqlite`); returns its path.
pub fn write_config(dir: &Path) -> PathBuf {
    let example = include_str!("../../../sync.example.toml");
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

/// Runs `sync --config <config> <args>` and returns what it printed.
pub fn sync<S: AsRef<OsStr>>(config: &Path, args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sync"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .unwrap()
}

/// What `sync` printed, after checking that it succeeded.
pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "sync failed ({}): {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// What `sync --json` printed, parsed.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(output)).unwrap()
}

/// NetSuite location 1 is Clarus warehouse 10.
pub fn one_location() -> Mappings {
    Mappings::new(MappingTables {
        locations: vec![LocationMapping {
            location: "1".into(),
            warehouse: WarehouseId(10),
        }],
        ..MappingTables::default()
    })
    .unwrap()
}

/// Has `engine` plan, at `at`, NetSuite's item 77 (`MUG`) and then the sales orders
/// `(id, sku, item)`; an order naming an item the engine does not know is held by an unknown
/// SKU.
pub async fn ingest_mug_and_orders(engine: &Engine, at: Timestamp, orders: &[(&str, &str, &str)]) {
    let netsuite = |id: &str, payload| event(System::NetSuite, id, at, payload);
    engine
        .ingest(&netsuite("77", item("77", "MUG")), at)
        .await
        .unwrap();
    for (id, sku, item_id) in orders {
        engine
            .ingest(&netsuite(id, order(id, sku, item_id)), at)
            .await
            .unwrap();
    }
}

/// An event from `system` about record `id`.
pub fn event(system: System, id: &str, at: Timestamp, payload: Payload) -> Event {
    Event {
        source: SourceId {
            system,
            resource: "record".into(),
            id: id.into(),
            event: "updated".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: at,
        payload,
    }
}

/// A NetSuite inventory item.
pub fn item(id: &str, sku: &str) -> Payload {
    Payload::Item(Item {
        netsuite_id: id.into(),
        sku: sku.into(),
        barcode: None,
        description: format!("{sku} description"),
        tracking: Tracking::None,
        inactive: false,
    })
}

/// An open sales order `SO<id>` for one unit of one item at location 1.
pub fn order(id: &str, sku: &str, item: &str) -> Payload {
    Payload::Order(Order {
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
    })
}
