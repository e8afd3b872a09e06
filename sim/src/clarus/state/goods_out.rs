//! Goods outs: lines, create, update, delete, cancel and their REST rendering.

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::changes::OrderLine;
use super::{
    ClarusError, Event, GoodsOut, GoodsOutLine, GoodsOutStatus, Placement, State, StockStatus,
    id_attr, merge, now, stamped,
};
use crate::json::decimal_to_json;

impl State {
    pub(crate) fn create_goods_out(
        &mut self,
        mut attrs: Map<String, Value>,
        address: Option<Value>,
    ) -> Result<(u64, Vec<Event>), ClarusError> {
        attrs.entry("warehouse_id").or_insert(json!(1));
        self.require_owner_and_warehouse(&attrs)?;
        let lines = self.edited_lines(Vec::new(), &mut attrs)?;
        let id = self.allocate_id();
        let t = now();
        self.goods_outs.insert(
            id,
            GoodsOut {
                attrs,
                address,
                status: GoodsOutStatus::Pending,
                lines,
                shipments: Vec::new(),
                created: t,
                updated: t,
                dispatched: None,
            },
        );
        self.goods_out_refs
            .set(id, self.goods_outs[&id].attrs.get("reference"));
        self.open_goods_outs.insert(id);
        Ok((id, vec![self.goods_out_event(id, "created")]))
    }

    pub(crate) fn update_goods_out(
        &mut self,
        id: u64,
        mut attrs: Map<String, Value>,
        address: Option<Value>,
    ) -> Result<Vec<Event>, ClarusError> {
        let editable = [GoodsOutStatus::Draft, GoodsOutStatus::Pending];
        let lines = self
            .goods_out_in(id, &editable, |_| {
                ClarusError::unprocessable(
                    59,
                    "goods_out_already_allocated",
                    "Only draft or pending orders can be changed",
                )
            })?
            .lines
            .clone();
        let lines = self.edited_lines(lines, &mut attrs)?;
        let o = self.goods_outs.get_mut(&id).expect("checked");
        o.lines = lines;
        merge(&mut o.attrs, attrs, &[]);
        if address.is_some() {
            o.address = address;
        }
        o.updated = now();
        self.goods_out_refs
            .set(id, self.goods_outs[&id].attrs.get("reference"));
        Ok(vec![self.goods_out_event(id, "updated")])
    }

    pub(crate) fn delete_goods_out(&mut self, id: u64) -> Result<(), ClarusError> {
        let deletable = [GoodsOutStatus::Draft, GoodsOutStatus::Pending];
        self.goods_out_in(id, &deletable, |_| {
            ClarusError::unprocessable(
                920,
                "goods_out_processing_started",
                "Processing has started; cancel the order instead",
            )
        })?;
        self.forget_goods_out(id);
        Ok(())
    }

    /// Cancels an order: draft/pending orders are deleted; allocated ones deallocated; picked
    /// stock goes back to its location; completed orders are refused.
    pub(crate) fn cancel_goods_out(&mut self, id: u64) -> Result<(Value, Vec<Event>), ClarusError> {
        let order = self
            .goods_outs
            .get(&id)
            .cloned()
            .ok_or_else(|| ClarusError::not_found("Goods out", id))?;
        match order.status {
            GoodsOutStatus::Completed => {
                return Err(ClarusError::unprocessable(
                    921,
                    "goods_out_already_completed",
                    "Completed orders cannot be cancelled",
                ));
            }
            GoodsOutStatus::Cancelled => {
                return Err(ClarusError::unprocessable(
                    922,
                    "goods_out_already_cancelled",
                    "The order is already cancelled",
                ));
            }
            _ => {}
        }
        let mut events = Vec::new();
        if matches!(
            order.status,
            GoodsOutStatus::Draft | GoodsOutStatus::Pending
        ) {
            let mut record = self.goods_out_json(id);
            record["goods_out_status"] = json!({"code": "CANCELLED", "name": "Cancelled"});
            record["goods_out_status_id"] = json!(8);
            self.forget_goods_out(id);
            events.push(Event {
                resource: "goods_out",
                event: "cancelled",
                record: record.clone(),
            });
            return Ok((record, events));
        }
        // Picked stock goes back to where it was picked from. On-hand counts picked stock until
        // despatch, so this moves stock without changing on-hand and fires no stock event.
        let account = id_attr(&order.attrs, "account_id").unwrap_or(1);
        for line in &order.lines {
            for pick in &line.picks {
                self.put_stock(
                    Placement {
                        product: line.product,
                        account,
                        location: pick.location,
                        status: StockStatus::Available,
                        batch: pick.batch.clone(),
                        serial: pick.serial.clone(),
                    },
                    pick.quantity,
                );
            }
        }
        let o = self.goods_outs.get_mut(&id).expect("checked");
        for line in o.lines.iter_mut() {
            line.allocations.clear();
            line.picks.clear();
        }
        self.close_goods_out(id, GoodsOutStatus::Cancelled, now());
        events.extend(self.goods_out_closed(id, "cancelled"));
        let record = events.last().map(|e| e.record.clone()).unwrap_or_default();
        Ok((record, events))
    }

    /// Goods out `id` (404 when unknown), refused with `refusal` unless its status is one of
    /// `allowed`.
    pub(crate) fn goods_out_in(
        &self,
        id: u64,
        allowed: &[GoodsOutStatus],
        refusal: impl FnOnce(GoodsOutStatus) -> ClarusError,
    ) -> Result<&GoodsOut, ClarusError> {
        let order = self
            .goods_outs
            .get(&id)
            .ok_or_else(|| ClarusError::not_found("Goods out", id))?;
        if allowed.contains(&order.status) {
            Ok(order)
        } else {
            Err(refusal(order.status))
        }
    }

    /// Removes a goods out that never reached the floor (deleted, or cancelled while pending).
    fn forget_goods_out(&mut self, id: u64) {
        self.goods_outs.remove(&id);
        self.goods_out_refs.remove(id);
        self.open_goods_outs.remove(&id);
        self.holding.remove(&id);
    }

    /// Takes a goods out off the floor at `at`: `Completed` (despatched then) or `Cancelled`.
    /// It is no longer open and holds no stock.
    pub(crate) fn close_goods_out(&mut self, id: u64, status: GoodsOutStatus, at: Timestamp) {
        self.open_goods_outs.remove(&id);
        self.holding.remove(&id);
        if let Some(o) = self.goods_outs.get_mut(&id) {
            o.status = status;
            o.updated = at;
            if status == GoodsOutStatus::Completed {
                o.dispatched = Some(at);
                o.attrs
                    .insert("actual_date_of_dispatch".into(), json!(at.to_string()));
            }
        }
    }

    /// The last events of a goods out taken off the floor: its open pick list moved to `event`
    /// (`completed`, `cancelled`), then `goods_out.{event}`.
    pub(crate) fn goods_out_closed(&mut self, id: u64, event: &'static str) -> Vec<Event> {
        let mut events = Vec::new();
        if let Some(list) = self.pick_list_of(id) {
            events.push(self.move_pick_list(list, event));
        }
        events.push(self.goods_out_event(id, event));
        events
    }

    /// A `goods_out` event with the goods out's record.
    pub(crate) fn goods_out_event(&self, id: u64, event: &'static str) -> Event {
        Event {
            resource: "goods_out",
            event,
            record: self.goods_out_json(id),
        }
    }

    pub(crate) fn goods_out_json(&self, id: u64) -> Value {
        let Some(o) = self.goods_outs.get(&id) else {
            return Value::Null;
        };
        let mut out = stamped(&o.attrs, id, o.created, o.updated);
        out.insert("goods_out_status_id".into(), json!(o.status.id()));
        out.insert(
            "goods_out_status".into(),
            json!({"code": o.status.code(), "name": o.status.name()}),
        );
        if let Some(a) = &o.address {
            out.insert("address".into(), a.clone());
        }
        let lines: Vec<Value> = o
            .lines
            .iter()
            .map(|l| {
                let mut line = self.line_json(&l.attrs, l.id, l.product);
                line.insert("order_quantity".into(), decimal_to_json(l.order_quantity));
                line.insert("allocated_quantity".into(), decimal_to_json(l.allocated()));
                line.insert("pick_quantity".into(), decimal_to_json(l.picked()));
                line.insert("dispatch_quantity".into(), decimal_to_json(l.dispatch_quantity));
                line.insert("short_status".into(), json!(l.short_status));
                line.insert(
                    "picked_stock".into(),
                    Value::Array(
                        l.picks
                            .iter()
                            .map(|p| json!({"stock_id": p.stock, "quantity": decimal_to_json(p.quantity), "batch": p.batch, "serial_number": p.serial, "location_id": p.location}))
                            .collect(),
                    ),
                );
                Value::Object(line)
            })
            .collect();
        out.insert("lines".into(), Value::Array(lines));
        let shipments: Vec<Value> = o.shipments.iter().map(|s| self.shipment_json(*s)).collect();
        let tracking = shipments
            .iter()
            .rev()
            .find_map(|s| s.get("tracking_number").filter(|t| !t.is_null()).cloned());
        out.insert("tracking_number".into(), tracking.unwrap_or(Value::Null));
        out.insert("status".into(), json!(o.status.code()));
        out.insert("shipments".into(), Value::Array(shipments));
        Value::Object(out)
    }
}

impl OrderLine for GoodsOutLine {
    const QUANTITY: &'static str = "order_quantity";
    const QUANTITY_REQUIRED: (u32, &'static str) = (919, "order_quantity_required");

    fn new(id: u64, product: u64, quantity: Decimal, attrs: Map<String, Value>) -> Self {
        Self {
            id,
            product,
            order_quantity: quantity,
            allocations: Vec::new(),
            picks: Vec::new(),
            dispatch_quantity: Decimal::ZERO,
            short_status: String::new(),
            attrs,
            created: now(),
        }
    }

    fn id(&self) -> u64 {
        self.id
    }

    fn editable(&mut self) -> (&mut u64, &mut Decimal, &mut Map<String, Value>) {
        (&mut self.product, &mut self.order_quantity, &mut self.attrs)
    }
}
