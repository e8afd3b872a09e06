//! Receipts: a goods-in `moved_to_part` or `completed` webhook as a core [`Receipt`] of what
//! was received since the last receipt reported.
//!
//! Clarus sends the whole goods-in record, with every stock entry received so far on each line
//! (`received_stock`: quantity, batch, serial, `available` or `held`). Entries are only ever
//! added, so the total number of entries is a stage that grows with each receipt. The receipt
//! of stage `k` is the entries added since the previous stage reported; stages are kept in the
//! store (adapter state `clarus.goods_in.stages`, one entry per goods in) so that decoding the same
//! delivery again gives the same receipt, a late delivery of an earlier stage gives nothing
//! (a later stage already covered it), and a lost webhook is covered by the next one.
//!
//! Stock received `held` is quarantine; `available` is sellable. The receipt is confirmed over
//! GraphQL first (`goods_in_receipts` filtered by `reference`, the documented fields): it must
//! exist with the body's id and must not be draft, pending or cancelled. The NetSuite order and
//! its kind come from the engine's record of the receipt it created when there is one (the body
//! must agree with it), else from the body. Clarus documents no read of receipt lines, so the
//! lines, quantities, lots and serials are the body's; `docs/decisions/` says what that risks.

use std::collections::BTreeMap;
use std::sync::Arc;

use clarus_client::graphql::{ClarusDateTime, Filter};
use clarus_client::{ClarusClient, ClarusId};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_core::{
    Event, GoodsInId, LineNo, Name, NetSuiteId, OrderKind, OrderRef, Payload, Receipt, ReceiptId,
    ReceiptLine, Revision, Sku, SourceId, StockCondition, System, Tenant, WarehouseId,
};

use super::despatch::{decimal, id_u64, json_id, line_reference, lots_and_serials, non_empty};
use super::errors::decode_error;
use super::executor::{GoodsInOrder, list};
use super::held::{HeldStock, ReceiptEntry};
use super::kept::{self, Kept};
use super::nodes::GoodsInRead;
use crate::clock::SharedClock;
use crate::processor::DecodeError;
use crate::store::Store;

/// The event name of receipt identities (the same for `moved_to_part` and `completed`: both
/// report stock received).
pub const RECEIPT_EVENT: &str = "received";

/// Stages reported: stage → what was recorded when it was first decoded.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Stages {
    stages: BTreeMap<u64, Stage>,
    /// The goods in's `completed` webhook was decoded: everything received was reported.
    #[serde(default)]
    completed: bool,
    /// When the sweep first saw the goods in completed in Clarus.
    #[serde(default)]
    seen_completed_at: Option<Timestamp>,
}

/// Whether a goods in that Clarus shows completed was reported completely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Completion {
    /// Its `completed` webhook was decoded.
    pub reported: bool,
    /// When the sweep first saw it completed.
    pub seen_completed_at: Timestamp,
    /// Total quantity its receipts reported.
    pub reported_quantity: Decimal,
}

/// The key of the exception raised when a completed goods in was never reported.
pub(crate) fn receipt_gap_key(goods_in: ClarusId) -> String {
    format!("EX-CLARUS-RECEIPT-GAP-{goods_in}")
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
    /// The business clock (see [`crate::clock`]).
    pub clock: SharedClock,
}

impl ReceiptDecoder {
    /// Decodes a goods-in webhook body; `completed` for the `completed` event, which reports
    /// that everything was received (recorded once decoded, and closes a receipt gap).
    pub async fn decode(&self, record: &Value, completed: bool) -> Result<Vec<Event>, DecodeError> {
        let id = record
            .get("id")
            .and_then(json_id)
            .ok_or_else(|| DecodeError::Invalid("goods-in webhook without a record id".into()))?;
        let events = self.decode_stage(id, record).await?;
        if completed {
            self.mark_completed(id).await?;
        }
        Ok(events)
    }

    async fn decode_stage(&self, id: ClarusId, record: &Value) -> Result<Vec<Event>, DecodeError> {
        let kept = GoodsInOrder::load(self.store.as_ref(), id)
            .await
            .map_err(|e| {
                DecodeError::Retryable(format!("reading the record of goods in {id}: {e}").into())
            })?;
        let claimed_reference = field(record, "reference");
        let claimed_order = field(record, "external_system_reference1");
        let claimed_kind = field(record, "external_system_reference3");
        if let Some(kept) = &kept {
            let differs = |claimed: &Option<String>, kept: &str| {
                claimed.as_deref().is_some_and(|c| c.trim() != kept)
            };
            if differs(&claimed_reference, &kept.reference)
                || differs(&claimed_order, &kept.order)
                || differs(&claimed_kind, &kept.kind)
            {
                return Err(DecodeError::Invalid(format!(
                    "goods in {id}: the webhook names {} / order {} / {}, but the engine created it \
                     as {} for order {} ({})",
                    claimed_reference.as_deref().unwrap_or("no reference"),
                    claimed_order.as_deref().unwrap_or("none"),
                    claimed_kind.as_deref().unwrap_or("no kind"),
                    kept.reference,
                    kept.order,
                    kept.kind
                ).into()));
            }
        }
        let reference = kept
            .as_ref()
            .map(|k| k.reference.clone())
            .or(claimed_reference)
            .ok_or_else(|| {
                DecodeError::Invalid(
                    format!(
                        "goods in {id}: neither the webhook nor the engine's records give its \
                     reference, so it cannot be confirmed in Clarus"
                    )
                    .into(),
                )
            })?;
        let context = format!("re-reading goods in {id} ({reference})");
        let read: Vec<GoodsInRead> = list(
            &self.client,
            Filter::new().eq("reference", reference.as_str()),
        )
        .await
        .map_err(|e| decode_error(&context, e))?;
        let read = read.into_iter().find(|g| g.id == id).ok_or_else(|| {
            DecodeError::Invalid(
                format!("goods in {id} ({reference}) does not exist in Clarus").into(),
            )
        })?;
        let status = read.status.clone().unwrap_or_default().to_ascii_lowercase();
        if matches!(status.as_str(), "cancelled" | "pending" | "draft") {
            return Err(DecodeError::Invalid(
                format!("goods in {id} is reported received but Clarus has it {status}").into(),
            ));
        }

        let order_id = kept
            .as_ref()
            .map(|k| k.order.clone())
            .or(claimed_order)
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| {
                DecodeError::Invalid(
                    format!("goods in {id} names no NetSuite order in external_system_reference1")
                        .into(),
                )
            })?;
        let kind = match kept
            .as_ref()
            .map(|k| k.kind.clone())
            .or(claimed_kind)
            .as_deref()
        {
            Some("PO") => OrderKind::Purchase,
            Some("RA") => OrderKind::Return,
            other => {
                return Err(DecodeError::Invalid(format!(
                    "goods in {id} has order kind {other:?} in external_system_reference3; expected PO or RA"
                ).into()));
            }
        };
        let warehouse = read.warehouse.as_ref().map(|w| w.id).ok_or_else(|| {
            DecodeError::Invalid(format!("goods in {id} has no warehouse").into())
        })?;
        // The body's date is the one of this receipt; the re-read has the latest one. A stage
        // keeps the date it was first decoded with, so `now` is only a last resort.
        let received_at = field(record, "actual_date_of_arrival")
            .or_else(|| field(record, "actual_date_of_receipt"))
            .and_then(|t| ClarusDateTime(t).timestamp())
            .or_else(|| {
                read.actual_date_of_receipt
                    .as_ref()
                    .and_then(|d| d.timestamp())
            })
            .unwrap_or_else(Timestamp::now);

        let lines = body_lines(record);
        self.record_held_stock(id, &lines).await?;
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
                DecodeError::Invalid(
                    format!(
                        "goods in {id} line {} names no NetSuite order line",
                        line.id
                    )
                    .into(),
                )
            })?;
            let sku = line.sku.clone().ok_or_else(|| {
                DecodeError::Invalid(
                    format!("goods in {id} line {} has no product", line.id).into(),
                )
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
        // Read-modify-write of the stages over the version read: the webhook processor and the
        // sweep (on any instance) may decode the same goods in at once, and a stage lost
        // between them would count entries twice.
        let answer = kept::update(
            self.store.as_ref(),
            &Kept::GoodsInStages.key(id),
            self.clock.now(),
            |stages: Option<Stages>| {
                let mut stages = stages.unwrap_or_default();
                let previous = |stages: &Stages| {
                    stages
                        .stages
                        .range(..stage)
                        .next_back()
                        .map(|(_, s)| s.counts.clone())
                        .unwrap_or_default()
                };
                if let Some(recorded) = stages.stages.get(&stage) {
                    return (None, Some((previous(&stages), recorded.received_at)));
                }
                if stages
                    .stages
                    .keys()
                    .next_back()
                    .is_some_and(|last| *last > stage)
                {
                    return (None, None);
                }
                let base = previous(&stages);
                let received_at = current.received_at;
                stages.stages.insert(stage, current.clone());
                (Some(stages), Some((base, received_at)))
            },
        )
        .await
        .map_err(|e| e.into_decode(&format!("receipt stages of goods in {id}")))?;
        Ok(answer)
    }
}

impl ReceiptDecoder {
    /// Records every receipt entry put on hold into a stock record: a `placed_on_hold` webhook
    /// for it is the receipt's own quarantine, which the receipt posts, not a movement to post
    /// again (see [`super::held`]). An entry kept before is left as it is.
    async fn record_held_stock(&self, id: ClarusId, lines: &[BodyLine]) -> Result<(), DecodeError> {
        let now = self.clock.now();
        for line in lines {
            for (position, entry) in line.entries.iter().enumerate().filter(|(_, e)| e.held) {
                let Some(stock) = entry.raw.get("stock_id").and_then(json_id) else {
                    continue;
                };
                let receipt = ReceiptEntry {
                    goods_in: id,
                    line: Some(line.id),
                    position: Some(position),
                };
                kept::update(
                    self.store.as_ref(),
                    &Kept::StockHeldByReceipt.key(stock),
                    now,
                    |held: Option<HeldStock>| {
                        let mut held = held.unwrap_or_default();
                        let changed = held.record(receipt.clone(), entry.quantity);
                        (changed.then_some(held), ())
                    },
                )
                .await
                .map_err(|e| e.into_decode(&format!("recording stock held by goods in {id}")))?;
            }
        }
        Ok(())
    }

    /// Records that goods in `id`'s `completed` webhook was decoded, and closes its receipt
    /// gap exception if the sweep had raised one.
    async fn mark_completed(&self, id: ClarusId) -> Result<(), DecodeError> {
        kept::update(
            self.store.as_ref(),
            &Kept::GoodsInStages.key(id),
            self.clock.now(),
            |stages: Option<Stages>| {
                let mut stages = stages.unwrap_or_default();
                if stages.completed {
                    return (None, ());
                }
                stages.completed = true;
                (Some(stages), ())
            },
        )
        .await
        .map_err(|e| e.into_decode(&format!("receipt stages of goods in {id}")))?;
        match self
            .store
            .resolve_exception(
                &receipt_gap_key(id),
                "the goods in's completed webhook arrived and was processed",
                self.clock.now(),
            )
            .await
        {
            Ok(()) | Err(crate::store::StoreError::NotFound { .. }) => Ok(()),
            Err(e) => Err(DecodeError::Retryable(
                format!("closing the receipt gap of goods in {id}: {e}").into(),
            )),
        }
    }

    /// Whether goods in `id`, which Clarus shows completed at `now`, was reported completely;
    /// records when the sweep first saw it completed.
    pub async fn completion(
        &self,
        id: ClarusId,
        now: Timestamp,
    ) -> Result<Completion, DecodeError> {
        let (stages, seen_completed_at) = kept::update(
            self.store.as_ref(),
            &Kept::GoodsInStages.key(id),
            now,
            |stages: Option<Stages>| {
                let mut stages = stages.unwrap_or_default();
                match stages.seen_completed_at {
                    Some(at) => (None, (stages, at)),
                    None => {
                        stages.seen_completed_at = Some(now);
                        (Some(stages.clone()), (stages, now))
                    }
                }
            },
        )
        .await
        .map_err(|e| e.into_decode(&format!("receipt stages of goods in {id}")))?;
        Ok(Completion {
            reported: stages.completed,
            seen_completed_at,
            reported_quantity: stages
                .stages
                .values()
                .next_back()
                .map(|s| s.quantity)
                .unwrap_or_default(),
        })
    }
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
    use serde_json::json;

    #[test]
    fn body_lines_keep_held_and_available_entries_apart() {
        let record = json!({
            "id": 12,
            "lines": [{"id": "5", "product_code": "MUG", "external_system_reference1": "4",
                "received_stock": [
                    {"quantity": 1, "batch": "L1", "status": "held"},
                    {"quantity": 2, "batch": "L1", "status": "available"}
                ]}]
        });
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
}
