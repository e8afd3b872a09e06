//! Drift history and valuation: every reconciliation is recorded with its rows valued at
//! NetSuite's average cost (unknown stays unknown), the trend and a position's history read it
//! back, old runs are pruned, and finance gets one exception while the value of the unexplained
//! drift is above the threshold.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use sync_core::money::{Currency, LocationCurrencies, ValueTotals};
use sync_core::{DriftClass, StockKey, StockRow, StockStatus, Thresholds};
use sync_engine::drift_history::{self, DriftRunSummary, ValuedDriftRow};
use sync_engine::netsuite::UnitCosts;
use sync_engine::reconcile::{
    DRIFT_KIND, DRIFT_VALUE_KIND, ReconcileSettings, Reconciliation, reconcile,
};
use sync_engine::store::{SqliteStore, Store, StoredException};

use crate::support::store::sqlite;

fn at(hours: i64) -> Timestamp {
    "2026-11-27T09:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_hours(hours)
}

fn d(units: i64) -> Decimal {
    Decimal::from(units)
}

fn money(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

fn key(sku: &str) -> StockKey {
    StockKey {
        sku: sku.into(),
        location: "1".into(),
        status: StockStatus::Available,
    }
}

fn rows(list: &[(&str, i64)]) -> Vec<StockRow> {
    list.iter()
        .map(|(sku, quantity)| StockRow {
            key: key(sku),
            quantity: d(*quantity),
        })
        .collect()
}

fn costs() -> UnitCosts {
    let mut costs = UnitCosts::unknown();
    costs.set_item("MUG".into(), money(1250));
    costs.set_item("CUP".into(), money(400));
    // At location 1 the CUP is costed apart from its item-wide average.
    costs.set_location("CUP".into(), "1".into(), money(450));
    costs
}

fn usd() -> Currency {
    "USD".parse().unwrap()
}

/// Every location in US dollars.
fn settings(threshold: Option<i64>) -> ReconcileSettings {
    ReconcileSettings {
        value_alert_threshold: threshold.map(d),
        currencies: LocationCurrencies::new(usd()),
        ..ReconcileSettings::default()
    }
}

fn in_usd(value: Decimal) -> ValueTotals {
    let mut totals = ValueTotals::default();
    totals.add(usd(), value);
    totals
}

async fn run(
    store: &dyn Store,
    clarus: &[(&str, i64)],
    netsuite: &[(&str, i64)],
    costs: Option<&UnitCosts>,
    settings: &ReconcileSettings,
    now: Timestamp,
) -> Reconciliation {
    reconcile(store, rows(clarus), rows(netsuite), costs, settings, now)
        .await
        .expect("reconciles")
}

async fn open_of_kind(store: &dyn Store, kind: &str) -> Vec<StoredException> {
    store
        .exceptions()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.exception.kind == kind && e.resolved_at.is_none())
        .collect()
}

fn row<'a>(rows: &'a [ValuedDriftRow], sku: &str) -> &'a ValuedDriftRow {
    rows.iter().find(|r| r.sku.as_str() == sku).expect("row")
}

#[tokio::test]
async fn rows_are_valued_at_average_cost_and_unknown_cost_stays_unknown() {
    let store = SqliteStore::open_in_memory().unwrap();
    let costs = costs();
    // MUG: Clarus has 3 more (NetSuite understates). CUP: Clarus has 2 fewer (overstates).
    // TEA: no cost in NetSuite. PEN: in step.
    let done = run(
        &store,
        &[("MUG", 13), ("CUP", 8), ("TEA", 5), ("PEN", 4)],
        &[("MUG", 10), ("CUP", 10), ("TEA", 1), ("PEN", 4)],
        Some(&costs),
        &settings(None),
        at(0),
    )
    .await;
    let snapshot = &done.snapshot;
    let mug = row(&snapshot.rows, "MUG");
    assert_eq!(mug.unexplained, d(3));
    assert_eq!(mug.unit_cost, Some(money(1250)));
    assert_eq!(mug.value_impact, Some(money(3750)));
    let cup = row(&snapshot.rows, "CUP");
    assert_eq!(cup.unexplained, d(-2));
    assert_eq!(cup.unit_cost, Some(money(450)), "the location's cost wins");
    assert_eq!(cup.value_impact, Some(money(-900)));
    let tea = row(&snapshot.rows, "TEA");
    assert_eq!(tea.unexplained, d(4));
    assert_eq!(tea.unit_cost, None);
    assert_eq!(tea.value_impact, None, "unknown cost is unknown, not zero");
    assert!(snapshot.rows.iter().all(|r| r.sku.as_str() != "PEN"));

    let summary = &snapshot.run.summary;
    assert_eq!(
        (
            summary.positions,
            summary.in_step,
            summary.explained_by_in_flight,
            summary.drift
        ),
        (4, 1, 0, 3)
    );
    assert_eq!(summary.unexplained_units, d(9));
    // Magnitudes add up: a loss on one SKU does not hide a gain on another.
    assert_eq!(summary.value_impact, in_usd(money(4650)));
    assert_eq!(summary.net_value_impact, in_usd(money(2850)));
    assert_eq!(mug.currency, usd());
    assert_eq!(summary.drift_without_cost, 1);
    assert!(summary.valued);
    assert_eq!(summary.thresholds, Thresholds::default());

    // Largest value first, unknown after known.
    let order: Vec<&str> = snapshot.rows.iter().map(|r| r.sku.as_str()).collect();
    assert_eq!(order, ["MUG", "CUP", "TEA"]);

    // Without costs (NetSuite's could not be read) nothing is valued, and the run says so.
    let done = run(
        &store,
        &[("MUG", 13)],
        &[("MUG", 10)],
        None,
        &settings(None),
        at(1),
    )
    .await;
    let summary = &done.snapshot.run.summary;
    assert!(!summary.valued);
    assert!(summary.value_impact.is_empty());
    assert_eq!(summary.drift_without_cost, 1);
    assert_eq!(done.snapshot.rows[0].value_impact, None);
}

#[tokio::test]
async fn every_run_is_recorded_and_read_back_as_latest_trend_and_position_history() {
    let store = SqliteStore::open_in_memory().unwrap();
    let costs = costs();
    assert!(drift_history::latest(&store).await.unwrap().is_none());
    let first = run(
        &store,
        &[("MUG", 13), ("CUP", 10)],
        &[("MUG", 10), ("CUP", 10)],
        Some(&costs),
        &settings(None),
        at(0),
    )
    .await;
    let second = run(
        &store,
        &[("MUG", 11), ("CUP", 9)],
        &[("MUG", 10), ("CUP", 10)],
        Some(&costs),
        &settings(None),
        at(1),
    )
    .await;
    let third = run(
        &store,
        &[("MUG", 10), ("CUP", 10)],
        &[("MUG", 10), ("CUP", 10)],
        Some(&costs),
        &settings(None),
        at(2),
    )
    .await;

    let latest = drift_history::latest(&store).await.unwrap().unwrap();
    assert_eq!(latest, third.snapshot);
    assert!(latest.rows.is_empty());
    assert_eq!(latest.run.summary.drift, 0);

    let again = drift_history::snapshot(&store, second.snapshot.run.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, second.snapshot);
    assert!(
        drift_history::snapshot(&store, 9999)
            .await
            .unwrap()
            .is_none()
    );

    // The trend runs oldest first, ready to be drawn.
    let trend = drift_history::trend(&store, None, 10).await.unwrap();
    let values: Vec<(Timestamp, usize, ValueTotals)> = trend
        .iter()
        .map(|r| (r.at, r.summary.drift, r.summary.value_impact.clone()))
        .collect();
    assert_eq!(
        values,
        [
            (at(0), 1, in_usd(money(3750))),
            (at(1), 2, in_usd(money(1700))),
            (at(2), 0, ValueTotals::default())
        ]
    );
    let recent = drift_history::trend(&store, None, 2).await.unwrap();
    assert_eq!(
        recent.iter().map(|r| r.id).collect::<Vec<_>>(),
        [second.snapshot.run.id, third.snapshot.run.id]
    );
    let since = drift_history::trend(&store, Some(at(1)), 10).await.unwrap();
    assert_eq!(since.len(), 2);

    // A position's history: newest first, `None` where it was in step.
    let history = drift_history::position_history(&store, &key("MUG"), 10)
        .await
        .unwrap();
    let story: Vec<(i64, Option<Decimal>)> = history
        .iter()
        .map(|p| (p.run_id, p.row.as_ref().map(|r| r.unexplained)))
        .collect();
    assert_eq!(
        story,
        [
            (third.snapshot.run.id, None),
            (second.snapshot.run.id, Some(d(1))),
            (first.snapshot.run.id, Some(d(3))),
        ]
    );
    let cup = drift_history::position_history(&store, &key("CUP"), 2)
        .await
        .unwrap();
    assert_eq!(cup.len(), 2);
    assert_eq!(cup[1].row.as_ref().unwrap().value_impact, Some(money(-450)));

    // Serialisable for reports: decimals as strings, unknown values as null.
    let json = serde_json::to_value(&latest).unwrap();
    assert_eq!(
        json["run"]["summary"]["value_impact"],
        serde_json::json!({})
    );
    let json = serde_json::to_value(&second.snapshot.rows[0]).unwrap();
    assert_eq!(json["class"], "drift");
    assert!(json.get("unit_cost").is_some());
}

#[tokio::test]
async fn runs_older_than_the_retention_are_pruned() {
    let store = sqlite();
    let settings = ReconcileSettings {
        history_days: 2,
        ..ReconcileSettings::default()
    };
    let costs = costs();
    let mut pruned = Vec::new();
    for day in 0..4 {
        let done = run(
            store.as_ref(),
            &[("MUG", 11)],
            &[("MUG", 10)],
            Some(&costs),
            &settings,
            at(day * 24),
        )
        .await;
        pruned.push(done.pruned_runs);
    }
    // Day 2 still keeps day 0 (exactly two days old); day 3 prunes it, and so on.
    assert_eq!(pruned, [0, 0, 0, 1]);
    let trend = drift_history::trend(store.as_ref(), None, 10)
        .await
        .unwrap();
    assert_eq!(
        trend.iter().map(|r| r.at).collect::<Vec<_>>(),
        [at(24), at(48), at(72)]
    );
}

#[tokio::test]
async fn finance_is_alerted_once_a_day_while_the_value_is_above_the_threshold() {
    let store = SqliteStore::open_in_memory().unwrap();
    let costs = costs();
    let settings = settings(Some(100));

    // 5 MUG unexplained × 12.50 = 62.50: under the threshold; operations still get the drift.
    run(
        &store,
        &[("MUG", 15)],
        &[("MUG", 10)],
        Some(&costs),
        &settings,
        at(0),
    )
    .await;
    assert!(open_of_kind(&store, DRIFT_VALUE_KIND).await.is_empty());
    assert_eq!(open_of_kind(&store, DRIFT_KIND).await.len(), 1);

    // 10 MUG (125.00) and 4 TEA without a cost: above. One finance exception.
    run(
        &store,
        &[("MUG", 20), ("TEA", 4)],
        &[("MUG", 10)],
        Some(&costs),
        &settings,
        at(1),
    )
    .await;
    let open = open_of_kind(&store, DRIFT_VALUE_KIND).await;
    assert_eq!(open.len(), 1);
    let finance = &open[0].exception;
    assert_eq!(finance.owner, "finance");
    assert_eq!(finance.runbook, "operations.md#drift-value");
    assert!(
        finance
            .message
            .contains("valued at USD 125.00 (threshold 100 in each currency")
            && finance.message.contains("1 more without")
            && finance
                .message
                .contains("largest: MUG @ 1: 10 units, USD 125.00"),
        "{}",
        finance.message
    );
    assert!(finance.message.contains("MUG"), "{}", finance.message);

    // Still above later the same day: the same exception, not another.
    run(
        &store,
        &[("MUG", 30)],
        &[("MUG", 10)],
        Some(&costs),
        &settings,
        at(2),
    )
    .await;
    let all: Vec<_> = store
        .exceptions()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.exception.kind == DRIFT_VALUE_KIND)
        .collect();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].exception.key, finance.key);

    // Still above the next day: yesterday's is superseded by today's, so finance hears again.
    run(
        &store,
        &[("MUG", 30)],
        &[("MUG", 10)],
        Some(&costs),
        &settings,
        at(24),
    )
    .await;
    let open = open_of_kind(&store, DRIFT_VALUE_KIND).await;
    assert_eq!(open.len(), 1);
    assert_ne!(open[0].exception.key, finance.key);
    let yesterday = store
        .exceptions()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.exception.key == finance.key)
        .unwrap();
    assert!(
        yesterday
            .resolution_note
            .as_deref()
            .is_some_and(|n| n.contains("superseded")),
        "{:?}",
        yesterday.resolution_note
    );

    // Back under the threshold: resolved; with no drift at all the operations side too.
    run(
        &store,
        &[("MUG", 10)],
        &[("MUG", 10)],
        Some(&costs),
        &settings,
        at(25),
    )
    .await;
    assert!(open_of_kind(&store, DRIFT_VALUE_KIND).await.is_empty());
    assert!(open_of_kind(&store, DRIFT_KIND).await.is_empty());
}

#[tokio::test]
async fn without_a_threshold_or_without_costs_finance_is_not_alerted() {
    let store = SqliteStore::open_in_memory().unwrap();
    let costs = costs();
    run(
        &store,
        &[("MUG", 1000)],
        &[("MUG", 10)],
        Some(&costs),
        &settings(None),
        at(0),
    )
    .await;
    run(
        &store,
        &[("MUG", 1000)],
        &[("MUG", 10)],
        None,
        &settings(Some(1)),
        at(1),
    )
    .await;
    assert!(open_of_kind(&store, DRIFT_VALUE_KIND).await.is_empty());
    // Without costs nothing is valued, so nothing can cross the value threshold.
    let latest = drift_history::latest(&store).await.unwrap().unwrap();
    assert!(
        latest
            .rows
            .iter()
            .all(|r| r.class == DriftClass::Drift && r.value_impact.is_none())
    );
}

/// A sink keeping what it is given.
#[derive(Debug, Default)]
struct Recording {
    name: String,
    alerts: std::sync::Mutex<Vec<sync_engine::alerts::Alert>>,
}

#[async_trait::async_trait]
impl sync_engine::alerts::AlertSink for Recording {
    fn name(&self) -> &str {
        &self.name
    }
    async fn deliver(
        &self,
        alert: &sync_engine::alerts::Alert,
    ) -> Result<(), sync_engine::alerts::DeliveryError> {
        self.alerts.lock().unwrap().push(alert.clone());
        Ok(())
    }
}

#[tokio::test]
async fn the_value_alert_reaches_finance_and_the_drift_operations() {
    use sync_engine::alerts::{Alerter, AlerterSettings, Routes};

    let store = SqliteStore::open_in_memory().unwrap();
    let operations = Arc::new(Recording {
        name: "operations-chat".into(),
        ..Recording::default()
    });
    let finance = Arc::new(Recording {
        name: "finance-mail".into(),
        ..Recording::default()
    });
    let alerter = Alerter::new(
        Routes::new()
            .route("operations", operations.clone())
            .route("finance", finance.clone()),
        AlerterSettings::default(),
    );
    run(
        &store,
        &[("MUG", 30), ("CUP", 20)],
        &[("MUG", 10), ("CUP", 10)],
        Some(&costs()),
        &settings(Some(100)),
        at(0),
    )
    .await;
    let sent = alerter.run_at(&store, at(0)).await;
    assert_eq!(sent.delivered, 2, "{sent:?}");
    let finance = finance.alerts.lock().unwrap().clone();
    assert_eq!(finance.len(), 1);
    assert_eq!(finance[0].kind, DRIFT_VALUE_KIND);
    assert_eq!(finance[0].runbook, "operations.md#drift-value");
    // 20 × 12.50 + 10 × 4.50 = 295.00
    assert!(
        finance[0].examples[0].message.contains("295"),
        "{}",
        finance[0].examples[0].message
    );
    let operations = operations.alerts.lock().unwrap().clone();
    assert_eq!(operations.len(), 1);
    assert_eq!(operations[0].kind, DRIFT_KIND);
    assert_eq!(
        operations[0].count, 2,
        "one alert for both drifting positions"
    );
}

#[tokio::test]
async fn values_of_different_currencies_are_never_added() {
    let store = SqliteStore::open_in_memory().unwrap();
    let eur: Currency = "EUR".parse().unwrap();
    let mut currencies = LocationCurrencies::new(usd());
    currencies.insert("2".into(), eur);
    let settings = ReconcileSettings {
        // 40 in either currency: only the dollars exceed it.
        value_alert_threshold: Some(d(40)),
        currencies,
        ..ReconcileSettings::default()
    };
    let mut costs = UnitCosts::unknown();
    costs.set_item("MUG".into(), d(10));
    let at_location = |location: &str, quantity: i64| StockRow {
        key: StockKey {
            sku: "MUG".into(),
            location: location.into(),
            status: StockStatus::Available,
        },
        quantity: d(quantity),
    };
    // Location 1 (USD): 5 more in Clarus, 50 dollars. Location 2 (EUR): 3 fewer, -30 euros.
    let done = reconcile(
        &store,
        vec![at_location("1", 15), at_location("2", 7)],
        vec![at_location("1", 10), at_location("2", 10)],
        Some(&costs),
        &settings,
        at(0),
    )
    .await
    .unwrap();
    let summary = &done.snapshot.run.summary;
    assert_eq!(summary.value_impact.get(usd()), Some(d(50)));
    assert_eq!(summary.value_impact.get(eur), Some(d(30)));
    assert_eq!(summary.net_value_impact.get(eur), Some(d(-30)));
    assert_eq!(summary.value_impact.single_currency_total(), None);
    let currencies: Vec<Currency> = done.snapshot.rows.iter().map(|r| r.currency).collect();
    assert_eq!(
        currencies,
        [eur, usd()],
        "each currency's rows together, in code order"
    );
    assert_eq!(
        done.snapshot.rows[0].value().map(|a| (a.value, a.currency)),
        Some((d(-30), eur))
    );
    let alerts = open_of_kind(&store, DRIFT_VALUE_KIND).await;
    assert_eq!(alerts.len(), 1);
    assert!(
        alerts[0].exception.message.contains("EUR 30.00, USD 50.00"),
        "{}",
        alerts[0].exception.message
    );

    // A run recorded before currencies were kept reads back in the unspecified currency.
    let legacy = serde_json::json!({
        "positions": 1, "in_step": 0, "explained_by_in_flight": 0, "drift": 1,
        "unexplained_units": "2", "value_impact": "25.50", "net_value_impact": "-25.50",
        "drift_without_cost": 0, "valued": true,
        "thresholds": {"units": "0", "percent": "0"}
    });
    let summary: DriftRunSummary = serde_json::from_value(legacy).unwrap();
    assert_eq!(
        summary.value_impact.get(Currency::UNSPECIFIED),
        Some(Decimal::new(2550, 2))
    );
    let row: ValuedDriftRow = serde_json::from_value(serde_json::json!({
        "sku": "MUG", "location": "1", "status": "available", "clarus": "3", "netsuite": "1",
        "in_flight": "0", "unexplained": "2", "class": "drift", "unit_cost": "1",
        "value_impact": "2"
    }))
    .unwrap();
    assert!(row.currency.is_unspecified());
}
