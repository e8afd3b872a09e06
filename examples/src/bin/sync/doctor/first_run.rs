//! What the first run would create: the open NetSuite orders the poller would pick up at mapped
//! locations (modified since `[poll] start_from` when it is set), and which of them Clarus
//! already holds a goods out or goods-in receipt for (same `reference`, the order's `tranId`, not
//! cancelled): adopted instead of created while `[poll] adopt_existing_hours` is not 0
//! (`docs/decisions/go-live.md`). Reads only; the store is read only when it exists.

use std::collections::{BTreeMap, BTreeSet};

use clarus_client::ClarusClient;
use clarus_client::graphql::Filter;
use netsuite_client::suiteql::Query;
use serde::Deserialize;
use serde_json::json;
use sync_core::OrderStatus;
use sync_engine::netsuite::{PollKind, watermark_name};

use super::clarus::{self, read};
use super::netsuite::{self, Row, error_line, rows, text};
use super::{Check, Context, some_of};

pub const FIRST_RUN: &str = "First run";

/// Look-ups by reference, per request (the documented `in` operator).
const REFERENCE_CHUNK: usize = 50;
/// Orders per SuiteQL `IN` list.
const ID_CHUNK: usize = 500;

/// The order kinds the poller reads: SuiteQL `transaction.type` and what Clarus gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    SalesOrder,
    PurchaseOrder,
    ReturnAuthorisation,
}

impl Kind {
    const ALL: [Kind; 3] = [
        Kind::SalesOrder,
        Kind::PurchaseOrder,
        Kind::ReturnAuthorisation,
    ];

    fn code(self) -> &'static str {
        match self {
            Kind::SalesOrder => "SalesOrd",
            Kind::PurchaseOrder => "PurchOrd",
            Kind::ReturnAuthorisation => "RtnAuth",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::SalesOrder => "salesOrder",
            Kind::PurchaseOrder => "purchaseOrder",
            Kind::ReturnAuthorisation => "returnAuthorization",
        }
    }

    fn goods_out(self) -> bool {
        self == Kind::SalesOrder
    }
}

/// An open order as the poller would see it.
#[derive(Debug, Clone)]
struct OpenOrder {
    kind: Kind,
    id: i64,
    tran_id: String,
    location: Option<String>,
}

/// Status letters of open orders (pending, partly done), in both forms SuiteQL may use.
fn open_statuses(kind: Kind) -> Vec<String> {
    ["A", "B", "C", "D", "E", "F", "G", "H"]
        .into_iter()
        .filter(|l| OrderStatus::from_netsuite_code(l) == Some(OrderStatus::Open))
        .flat_map(|l| [l.to_owned(), format!("{}:{l}", kind.code())])
        .collect()
}

/// The open orders of every kind.
/// The open orders of every kind, last modified at or after `since` (account time) when given.
async fn open_orders(
    client: &netsuite_client::NetSuiteClient,
    since: Option<jiff::civil::DateTime>,
) -> Result<Vec<OpenOrder>, String> {
    let mut orders = Vec::new();
    for kind in Kind::ALL {
        let mut sql =
            "SELECT id, tranid, status FROM transaction WHERE type = ? AND status IN ?".to_owned();
        if since.is_some() {
            sql.push_str(" AND lastmodifieddate >= ?");
        }
        sql.push_str(" ORDER BY id");
        let mut query = Query::new(sql).bind(kind.code()).bind(open_statuses(kind));
        if let Some(since) = since {
            query = query.bind(since);
        }
        let found = rows(client, query)
            .await
            .map_err(|e| format!("{} (SuiteQL transaction): {}", kind.name(), error_line(&e)))?;
        for row in found {
            let letter = text(&row, "status").unwrap_or_default();
            let letter = letter.rsplit(':').next().unwrap_or_default();
            if OrderStatus::from_netsuite_code(letter) != Some(OrderStatus::Open) {
                continue;
            }
            let Some(id) = text(&row, "id").and_then(|id| id.parse::<i64>().ok()) else {
                continue;
            };
            orders.push(OpenOrder {
                kind,
                id,
                tran_id: text(&row, "tranid").unwrap_or_else(|| id.to_string()),
                location: None,
            });
        }
    }
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let mut locations: BTreeMap<i64, String> = BTreeMap::new();
    for chunk in ids.chunks(ID_CHUNK) {
        let query = Query::new(
            "SELECT transaction, location FROM transactionline WHERE mainline = 'T' AND transaction IN ?",
        )
        .bind(chunk.to_vec());
        let found: Vec<Row> = rows(client, query).await.map_err(|e| {
            format!(
                "order locations (SuiteQL transactionline): {}",
                error_line(&e)
            )
        })?;
        for row in found {
            if let (Some(order), Some(location)) = (
                text(&row, "transaction").and_then(|t| t.parse::<i64>().ok()),
                text(&row, "location"),
            ) {
                locations.insert(order, location);
            }
        }
    }
    for order in &mut orders {
        order.location = locations.get(&order.id).cloned();
    }
    Ok(orders)
}

/// A goods out or receipt found by reference.
#[derive(Debug, Deserialize)]
struct Referenced {
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    goods_out_status: Option<Status>,
}

#[derive(Debug, Deserialize)]
struct Status {
    #[serde(default)]
    code: Option<String>,
}

/// `goods_outs` by reference (cancelled ones do not count, as for the engine's own look-up).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct GoodsOutRef(Referenced);

impl clarus_client::graphql::Node for GoodsOutRef {
    const ROOT: &'static str = "goods_outs";
    const FILTER_TYPE: &'static str = "GoodsOutsFilterType";
    const FIELDS: &'static str = "id reference goods_out_status { code }";
}

/// `goods_in_receipts` by reference (cancelled ones do not count either).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct ReceiptRef(Referenced);

impl clarus_client::graphql::Node for ReceiptRef {
    const ROOT: &'static str = "goods_in_receipts";
    const FILTER_TYPE: &'static str = "InboundGoodFilterType";
    const FIELDS: &'static str = "id reference status";
}

/// The references among `wanted` that Clarus already holds a live record for.
async fn existing(
    client: &ClarusClient,
    goods_outs: bool,
    wanted: &[String],
) -> Result<BTreeSet<String>, String> {
    let mut found = BTreeSet::new();
    for chunk in wanted.chunks(REFERENCE_CHUNK) {
        let filter = Filter::new().any_of("reference", chunk.to_vec());
        let records: Vec<Referenced> = if goods_outs {
            read::<GoodsOutRef>(client, filter)
                .await?
                .into_iter()
                .map(|r| r.0)
                .filter(|r| {
                    r.goods_out_status
                        .as_ref()
                        .and_then(|s| s.code.as_deref())
                        .is_none_or(|c| !c.eq_ignore_ascii_case("CANCELLED"))
                })
                .collect()
        } else {
            read::<ReceiptRef>(client, filter)
                .await?
                .into_iter()
                .map(|r| r.0)
                .filter(|r| {
                    r.status
                        .as_deref()
                        .is_none_or(|s| !s.eq_ignore_ascii_case("cancelled"))
                })
                .collect()
        };
        found.extend(records.into_iter().filter_map(|r| r.reference));
    }
    Ok(wanted
        .iter()
        .filter(|w| found.contains(*w))
        .cloned()
        .collect())
}

/// The store entry the poller writes on a store's first poll (`docs/decisions/go-live.md`).
const GO_LIVE_RECORD: &str = "go_live";

/// Whether the store has polled NetSuite before (its go-live record or a poll watermark
/// exists): then the first run is over. `None` when there is no store yet (no SQLite file is
/// created to find out; a PostgreSQL database is connected to, which applies pending migrations
/// as `sync run` would) or it cannot be opened.
async fn polled_before(ctx: &Context<'_>) -> Option<bool> {
    // A SQLite file is not created to find out; a PostgreSQL database exists already.
    if let Some(path) = ctx.config.store.sqlite_path()
        && !path.exists()
    {
        return None;
    }
    let store = crate::open_configured_store(ctx.config).await.ok()?;
    let names = PollKind::ALL
        .into_iter()
        .map(watermark_name)
        .chain([GO_LIVE_RECORD.to_owned()]);
    for name in names {
        if store.watermark(&name).await.ok()?.is_some() {
            return Some(true);
        }
    }
    Some(false)
}

pub async fn first_run(ctx: &Context<'_>) -> Vec<Check> {
    let client = match netsuite::client(ctx, FIRST_RUN) {
        Ok(c) => c,
        Err(check) => return vec![check],
    };
    let poll = &ctx.config.poll;
    let time_zone = jiff::tz::TimeZone::get(&poll.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let since = poll
        .start_from
        .map(|t| t.to_zoned_datetime(time_zone.clone()).datetime());
    let orders = match open_orders(client, since).await {
        Ok(orders) => orders,
        Err(e) => {
            return vec![Check::fail(
                FIRST_RUN,
                format!("could not list the open orders: {e}"),
                "the poller reads the same tables: fix SuiteQL access first (see NetSuite SuiteQL)",
            )];
        }
    };
    let mapped: BTreeSet<&str> = ctx
        .config
        .mappings
        .locations
        .iter()
        .map(|m| m.location.as_str())
        .collect();
    let (picked, unmapped): (Vec<&OpenOrder>, Vec<&OpenOrder>) = orders
        .iter()
        .partition(|o| o.location.as_deref().is_some_and(|l| mapped.contains(l)));
    let refs = |goods_out: bool| -> Vec<String> {
        picked
            .iter()
            .filter(|o| o.kind.goods_out() == goods_out)
            .map(|o| o.tran_id.clone())
            .collect()
    };
    let (goods_outs, receipts) = (refs(true), refs(false));
    let in_clarus = match clarus::client(ctx, FIRST_RUN) {
        Ok(clarus) => match (
            existing(clarus, true, &goods_outs).await,
            existing(clarus, false, &receipts).await,
        ) {
            (Ok(a), Ok(b)) => Ok((a, b)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        Err(check) => Err(check.detail),
    };
    let listed: Vec<_> = picked
        .iter()
        .map(|o| {
            json!({
                "type": o.kind.name(),
                "id": o.id,
                "tranid": o.tran_id,
                "location": o.location,
            })
        })
        .collect();
    let adopting = poll.adopt_existing_hours > 0;
    // What else the reader should know, appended to the counts.
    let mut notes = Vec::new();
    if let Some(start_from) = poll.start_from {
        notes.push(format!(
            "orders modified since [poll] start_from {start_from}"
        ));
    }
    if !unmapped.is_empty() {
        let locations: BTreeSet<&str> = unmapped
            .iter()
            .map(|o| o.location.as_deref().unwrap_or("none"))
            .collect();
        notes.push(format!(
            "{} open orders at locations without a mapping ({}) would wait",
            unmapped.len(),
            some_of(&locations.into_iter().collect::<Vec<_>>(), 5)
        ));
    }
    let polled = polled_before(ctx).await;
    if polled == Some(true) {
        notes.push(
            "the store has polled NetSuite before: this is no longer a first run, and what Clarus has may be the engine's own"
                .to_owned(),
        );
    }
    let notes: String = notes.iter().map(|n| format!("; {n}")).collect();
    let mut data = json!({
        "goods_outs": goods_outs.len(),
        "receipts": receipts.len(),
        "adoption": adopting,
        "unmapped_location_orders": unmapped.len(),
        "store_polled_before": polled,
        "orders": listed,
    });
    let check = match in_clarus {
        Ok((existing_goods_outs, existing_receipts)) => {
            let existing: Vec<String> = existing_goods_outs
                .iter()
                .chain(&existing_receipts)
                .cloned()
                .collect();
            data["already_in_clarus"] = json!(existing);
            let shown = if existing.is_empty() {
                String::new()
            } else {
                format!(": {}", some_of(&existing, 5))
            };
            if existing.is_empty() {
                Check::pass(
                    FIRST_RUN,
                    format!(
                        "would create {} goods outs, {} receipts; 0 already exist in Clarus{notes}",
                        goods_outs.len(),
                        receipts.len()
                    ),
                )
            } else if adopting {
                Check::pass(
                    FIRST_RUN,
                    format!(
                        "would create {} goods outs, {} receipts; {} already exist in Clarus (would be adopted, not created again{shown}){notes}",
                        goods_outs.len() - existing_goods_outs.len(),
                        receipts.len() - existing_receipts.len(),
                        existing.len()
                    ),
                )
            } else {
                Check::warn(
                    FIRST_RUN,
                    format!(
                        "would create {} goods outs, {} receipts; {} of them already exist in Clarus and would be created a second time (adoption is off{shown}){notes}",
                        goods_outs.len(),
                        receipts.len(),
                        existing.len()
                    ),
                    "set [poll] adopt_existing_hours (72 by default) so they are adopted, set [poll] start_from after they were entered, or cancel them in Clarus",
                )
            }
        }
        Err(e) => Check::warn(
            FIRST_RUN,
            format!(
                "would create {} goods outs, {} receipts; could not look them up in Clarus: {e}{notes}",
                goods_outs.len(),
                receipts.len()
            ),
            "check in Clarus by hand which of these references exist already",
        ),
    };
    vec![check.with_data(data)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_means_pending_or_partly_done_in_either_form() {
        assert_eq!(
            open_statuses(Kind::SalesOrder),
            ["B", "SalesOrd:B", "D", "SalesOrd:D", "E", "SalesOrd:E"]
        );
    }

    #[test]
    fn look_ups_are_documented() {
        use clarus_client::graphql::Node;
        use clarus_client::graphql::documented::DocumentedSchema;
        for (root, fields, filter_type) in [
            (
                GoodsOutRef::ROOT,
                GoodsOutRef::FIELDS,
                GoodsOutRef::FILTER_TYPE,
            ),
            (
                ReceiptRef::ROOT,
                ReceiptRef::FIELDS,
                ReceiptRef::FILTER_TYPE,
            ),
        ] {
            let documented = DocumentedSchema::get().root(root).unwrap();
            assert_eq!(documented.filter_type, filter_type);
            documented.check_selection(fields).unwrap();
            documented
                .check_filters(&Filter::new().any_of("reference", ["SO1", "SO2"]))
                .unwrap();
        }
    }
}
