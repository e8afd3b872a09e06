//! Reconciliation: in-flight outbox actions explain differences; the rest is drift, raised once
//! and resolved when the position is back in step.

use std::sync::Arc;

use rust_decimal::Decimal;
use sync_core::*;
use sync_engine::engine::Engine;
use sync_engine::reconcile::{DRIFT_KIND, ReconcileSettings, in_flight_rows, reconcile};
use sync_engine::store::{Store, StoredException};

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

/// Reconciles the stock rows of `clarus` against those of `netsuite` at [`now`].
async fn run(
    store: &dyn Store,
    clarus: Vec<StockRow>,
    netsuite: Vec<StockRow>,
    settings: &ReconcileSettings,
) -> DriftReport {
    reconcile(store, clarus, netsuite, None, settings, now())
        .await
        .unwrap()
        .report
}

/// Reconciles `clarus` against `netsuite` available `MUG`s: how many positions drift.
async fn mug_drift(
    store: &dyn Store,
    clarus: i64,
    netsuite: i64,
    settings: &ReconcileSettings,
) -> usize {
    run(
        store,
        vec![row("MUG", StockStatus::Available, clarus)],
        vec![row("MUG", StockStatus::Available, netsuite)],
        settings,
    )
    .await
    .summary
    .drift
}

/// The drift exceptions open in `store`.
async fn open_drift(store: &dyn Store) -> Vec<StoredException> {
    store
        .open_exceptions()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.exception.kind == DRIFT_KIND)
        .collect()
}

/// Available `MUG` and `CUP` rows: `mugs` and `cups` of them.
fn mugs_and_cups(mugs: i64, cups: i64) -> Vec<StockRow> {
    vec![
        row("MUG", StockStatus::Available, mugs),
        row("CUP", StockStatus::Available, cups),
    ]
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
    let report = run(
        store.as_ref(),
        mugs_and_cups(98, 7),
        mugs_and_cups(100, 10),
        &ReconcileSettings::default(),
    )
    .await;
    assert_eq!(report.summary.explained_by_in_flight, 1);
    assert_eq!(report.summary.drift, 1);
    let open = open_drift(store.as_ref()).await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].exception.owner, "operations");
    assert!(
        open[0].exception.message.contains("CUP"),
        "{}",
        open[0].exception.message
    );

    // Fixed in NetSuite: the next reconciliation resolves the exception.
    let report = run(
        store.as_ref(),
        mugs_and_cups(98, 7),
        mugs_and_cups(100, 7),
        &ReconcileSettings::default(),
    )
    .await;
    assert_eq!(report.summary.drift, 0);
    assert!(open_drift(store.as_ref()).await.is_empty());
}

#[tokio::test]
async fn with_confirmation_a_drift_is_raised_only_when_the_next_run_sees_it_too() {
    let store = sqlite();
    let settings = ReconcileSettings {
        confirm_runs: 2,
        ..ReconcileSettings::default()
    };
    let drift =
        async |clarus, netsuite| mug_drift(store.as_ref(), clarus, netsuite, &settings).await;

    // A difference seen once (a movement on its way) raises nothing; the next run sees it gone.
    assert_eq!(drift(10, 8).await, 1);
    assert_eq!(open_drift(store.as_ref()).await.len(), 0);
    assert_eq!(drift(10, 10).await, 0);
    assert_eq!(open_drift(store.as_ref()).await.len(), 0);

    // A difference seen in two runs in a row is raised, and refreshed while it lasts.
    assert_eq!(drift(10, 7).await, 1);
    assert_eq!(open_drift(store.as_ref()).await.len(), 0);
    assert_eq!(drift(10, 7).await, 1);
    assert_eq!(open_drift(store.as_ref()).await.len(), 1);
    assert_eq!(drift(10, 6).await, 1);
    assert_eq!(open_drift(store.as_ref()).await.len(), 1);
    assert_eq!(drift(10, 10).await, 0);
    assert_eq!(open_drift(store.as_ref()).await.len(), 0);
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
    let drift = async || mug_drift(store.as_ref(), 10, 7, &settings).await;
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
    assert_eq!(drift().await, 1);
    assert_eq!(open_drift(store.as_ref()).await.len(), 0);

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
    assert_eq!(drift().await, 1);
    assert_eq!(open_drift(store.as_ref()).await.len(), 1);
}
