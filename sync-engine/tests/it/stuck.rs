//! Stuck detection reads unfinished documents a page at a time: what it finds is what the full
//! derivation from every recorded event finds, finished documents are not read again until a
//! commit touches them, and events recorded before the store kept their document are assigned
//! one.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use sync_core::*;
use sync_engine::clock::{Clock, ManualClock};
use sync_engine::engine::Engine;
use sync_engine::lifecycle::order_key;
use sync_engine::monitor::{
    Stage, StuckConfig, StuckDetector, StuckDocument, lifecycles, stuck_documents,
};
use sync_engine::outbox::{ActionExecutor, ExecutionError, Outbox, OutboxConfig};
use sync_engine::store::{SqliteStore, Store};

fn start() -> Timestamp {
    "2026-11-27T09:00:00Z".parse().unwrap()
}

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

fn mappings() -> Mappings {
    Mappings::new(MappingTables {
        locations: vec![LocationMapping {
            location: "1".into(),
            warehouse: WarehouseId(10),
        }],
        ..MappingTables::default()
    })
    .unwrap()
}

fn netsuite_event(id: &str, payload: Payload) -> Event {
    Event {
        source: SourceId {
            system: System::NetSuite,
            resource: "record".into(),
            id: id.into(),
            event: "updated".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: start(),
        payload,
    }
}

fn item() -> Event {
    netsuite_event(
        "77",
        Payload::Item(Item {
            netsuite_id: "77".into(),
            sku: "MUG".into(),
            barcode: None,
            description: "mug".into(),
            tracking: Tracking::None,
            inactive: false,
        }),
    )
}

fn order(n: u32) -> Event {
    let id = n.to_string();
    netsuite_event(
        &id,
        Payload::Order(Order {
            order: OrderRef::sales(id.as_str()),
            tran_id: format!("SO{id}"),
            status: OrderStatus::Open,
            location: "1".into(),
            ship_method: None,
            expected_date: None,
            lines: vec![OrderLine {
                line: LineNo(1),
                item: "77".into(),
                sku: "MUG".into(),
                quantity: Decimal::from(5),
                quantity_done: Decimal::ZERO,
                closed: false,
            }],
        }),
    )
}

fn despatch(goods_out: u64, n: u32) -> Event {
    Event {
        source: SourceId {
            system: System::Clarus,
            resource: "goods_out".into(),
            id: goods_out.to_string().as_str().into(),
            event: "completed".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: start(),
        payload: Payload::Despatch(Despatch {
            tenant: "acme".into(),
            goods_out: GoodsOutId(goods_out),
            despatch: "1".into(),
            order: n.to_string().as_str().into(),
            warehouse: WarehouseId(10),
            carrier: None,
            service: None,
            despatched_at: start(),
            lines: vec![DespatchLine {
                order_line: LineNo(1),
                sku: "MUG".into(),
                requested: Decimal::from(5),
                quantity: Decimal::from(5),
                lots: vec![],
                serials: vec![],
            }],
            packages: vec![],
        }),
    }
}

/// A target system that applies everything except the kinds it is told to hold back.
#[derive(Default)]
struct FakeSystem {
    held_kinds: Mutex<Vec<&'static str>>,
}

#[async_trait]
impl ActionExecutor for FakeSystem {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        let kind = sync_engine::engine::action_kind(&action.action);
        if self.held_kinds.lock().unwrap().contains(&kind) {
            return Err(ExecutionError::Retryable("503 service unavailable".into()));
        }
        Ok(Some(format!("id-{}", action.key.as_str())))
    }

    async fn find_applied(
        &self,
        _action: &PlannedAction,
    ) -> Result<Option<String>, ExecutionError> {
        Ok(None)
    }
}

struct Day {
    engine: Engine,
    system: Arc<FakeSystem>,
    outbox: Outbox,
    clock: ManualClock,
}

impl Day {
    fn new(store: Arc<dyn Store>, engine: Engine) -> Day {
        let clock = ManualClock::new(start());
        let system = Arc::new(FakeSystem::default());
        let config = OutboxConfig {
            // Held actions wait between 0.5 and 1 s: each round of `drain` tries them once.
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(1),
            max_attempts: u32::MAX,
            ..OutboxConfig::default()
        };
        let outbox = Outbox::new(store.clone(), system.clone(), config).with_clock(clock.shared());
        Day {
            engine,
            system,
            outbox,
            clock,
        }
    }

    async fn ingest(&self, event: &Event) {
        self.engine.ingest(event, self.clock.now()).await.unwrap();
    }

    async fn drain(&self) {
        for _ in 0..3 {
            self.clock.advance(Duration::from_secs(2));
            while self.outbox.run_due().await.unwrap() > 0 {}
        }
    }

    fn hold(&self, kind: &'static str) {
        self.system.held_kinds.lock().unwrap().push(kind);
    }

    /// Orders 600..610 fulfilled; 610..615 despatched and their fulfilments held; 615..620
    /// sent to Clarus and never despatched; 620..625 with their goods out held.
    async fn plan(&self) {
        self.ingest(&item()).await;
        for n in 600..620 {
            self.ingest(&order(n)).await;
        }
        self.drain().await;
        for n in 600..610 {
            self.ingest(&despatch(u64::from(n), n)).await;
        }
        self.drain().await;
        self.hold("fulfil_sales_order");
        self.hold("create_goods_out");
        for n in 610..615 {
            self.ingest(&despatch(u64::from(n), n)).await;
        }
        for n in 620..625 {
            self.ingest(&order(n)).await;
        }
        self.drain().await;
    }
}

fn config() -> StuckConfig {
    let mut config = StuckConfig::default();
    config.after_secs.insert(Stage::SentToClarus, 3600);
    config
}

fn keys(stuck: &[StuckDocument]) -> BTreeSet<String> {
    stuck.iter().map(StuckDocument::exception_key).collect()
}

/// What the derivation from every recorded event and action finds stuck at `now`.
async fn reference(store: &dyn Store, now: Timestamp) -> BTreeSet<String> {
    keys(&stuck_documents(
        &lifecycles(store).await.unwrap(),
        &config(),
        now,
    ))
}

async fn unfinished(store: &dyn Store) -> BTreeSet<String> {
    store
        .unfinished_documents(start() + minutes(10_000), "", 1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.key)
        .collect()
}

fn orders(range: std::ops::Range<u32>) -> BTreeSet<String> {
    range
        .map(|n| order_key(&OrderRef::sales(n.to_string().as_str())))
        .collect()
}

#[tokio::test]
async fn paged_detection_finds_what_the_full_derivation_finds_and_skips_finished_documents() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let engine = Engine::open(store.clone(), mappings()).await.unwrap();
    let day = Day::new(store.clone(), engine);
    day.plan().await;
    let detector = StuckDetector::new(config()).with_page_size(3);

    for after in [10, 16, 61] {
        let now = start() + minutes(after);
        let expected = reference(&*store, now).await;
        let report = detector.check(&*store, now).await.unwrap();
        assert_eq!(keys(&report.stuck), expected, "at +{after} min");
    }
    // 10 held goods outs and fulfilments, 5 orders waiting in Clarus past the hour.
    assert_eq!(reference(&*store, start() + minutes(61)).await.len(), 15);
    // The fulfilled orders are finished: not read again.
    let mut open = orders(610..625);
    assert_eq!(unfinished(&*store).await, open);

    // A second despatch of a fulfilled order (more than is open: held by its exception)
    // makes it unfinished again, and stuck 15 minutes later.
    day.clock.advance(Duration::from_secs(2 * 3600));
    day.ingest(&despatch(9_600, 600)).await;
    open.extend(orders(600..601));
    assert_eq!(unfinished(&*store).await, open);
    let later = day.clock.now() + minutes(16);
    let expected = reference(&*store, later).await;
    assert!(expected.iter().any(|k| k.contains("600")), "{expected:?}");
    let report = detector.check(&*store, later).await.unwrap();
    assert_eq!(keys(&report.stuck), expected);

    // Everything posted and the hold resolved: every document finishes, every stuck exception
    // is resolved.
    day.system.held_kinds.lock().unwrap().clear();
    day.drain().await;
    for e in store.open_exceptions().await.unwrap() {
        day.engine
            .resolve_exception(&e.exception.key, "handled", day.clock.now())
            .await
            .unwrap();
    }
    for n in 615..625 {
        day.ingest(&despatch(u64::from(n), n)).await;
    }
    day.drain().await;
    let report = detector
        .check(&*store, day.clock.now() + minutes(120))
        .await
        .unwrap();
    assert!(report.stuck.is_empty(), "{report:?}");
    assert!(unfinished(&*store).await.is_empty());
    assert!(
        reference(&*store, day.clock.now() + minutes(120))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn events_recorded_before_owners_were_kept_are_assigned_theirs() {
    let dir = std::env::temp_dir().join(format!("sync-stuck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("legacy.sqlite");
    let _ = std::fs::remove_file(&path);
    {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        let engine = Engine::open(store.clone(), mappings()).await.unwrap();
        Day::new(store, engine).plan().await;
    }
    // As a store migrated from a version that did not record them.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("UPDATE events SET owner = NULL; DELETE FROM documents;")
            .unwrap();
    }
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    // The item, 25 orders and 15 despatches.
    assert_eq!(store.events_without_owner(1_000).await.unwrap().len(), 41);
    assert!(unfinished(&*store).await.is_empty());
    let now = start() + minutes(61);
    let expected = reference(&*store, now).await;
    let report = StuckDetector::new(config())
        .with_page_size(4)
        .check(&*store, now)
        .await
        .unwrap();
    assert_eq!(keys(&report.stuck), expected);
    assert_eq!(expected.len(), 15);
    assert!(store.events_without_owner(1_000).await.unwrap().is_empty());
    assert_eq!(unfinished(&*store).await, orders(610..625));
    std::fs::remove_dir_all(&dir).unwrap();
}
