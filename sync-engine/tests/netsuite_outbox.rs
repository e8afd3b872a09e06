//! From NetSuite order to NetSuite fulfilment through the real engine and outbox: the poller
//! ingests the order, a Clarus despatch is planned into a fulfilment, the simulator commits it
//! and loses the reply, and the outbox finds the record by `eid:` instead of sending it again.

#[path = "netsuite_support.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rust_decimal::Decimal;
use sim::netsuite::{GOOD, ItemKind, NewItem, NewOrder, NewOrderLine, OrderKind, RecordType};
use sim::{Fault, LostReply};
use sync_core::{
    Despatch, DespatchLine, Event, GoodsOutId, LocationMapping, MappingTables, Mappings, Package,
    Payload, PlannedAction, Revision, SourceId, System, TrackingNumber, WarehouseId,
};
use sync_engine::engine::{Engine, IngestOutcome};
use sync_engine::netsuite::{ExecutorConfig, NetSuiteExecutor, NetSuitePoller, PollerConfig};
use sync_engine::outbox::{ActionExecutor, ExecutionError, Outbox, OutboxConfig};
use sync_engine::router::Router;
use sync_engine::store::{ActionStatus, SqliteStore, Store};

/// Stands in for Clarus: every Clarus action succeeds.
struct ClarusAccepts;

#[async_trait]
impl ActionExecutor for ClarusAccepts {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        Ok(Some(format!("clarus-{}", action.key)))
    }
    async fn find_applied(&self, _: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        Ok(None)
    }
}

#[tokio::test]
async fn a_fulfilment_whose_reply_is_lost_is_found_by_external_id_not_posted_twice() {
    let ns = support::start().await;
    let h = ns.handle();
    let main = h.add_location("Main", None).unwrap();
    let mug = h
        .add_item(NewItem::new("MUG", ItemKind::Inventory))
        .unwrap();
    let plate = h
        .add_item(NewItem::new("PLATE", ItemKind::Inventory))
        .unwrap();
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

    let mappings = Mappings::new(MappingTables {
        locations: vec![LocationMapping {
            location: main.to_string().into(),
            warehouse: WarehouseId(10),
        }],
        ..MappingTables::default()
    })
    .unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let engine = Arc::new(Engine::open(store.clone(), mappings).await.unwrap());
    let client = support::client(&ns).await;
    NetSuitePoller::new(client.clone(), engine.clone(), PollerConfig::default())
        .poll_once()
        .await
        .unwrap();

    // Clarus shipped 3 mugs of line 1 (the plates of line 4 stay behind).
    let now = jiff::Timestamp::now();
    let despatch = Event {
        source: SourceId {
            system: System::Clarus,
            resource: "goods_out".into(),
            id: "9".into(),
            event: "despatched".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: now,
        payload: Payload::Despatch(Despatch {
            tenant: "acme".into(),
            goods_out: GoodsOutId(9),
            despatch: "1".into(),
            order: so.to_string().into(),
            warehouse: WarehouseId(10),
            carrier: None,
            service: None,
            despatched_at: now,
            lines: vec![DespatchLine {
                order_line: sync_core::LineNo(1),
                sku: "MUG".into(),
                requested: Decimal::from(5),
                quantity: Decimal::from(3),
                lots: vec![],
                serials: vec![],
            }],
            packages: vec![Package {
                tracking_number: Some(TrackingNumber::new("TRK-1")),
                weight_kg: None,
            }],
        }),
    };
    assert!(matches!(
        engine.ingest(&despatch, now).await.unwrap(),
        IngestOutcome::Planned { .. }
    ));

    let router = Arc::new(Router::new(
        Arc::new(ClarusAccepts),
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
    let fulfilment = store
        .actions()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.action.kind == "fulfil_sales_order")
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
