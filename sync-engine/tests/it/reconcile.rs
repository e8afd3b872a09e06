//! Reconciliation: in-flight outbox actions explain differences; the rest is drift, raised once
//! and resolved when the position is back in step.

use std::sync::Arc;

use rust_decimal::Decimal;
use sync_core::*;
use sync_engine::engine::Engine;
use sync_engine::reconcile::{DRIFT_KIND, ReconcileSettings, in_flight_rows, reconcile};
use sync_engine::store::Store;

use crate::support::events::{self, at as now, mappings};
use crate::support::store::sqlite;

/// An engine that planned the fulfilment of 2 of order 501's 5 mugs, despatched by Clarus.
async fn engine_with_pending_fulfilment(store: Arc<dyn Store>) -> Engine {
    let engine = Engine::open(store, mappings()).await.unwrap();
    for e in [
        events::item("77", "MUG"),
        events::sales_order("501", "1", 1, "77", "MUG", 5),
        events::despatch(9, "501", 1, "MUG", 2, 2),
    ] {
        engine.ingest(&e, now()).await.unwrap();
    }
    engine
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

#[tokio::test]
async fn in_flight_fulfilments_explain_the_difference_and_the_rest_is_drift() {
    let store = sqlite();
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
    let store = sqlite();
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

    let store = sqlite();
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
