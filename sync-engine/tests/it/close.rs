//! The month-end close against the real engine and store with a fake executor: what blocks,
//! what is only shown, the totals to tie out with their currencies, and the CSV export.

use jiff::Timestamp;
use rust_decimal::Decimal;
use sync_core::close::{PostingState, TransactionType};
use sync_core::money::{Currency, LocationCurrencies};
use sync_core::*;
use sync_engine::close::{
    CloseCategory, ClosePeriod, CloseReport, CloseRules, Valuation, close_report,
};
use sync_engine::netsuite::UnitCosts;
use sync_engine::reconcile::{ReconcileSettings, reconcile};
use sync_engine::store::NewException;

use crate::support::events::{self, item, mappings};
use crate::support::fakes::{self, Setup, drain};

/// When the engine planned what happened at [`events::at`].
fn planned_at() -> Timestamp {
    "2026-11-27T09:05:00Z".parse().unwrap()
}

fn november() -> ClosePeriod {
    "2026-11".parse().unwrap()
}

/// An order of 5 of `sku` on line 3.
fn order(id: &str, sku: &str, item_id: &str) -> Event {
    events::sales_order(id, "1", 3, item_id, sku, 5)
}

/// A despatch of `quantity` of the 5 requested.
fn despatch(goods_out: u64, order: &str, sku: &str, quantity: i64) -> Event {
    events::despatch(goods_out, order, 3, sku, 5, quantity)
}

async fn setup() -> Setup {
    fakes::setup(mappings()).await
}

async fn report(s: &Setup, period: &ClosePeriod, rules: &CloseRules) -> CloseReport {
    close_report(s.store.as_ref(), period, rules, None, planned_at())
        .await
        .unwrap()
}

fn categories(report: &CloseReport) -> Vec<(CloseCategory, bool)> {
    report
        .items
        .iter()
        .map(|i| (i.category, i.blocking))
        .collect()
}

/// Item MUG, order 501 short-despatched (4 of 5, a warning) with its fulfilment held back,
/// and order 600 for an unknown SKU (an item-master error holding no posting).
async fn seed(s: &Setup) {
    for event in [
        item("77", "MUG"),
        order("501", "MUG", "77"),
        order("600", "NEW", "88"),
    ] {
        s.engine.ingest(&event, planned_at()).await.unwrap();
    }
    drain(&s.outbox).await;
    s.system.hold("fulfil_sales_order");
    s.engine
        .ingest(&despatch(9, "501", "MUG", 4), planned_at())
        .await
        .unwrap();
    drain(&s.outbox).await;
}

#[tokio::test]
async fn unposted_activity_blocks_while_warnings_and_other_errors_are_only_shown() {
    let s = setup().await;
    seed(&s).await;
    let rules = CloseRules::default();

    let check = report(&s, &november(), &rules).await;
    assert_eq!(check.period, "2026-11");
    assert_eq!(check.range, "2026-11-01..2026-12-01");
    assert!(check.blocking, "{check:#?}");
    assert_eq!(
        categories(&check),
        [
            (CloseCategory::UnpostedDocument, true),
            (CloseCategory::Warning, false),
            (CloseCategory::OtherException, false),
        ],
        "{check:#?}"
    );
    let unposted = &check.items[0];
    assert_eq!(unposted.posting, Some(PostingState::Queued));
    assert!(
        unposted
            .activity
            .as_deref()
            .unwrap()
            .contains("goods out 9"),
        "{unposted:?}"
    );
    assert_eq!(check.items[1].kind.as_deref(), Some("short-despatch"));
    assert_eq!(check.items[2].owner.as_deref(), Some("item_master"));
    assert_eq!(check.totals.len(), 1);
    let t = &check.totals[0];
    assert_eq!(
        (t.flow.as_str(), t.transaction),
        ("sales_order", TransactionType::ItemFulfillment)
    );
    assert_eq!((t.documents, t.posted_documents), (1, 0));
    assert_eq!((t.units, t.posted_units), (Decimal::from(4), Decimal::ZERO));
    assert!(!check.valued);
    assert_eq!(t.lines_without_value, 1);

    // Configured to, the warning and the other error block as well.
    let strict = CloseRules {
        warnings_block: true,
        other_errors_block: true,
        ..rules
    };
    let check = report(&s, &november(), &strict).await;
    assert_eq!(check.blockers().count(), 3);

    // Posted: November can close, though the warning and the error stay open and listed.
    s.system.release();
    drain(&s.outbox).await;
    let check = report(&s, &november(), &rules).await;
    assert!(!check.blocking, "{check:#?}");
    assert_eq!(check.non_blocking().count(), 2);
    assert_eq!(check.totals[0].posted_units, Decimal::from(4));

    // October knows nothing of November; December lists November's open items as an earlier
    // period's, blocking only when configured.
    let october: ClosePeriod = "2026-10".parse().unwrap();
    let check = report(&s, &october, &rules).await;
    assert!(
        check.items.is_empty() && check.totals.is_empty(),
        "{check:#?}"
    );
    let december: ClosePeriod = "2026-12".parse().unwrap();
    let check = report(&s, &december, &rules).await;
    assert!(!check.blocking);
    assert!(
        check
            .items
            .iter()
            .all(|i| i.category == CloseCategory::EarlierPeriod)
    );
    let check = report(
        &s,
        &december,
        &CloseRules {
            earlier_periods_block: true,
            other_errors_block: true,
            ..rules
        },
    )
    .await;
    assert_eq!(check.blockers().count(), 1, "{check:#?}");
}

#[tokio::test]
async fn a_failed_posting_blocks_the_period_of_its_despatch() {
    let s = setup().await;
    s.engine
        .ingest(&item("77", "MUG"), planned_at())
        .await
        .unwrap();
    s.engine
        .ingest(&order("501", "MUG", "77"), planned_at())
        .await
        .unwrap();
    drain(&s.outbox).await;
    s.system
        .rejected_kinds
        .lock()
        .unwrap()
        .push("fulfil_sales_order");
    s.engine
        .ingest(&despatch(9, "501", "MUG", 5), planned_at())
        .await
        .unwrap();
    drain(&s.outbox).await;

    // The action-failed exception is raised now, but concerns a November despatch.
    let check = report(&s, &november(), &CloseRules::default()).await;
    assert_eq!(
        categories(&check),
        [
            (CloseCategory::FailedPosting, true),
            (CloseCategory::FailedPosting, true),
        ],
        "{check:#?}"
    );
    assert_eq!(check.items[0].posting, Some(PostingState::Failed));
    assert_eq!(check.items[1].kind.as_deref(), Some("action-failed"));
    let december: ClosePeriod = "2026-12".parse().unwrap();
    let check = report(&s, &december, &CloseRules::default()).await;
    assert!(!check.blocking, "{check:#?}");
}

#[tokio::test]
async fn drift_blocks_confirmed_or_not_until_back_in_step() {
    let s = setup().await;
    let rules = CloseRules::default();
    s.store
        .raise_exception(
            NewException {
                key: "DRIFT-MUG-1-A".into(),
                kind: "stock-drift".into(),
                owner: "operations".into(),
                severity: "error".into(),
                document: "MUG at location 1 (Available)".into(),
                message: "Clarus 10, NetSuite 8, in flight 0".into(),
                runbook: "operations.md#stock-drift".into(),
                payload: serde_json::json!({}),
            },
            // Raised in October: drift is the state of stock now, whenever it was raised.
            "2026-10-02T00:00:00Z".parse().unwrap(),
        )
        .await
        .unwrap();
    let check = report(&s, &november(), &rules).await;
    assert_eq!(
        categories(&check),
        [(CloseCategory::UnexplainedDrift, true)]
    );

    s.store
        .resolve_exception("DRIFT-MUG-1-A", "counted", planned_at())
        .await
        .unwrap();
    let settings = ReconcileSettings {
        confirm_runs: 2,
        ..ReconcileSettings::default()
    };
    let mug = |quantity: i64| {
        vec![StockRow {
            key: StockKey {
                sku: "MUG".into(),
                location: "1".into(),
                status: StockStatus::Available,
            },
            quantity: Decimal::from(quantity),
        }]
    };
    reconcile(
        s.store.as_ref(),
        mug(10),
        mug(8),
        None,
        &settings,
        planned_at(),
    )
    .await
    .unwrap();
    let check = report(&s, &november(), &rules).await;
    assert_eq!(
        categories(&check),
        [(CloseCategory::UnconfirmedDrift, true)]
    );
    assert_eq!(check.last_reconciliation.as_ref().map(|r| r.drift), Some(1));
    let lenient = CloseRules {
        unconfirmed_drift_blocks: false,
        ..rules
    };
    assert!(!report(&s, &november(), &lenient).await.blocking);

    reconcile(
        s.store.as_ref(),
        mug(10),
        mug(10),
        None,
        &settings,
        planned_at(),
    )
    .await
    .unwrap();
    assert!(!report(&s, &november(), &rules).await.blocking);
}

#[tokio::test]
async fn totals_are_valued_in_the_currency_of_each_location() {
    let s = setup().await;
    seed(&s).await;
    let mut costs = UnitCosts::unknown();
    costs.set_item("MUG".into(), Decimal::new(250, 2));
    let eur: Currency = "EUR".parse().unwrap();
    let mut currencies = LocationCurrencies::new("USD".parse().unwrap());
    currencies.insert("1".into(), eur);
    let valuation = Valuation { costs, currencies };
    let check = close_report(
        s.store.as_ref(),
        &november(),
        &CloseRules::default(),
        Some(&valuation),
        planned_at(),
    )
    .await
    .unwrap();
    assert!(check.valued);
    let t = &check.totals[0];
    assert_eq!(t.value.get(eur), Some(Decimal::from(10)));
    assert_eq!(t.value.currencies().count(), 1);
    assert_eq!(t.posted_value.get(eur), None);
    assert_eq!(t.lines_without_value, 0);
    let unposted = check.blockers().next().unwrap();
    assert_eq!(
        unposted.value.map(|v| (v.value, v.currency)),
        Some((Decimal::from(10), eur))
    );

    let csv = check.to_csv();
    let mut lines = csv.split("\r\n");
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("record,category,blocking,document"),
        "{header}"
    );
    let columns = header.split(',').count();
    assert!(csv.contains("\r\ntotal,"), "{csv}");
    assert!(
        csv.contains(",EUR,10.00,,,value at NetSuite average cost in EUR\r\n"),
        "{csv}"
    );
    // Every row that holds no quoted field has the header's columns.
    for line in lines.filter(|l| !l.is_empty() && !l.contains('"')) {
        assert_eq!(line.split(',').count(), columns, "{line}");
    }
}

#[tokio::test]
async fn hostile_text_is_defused_in_the_csv() {
    let s = setup().await;
    s.store
        .raise_exception(
            NewException {
                key: "EXC-hostile".into(),
                kind: "invalid-record".into(),
                owner: "finance".into(),
                severity: "error".into(),
                document: "=HYPERLINK(\"http://evil\",\"x\")".into(),
                message: "line one,\nline \"two\"".into(),
                runbook: "operations.md#invalid-record".into(),
                payload: serde_json::json!({}),
            },
            planned_at(),
        )
        .await
        .unwrap();
    let check = report(&s, &november(), &CloseRules::default()).await;
    assert_eq!(
        categories(&check),
        [(CloseCategory::FinanceException, true)]
    );
    let csv = check.to_csv();
    assert!(
        csv.contains(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","),
        "{csv}"
    );
    assert!(csv.contains("\"line one,\nline \"\"two\"\"\"\r\n"), "{csv}");
    assert!(!csv.contains(",=HYPERLINK"), "{csv}");
}
