//! Reconciliation: in-flight outbox actions explain differences; the rest is drift, raised once
//! and resolved when the position is back in step.

use std::sync::Arc;

use jiff::Timestamp;
use rust_decimal::Decimal;
use sync_core::*;
use sync_engine::engine::Engine;
use sync_engine::reconcile::{DRIFT_KIND, ReconcileSettings, in_flight_rows, reconcile};
use sync_engine::store::{SqliteStore, Store};

fn now() -> Timestamp {
    "2026-11-27T09:00:00Z".parse().unwrap()
}

fn event(system: System, resource: &str, id: &str, payload: Payload) -> Event {
    Event {
        source: SourceId {
            system,
            resource: resource.into(),
            id: id.into(),
            event: "updated".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: now(),
        payload,
    }
}

fn row(sku: &str, status: StockStatus, quantity: i64) -> StockRow {
    StockRow {
        key: StockKey {
            sku: sku.into(),
            location: "1".into(),
            status,
        },
        quantity: Decimal::from(quantity),
    }
}

async fn engine_with_pending_fulfilment(store: Arc<dyn Store>) -> Engine {
    let mappings = Mappings::new(MappingTables {
        locations: vec![LocationMapping {
            location: "1".into(),
            warehouse: WarehouseId(10),
        }],
        ..MappingTables::default()
    })
    .unwrap();
    let engine = Engine::open(store, mappings).await.unwrap();
    let item = Item {
        netsuite_id: "77".into(),
        sku: "MUG".into(),
        barcode: None,
        description: "Mug".into(),
        tracking: Tracking::None,
        inactive: false,
    };
    let order = Order {
        order: OrderRef::sales("501"),
        tran_id: "SO501".into(),
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
    };
    let despatch = Despatch {
        tenant: "acme".into(),
        goods_out: GoodsOutId(9),
        despatch: "1".into(),
        order: "501".into(),
        warehouse: WarehouseId(10),
        carrier: None,
        service: None,
        despatched_at: now(),
        lines: vec![DespatchLine {
            order_line: LineNo(1),
            sku: "MUG".into(),
            requested: Decimal::from(2),
            quantity: Decimal::from(2),
            lots: vec![],
            serials: vec![],
        }],
        packages: vec![],
    };
    for e in [
        event(System::NetSuite, "inventoryItem", "77", Payload::Item(item)),
        event(System::NetSuite, "salesOrder", "501", Payload::Order(order)),
        event(
            System::Clarus,
            "goods_out",
            "9",
            Payload::Despatch(despatch),
        ),
    ] {
        engine.ingest(&e, now()).await.unwrap();
    }
    engine
}

#[tokio::test]
async fn in_flight_fulfilments_explain_the_difference_and_the_rest_is_drift() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let _engine = engine_with_pending_fulfilment(store.clone()).await;
    assert_eq!(
        in_flight_rows(store.as_ref()).await.unwrap(),
        vec![row("MUG", StockStatus::Available, -2)]
    );

    // Clarus shipped 2 that NetSuite has not posted yet; CUP differs for no reason.
    let clarus = vec![
        row("MUG", StockStatus::Available, 98),
        row("CUP", StockStatus::Available, 7),
    ];
    let netsuite = vec![
        row("MUG", StockStatus::Available, 100),
        row("CUP", StockStatus::Available, 10),
    ];
    let report = reconcile(
        store.as_ref(),
        clarus,
        netsuite,
        None,
        &ReconcileSettings::default(),
        now(),
    )
    .await
    .unwrap()
    .report;
    assert_eq!(report.summary.explained_by_in_flight, 1);
    assert_eq!(report.summary.drift, 1);
    let open: Vec<_> = store
        .exceptions()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.exception.kind == DRIFT_KIND && e.resolved_at.is_none())
        .collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].exception.owner, "operations");
    assert!(
        open[0].exception.message.contains("CUP"),
        "{}",
        open[0].exception.message
    );

    // Fixed in NetSuite: the next reconciliation resolves the exception.
    let clarus = vec![
        row("MUG", StockStatus::Available, 98),
        row("CUP", StockStatus::Available, 7),
    ];
    let netsuite = vec![
        row("MUG", StockStatus::Available, 100),
        row("CUP", StockStatus::Available, 7),
    ];
    let report = reconcile(
        store.as_ref(),
        clarus,
        netsuite,
        None,
        &ReconcileSettings::default(),
        now(),
    )
    .await
    .unwrap()
    .report;
    assert_eq!(report.summary.drift, 0);
    assert!(
        store
            .exceptions()
            .await
            .unwrap()
            .iter()
            .all(|e| e.exception.kind != DRIFT_KIND || e.resolved_at.is_some())
    );
}

#[tokio::test]
async fn with_confirmation_a_drift_is_raised_only_when_the_next_run_sees_it_too() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let settings = ReconcileSettings {
        confirm_runs: 2,
        ..ReconcileSettings::default()
    };
    let open_drift = |store: Arc<dyn Store>| async move {
        store
            .exceptions()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.exception.kind == DRIFT_KIND && e.resolved_at.is_none())
            .count()
    };
    let run = |clarus: i64, netsuite: i64| {
        let store = store.clone();
        let settings = settings.clone();
        async move {
            reconcile(
                store.as_ref(),
                vec![row("MUG", StockStatus::Available, clarus)],
                vec![row("MUG", StockStatus::Available, netsuite)],
                None,
                &settings,
                now(),
            )
            .await
            .unwrap()
            .report
            .summary
            .drift
        }
    };

    // A difference seen once (a movement on its way) raises nothing; the next run sees it gone.
    assert_eq!(run(10, 8).await, 1);
    assert_eq!(open_drift(store.clone()).await, 0);
    assert_eq!(run(10, 10).await, 0);
    assert_eq!(open_drift(store.clone()).await, 0);

    // A difference seen in two runs in a row is raised, and refreshed while it lasts.
    assert_eq!(run(10, 7).await, 1);
    assert_eq!(open_drift(store.clone()).await, 0);
    assert_eq!(run(10, 7).await, 1);
    assert_eq!(open_drift(store.clone()).await, 1);
    assert_eq!(run(10, 6).await, 1);
    assert_eq!(open_drift(store.clone()).await, 1);
    assert_eq!(run(10, 10).await, 0);
    assert_eq!(open_drift(store.clone()).await, 0);
}

/// While Clarus webhooks are queued in the intake, their movements are not in flight yet: a
/// difference seen then raises no drift. Once the intake has caught up (a webhook being
/// processed does not count as behind), the same difference is raised.
#[tokio::test]
async fn no_drift_is_raised_while_clarus_webhooks_wait_in_the_intake() {
    use sync_engine::intake::CLARUS_WEBHOOK_SOURCE;
    use sync_engine::store::NewDelivery;

    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let settings = ReconcileSettings::default();
    let open_drift = || async {
        store
            .open_exceptions()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.exception.kind == DRIFT_KIND)
            .count()
    };
    let run = || async {
        reconcile(
            store.as_ref(),
            vec![row("MUG", StockStatus::Available, 10)],
            vec![row("MUG", StockStatus::Available, 7)],
            None,
            &settings,
            now(),
        )
        .await
        .unwrap()
        .report
        .summary
        .drift
    };
    let waiting = store
        .record_delivery(NewDelivery {
            source: CLARUS_WEBHOOK_SOURCE.into(),
            received_at: now() - jiff::SignedDuration::from_secs(4),
            headers: serde_json::json!({}),
            body: b"{}".to_vec(),
        })
        .await
        .unwrap();

    // The run records the difference, and raises nothing.
    assert_eq!(run().await, 1);
    assert_eq!(open_drift().await, 0);

    // The intake has caught up, but for a webhook being processed as the run reads (a busy,
    // healthy intake): the same difference is drift.
    store
        .mark_delivery_processed(waiting, None, now())
        .await
        .unwrap();
    store
        .record_delivery(NewDelivery {
            source: CLARUS_WEBHOOK_SOURCE.into(),
            received_at: now() - jiff::SignedDuration::from_millis(50),
            headers: serde_json::json!({}),
            body: b"{}".to_vec(),
        })
        .await
        .unwrap();
    assert_eq!(run().await, 1);
    assert_eq!(open_drift().await, 1);
}
