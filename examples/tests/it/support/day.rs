//! The reconciliation of a warehouse day the chaos tests end with: what Clarus despatched is
//! fulfilled in NetSuite, every stock movement the warehouse made is posted once whatever became
//! of its webhook, and the day is accounted for (actions applied, exceptions explained, stock in
//! step).

use clarus_client::webhook::{StockEvent, StockRecord};
use examples::harness::{SetupError, Systems};
use examples::report::DemoReport;
use rust_decimal::Decimal;
use serde_json::Value;
use sim::clarus::{GoodsOutStatus, WebhookRecord};
use sim::netsuite::{InternalId, NetSuiteHandle, OrderKind};
use sync_engine::clarus::{hold_made_by_receipt, movement_from_webhook};
use sync_engine::engine::event_key;
use sync_engine::store::Store;

/// Exception kinds the injected day explains: short picks are despatched short (one exception
/// each), and an adjustment whose webhook was lost is posted from its transaction without its
/// reason (a warning for finance). Cancelled orders, other lost and duplicated webhooks (a lost
/// receipt is re-sent by operations, as the runbook says), NetSuite faults and crashes must leave
/// no exception behind.
const EXPECTED_EXCEPTIONS: &[&str] = &["short-despatch", "movement-rebuilt"];

/// The whole number in the environment variable `name`, or `default`.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A field of a Clarus record as text (a string, or a number written out).
pub fn text(value: &Value, field: &str) -> Option<String> {
    match value.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The sum of `field` over a Clarus record's `lines`.
pub fn sum(value: &Value, field: &str) -> Decimal {
    value
        .get("lines")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| text(l, field)?.parse::<Decimal>().ok())
        .sum()
}

/// The NetSuite order a Clarus goods out or goods in was made from (its
/// `external_system_reference1`).
pub fn netsuite_order(document: &Value) -> u64 {
    text(document, "external_system_reference1")
        .and_then(|t| t.parse().ok())
        .expect("a NetSuite order")
}

/// The kind of NetSuite order a goods-in receipt was made from: a return authorisation when
/// `external_system_reference3` says `RA`, else a purchase order.
pub fn receipt_order_kind(receipt: &Value) -> OrderKind {
    match text(receipt, "external_system_reference3").as_deref() {
        Some("RA") => OrderKind::ReturnAuthorization,
        _ => OrderKind::PurchaseOrder,
    }
}

/// What NetSuite has processed (fulfilled or received) on the lines of order `id`.
pub fn processed(ns: &NetSuiteHandle, kind: OrderKind, id: u64) -> Decimal {
    ns.order_lines(kind, InternalId(id))
        .iter()
        .map(|l| l.processed)
        .sum()
}

/// Despatched goods outs whose NetSuite sales order has not fulfilled what Clarus despatched.
pub fn despatches_not_fulfilled(systems: &Systems) -> Vec<String> {
    let cl = systems.clarus.handle();
    let ns = systems.netsuite.handle();
    let mut missing = Vec::new();
    for id in cl.goods_out_ids() {
        if cl.goods_out_status(id) != Some(GoodsOutStatus::Completed) {
            continue;
        }
        let order = cl.goods_out(id).expect("listed");
        let netsuite = netsuite_order(&order);
        let despatched = sum(&order, "dispatch_quantity");
        let fulfilled = processed(&ns, OrderKind::SalesOrder, netsuite);
        if despatched != fulfilled {
            missing.push(format!(
                "goods out {} (sales order {netsuite}): despatched {despatched}, fulfilled {fulfilled}",
                id.0
            ));
        }
    }
    missing
}

/// Goods outs Clarus despatched with less than ordered.
fn short_despatches(systems: &Systems) -> u64 {
    let cl = systems.clarus.handle();
    cl.goods_out_ids()
        .into_iter()
        .filter(|id| cl.goods_out_status(*id) == Some(GoodsOutStatus::Completed))
        .filter_map(|id| cl.goods_out(id))
        .filter(|order| sum(order, "dispatch_quantity") < sum(order, "order_quantity"))
        .count() as u64
}

/// Stock movements the warehouse made that are not posted exactly once (from every webhook the
/// simulator fired: delivered, lost or failed alike). Answers how many movements it checked.
pub async fn movements_not_posted(
    systems: &Systems,
    store: &dyn Store,
    log: &[WebhookRecord],
) -> Result<(usize, Vec<String>), SetupError> {
    let ns = systems.netsuite.handle();
    let mut movements = 0;
    let mut missing = Vec::new();
    for fired in log.iter().filter(|w| w.resource == "stock") {
        let Some(event) = StockEvent::parse(&fired.event) else {
            continue;
        };
        let raw = fired.payload.get("data").cloned().unwrap_or(Value::Null);
        let record: StockRecord = serde_json::from_value(raw.clone())?;
        let Some(decoded) =
            movement_from_webhook(&examples::harness::TENANT.into(), event, &record, &raw)?
        else {
            continue;
        };
        movements += 1;
        let sync_core::Payload::StockMovement(movement) = &decoded.payload else {
            unreachable!("a stock webhook decodes to a movement");
        };
        let key = sync_core::planner::movement_key(movement);
        let in_netsuite = ns.count_transactions_with_external_id(key.as_str());
        if event == StockEvent::PlacedOnHold && hold_made_by_receipt(store, movement.id.0).await? {
            if in_netsuite != 0 {
                missing.push(format!(
                    "stock hold {} made by a receipt was posted ({in_netsuite} transactions)",
                    movement.id.0
                ));
            }
            continue;
        }
        let seen = store.event_seen(&event_key(&decoded.source)).await?;
        let done = store
            .action(key.as_str())
            .await?
            .is_some_and(|a| a.status == sync_engine::store::ActionStatus::Done);
        if !seen || !done || in_netsuite != 1 {
            missing.push(format!(
                "stock {} {} (lost: {}, delivered: {}): seen {seen}, posted {done}, NetSuite \
                 transactions {in_netsuite}",
                fired.event,
                movement.id.0,
                fired.lost,
                fired.delivered()
            ));
        }
    }
    Ok((movements, missing))
}

/// Asserts the day is accounted for: every action applied (none failed or pending), every open
/// exception of a kind the day explains ([`EXPECTED_EXCEPTIONS`]), one short-despatch exception
/// per goods out despatched short, and NetSuite's on-hand equal to Clarus's per SKU, location
/// and status.
pub async fn assert_accounted_and_in_step(
    report: &DemoReport,
    systems: &Systems,
    store: &dyn Store,
) {
    for (kind, tally) in &report.actions {
        assert_eq!((tally.failed, tally.pending), (0, 0), "{kind}: {tally:?}");
    }
    let unexplained: Vec<String> = store
        .open_exceptions()
        .await
        .expect("exceptions")
        .into_iter()
        .filter(|e| !EXPECTED_EXCEPTIONS.contains(&e.exception.kind.as_str()))
        .map(|e| {
            let e = e.exception;
            format!("{} [{}] {}: {}", e.kind, e.owner, e.document, e.message)
        })
        .collect();
    assert!(unexplained.is_empty(), "{unexplained:#?}");
    assert_eq!(
        report
            .open_exceptions_by_kind
            .get("short-despatch")
            .copied()
            .unwrap_or_default(),
        short_despatches(systems),
        "one short-despatch exception per goods out despatched short"
    );
    assert!(report.drift.positions > 0);
    assert_eq!(report.drift.drift, 0, "{:#?}", report.drift.drifting);
    assert_eq!(report.drift.in_step, report.drift.positions);
}
