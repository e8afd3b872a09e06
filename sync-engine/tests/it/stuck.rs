//! Stuck detection reads unfinished documents a page at a time: what it finds is what the full
//! derivation from every recorded event finds, finished documents are not read again until a
//! commit touches them, and events recorded before the store kept their document are assigned
//! one.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use sync_core::*;
use sync_engine::clock::{Clock, ManualClock};
use sync_engine::engine::Engine;
use sync_engine::lifecycle::order_key;
use sync_engine::monitor::{
    Stage, StuckConfig, StuckDetector, StuckDocument, lifecycles, stuck_documents,
};
use sync_engine::outbox::{Outbox, OutboxConfig};
use sync_engine::store::{SqliteStore, Store};

use crate::support::events::{self, at as start, mappings};
use crate::support::fakes::FakeSystem;
use crate::support::store::sqlite;

fn item() -> Event {
    events::item("77", "MUG")
}

/// Order `n`: 5 of item 77 (`MUG`) on line 1.
fn order(n: u32) -> Event {
    events::sales_order(&n.to_string(), "1", 1, "77", "MUG", 5)
}

/// All of order `n` despatched.
fn despatch(goods_out: u64, n: u32) -> Event {
    events::despatch(goods_out, &n.to_string(), 1, "MUG", 5, 5)
}

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
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
        self.system.hold(kind);
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
    let store = sqlite();
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
    day.system.release();
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
