//! Despatches: the shipments of a goods out, confirmed over GraphQL, as core [`Despatch`]
//! events, one per shipment (or per group of shipments that left between two reads).
//!
//! Webhooks are unsigned, so the webhook body is only a hint. Clarus documents few fields on its
//! GraphQL reads, so each part of a despatch comes from the most trustworthy place that has it:
//!
//! | part | from | confirmed by |
//! |---|---|---|
//! | goods out identity, status, warehouse, carrier | `goods_outs` filtered by `reference` | the read itself |
//! | NetSuite sales order | the engine's record of the goods out it created ([`LineOrder`]), else the body's `external_system_reference1` | both must agree when both exist |
//! | shipments that left | `shipments` by `goods_out_id`: `dispatched`, or every one once the goods out is `COMPLETED` | the read itself |
//! | lines, SKUs, quantities | `goods_out_lines` by `goods_out_id`: what `dispatch_quantity` grew by since the last report | the read itself |
//! | NetSuite line of each Clarus line | the recorded line order (by position, the SKU must match), else the body's line references | |
//! | parcels and tracking | `packages` filtered by `shipment_id` | the read itself |
//! | lots and serials | the body's `picked_stock`, only when it adds up to the quantity | not readable in Clarus |
//! | despatch date | the body's `actual_date_of_dispatch` for the completing shipment, else the goods out's newest `DISP` transaction | |
//!
//! Each shipment is posted as soon as it leaves (`goods_out.updated`, or the sweep), so goods that
//! shipped are billed without waiting for the rest; the completion posts only what no shipment
//! posted yet, and carries the short-despatch check. What was reported is kept
//! ([`super::shipped`]), so the webhook path, the [`super::ClarusSweep`] and a re-read after a
//! restart give the same events with the same [`SourceId`]s.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use clarus_client::graphql::{ClarusDateTime, Filter};
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
use super::executor::{LineOrder, list};
use super::nodes::{GoodsOutLineRead, GoodsOutRead, PackageRead, ShipmentRead, TransactionRead};
use super::shipped::{GROUP_UPDATES, Group, GroupLine, Shipped};
use crate::clock::{self, SharedClock};
use crate::processor::DecodeError;
use crate::store::Store;

/// The event name of a goods out's completion (the Clarus `goods_out` event that fires on it).
pub const DESPATCH_EVENT: &str = "completed";

/// The event name of a shipment's despatch identity.
pub const SHIPMENT_EVENT: &str = "dispatched";

/// Reads the shipments of a goods out from Clarus and builds their despatch events.
#[derive(Clone)]
pub struct DespatchReader {
    client: ClarusClient,
    tenant: Tenant,
    store: Option<Arc<dyn Store>>,
    clock: SharedClock,
}

impl std::fmt::Debug for DespatchReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DespatchReader")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// What is known of a goods out before Clarus is read: the reference to read it by, and the
/// sales order and lines it was created for.
struct Known {
    reference: String,
    order: String,
    lines: Option<LineOrder>,
}

impl DespatchReader {
    /// A reader for the tenant `tenant` (the name used in idempotency keys).
    pub fn new(client: ClarusClient, tenant: Tenant) -> Self {
        DespatchReader {
            client,
            tenant,
            store: None,
            clock: clock::system(),
        }
    }

    /// Reads the time from `clock` (the system clock by default, see [`crate::clock`]): when
    /// a despatch posted before shipments were told apart is recorded as despatched.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock the reader reads the time from.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Reads the engine's record of each goods out it created (sales order, reference, line
    /// order) from `store`, and keeps there what was reported of each goods out's shipments.
    /// Without a store, only what the webhook body claims is there to go on, and nothing is
    /// kept between reads.
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The tenant despatches are keyed under.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// What the engine and the body say of goods out `id`; they must agree.
    async fn known(&self, id: ClarusId, hint: Option<&Value>) -> Result<Known, DecodeError> {
        let recorded = match &self.store {
            Some(store) => LineOrder::load(store.as_ref(), id).await.map_err(|e| {
                DecodeError::Retryable(format!("reading the record of goods out {id}: {e}").into())
            })?,
            None => None,
        };
        let claimed = |name: &str| {
            hint.and_then(|h| h.get(name))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let recorded_order = recorded.as_ref().and_then(|r| r.order.clone());
        let recorded_reference = recorded.as_ref().and_then(|r| r.reference.clone());
        let claimed_order = claimed("external_system_reference1");
        let claimed_reference = claimed("reference");
        if let (Some(r), Some(c)) = (&recorded_order, &claimed_order)
            && r != c
        {
            return Err(DecodeError::Invalid(format!(
                "goods out {id}: the webhook names sales order {c}, but the engine created it for {r}"
            ).into()));
        }
        if let (Some(r), Some(c)) = (&recorded_reference, &claimed_reference)
            && r != c
        {
            return Err(DecodeError::Invalid(format!(
                "goods out {id}: the webhook names reference {c}, but the engine created it as {r}"
            ).into()));
        }
        let reference = recorded_reference.or(claimed_reference).ok_or_else(|| {
            DecodeError::Invalid(format!(
                "goods out {id}: neither the webhook nor the engine's records give its reference, \
                 so it cannot be confirmed in Clarus"
            ).into())
        })?;
        let order = recorded_order.or(claimed_order).ok_or_else(|| {
            DecodeError::Invalid(format!(
                "goods out {id} ({reference}) names no NetSuite sales order: the engine did not \
                 create it and the webhook has no external_system_reference1"
            ).into())
        })?;
        Ok(Known {
            reference,
            order,
            lines: recorded,
        })
    }

    /// Reads goods out `id` and builds a despatch event for every group of its shipments that
    /// left: those reported before (the same events again) and one for the shipments that left
    /// since. `hint` is the webhook's record: it gives the reference to confirm the goods out by,
    /// the line references and the lots and serials picked (Clarus documents no read of them);
    /// status, quantities, warehouse and tracking always come from Clarus. With `completed`, the
    /// caller was told the goods out completed: Clarus must show it `COMPLETED`.
    ///
    /// Errors: the goods out does not exist, is not `COMPLETED` when `completed`, disagrees with
    /// the engine's record, or cannot be tied to a NetSuite order → [`DecodeError::Invalid`];
    /// Clarus could not be read → [`DecodeError::Retryable`].
    pub async fn read(
        &self,
        id: ClarusId,
        hint: Option<&Value>,
        completed: bool,
    ) -> Result<Vec<Event>, DecodeError> {
        let known = self.known(id, hint).await?;
        let context = format!("re-reading goods out {id} ({})", known.reference);
        let header: Vec<GoodsOutRead> = list(
            &self.client,
            Filter::new().eq("reference", known.reference.as_str()),
        )
        .await
        .map_err(|e| decode_error(&context, e))?;
        let header = header.into_iter().find(|g| g.id == id).ok_or_else(|| {
            DecodeError::Invalid(
                format!(
                    "goods out {id} ({}) does not exist in Clarus",
                    known.reference
                )
                .into(),
            )
        })?;
        let is_completed = header.status_code().as_deref() == Some("COMPLETED");
        if completed && !is_completed {
            return Err(DecodeError::Invalid(
                format!(
                    "goods out {id} is reported despatched but Clarus has it {}",
                    header
                        .status_code()
                        .unwrap_or_else(|| "without a status".into())
                )
                .into(),
            ));
        }
        let warehouse = header.warehouse.as_ref().map(|w| w.id).ok_or_else(|| {
            DecodeError::Invalid(format!("goods out {id} has no warehouse").into())
        })?;
        let shipments: Vec<ShipmentRead> = list(&self.client, Filter::new().eq("goods_out_id", id))
            .await
            .map_err(|e| decode_error(&context, e))?;
        // Shipment statuses are open strings: `dispatched` has left, and every shipment of a
        // completed goods out has.
        let mut gone: Vec<&ShipmentRead> = shipments
            .iter()
            .filter(|s| {
                is_completed
                    || s.status
                        .as_deref()
                        .is_some_and(|st| st.eq_ignore_ascii_case("dispatched"))
            })
            .collect();
        gone.sort_by_key(|s| s.id);

        let _serialised = GROUP_UPDATES.lock().await;
        let (mut shipped, mut version) = match &self.store {
            Some(store) => Shipped::load(store.as_ref(), id).await?,
            None => (Shipped::default(), None),
        };
        if shipped.groups.is_empty() && is_completed && self.posted_whole(id, &known).await? {
            // Posted as one despatch before shipments were told apart: that posting stands.
            shipped.groups.push(Group {
                despatch: id.to_string(),
                shipments: gone.iter().map(|s| s.id).collect(),
                lines: Vec::new(),
                tracking: Vec::new(),
                service: None,
                despatched_at: self.clock.now(),
                completes: true,
            });
            if let Some(store) = &self.store {
                version = shipped
                    .save(store.as_ref(), id, version, self.clock.now())
                    .await?;
            }
        }
        let new: Vec<&ShipmentRead> = gone
            .iter()
            .copied()
            .filter(|s| !shipped.reported(s.id))
            .collect();
        let owes_completion = is_completed && !shipped.complete();
        if (!new.is_empty() || owes_completion)
            && let Some(group) = self
                .new_group(id, &known, hint, &shipped, &new, is_completed, &context)
                .await?
        {
            shipped.groups.push(group);
            if let Some(store) = &self.store {
                shipped
                    .save(store.as_ref(), id, version, self.clock.now())
                    .await?;
            }
        }
        let hinted = HintedLines::new(hint);
        let carrier = header.carrier.as_ref().map(|c| c.id);
        shipped
            .groups
            .iter()
            .filter(|g| !g.lines.is_empty())
            .map(|g| self.event(id, &known.order, warehouse, carrier, g, &hinted))
            .collect()
    }

    /// Whether the goods out was posted as one despatch named after itself (as before its
    /// shipments were told apart): its fulfilment was planned.
    async fn posted_whole(&self, id: ClarusId, known: &Known) -> Result<bool, DecodeError> {
        let Some(store) = &self.store else {
            return Ok(false);
        };
        let whole = Despatch {
            tenant: self.tenant.clone(),
            goods_out: GoodsOutId(id_u64(id)?),
            despatch: DespatchId::new(id.to_string()),
            order: NetSuiteId::new(known.order.as_str()),
            warehouse: WarehouseId(0),
            carrier: None,
            service: None,
            despatched_at: Timestamp::UNIX_EPOCH,
            lines: Vec::new(),
            packages: Vec::new(),
        };
        let key = sync_core::planner::despatch_key(&whole);
        Ok(store
            .action(key.as_str())
            .await
            .map_err(|e| {
                DecodeError::Retryable(format!("reading the despatch of {id}: {e}").into())
            })?
            .is_some())
    }

    /// The group of the shipments that left since the last report: what each line's
    /// `dispatch_quantity` grew by, with the shipments' parcels. `None` when nothing grew yet
    /// (a shipment marked dispatched before its lines were).
    #[allow(clippy::too_many_arguments)]
    async fn new_group(
        &self,
        id: ClarusId,
        known: &Known,
        hint: Option<&Value>,
        shipped: &Shipped,
        new: &[&ShipmentRead],
        completes: bool,
        context: &str,
    ) -> Result<Option<Group>, DecodeError> {
        let lines: Vec<GoodsOutLineRead> = list(&self.client, Filter::new().eq("goods_out_id", id))
            .await
            .map_err(|e| decode_error(context, e))?;
        let mut ordered: Vec<&GoodsOutLineRead> = lines.iter().collect();
        ordered.sort_by_key(|l| l.id);
        let reported = shipped.reported_per_line();
        let hinted = HintedLines::new(hint);
        let mut group_lines = Vec::new();
        for (position, line) in ordered.into_iter().enumerate() {
            let sku = line
                .product
                .as_ref()
                .and_then(|p| p.code.as_deref())
                .ok_or_else(|| {
                    DecodeError::Invalid(
                        format!("goods out {id} line {} has no product", line.id).into(),
                    )
                })?;
            // The engine's own record first: the body is unsigned.
            let order_line = known
                .lines
                .as_ref()
                .and_then(|o| o.lines.get(position))
                .filter(|(_, s)| s == sku)
                .map(|(l, _)| LineNo(*l))
                .or_else(|| hinted.order_line(line.id))
                .ok_or_else(|| {
                    DecodeError::Invalid(
                        format!(
                            "goods out {id} line {} ({sku}) names no NetSuite order line",
                            line.id
                        )
                        .into(),
                    )
                })?;
            let before = reported.get(&line.id).copied().unwrap_or_default();
            let quantity = (line.dispatch_quantity.unwrap_or_default() - before).max(Decimal::ZERO);
            let requested = if completes {
                (line.order_quantity.unwrap_or_default() - before).max(quantity)
            } else {
                quantity
            };
            if quantity.is_zero() && !(completes && requested > Decimal::ZERO) {
                continue;
            }
            group_lines.push(GroupLine {
                line: line.id,
                order_line: order_line.0,
                sku: sku.to_owned(),
                requested,
                quantity,
            });
        }
        if group_lines.iter().all(|l| l.quantity.is_zero()) && !completes {
            return Ok(None);
        }
        let tracking = if new.is_empty() {
            Vec::new()
        } else {
            let packages: Vec<PackageRead> = list(
                &self.client,
                Filter::new().any_of("shipment_id", new.iter().map(|s| s.id)),
            )
            .await
            .map_err(|e| decode_error(context, e))?;
            let mut tracking = Vec::new();
            for shipment in new {
                let mut of_shipment: Vec<&PackageRead> = packages
                    .iter()
                    .filter(|p| p.shipment.as_ref().map(|s| s.id) == Some(shipment.id))
                    .collect();
                of_shipment.sort_by_key(|p| p.id);
                tracking.extend(
                    of_shipment
                        .into_iter()
                        .map(|p| non_empty(p.tracking_number.as_deref()).map(str::to_owned)),
                );
            }
            tracking
        };
        let despatched_at = match hint
            .filter(|_| completes)
            .and_then(|h| h.get("actual_date_of_dispatch"))
            .and_then(Value::as_str)
            .and_then(|t| ClarusDateTime(t.to_owned()).timestamp())
        {
            Some(at) => at,
            None => self
                .last_dispatch(id, context)
                .await?
                .unwrap_or_else(Timestamp::now),
        };
        let despatch = match new.last() {
            Some(newest) => newest.id.to_string(),
            // Completed with no shipment left to report: named after the goods out.
            None => id.to_string(),
        };
        Ok(Some(Group {
            despatch,
            shipments: new.iter().map(|s| s.id).collect(),
            lines: group_lines,
            tracking,
            service: new
                .iter()
                .find_map(|s| s.carrier_service.as_ref())
                .map(|c| c.id),
            despatched_at,
            completes,
        }))
    }

    /// The despatch event of one group.
    fn event(
        &self,
        id: ClarusId,
        order: &str,
        warehouse: ClarusId,
        carrier: Option<ClarusId>,
        group: &Group,
        hinted: &HintedLines,
    ) -> Result<Event, DecodeError> {
        let lines = group
            .lines
            .iter()
            .map(|l| {
                let (lots, serials) = hinted.picked(l.line, l.quantity);
                DespatchLine {
                    order_line: LineNo(l.order_line),
                    sku: Sku::new(&l.sku),
                    requested: l.requested,
                    quantity: l.quantity,
                    lots,
                    serials,
                }
            })
            .collect();
        let despatch = Despatch {
            tenant: self.tenant.clone(),
            goods_out: GoodsOutId(id_u64(id)?),
            despatch: DespatchId::new(group.despatch.as_str()),
            order: NetSuiteId::new(order),
            warehouse: WarehouseId(id_u64(warehouse)?),
            carrier: carrier.map(id_u64).transpose()?.map(CarrierId),
            service: group.service.map(id_u64).transpose()?.map(CarrierServiceId),
            despatched_at: group.despatched_at,
            lines,
            packages: group
                .tracking
                .iter()
                .map(|t| Package {
                    tracking_number: t.as_deref().map(TrackingNumber::new),
                    weight_kg: None,
                })
                .collect(),
        };
        let source = if group.despatch == id.to_string() {
            despatch_source(id)
        } else {
            shipment_source(&group.despatch)
        };
        Ok(Event {
            source,
            occurred_at: group.despatched_at,
            payload: Payload::Despatch(despatch),
        })
    }

    /// When the goods out's stock last left: its newest `DISP` transaction (documented filters
    /// `goods_out_id` and `subtype`); `None` when Clarus lists none.
    pub(crate) async fn last_dispatch(
        &self,
        id: ClarusId,
        context: &str,
    ) -> Result<Option<Timestamp>, DecodeError> {
        let filter = Filter::new().eq("goods_out_id", id).eq("subtype", "DISP");
        let transactions: Vec<TransactionRead> = list(&self.client, filter)
            .await
            .map_err(|e| decode_error(context, e))?;
        Ok(transactions
            .iter()
            .filter_map(TransactionRead::created)
            .max())
    }
}

/// The identity of the despatch that completes goods out `id` without a shipment of its own to
/// report: the same for its webhook and for the sweep.
///
/// ```
/// let source = sync_engine::clarus::despatch_source(clarus_client::ClarusId::new(42));
/// assert_eq!(source.id.as_str(), "42");
/// assert_eq!(source.event.as_str(), sync_engine::clarus::DESPATCH_EVENT);
/// ```
pub fn despatch_source(id: ClarusId) -> SourceId {
    SourceId {
        system: System::Clarus,
        resource: Name::new("goods_out"),
        id: Name::new(id.to_string()),
        event: Name::new(DESPATCH_EVENT),
        revision: Revision::Sequence(1),
    }
}

/// The identity of the despatch of a shipment (or of the group named after it).
///
/// ```
/// let source = sync_engine::clarus::shipment_source("7001");
/// assert_eq!(source.resource.as_str(), "shipment");
/// assert_eq!(source.event.as_str(), sync_engine::clarus::SHIPMENT_EVENT);
/// ```
pub fn shipment_source(shipment: &str) -> SourceId {
    SourceId {
        system: System::Clarus,
        resource: Name::new("shipment"),
        id: Name::new(shipment),
        event: Name::new(SHIPMENT_EVENT),
        revision: Revision::Sequence(1),
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
    u64::try_from(id.get())
        .map_err(|_| DecodeError::Invalid(format!("negative Clarus id {id}").into()))
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
