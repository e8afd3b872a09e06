//! From NetSuite order to NetSuite fulfilment through the real engine and outbox: the poller
//! ingests the order, a Clarus despatch is planned into a fulfilment, the simulator commits it
//! and loses the reply, and the outbox finds the record by `eid:` instead of sending it again.
//! Two outboxes (two instances) on one store share the work: every action posted once, in order
//! per document, and the claim of an instance that died is taken back once it runs out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rust_decimal::Decimal;
use sim::netsuite::{
    GOOD, InternalId, ItemKind, NewOrder, NewOrderLine, OrderKind, RecordType, RunningNetSuite,
};
use sim::{Fault, LostReply};
use sync_core::{
    Event, Mappings, Package, Payload, PlannedAction, Revision, SourceId, System, TrackingNumber,
};
use sync_engine::clock::{Clock, ManualClock};
use sync_engine::engine::{Engine, IngestOutcome, document_key};
use sync_engine::netsuite::{ExecutorConfig, NetSuiteExecutor, NetSuitePoller, PollerConfig};
use sync_engine::outbox::{ActionExecutor, ExecutionError, Outbox, OutboxConfig};
use sync_engine::router::Router;
use sync_engine::store::{ActionStatus, Store};

use crate::support::events;
use crate::support::netsuite as support;
#[cfg(feature = "postgres")]
use crate::support::store as store_support;
use crate::support::store::{actions_of_kind, sqlite};

#[tokio::test]
async fn a_fulfilment_whose_reply_is_lost_is_found_by_external_id_not_posted_twice() {
    let ns = support::start().await;
    let h = ns.handle();
    let main = h.add_location("Main", None).unwrap();
    let mug = support::item(&h, "MUG", ItemKind::Inventory);
    let plate = support::item(&h, "PLATE", ItemKind::Inventory);
    h.set_on_hand(mug, main, GOOD, Decimal::from(10));
    h.set_on_hand(plate, main, GOOD, Decimal::from(10));
    let so = h
        .add_order(
            OrderKind::SalesOrder,
            NewOrder {
                location: Some(main),
                lines: [(mug, 5), (plate, 2)]
                    .into_iter()
                    .map(|(item, q)| NewOrderLine {
                        item,
                        quantity: Decimal::from(q),
                        location: None,
                    })
                    .collect(),
                ..NewOrder::default()
            },
        )
        .unwrap();

    let mappings = support::one_location(main);
    let store = sqlite();
    let engine = Arc::new(Engine::open(store.clone(), mappings).await.unwrap());
    let client = support::client(&ns).await;
    NetSuitePoller::new(client.clone(), engine.clone(), PollerConfig::default())
        .poll_once()
        .await
        .unwrap();

    // Clarus shipped 3 mugs of line 1 (the plates of line 4 stay behind).
    let now = jiff::Timestamp::now();
    let mut despatch = despatch(9, so, 3, now);
    if let Payload::Despatch(d) = &mut despatch.payload {
        d.packages = vec![Package {
            tracking_number: Some(TrackingNumber::new("TRK-1")),
            weight_kg: None,
        }];
    }
    assert!(matches!(
        engine.ingest(&despatch, now).await.unwrap(),
        IngestOutcome::Planned { .. }
    ));

    let router = Arc::new(Router::new(
        Arc::new(support::ClarusAccepts),
        Arc::new(NetSuiteExecutor::new(client, ExecutorConfig::default())),
    ));
    let outbox = Outbox::new(
        store.clone(),
        router,
        OutboxConfig {
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(5),
            ..OutboxConfig::default()
        },
    );
    h.inject_fault(Fault::CommitThenFail(LostReply::DropConnection));
    let fulfilment = actions_of_kind(store.as_ref(), "fulfil_sales_order")
        .await
        .into_iter()
        .next()
        .expect("fulfilment planned");
    let key = fulfilment.action.key.clone();
    for _ in 0..50 {
        outbox.run_due().await.unwrap();
        if store.action(&key).await.unwrap().unwrap().status == ActionStatus::Done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let done = store.action(&key).await.unwrap().unwrap();
    assert_eq!(done.status, ActionStatus::Done, "{done:?}");
    // The first attempt lost its reply; the look-up found the record it had created.
    assert!(done.attempts >= 1);
    let id = h
        .find_by_external_id(RecordType::ItemFulfillment, &key)
        .expect("fulfilment in NetSuite");
    assert_eq!(done.result_id, Some(id.to_string()));
    assert_eq!(h.count(RecordType::ItemFulfillment), 1);
    assert_eq!(h.stats().commits_then_failed, 1);
    let lines = h.order_lines(OrderKind::SalesOrder, so);
    assert_eq!(lines[0].processed, Decimal::from(3));
    assert_eq!(lines[1].processed, Decimal::ZERO);
    assert_eq!(h.on_hand(mug, main, GOOD), Decimal::from(7));
    ns.shutdown().await;
}

/// A Clarus despatch of `quantity` mugs on line 1 of sales order `so`, as goods out `goods_out`.
fn despatch(goods_out: u64, so: InternalId, quantity: i64, now: jiff::Timestamp) -> Event {
    let mut event = events::despatch(goods_out, &so.to_string(), 1, "MUG", 5, quantity);
    event.source.event = "despatched".into();
    event.occurred_at = now;
    if let Payload::Despatch(d) = &mut event.payload {
        d.despatched_at = now;
    }
    event
}

/// Seeds the simulator with `orders` sales orders of 5 mugs each (plenty on hand); returns the
/// mappings and the orders.
fn seed(ns: &RunningNetSuite, orders: usize) -> (Mappings, Vec<InternalId>) {
    let h = ns.handle();
    let main = h.add_location("Main", None).unwrap();
    let mug = support::item(&h, "MUG", ItemKind::Inventory);
    h.set_on_hand(mug, main, GOOD, Decimal::from(1000));
    let sos = (0..orders)
        .map(|_| {
            h.add_order(
                OrderKind::SalesOrder,
                NewOrder {
                    location: Some(main),
                    lines: vec![NewOrderLine {
                        item: mug,
                        quantity: Decimal::from(5),
                        location: None,
                    }],
                    ..NewOrder::default()
                },
            )
            .unwrap()
        })
        .collect();
    let mappings = support::one_location(main);
    (mappings, sos)
}

/// One executor call as the outboxes made it.
#[derive(Debug, Clone)]
struct Call {
    holder: &'static str,
    key: String,
    document: String,
    started: u64,
    ended: u64,
}

/// Records the calls of one instance's outbox into a log both instances share; `ticks` orders
/// the starts and ends of every call.
struct Recording {
    inner: Arc<dyn ActionExecutor>,
    holder: &'static str,
    log: Arc<Mutex<Vec<Call>>>,
    ticks: Arc<AtomicU64>,
}

#[async_trait]
impl ActionExecutor for Recording {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        let started = self.ticks.fetch_add(1, Ordering::SeqCst);
        // Long enough for the other instance to look for work meanwhile.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let result = self.inner.execute(action).await;
        let ended = self.ticks.fetch_add(1, Ordering::SeqCst);
        self.log.lock().unwrap().push(Call {
            holder: self.holder,
            key: action.key.as_str().to_owned(),
            document: document_key(&action.document),
            started,
            ended,
        });
        result
    }
    async fn find_applied(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        self.inner.find_applied(action).await
    }
}

/// Polls the simulator once into `engine`.
async fn poll(ns: &RunningNetSuite, engine: Arc<Engine>) {
    NetSuitePoller::new(support::client(ns).await, engine, PollerConfig::default())
        .poll_once()
        .await
        .unwrap();
}

async fn router(ns: &RunningNetSuite) -> Arc<Router> {
    let client = support::client(ns).await;
    Arc::new(Router::new(
        Arc::new(support::ClarusAccepts),
        Arc::new(NetSuiteExecutor::new(client, ExecutorConfig::default())),
    ))
}

/// A NetSuite item event, as the poller reads it: revision `revision` of item `id`.
fn item_event(id: &str, revision: u64) -> Event {
    Event {
        source: SourceId {
            system: System::NetSuite,
            resource: "inventoryitem".into(),
            id: id.into(),
            event: "updated".into(),
            revision: Revision::Sequence(revision),
        },
        occurred_at: jiff::Timestamp::now(),
        payload: Payload::Item(sync_core::Item {
            netsuite_id: id.into(),
            sku: format!("SKU-{id}").as_str().into(),
            barcode: None,
            description: format!("revision {revision}"),
            tracking: sync_core::Tracking::None,
            inactive: false,
        }),
    }
}

/// Two instances, each with its engine and outbox on one store: the orders' despatches are
/// planned half on each, and so are three versions of a few more items (a product created, then
/// updated twice: three actions of one document); both outboxes run at once. Every action runs
/// exactly once, a document's actions one after the other in outbox order, and both instances
/// take a share.
async fn two_outboxes_post_each_action_once_in_order(
    store_a: Arc<dyn Store>,
    store_b: Arc<dyn Store>,
) {
    const ORDERS: usize = 8;
    let ns = support::start().await;
    let h = ns.handle();
    let (mappings, sos) = seed(&ns, ORDERS);
    let a = Arc::new(
        Engine::open(store_a.clone(), mappings.clone())
            .await
            .unwrap(),
    );
    let b = Engine::open(store_b.clone(), mappings).await.unwrap();
    poll(&ns, a.clone()).await;
    let now = jiff::Timestamp::now();
    for (i, so) in sos.iter().enumerate() {
        let (first, second) = if i.is_multiple_of(2) {
            (&*a, &b)
        } else {
            (&b, &*a)
        };
        for (engine, goods_out, quantity) in [(first, 1000, 1), (second, 2000, 2)] {
            let outcome = engine
                .ingest(&despatch(goods_out + i as u64, *so, quantity, now), now)
                .await
                .unwrap();
            assert!(
                matches!(outcome, IngestOutcome::Planned { actions: 1, .. }),
                "{outcome:?}"
            );
        }
    }
    const ITEMS: usize = 6;
    for revision in 1..=3 {
        for i in 0..ITEMS {
            let engine = if (i + revision as usize).is_multiple_of(2) {
                &*a
            } else {
                &b
            };
            let outcome = engine
                .ingest(&item_event(&format!("{}", 9000 + i), revision), now)
                .await
                .unwrap();
            assert!(
                matches!(outcome, IngestOutcome::Planned { actions: 1, .. }),
                "{outcome:?}"
            );
        }
    }
    let planned = store_a.actions().await.unwrap();
    // One product, per order a goods out and two fulfilments (one per despatch), per further
    // item a product created and updated twice.
    assert_eq!(planned.len(), 1 + 3 * ORDERS + 3 * ITEMS);

    let log = Arc::new(Mutex::new(Vec::new()));
    let ticks = Arc::new(AtomicU64::new(0));
    let config = OutboxConfig {
        max_in_flight: 3,
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(5),
        ..OutboxConfig::default()
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut outboxes = Vec::new();
    for (holder, store) in [("a", store_a.clone()), ("b", store_b.clone())] {
        let executor = Arc::new(Recording {
            inner: router(&ns).await,
            holder,
            log: log.clone(),
            ticks: ticks.clone(),
        });
        outboxes.push(Outbox::new(store, executor, config.clone()).with_holder(holder));
    }
    let running: Vec<_> = outboxes
        .into_iter()
        .map(|outbox| {
            let stopped = stopped.clone();
            tokio::spawn(async move { outbox.run(stopped).await })
        })
        .collect();
    for _ in 0..1000 {
        let actions = store_a.actions().await.unwrap();
        if actions.iter().all(|a| a.status == ActionStatus::Done) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    for task in running {
        task.await.unwrap().unwrap();
    }

    let actions = store_b.actions().await.unwrap();
    assert!(
        actions.iter().all(|a| a.status == ActionStatus::Done),
        "{actions:?}"
    );
    let calls = log.lock().unwrap().clone();
    let mut per_key: HashMap<&str, usize> = HashMap::new();
    for call in &calls {
        *per_key.entry(call.key.as_str()).or_default() += 1;
    }
    assert_eq!(per_key.len(), actions.len());
    assert!(per_key.values().all(|n| *n == 1), "{per_key:?}");
    assert_eq!(h.count(RecordType::ItemFulfillment), 2 * ORDERS);
    for action in actions
        .iter()
        .filter(|a| a.action.kind == "fulfil_sales_order")
    {
        let id = h
            .find_by_external_id(RecordType::ItemFulfillment, &action.action.key)
            .expect("fulfilment in NetSuite");
        assert_eq!(action.result_id, Some(id.to_string()));
    }
    for so in &sos {
        assert_eq!(
            h.order_lines(OrderKind::SalesOrder, *so)[0].processed,
            Decimal::from(3)
        );
    }
    // Per document: the outbox's order, each call over before the next began.
    let mut documents: HashMap<&str, Vec<&Call>> = HashMap::new();
    for call in &calls {
        documents
            .entry(call.document.as_str())
            .or_default()
            .push(call);
    }
    assert!(
        documents.values().filter(|ran| ran.len() == 3).count() >= ITEMS,
        "{documents:?}"
    );
    for (document, mut ran) in documents {
        ran.sort_by_key(|c| c.started);
        let expected: Vec<&str> = actions
            .iter()
            .filter(|a| a.action.document == document)
            .map(|a| a.action.key.as_str())
            .collect();
        let keys: Vec<&str> = ran.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, expected, "{document}");
        for pair in ran.windows(2) {
            assert!(pair[0].ended < pair[1].started, "{document}: {pair:?}");
        }
    }
    for holder in ["a", "b"] {
        assert!(
            calls.iter().any(|c| c.holder == holder),
            "instance {holder} ran nothing: {calls:?}"
        );
    }
    ns.shutdown().await;
}

/// An instance claims a fulfilment, sends it (NetSuite creates it) and dies before recording
/// anything. Another instance leaves it alone while the claim runs, then takes it back, looks
/// it up by external id and records it: posted once.
async fn an_abandoned_claim_is_taken_back_and_looked_up(
    store_a: Arc<dyn Store>,
    store_b: Arc<dyn Store>,
) {
    let ns = support::start().await;
    let h = ns.handle();
    let (mappings, sos) = seed(&ns, 1);
    let clock = ManualClock::new(jiff::Timestamp::now());
    let engine = Arc::new(
        Engine::open(store_b.clone(), mappings)
            .await
            .unwrap()
            .with_clock(clock.shared()),
    );
    poll(&ns, engine.clone()).await;
    let outbox = Outbox::new(
        store_b.clone(),
        router(&ns).await,
        OutboxConfig {
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(5),
            ..OutboxConfig::default()
        },
    )
    .with_clock(clock.shared())
    .with_holder("b");
    // The product and the goods out first.
    while outbox.run_due().await.unwrap() > 0 {}
    engine
        .ingest(&despatch(9, sos[0], 3, clock.now()), clock.now())
        .await
        .unwrap();

    // Instance "dead" takes the fulfilment for a minute, sends it, and is gone.
    let claimed = store_a
        .claim_due_actions(
            clock.now(),
            10,
            "dead",
            clock.now() + jiff::SignedDuration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    let key = claimed[0].action.key.clone();
    assert_eq!(claimed[0].action.kind, "fulfil_sales_order");
    store_a.begin_attempt(&key).await.unwrap();
    let planned: PlannedAction = serde_json::from_value(claimed[0].action.payload.clone()).unwrap();
    router(&ns).await.execute(&planned).await.unwrap();
    assert_eq!(h.count(RecordType::ItemFulfillment), 1);

    // Claimed: left alone, however often instance "b" looks, until the claim runs out.
    assert_eq!(outbox.run_due().await.unwrap(), 0);
    clock.advance(Duration::from_secs(59));
    assert_eq!(outbox.run_due().await.unwrap(), 0);
    clock.advance(Duration::from_secs(1));
    assert_eq!(outbox.run_due().await.unwrap(), 1);

    let done = store_b.action(&key).await.unwrap().unwrap();
    assert_eq!(done.status, ActionStatus::Done, "{done:?}");
    let id = h
        .find_by_external_id(RecordType::ItemFulfillment, &key)
        .expect("fulfilment in NetSuite");
    assert_eq!(done.result_id, Some(id.to_string()));
    assert_eq!(h.count(RecordType::ItemFulfillment), 1, "posted once");
    assert_eq!(
        h.order_lines(OrderKind::SalesOrder, sos[0])[0].processed,
        Decimal::from(3)
    );
    ns.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_outboxes_on_one_sqlite_store_post_each_action_once_in_order() {
    let store = sqlite();
    two_outboxes_post_each_action_once_in_order(store.clone(), store).await;
}

#[tokio::test]
async fn an_abandoned_claim_on_a_sqlite_store_is_taken_back_and_looked_up() {
    let store = sqlite();
    an_abandoned_claim_is_taken_back_and_looked_up(store.clone(), store).await;
}

/// The same, each instance with its own connection pool on one fresh PostgreSQL schema.
#[cfg(feature = "postgres")]
mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_outboxes_on_one_postgres_store_post_each_action_once_in_order() {
        store_support::on_postgres_reopen(|reopen| async move {
            let (a, b) = (reopen.open().await, reopen.open().await);
            two_outboxes_post_each_action_once_in_order(a, b).await;
        })
        .await;
    }

    #[tokio::test]
    async fn an_abandoned_claim_on_a_postgres_store_is_taken_back_and_looked_up() {
        store_support::on_postgres_reopen(|reopen| async move {
            let (a, b) = (reopen.open().await, reopen.open().await);
            an_abandoned_claim_is_taken_back_and_looked_up(a, b).await;
        })
        .await;
    }
}
