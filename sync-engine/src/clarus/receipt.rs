//! Receipts: a goods-in `moved_to_part` or `completed` webhook as a core [`Receipt`] of what
//! was received since the last receipt reported.
//!
//! Clarus sends the whole goods-in record, with every stock entry received so far on each line
//! (`received_stock`: quantity, batch, serial, `available` or `held`). Entries are only ever
//! added, so the total number of entries is a stage that grows with each receipt. The receipt
//! of stage `k` is the entries added since the previous stage reported; stages are kept in the
//! store (one entry per goods in, see [`receipt_watermark_name`]) so that decoding the same
//! delivery again gives the same receipt, a late delivery of an earlier stage gives nothing
//! (a later stage already covered it), and a lost webhook is covered by the next one.
//!
//! Stock received `held` is quarantine; `available` is sellable. The record is re-read over
//! GraphQL first: it must exist, not be cancelled, and hold at least what the body claims on
//! every line.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use clarus_client::graphql::Filter;
use clarus_client::{ClarusClient, ClarusId};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sync_core::{
    Event, GoodsInId, LineNo, Name, NetSuiteId, OrderKind, OrderRef, Payload, Receipt, ReceiptId,
    ReceiptLine, Revision, Sku, SourceId, StockCondition, System, Tenant, WarehouseId,
};

use super::despatch::{decimal, id_u64, json_id, line_reference, lots_and_serials, non_empty};
use super::errors::decode_error;
use super::executor::list;
use super::nodes::{GoodsInDetailRead, GoodsInRead};
use crate::processor::DecodeError;
use crate::store::Store;

/// The event name of receipt identities (the same for `moved_to_part` and `completed`: both
/// report stock received).
pub const RECEIPT_EVENT: &str = "received";

/// The store entry holding the stages reported for a goods in.
pub fn receipt_watermark_name(goods_in: ClarusId) -> String {
    format!("clarus.goods_in.{goods_in}.stages")
}

/// Serialises updates of receipt stages within the process (the store is one SQLite file
/// owned by one process).
static STAGE_UPDATES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Stages reported: stage → what was recorded when it was first decoded.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Stages {
    stages: BTreeMap<u64, Stage>,
}

/// One reported stage: entries per Clarus line, and when that receipt happened (kept so that
/// decoding the delivery again, after the record moved on, gives the same event).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stage {
    counts: BTreeMap<String, usize>,
    received_at: Timestamp,
    /// Total quantity received up to this stage.
    #[serde(default)]
    quantity: Decimal,
}

/// One received stock entry of the body.
#[derive(Debug, Clone)]
struct Entry {
    raw: Value,
    quantity: Decimal,
    held: bool,
}

/// One line of the body.
struct BodyLine {
    id: ClarusId,
    sku: Option<String>,
    order_line: Option<LineNo>,
    entries: Vec<Entry>,
}

/// Decodes goods-in webhooks into receipts.
pub(crate) struct ReceiptDecoder {
    pub client: ClarusClient,
    pub tenant: Tenant,
    pub store: Arc<dyn Store>,
}

impl ReceiptDecoder {
    pub async fn decode(&self, record: &Value) -> Result<Vec<Event>, DecodeError> {
        let id = record
            .get("id")
            .and_then(json_id)
            .ok_or_else(|| DecodeError::Invalid("goods-in webhook without a record id".into()))?;
        let context = format!("re-reading goods in {id}");
        let read: Vec<GoodsInRead> = list(&self.client, Filter::new().eq("id", id))
            .await
            .map_err(|e| decode_error(&context, &e))?;
        let read = read.into_iter().find(|g| g.id == id).ok_or_else(|| {
            DecodeError::Invalid(format!("goods in {id} does not exist in Clarus"))
        })?;
        let status = read.status.clone().unwrap_or_default().to_ascii_lowercase();
        if matches!(status.as_str(), "cancelled" | "pending" | "draft") {
            return Err(DecodeError::Invalid(format!(
                "goods in {id} is reported received but Clarus has it {status}"
            )));
        }

        let order_id = read
            .external_system_reference1
            .clone()
            .or_else(|| field(record, "external_system_reference1"))
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| {
                DecodeError::Invalid(format!(
                    "goods in {id} names no NetSuite order in external_system_reference1"
                ))
            })?;
        let kind = match field(record, "external_system_reference3").as_deref() {
            Some("PO") => OrderKind::Purchase,
            Some("RA") => OrderKind::Return,
            other => {
                return Err(DecodeError::Invalid(format!(
                    "goods in {id} has order kind {other:?} in external_system_reference3; expected PO or RA"
                )));
            }
        };
        let warehouse = read
            .warehouse
            .as_ref()
            .map(|w| w.id)
            .or_else(|| record.get("warehouse_id").and_then(json_id))
            .ok_or_else(|| DecodeError::Invalid(format!("goods in {id} has no warehouse")))?;
        // The body's date is the one of this receipt; the re-read has the latest one.
        let received_at = field(record, "actual_date_of_arrival")
            .and_then(|t| t.parse::<Timestamp>().ok())
            .or_else(|| {
                read.actual_date_of_receipt
                    .as_ref()
                    .and_then(|d| d.timestamp())
            })
            .or_else(|| read.updated_at.as_ref().and_then(|d| d.timestamp()))
            .ok_or_else(|| DecodeError::Invalid(format!("goods in {id} has no receipt date")))?;

        let lines = body_lines(record);
        // The body may not claim more than Clarus holds.
        let held: HashMap<ClarusId, Decimal> = read
            .lines
            .iter()
            .flatten()
            .map(|l| (l.id, l.received_quantity.unwrap_or_default()))
            .collect();
        for line in &lines {
            let claimed: Decimal = line.entries.iter().map(|e| e.quantity).sum();
            if let Some(actual) = held.get(&line.id)
                && claimed > *actual
            {
                return Err(DecodeError::Invalid(format!(
                    "goods in {id} line {}: the webhook claims {claimed} received, Clarus holds {actual}",
                    line.id
                )));
            }
        }

        let counts: BTreeMap<String, usize> = lines
            .iter()
            .map(|l| (l.id.to_string(), l.entries.len()))
            .collect();
        let stage: u64 = counts.values().map(|c| *c as u64).sum();
        if stage == 0 {
            return Ok(Vec::new());
        }
        let current = Stage {
            counts,
            received_at,
            quantity: lines
                .iter()
                .flat_map(|l| &l.entries)
                .map(|e| e.quantity)
                .sum(),
        };
        let Some((previous, received_at)) = self.stage_base(id, stage, current).await? else {
            return Ok(Vec::new());
        };

        // Entries added since the previous stage, per (order line, condition).
        let mut grouped: BTreeMap<(LineNo, bool), (String, Vec<Value>, Decimal)> = BTreeMap::new();
        for line in &lines {
            let from = previous.get(&line.id.to_string()).copied().unwrap_or(0);
            let new = line.entries.get(from..).unwrap_or_default();
            if new.is_empty() {
                continue;
            }
            let order_line = line.order_line.ok_or_else(|| {
                DecodeError::Invalid(format!(
                    "goods in {id} line {} names no NetSuite order line",
                    line.id
                ))
            })?;
            let sku = line.sku.clone().ok_or_else(|| {
                DecodeError::Invalid(format!("goods in {id} line {} has no product", line.id))
            })?;
            for entry in new {
                let slot = grouped
                    .entry((order_line, entry.held))
                    .or_insert_with(|| (sku.clone(), Vec::new(), Decimal::ZERO));
                slot.1.push(entry.raw.clone());
                slot.2 += entry.quantity;
            }
        }
        let receipt_lines: Vec<ReceiptLine> = grouped
            .into_iter()
            .map(|((order_line, held), (sku, entries, quantity))| {
                let (lots, serials, _) = lots_and_serials(&entries);
                ReceiptLine {
                    order_line,
                    sku: Sku::new(sku),
                    quantity,
                    condition: if held {
                        StockCondition::Quarantine
                    } else {
                        StockCondition::Sellable
                    },
                    lots,
                    serials,
                }
            })
            .collect();
        if receipt_lines.is_empty() {
            return Ok(Vec::new());
        }
        let receipt = Receipt {
            tenant: self.tenant.clone(),
            goods_in: GoodsInId(id_u64(id)?),
            receipt: ReceiptId::new(stage.to_string()),
            order: OrderRef {
                kind,
                id: NetSuiteId::new(order_id.trim()),
            },
            warehouse: WarehouseId(id_u64(warehouse)?),
            received_at,
            lines: receipt_lines,
        };
        Ok(vec![Event {
            source: SourceId {
                system: System::Clarus,
                resource: Name::new("goods_in"),
                id: Name::new(id.to_string()),
                event: Name::new(RECEIPT_EVENT),
                revision: Revision::Sequence(stage),
            },
            occurred_at: received_at,
            payload: Payload::Receipt(receipt),
        }])
    }

    /// The entry counts of the stage before `stage` and the receipt time of `stage`, recording
    /// `stage` when it is new; `None` when a later stage was reported already (it covered this
    /// one).
    async fn stage_base(
        &self,
        id: ClarusId,
        stage: u64,
        current: Stage,
    ) -> Result<Option<(BTreeMap<String, usize>, Timestamp)>, DecodeError> {
        // Read-modify-write of the stages: the webhook processor and the sweep may decode the
        // same goods in at once, and a stage lost between them would count entries twice.
        let _serialised = STAGE_UPDATES.lock().await;
        let name = receipt_watermark_name(id);
        let store_error =
            |e| DecodeError::Retryable(format!("receipt stages of goods in {id}: {e}"));
        let mut stages: Stages = match self.store.watermark(&name).await.map_err(store_error)? {
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                DecodeError::Invalid(format!("stored receipt stages of goods in {id}: {e}"))
            })?,
            None => Stages::default(),
        };
        let previous = |stages: &Stages| {
            stages
                .stages
                .range(..stage)
                .next_back()
                .map(|(_, s)| s.counts.clone())
                .unwrap_or_default()
        };
        if let Some(recorded) = stages.stages.get(&stage) {
            return Ok(Some((previous(&stages), recorded.received_at)));
        }
        if stages
            .stages
            .keys()
            .next_back()
            .is_some_and(|last| *last > stage)
        {
            return Ok(None);
        }
        let base = previous(&stages);
        let received_at = current.received_at;
        stages.stages.insert(stage, current);
        let text = serde_json::to_string(&stages).unwrap_or_default();
        self.store
            .set_watermark(&name, &text)
            .await
            .map_err(store_error)?;
        Ok(Some((base, received_at)))
    }
}

impl ReceiptDecoder {
    /// The total quantity reported by receipts of goods in `id` so far.
    pub async fn reported_quantity(&self, id: ClarusId) -> Result<Decimal, DecodeError> {
        let stored = self
            .store
            .watermark(&receipt_watermark_name(id))
            .await
            .map_err(|e| DecodeError::Retryable(format!("receipt stages of goods in {id}: {e}")))?;
        let stages: Stages = stored
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        Ok(stages
            .stages
            .values()
            .next_back()
            .map(|s| s.quantity)
            .unwrap_or_default())
    }
}

/// The webhook record a goods in would be sent with, rebuilt from a GraphQL read; `None` when
/// the read lacks the received stock detail (status, batch, serial) of a line that has stock.
pub(crate) fn record_from_detail(detail: &GoodsInDetailRead) -> Option<Value> {
    let mut lines = Vec::new();
    for line in detail.lines.iter().flatten() {
        let received = line.received_quantity.unwrap_or_default();
        let stock = line.received_stock.clone().unwrap_or_default();
        let total: Decimal = stock.iter().filter_map(|s| s.quantity).sum();
        if total != received || stock.iter().any(|s| s.status.is_none()) {
            return None;
        }
        lines.push(json!({
            "id": line.id,
            "product_code": line.product.as_ref().and_then(|p| p.code.clone()),
            "external_system_reference1": line.external_system_reference1,
            "alt_line_number": line.alt_line_number,
            "received_stock": stock.iter().map(|s| json!({
                "quantity": s.quantity,
                "batch": s.batch,
                "serial_number": s.serial_number,
                "status": s.status,
            })).collect::<Vec<_>>(),
        }));
    }
    Some(json!({
        "id": detail.id,
        "external_system_reference1": detail.external_system_reference1,
        "external_system_reference3": detail.external_system_reference3,
        "warehouse_id": detail.warehouse.as_ref().map(|w| w.id),
        "actual_date_of_arrival": detail
            .actual_date_of_receipt
            .as_ref()
            .and_then(|d| d.timestamp())
            .map(|t| t.to_string()),
        "lines": lines,
    }))
}

fn field(record: &Value, name: &str) -> Option<String> {
    non_empty(record.get(name).and_then(Value::as_str)).map(str::to_owned)
}

fn body_lines(record: &Value) -> Vec<BodyLine> {
    record
        .get("lines")
        .or_else(|| record.get("goods_in_receipt_lines"))
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .filter_map(|l| {
                    let id = json_id(l.get("id")?)?;
                    let sku = non_empty(
                        l.get("product_code")
                            .and_then(Value::as_str)
                            .or_else(|| l.pointer("/product/code").and_then(Value::as_str)),
                    )
                    .map(str::to_owned);
                    let order_line = ["external_system_reference1", "alt_line_number"]
                        .iter()
                        .find_map(|k| line_reference(l.get(*k).and_then(Value::as_str)));
                    let entries = l
                        .get("received_stock")
                        .and_then(Value::as_array)
                        .map(|entries| {
                            entries
                                .iter()
                                .map(|e| Entry {
                                    raw: e.clone(),
                                    quantity: decimal(e.get("quantity")).unwrap_or_default(),
                                    held: e.get("status").and_then(Value::as_str) == Some("held"),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    Some(BodyLine {
                        id,
                        sku,
                        order_line,
                        entries,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(stock: Value) -> GoodsInDetailRead {
        serde_json::from_value(json!({
            "id": "12", "status": "completed", "external_system_reference1": "700",
            "external_system_reference3": "PO", "actual_date_of_receipt": "2026-11-27T10:00:00Z",
            "warehouse": {"id": "1"},
            "lines": [{"id": "5", "received_quantity": 3, "external_system_reference1": "4",
                "product": {"id": "9", "code": "MUG"}, "received_stock": stock}]
        }))
        .unwrap()
    }

    #[test]
    fn a_read_with_received_stock_rebuilds_the_webhook_record() {
        let read = detail(json!([
            {"quantity": 1, "batch": "L1", "status": "held"},
            {"quantity": 2, "batch": "L1", "status": "available"}
        ]));
        let record = record_from_detail(&read).expect("complete");
        assert_eq!(record["external_system_reference3"], "PO");
        assert_eq!(record["warehouse_id"], 1);
        let lines = body_lines(&record);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].order_line, Some(LineNo(4)));
        assert_eq!(lines[0].sku.as_deref(), Some("MUG"));
        let held: Vec<(bool, Decimal)> = lines[0]
            .entries
            .iter()
            .map(|e| (e.held, e.quantity))
            .collect();
        assert_eq!(held, [(true, Decimal::ONE), (false, Decimal::from(2))]);
    }

    #[test]
    fn a_read_without_the_detail_is_not_rebuilt() {
        assert!(record_from_detail(&detail(Value::Null)).is_none());
        // Entries that do not add up to the received quantity are not trusted either.
        assert!(record_from_detail(&detail(json!([{"quantity": 1, "status": "held"}]))).is_none());
    }
}
