//! Despatches: a completed goods out, re-read over GraphQL, as a core [`Despatch`] event.
//!
//! Webhooks are unsigned, so the webhook body is only a hint: the goods out, its lines, its
//! shipments and their parcels are read back from Clarus and the despatch is built from what
//! Clarus holds. The webhook path and the [`super::ClarusSweep`] both go through
//! [`DespatchReader::read`], so both produce the same [`SourceId`] for the same despatch:
//! `(Clarus, goods_out, <id>, completed, ModifiedAt(actual_date_of_dispatch))`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use clarus_client::graphql::Filter;
use clarus_client::{ClarusClient, ClarusId};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::Value;
use sync_core::{
    CarrierId, CarrierServiceId, Despatch, DespatchId, DespatchLine, Event, GoodsOutId, LineNo,
    LotNumber, LotQuantity, Name, NetSuiteId, Package, Payload, Revision, SerialNumber, Sku,
    SourceId, System, Tenant, TrackingNumber, WarehouseId,
};

use super::errors::decode_error;
use super::executor::{LineOrder, line_order_name, list};
use super::nodes::{GoodsOutLineRead, GoodsOutRead, PackageRead, ShipmentRead, TransactionRead};
use crate::processor::DecodeError;
use crate::store::Store;

/// The event name of despatch identities (the Clarus `goods_out` event that fires on despatch).
pub const DESPATCH_EVENT: &str = "completed";

/// Reads a completed goods out from Clarus and builds its despatch event.
#[derive(Clone)]
pub struct DespatchReader {
    client: ClarusClient,
    tenant: Tenant,
    store: Option<Arc<dyn Store>>,
}

impl std::fmt::Debug for DespatchReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DespatchReader")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl DespatchReader {
    /// A reader for the tenant `tenant` (the name used in idempotency keys).
    pub fn new(client: ClarusClient, tenant: Tenant) -> Self {
        DespatchReader {
            client,
            tenant,
            store: None,
        }
    }

    /// Falls back on the line order the [`super::ClarusExecutor`] recorded in `store` when
    /// Clarus returns goods-out lines without their `external_system_reference1`.
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The tenant despatches are keyed under.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// Reads goods out `id` and builds its despatch. `hint` is the webhook's record, used only
    /// for what GraphQL does not expose (lot and serial numbers of picked stock, line
    /// references when the line read lacks them); quantities, status, dates and tracking always
    /// come from the re-read.
    ///
    /// Errors: the goods out does not exist, is not `COMPLETED`, or names no NetSuite order →
    /// [`DecodeError::Invalid`]; Clarus could not be read → [`DecodeError::Retryable`].
    pub async fn read(&self, id: ClarusId, hint: Option<&Value>) -> Result<Event, DecodeError> {
        let context = format!("re-reading goods out {id}");
        let header: Vec<GoodsOutRead> = list(&self.client, Filter::new().eq("id", id))
            .await
            .map_err(|e| decode_error(&context, &e))?;
        let header = header.into_iter().find(|g| g.id == id).ok_or_else(|| {
            DecodeError::Invalid(format!("goods out {id} does not exist in Clarus"))
        })?;
        match header.status_code().as_deref() {
            Some("COMPLETED") => {}
            other => {
                return Err(DecodeError::Invalid(format!(
                    "goods out {id} is reported despatched but Clarus has it {}",
                    other.unwrap_or("without a status")
                )));
            }
        }
        let order = header
            .external_system_reference1
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                DecodeError::Invalid(format!(
                    "goods out {id} ({}) names no NetSuite sales order in external_system_reference1",
                    header.reference.as_deref().unwrap_or("no reference")
                ))
            })?
            .to_owned();
        let warehouse = header
            .warehouse
            .as_ref()
            .map(|w| w.id)
            .ok_or_else(|| DecodeError::Invalid(format!("goods out {id} has no warehouse")))?;
        let despatched_at = header
            .actual_date_of_dispatch
            .as_ref()
            .and_then(|d| d.timestamp())
            .or_else(|| header.updated_at.as_ref().and_then(|d| d.timestamp()))
            .ok_or_else(|| DecodeError::Invalid(format!("goods out {id} has no dispatch date")))?;

        let lines: Vec<GoodsOutLineRead> = list(&self.client, Filter::new().eq("goods_out_id", id))
            .await
            .map_err(|e| decode_error(&context, &e))?;
        let shipments: Vec<ShipmentRead> = list(&self.client, Filter::new().eq("goods_out_id", id))
            .await
            .map_err(|e| decode_error(&context, &e))?;
        let packages: Vec<PackageRead> = if shipments.is_empty() {
            Vec::new()
        } else {
            list(
                &self.client,
                Filter::new().any_of("shipment_id", shipments.iter().map(|s| s.id)),
            )
            .await
            .map_err(|e| decode_error(&context, &e))?
        };

        let hinted = HintedLines::new(hint);
        let line_order = self.line_order(id, &lines, &hinted).await?;
        let dispatched = self.dispatched_stock(id, &lines).await;
        let mut despatch_lines = Vec::with_capacity(lines.len());
        for (position, line) in lines.iter().enumerate() {
            let sku = line
                .product
                .as_ref()
                .and_then(|p| p.code.as_deref())
                .ok_or_else(|| {
                    DecodeError::Invalid(format!("goods out {id} line {} has no product", line.id))
                })?;
            let order_line = line_reference(line.external_system_reference1.as_deref())
                .or_else(|| hinted.order_line(line.id))
                .or_else(|| {
                    line_order
                        .as_ref()
                        .and_then(|o| o.lines.get(position))
                        .filter(|(_, s)| s == sku)
                        .map(|(l, _)| LineNo(*l))
                })
                .ok_or_else(|| {
                    DecodeError::Invalid(format!(
                        "goods out {id} line {} ({sku}) names no NetSuite order line",
                        line.id
                    ))
                })?;
            let quantity = line.dispatch_quantity.unwrap_or_default();
            let (lots, serials) = match dispatched.get(sku) {
                Some((lots, serials, total)) if *total == quantity => {
                    (lots.clone(), serials.clone())
                }
                _ => hinted.picked(line.id, quantity),
            };
            despatch_lines.push(DespatchLine {
                order_line,
                sku: Sku::new(sku),
                requested: line.order_quantity.unwrap_or_default(),
                quantity,
                lots,
                serials,
            });
        }

        let carrier = header
            .carrier
            .as_ref()
            .or_else(|| shipments.iter().find_map(|s| s.carrier.as_ref()))
            .map(|c| c.id);
        let service = header
            .carrier_service
            .as_ref()
            .or_else(|| shipments.iter().find_map(|s| s.carrier_service.as_ref()))
            .map(|c| c.id);
        let mut parcels: Vec<Package> = Vec::new();
        for shipment in &shipments {
            let mut of_shipment: Vec<&PackageRead> = packages
                .iter()
                .filter(|p| p.shipment.as_ref().map(|s| s.id) == Some(shipment.id))
                .collect();
            of_shipment.sort_by_key(|p| p.id);
            if of_shipment.is_empty() {
                if let Some(tracking) = non_empty(shipment.tracking_number.as_deref()) {
                    parcels.push(Package {
                        tracking_number: Some(TrackingNumber::new(tracking)),
                        weight_kg: None,
                    });
                }
                continue;
            }
            for package in of_shipment {
                parcels.push(Package {
                    tracking_number: non_empty(package.tracking_number.as_deref())
                        .map(TrackingNumber::new),
                    weight_kg: None,
                });
            }
        }

        let despatch = Despatch {
            tenant: self.tenant.clone(),
            goods_out: GoodsOutId(id_u64(id)?),
            // Clarus completes a goods out once: the goods out is its one despatch.
            despatch: DespatchId::new(id.to_string()),
            order: NetSuiteId::new(order),
            warehouse: WarehouseId(id_u64(warehouse)?),
            carrier: carrier.map(id_u64).transpose()?.map(CarrierId),
            service: service.map(id_u64).transpose()?.map(CarrierServiceId),
            despatched_at,
            lines: despatch_lines,
            packages: parcels,
        };
        Ok(Event {
            source: despatch_source(id, despatched_at),
            occurred_at: despatched_at,
            payload: Payload::Despatch(despatch),
        })
    }

    /// Lots and serials despatched per SKU, from the goods out's `DISP` stock transactions, for
    /// SKUs on exactly one line. Only a refinement: when the read fails (a server without batch
    /// and serial on transactions) the despatch goes on with what the webhook body listed.
    async fn dispatched_stock(
        &self,
        id: ClarusId,
        lines: &[GoodsOutLineRead],
    ) -> HashMap<String, (Vec<LotQuantity>, Vec<SerialNumber>, Decimal)> {
        let mut per_sku: HashMap<String, Vec<Value>> = HashMap::new();
        if lines
            .iter()
            .all(|l| l.dispatch_quantity.unwrap_or_default().is_zero())
        {
            return HashMap::new();
        }
        let filter = Filter::new().eq("goods_out_id", id).eq("subtype", "DISP");
        let transactions: Vec<TransactionRead> = match list(&self.client, filter).await {
            Ok(t) => t,
            Err(e) => {
                tracing::debug!(goods_out = %id, error = %e, "despatched stock transactions not read");
                return HashMap::new();
            }
        };
        for t in transactions {
            let Some(code) = t.product.and_then(|p| p.code) else {
                continue;
            };
            per_sku.entry(code).or_default().push(serde_json::json!({
                "quantity": t.quantity.map(|q| q.abs()),
                "batch": t.batch,
                "serial_number": t.serial_number,
            }));
        }
        let mut lines_per_sku: HashMap<&str, usize> = HashMap::new();
        for line in lines {
            if let Some(code) = line.product.as_ref().and_then(|p| p.code.as_deref()) {
                *lines_per_sku.entry(code).or_default() += 1;
            }
        }
        per_sku
            .into_iter()
            .filter(|(sku, _)| lines_per_sku.get(sku.as_str()) == Some(&1))
            .map(|(sku, entries)| (sku, lots_and_serials(&entries)))
            .collect()
    }

    /// The recorded line order, needed only when some line has no reference of its own.
    async fn line_order(
        &self,
        id: ClarusId,
        lines: &[GoodsOutLineRead],
        hinted: &HintedLines,
    ) -> Result<Option<LineOrder>, DecodeError> {
        let complete = lines.iter().all(|l| {
            line_reference(l.external_system_reference1.as_deref()).is_some()
                || hinted.order_line(l.id).is_some()
        });
        let Some(store) = self.store.as_ref().filter(|_| !complete) else {
            return Ok(None);
        };
        let stored = store
            .watermark(&line_order_name(id))
            .await
            .map_err(|e| DecodeError::Retryable(format!("reading the line order of {id}: {e}")))?;
        Ok(stored.and_then(|s| serde_json::from_str(&s).ok()))
    }
}

/// The identity of a despatch: the same for its webhook and for the sweep.
pub(crate) fn despatch_source(id: ClarusId, despatched_at: Timestamp) -> SourceId {
    SourceId {
        system: System::Clarus,
        resource: Name::new("goods_out"),
        id: Name::new(id.to_string()),
        event: Name::new(DESPATCH_EVENT),
        revision: Revision::ModifiedAt(despatched_at),
    }
}

/// What the webhook body says about each line, by Clarus line id.
struct HintedLines {
    lines: HashMap<ClarusId, Value>,
}

impl HintedLines {
    fn new(hint: Option<&Value>) -> Self {
        let lines = hint
            .and_then(|h| h.get("lines").or_else(|| h.get("goods_out_lines")))
            .and_then(Value::as_array)
            .map(|lines| {
                lines
                    .iter()
                    .filter_map(|l| Some((json_id(l.get("id")?)?, l.clone())))
                    .collect()
            })
            .unwrap_or_default();
        HintedLines { lines }
    }

    fn order_line(&self, id: ClarusId) -> Option<LineNo> {
        let line = self.lines.get(&id)?;
        ["external_system_reference1", "alt_line_number"]
            .iter()
            .find_map(|k| line_reference(line.get(*k).and_then(text)))
    }

    /// Lots and serials of the picked stock of a line, when the body lists them and they add up
    /// to the despatched quantity (anything else is not trusted).
    fn picked(&self, id: ClarusId, quantity: Decimal) -> (Vec<LotQuantity>, Vec<SerialNumber>) {
        let entries = self
            .lines
            .get(&id)
            .and_then(|l| l.get("picked_stock"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let (lots, serials, total) = lots_and_serials(&entries);
        if total != quantity {
            return (Vec::new(), Vec::new());
        }
        (lots, serials)
    }
}

/// Lots (summed per batch, in first-seen order) and serials of stock entries
/// `{quantity, batch, serial_number}`, with the entries' total quantity.
pub(crate) fn lots_and_serials(
    entries: &[Value],
) -> (Vec<LotQuantity>, Vec<SerialNumber>, Decimal) {
    let mut lots: BTreeMap<usize, LotQuantity> = BTreeMap::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut serials = Vec::new();
    let mut total = Decimal::ZERO;
    for entry in entries {
        let quantity = decimal(entry.get("quantity")).unwrap_or_default();
        total += quantity;
        if let Some(batch) = non_empty(entry.get("batch").and_then(Value::as_str)) {
            let next = seen.len();
            let slot = *seen.entry(batch.to_owned()).or_insert(next);
            lots.entry(slot)
                .or_insert_with(|| LotQuantity {
                    lot: LotNumber::new(batch),
                    quantity: Decimal::ZERO,
                })
                .quantity += quantity;
        }
        if let Some(serial) = non_empty(entry.get("serial_number").and_then(Value::as_str)) {
            serials.push(SerialNumber::new(serial));
        }
    }
    (lots.into_values().collect(), serials, total)
}

/// A NetSuite line number from a line reference such as `"3"`.
pub(crate) fn line_reference(text: Option<&str>) -> Option<LineNo> {
    text.map(str::trim)
        .and_then(|t| t.parse::<u64>().ok())
        .map(LineNo)
}

pub(crate) fn non_empty(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// A JSON string, or a number written as text.
pub(crate) fn text(value: &Value) -> Option<&str> {
    value.as_str()
}

pub(crate) fn json_id(value: &Value) -> Option<ClarusId> {
    serde_json::from_value(value.clone()).ok()
}

pub(crate) fn decimal(value: Option<&Value>) -> Option<Decimal> {
    value
        .filter(|v| !v.is_null())
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// A Clarus id as the core's unsigned id.
pub(crate) fn id_u64(id: ClarusId) -> Result<u64, DecodeError> {
    u64::try_from(id.get()).map_err(|_| DecodeError::Invalid(format!("negative Clarus id {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lots_are_summed_per_batch_and_serials_kept() {
        let entries = vec![
            json!({"quantity": 2, "batch": "L1"}),
            json!({"quantity": "1.5", "batch": "L2"}),
            json!({"quantity": 1, "batch": "L1"}),
            json!({"quantity": 1, "serial_number": "SN-9"}),
        ];
        let (lots, serials, total) = lots_and_serials(&entries);
        assert_eq!(total, Decimal::new(55, 1));
        assert_eq!(lots.len(), 2);
        assert_eq!(lots[0].lot.as_str(), "L1");
        assert_eq!(lots[0].quantity, Decimal::from(3));
        assert_eq!(lots[1].quantity, Decimal::new(15, 1));
        assert_eq!(serials, vec![SerialNumber::new("SN-9")]);
    }

    #[test]
    fn hinted_picks_that_do_not_add_up_are_ignored() {
        let hint = json!({"lines": [{"id": 7, "external_system_reference1": "3",
            "picked_stock": [{"quantity": 2, "batch": "L1"}]}]});
        let hinted = HintedLines::new(Some(&hint));
        assert_eq!(hinted.order_line(ClarusId::new(7)), Some(LineNo(3)));
        assert_eq!(hinted.picked(ClarusId::new(7), Decimal::from(2)).0.len(), 1);
        assert!(
            hinted
                .picked(ClarusId::new(7), Decimal::from(5))
                .0
                .is_empty()
        );
        assert_eq!(hinted.order_line(ClarusId::new(8)), None);
    }

    #[test]
    fn line_references_are_whole_numbers() {
        assert_eq!(line_reference(Some(" 12 ")), Some(LineNo(12)));
        assert_eq!(line_reference(Some("x")), None);
        assert_eq!(line_reference(None), None);
    }
}
