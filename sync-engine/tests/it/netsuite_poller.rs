//! The NetSuite poller against the NetSuite simulator, feeding a real engine on an in-memory
//! store: records are ingested once across polls and restarts, a bad record raises an exception
//! without stopping the others, and the watermark limits what is read.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use sim::netsuite::{
    InternalId, ItemKind, NetSuiteHandle, NewItem, NewOrder, NewOrderLine, OrderKind, RecordType,
    RunningNetSuite,
};
use sync_core::{MappingTables, Mappings};
use sync_engine::engine::Engine;
use sync_engine::netsuite::{NetSuitePoller, PollKind, PollReport, PollerConfig, watermark_name};

use crate::support::netsuite as support;
use crate::support::store::{action_keys, sqlite};

struct World {
    ns: RunningNetSuite,
    h: NetSuiteHandle,
    main: InternalId,
    mug: InternalId,
    plate: InternalId,
    engine: Arc<Engine>,
}

async fn world() -> World {
    let ns = support::start().await;
    let h = ns.handle();
    let main = h.add_location("Main", Some("WH-1")).unwrap();
    let mug = h
        .add_item(NewItem {
            upc: Some("5012345678900".into()),
            display_name: Some("Red mug".into()),
            ..NewItem::new("MUG", ItemKind::Inventory)
        })
        .unwrap();
    let plate = support::item(&h, "PLATE", ItemKind::LotNumbered);
    let mappings = support::one_location(main);
    let store = sqlite();
    let engine = Arc::new(Engine::open(store, mappings).await.unwrap());
    World {
        ns,
        h,
        main,
        mug,
        plate,
        engine,
    }
}

impl World {
    fn order(&self, kind: OrderKind, location: Option<InternalId>) -> InternalId {
        self.h
            .add_order(
                kind,
                NewOrder {
                    location,
                    lines: vec![
                        NewOrderLine {
                            item: self.mug,
                            quantity: Decimal::from(4),
                            location: None,
                        },
                        NewOrderLine {
                            item: self.plate,
                            quantity: Decimal::from(2),
                            location: None,
                        },
                    ],
                    ..NewOrder::default()
                },
            )
            .unwrap()
    }

    async fn poller(&self, config: PollerConfig) -> NetSuitePoller {
        NetSuitePoller::new(support::client(&self.ns).await, self.engine.clone(), config)
    }

    async fn action_kinds(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for a in self.engine.store().actions().await.unwrap() {
            *out.entry(a.action.kind).or_default() += 1;
        }
        out
    }
}

fn by_kind(reports: Vec<(PollKind, PollReport)>) -> BTreeMap<&'static str, PollReport> {
    reports.into_iter().map(|(k, r)| (k.name(), r)).collect()
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

#[tokio::test]
async fn records_are_ingested_once_across_polls_and_restarts() {
    let w = world().await;
    let so = w.order(OrderKind::SalesOrder, Some(w.main));
    w.order(OrderKind::PurchaseOrder, Some(w.main));
    w.order(OrderKind::ReturnAuthorization, Some(w.main));
    let poller = w.poller(settled()).await;

    let first = by_kind(poller.poll_once().await.unwrap());
    assert_eq!(first["item"].planned, 2);
    assert_eq!(first["salesOrder"].planned, 1);
    assert_eq!(first["purchaseOrder"].planned, 1);
    assert_eq!(first["returnAuthorization"].planned, 1);
    let planned = counts(&[
        ("create_goods_in", 2),
        ("create_goods_out", 1),
        ("create_product", 2),
    ]);
    assert_eq!(w.action_kinds().await, planned);
    let watermark = w
        .engine
        .store()
        .watermark(&watermark_name(PollKind::SalesOrders))
        .await
        .unwrap()
        .expect("watermark stored");
    assert!(watermark.parse::<jiff::Timestamp>().unwrap() <= jiff::Timestamp::now());

    // The same records again, inside the overlap window: not even read.
    let second = by_kind(poller.poll_once().await.unwrap());
    for report in second.values() {
        assert_eq!(report.fetched, 0, "{report:?}");
        assert_eq!(report.unchanged, report.rows, "{report:?}");
    }
    assert_eq!(second["salesOrder"].rows, 1);

    // A restarted poller reads them again; the engine recognises every one.
    let restarted = w.poller(settled()).await;
    let third = by_kind(restarted.poll_once().await.unwrap());
    assert_eq!(third["item"].duplicates, 2);
    assert_eq!(third["salesOrder"].duplicates, 1);
    assert_eq!(third["salesOrder"].planned, 0);
    assert_eq!(w.action_kinds().await, planned);

    // A change (one second later: NetSuite's modification times have whole seconds) is a new
    // version: the cancelled order's goods out is cancelled.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    w.h.cancel_order(OrderKind::SalesOrder, so).unwrap();
    let fourth = by_kind(restarted.poll_once().await.unwrap());
    assert_eq!(fourth["salesOrder"].planned, 1);
    assert_eq!(w.action_kinds().await["cancel_goods_out"], 1);
    w.ns.shutdown().await;
}

#[tokio::test]
async fn a_bad_record_raises_an_exception_and_the_others_go_on() {
    let w = world().await;
    // No location on the header or the lines: the order cannot be released anywhere.
    let bad = w.order(OrderKind::SalesOrder, None);
    let good = w.order(OrderKind::SalesOrder, Some(w.main));
    let poller = w.poller(settled()).await;
    let reports = by_kind(poller.poll_once().await.unwrap());
    assert_eq!(reports["salesOrder"].invalid, 1);
    assert_eq!(reports["salesOrder"].planned, 1);
    let actions = w.engine.store().actions().await.unwrap();
    assert!(
        actions
            .iter()
            .any(|a| a.action.key == format!("NS-SO-{good}"))
    );
    let exceptions = w.engine.store().exceptions().await.unwrap();
    let raised: Vec<_> = exceptions
        .iter()
        .filter(|e| e.exception.kind == "invalid-record")
        .collect();
    assert_eq!(raised.len(), 1);
    let e = &raised[0].exception;
    assert_eq!(e.owner, "integration");
    assert_eq!(e.runbook, "operations.md#invalid-record");
    assert_eq!(e.key, format!("EX-NS-INVALID-salesOrder-{bad}"));
    assert!(e.message.contains("location is missing"), "{}", e.message);
    // The watermark moved past both: the bad order is not read again until it changes.
    let again = by_kind(poller.poll_once().await.unwrap());
    assert_eq!(again["salesOrder"].fetched, 0);

    // Corrected in NetSuite (a second later: modification times have whole seconds), it is
    // read again, planned, and its exception closes by itself.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    w.h.update_record(
        RecordType::SalesOrder,
        bad,
        serde_json::json!({ "location": { "id": w.main.0.to_string() } }),
    )
    .unwrap();
    let fixed = by_kind(poller.poll_once().await.unwrap());
    assert_eq!(fixed["salesOrder"].planned, 1, "{fixed:?}");
    let key = format!("EX-NS-INVALID-salesOrder-{bad}");
    let closed = w.engine.store().exception(&key).await.unwrap().unwrap();
    assert!(closed.resolved_at.is_some(), "{closed:?}");
    assert!(
        w.engine
            .store()
            .actions()
            .await
            .unwrap()
            .iter()
            .any(|a| a.action.key == format!("NS-SO-{bad}"))
    );
    w.ns.shutdown().await;
}

#[tokio::test]
async fn the_watermark_and_status_limit_what_is_read() {
    let w = world().await;
    w.order(OrderKind::SalesOrder, Some(w.main));
    let pending =
        w.h.add_order(
            OrderKind::SalesOrder,
            NewOrder {
                location: Some(w.main),
                lines: vec![NewOrderLine {
                    item: w.mug,
                    quantity: Decimal::ONE,
                    location: None,
                }],
                pending_approval: true,
                ..NewOrder::default()
            },
        )
        .unwrap();
    // Pending approval: listed, but nothing for the warehouse yet.
    let poller = w.poller(PollerConfig::default()).await;
    let reports = by_kind(poller.poll_once().await.unwrap());
    assert_eq!(reports["salesOrder"].rows, 2);
    assert_eq!(reports["salesOrder"].filtered, 1);
    assert!(
        !w.engine
            .store()
            .actions()
            .await
            .unwrap()
            .iter()
            .any(|a| a.action.key == format!("NS-SO-{pending}"))
    );

    // A start an hour ahead, beyond the overlap: the query itself returns nothing.
    let ahead = PollerConfig {
        kinds: vec![PollKind::SalesOrders],
        initial_watermark: Some(jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)),
        ..PollerConfig::default()
    };
    let fresh = world().await;
    fresh.order(OrderKind::SalesOrder, Some(fresh.main));
    let reports = by_kind(fresh.poller(ahead).await.poll_once().await.unwrap());
    assert_eq!(reports["salesOrder"].rows, 0);
    w.ns.shutdown().await;
    fresh.ns.shutdown().await;
}

#[tokio::test]
async fn a_netsuite_failure_stops_the_pass_and_keeps_the_watermark() {
    let w = world().await;
    w.order(OrderKind::SalesOrder, Some(w.main));
    let poller = w.poller(PollerConfig::default()).await;
    w.h.set_faults(sim::FaultRates {
        server_error_before_commit: 1.0,
        ..sim::FaultRates::NONE
    });
    let failed = poller.poll_once().await;
    assert!(
        matches!(
            failed,
            Err(sync_engine::netsuite::PollError::NetSuite {
                kind: PollKind::Items,
                ..
            })
        ),
        "{failed:?}"
    );
    let store = w.engine.store();
    assert_eq!(
        store
            .watermark(&watermark_name(PollKind::Items))
            .await
            .unwrap(),
        None
    );
    assert!(store.actions().await.unwrap().is_empty());
    // Once NetSuite answers again, the next pass takes everything.
    w.h.set_faults(sim::FaultRates::NONE);
    let reports = by_kind(poller.poll_once().await.unwrap());
    assert_eq!(reports["item"].planned, 2);
    assert_eq!(reports["salesOrder"].planned, 1);
    w.ns.shutdown().await;
}

/// The default settings, except that a record is not read again for changes within the second
/// it was read in (these tests count the rows skipped as unchanged).
fn settled() -> PollerConfig {
    PollerConfig {
        reread_window: std::time::Duration::ZERO,
        ..PollerConfig::default()
    }
}

/// The store's go-live record (store entry `go_live`).
async fn go_live(w: &World) -> Option<serde_json::Value> {
    w.engine
        .store()
        .watermark("go_live")
        .await
        .unwrap()
        .map(|text| serde_json::from_str(&text).unwrap())
}

fn at(value: &serde_json::Value) -> jiff::Timestamp {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

#[tokio::test]
async fn the_cut_over_leaves_orders_not_modified_since_on_a_new_store() {
    let w = world().await;
    let before = w.order(OrderKind::SalesOrder, Some(w.main));
    w.order(OrderKind::PurchaseOrder, Some(w.main));
    // NetSuite's modification times have whole seconds: the cut-over is a whole second after
    // the orders above were last modified.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cutover = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
    let after = w.order(OrderKind::SalesOrder, Some(w.main));
    let poller = w
        .poller(PollerConfig {
            start_from: Some(cutover),
            adopt_existing_for: Duration::from_secs(3600),
            ..settled()
        })
        .await;

    let first = by_kind(poller.poll_once().await.unwrap());
    // Items are read in full: the orders need them.
    assert_eq!(first["item"].planned, 2, "{first:?}");
    assert_eq!(first["salesOrder"].rows, 1, "{first:?}");
    assert_eq!(first["salesOrder"].planned, 1, "{first:?}");
    assert_eq!(first["purchaseOrder"].rows, 0, "{first:?}");
    let keys = action_keys(w.engine.store().as_ref()).await;
    assert!(keys.contains(&format!("NS-SO-{after}")), "{keys:?}");
    assert!(!keys.contains(&format!("NS-SO-{before}")), "{keys:?}");
    assert_eq!(w.action_kinds().await["create_goods_out"], 1);
    assert!(!w.action_kinds().await.contains_key("create_goods_in"));

    // The first poll recorded the go-live: its time, the cut-over and the adoption window.
    let record = go_live(&w).await.expect("go-live recorded");
    assert_eq!(at(&record["start_from"]), cutover);
    let first_poll = at(&record["first_poll"]);
    assert!(first_poll >= cutover && first_poll <= jiff::Timestamp::now());
    assert_eq!(
        at(&record["adopt_until"]),
        first_poll + jiff::SignedDuration::from_hours(1)
    );

    // Restarted without the settings: the recorded cut-over still holds (not even the overlap
    // goes back before it), and the window follows the configuration (now closed).
    let restarted = w.poller(settled()).await;
    let again = by_kind(restarted.poll_once().await.unwrap());
    assert_eq!(again["salesOrder"].rows, 1, "{again:?}");
    assert_eq!(again["purchaseOrder"].rows, 0, "{again:?}");
    let record = go_live(&w).await.unwrap();
    assert_eq!(at(&record["start_from"]), cutover);
    assert_eq!(at(&record["first_poll"]), first_poll);
    assert_eq!(at(&record["adopt_until"]), first_poll);

    // An order changed after the cut-over is read like any other.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    w.h.update_record(
        RecordType::SalesOrder,
        before,
        serde_json::json!({ "location": { "id": w.main.0.to_string() } }),
    )
    .unwrap();
    let changed = by_kind(restarted.poll_once().await.unwrap());
    assert_eq!(changed["salesOrder"].planned, 1, "{changed:?}");
    assert_eq!(w.action_kinds().await["create_goods_out"], 2);
    w.ns.shutdown().await;
}

#[tokio::test]
async fn the_cut_over_is_ignored_on_a_store_that_has_polled() {
    let w = world().await;
    w.order(OrderKind::SalesOrder, Some(w.main));
    // A store that polled before this version: watermarks, no go-live record.
    w.engine
        .store()
        .set_watermark(&watermark_name(PollKind::Items), "2020-01-01T00:00:00Z")
        .await
        .unwrap();
    let poller = w
        .poller(PollerConfig {
            start_from: Some(jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)),
            adopt_existing_for: Duration::from_secs(3600),
            ..settled()
        })
        .await;
    let reports = by_kind(poller.poll_once().await.unwrap());
    assert_eq!(reports["salesOrder"].planned, 1, "{reports:?}");
    // No go-live record: no cut-over, and no adoption window for the Clarus executor.
    assert_eq!(go_live(&w).await, None);

    // On a new store the cut-over is taken from the configuration until a record is ingested.
    let fresh = world().await;
    fresh.order(OrderKind::SalesOrder, Some(fresh.main));
    let ahead = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    let sales_only = |start_from| PollerConfig {
        kinds: vec![PollKind::SalesOrders],
        start_from,
        ..settled()
    };
    let reports = by_kind(
        fresh
            .poller(sales_only(Some(ahead)))
            .await
            .poll_once()
            .await
            .unwrap(),
    );
    assert_eq!(reports["salesOrder"].rows, 0, "{reports:?}");
    let reports = by_kind(
        fresh
            .poller(sales_only(None))
            .await
            .poll_once()
            .await
            .unwrap(),
    );
    assert_eq!(reports["salesOrder"].planned, 1, "{reports:?}");
    let record = go_live(&fresh).await.unwrap();
    assert_eq!(record["start_from"], serde_json::Value::Null);
    w.ns.shutdown().await;
    fresh.ns.shutdown().await;
}

#[test]
fn the_go_live_settings_are_read_from_poll() {
    let config = |poll: &str| {
        sync_engine::config::Config::from_toml(&format!(
            r#"
store_path = "sync.sqlite"
tenant = "acme"
[netsuite]
account_id = "1234567"
[clarus]
subdomain = "acme"
account_id = 1
stock_unit_type_id = 1
[webhook]
listen = "127.0.0.1:0"
public_url = "https://sync.example.com/webhooks"
[poll]
{poll}
"#
        ))
    };
    let defaults = config("").unwrap();
    assert_eq!(defaults.poll.start_from, None);
    assert_eq!(
        defaults.poll.adopt_existing_for(),
        Duration::from_secs(72 * 3600)
    );
    let cutover: jiff::Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
    let quoted =
        config("start_from = \"2026-12-01T01:00:00+01:00\"\nadopt_existing_hours = 0").unwrap();
    assert_eq!(quoted.poll.start_from, Some(cutover));
    assert_eq!(quoted.poll.adopt_existing_for(), Duration::ZERO);
    let toml_datetime = config("start_from = 2026-12-01T00:00:00Z").unwrap();
    assert_eq!(toml_datetime.poll.start_from, Some(cutover));
    // No offset: which instant is meant is unclear.
    assert!(config("start_from = \"2026-12-01T00:00:00\"").is_err());
    assert!(config("start_from = 2026-12-01").is_err());
}

/// A NetSuite account answering SuiteQL as NetSuite does, each page a fresh query, in which
/// sales order 1 is modified as soon as the first page has been answered: it moves from the
/// start of the result to its end. Records every order it listed.
#[derive(Clone, Default)]
struct ShiftingAccount {
    pages: Arc<std::sync::atomic::AtomicUsize>,
    listed: Arc<std::sync::Mutex<std::collections::BTreeSet<i64>>>,
}

impl ShiftingAccount {
    /// The orders as `(modified, id)`, in the result's order, when `page` is asked.
    fn orders(page: usize) -> Vec<(String, i64)> {
        let first = if page == 0 {
            "2026-12-01 10:00:00"
        } else {
            "2026-12-01 10:00:09"
        };
        let mut orders = vec![
            (first.to_owned(), 1),
            ("2026-12-01 10:00:00".to_owned(), 2),
            ("2026-12-01 10:00:00".to_owned(), 3),
            ("2026-12-01 10:00:05".to_owned(), 4),
            ("2026-12-01 10:00:05".to_owned(), 5),
        ];
        orders.sort();
        orders
    }

    /// The `(modified, id)` a query's keyset condition starts after, if it has one.
    fn after(query: &str) -> Option<(String, i64)> {
        let time = query.split("lastmodifieddate > TO_TIMESTAMP('").nth(1)?;
        let id = query.split("OR id > ").nth(1)?;
        let id: String = id.chars().take_while(char::is_ascii_digit).collect();
        Some((time.get(..19)?.to_owned(), id.parse().ok()?))
    }

    async fn answer(
        axum::extract::State(account): axum::extract::State<ShiftingAccount>,
        axum::extract::Query(paging): axum::extract::Query<BTreeMap<String, usize>>,
        axum::Json(body): axum::Json<serde_json::Value>,
    ) -> axum::Json<serde_json::Value> {
        let page = account
            .pages
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let query = body["q"].as_str().unwrap_or_default();
        let mut orders = Self::orders(page);
        if let Some(after) = Self::after(query) {
            orders.retain(|o| *o > after);
        }
        let (offset, limit) = (paging["offset"], paging["limit"]);
        let items: Vec<_> = orders.iter().skip(offset).take(limit).collect();
        account
            .listed
            .lock()
            .unwrap()
            .extend(items.iter().map(|(_, id)| *id));
        axum::Json(serde_json::json!({
            "links": [],
            "count": items.len(),
            "hasMore": offset + items.len() < orders.len(),
            "offset": offset,
            "totalResults": orders.len(),
            "items": items
                .iter()
                .map(|(modified, id)| serde_json::json!({
                    "links": [],
                    "id": id.to_string(),
                    // Pending approval: listed, nothing to read for the warehouse.
                    "status": "A",
                    "modified": modified,
                }))
                .collect::<Vec<_>>(),
        }))
    }
}

#[tokio::test]
async fn a_record_modified_while_the_pages_are_read_leaves_no_other_unread() {
    let account = ShiftingAccount::default();
    let app = axum::Router::new()
        .route(
            "/services/rest/query/v1/suiteql",
            axum::routing::post(ShiftingAccount::answer),
        )
        .with_state(account.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/services/rest", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = netsuite_client::NetSuiteClient::builder(Arc::new(
        netsuite_client::auth::StaticBearer::new("token").unwrap(),
    ))
    .base_url(base)
    .allow_insecure_http(true)
    .size_from_governance_limits(false)
    .build()
    .unwrap();
    let store = sqlite();
    let mappings = Mappings::new(MappingTables::default()).unwrap();
    let engine = Arc::new(Engine::open(store, mappings).await.unwrap());
    let poller = NetSuitePoller::new(
        client,
        engine,
        PollerConfig {
            kinds: vec![PollKind::SalesOrders],
            page_size: 2,
            ..PollerConfig::default()
        },
    );

    let report = poller.poll(PollKind::SalesOrders).await.unwrap();
    // Paged by offset, the second page would start at the fourth order of the shifted result,
    // and order 3 would never be listed.
    assert_eq!(
        *account.listed.lock().unwrap(),
        (1..=5).collect(),
        "{report:?}"
    );
    assert_eq!(report.filtered, report.rows, "{report:?}");
}
