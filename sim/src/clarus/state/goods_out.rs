//! Goods outs: lines, create, update, delete, cancel and their REST rendering.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::changes::{OrderLine, changes};
use super::{
    ClarusError, Event, GoodsOut, GoodsOutLine, GoodsOutStatus, Placement, State, StockStatus,
    id_attr, merge, now,
};
use crate::json::decimal_to_json;

impl State {
    pub(crate) fn create_goods_out(
        &mut self,
        mut attrs: Map<String, Value>,
        address: Option<Value>,
    ) -> Result<(u64, Vec<Event>), ClarusError> {
        self.require_reference(
            &attrs,
            "account_id",
            &self.accounts.clone(),
            "account_not_found",
        )?;
        if !attrs.contains_key("warehouse_id") {
            attrs.insert("warehouse_id".into(), json!(1));
        }
        self.require_reference(
            &attrs,
            "warehouse_id",
            &self.warehouses.clone(),
            "warehouse_not_found",
        )?;
        let mut lines = Vec::new();
        self.change_lines(&mut lines, changes(&attrs, "lines_changes"))?;
        attrs.remove("lines_changes");
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
        Ok((
            id,
            vec![Event {
                resource: "goods_out",
                event: "created",
                record: self.goods_out_json(id),
            }],
        ))
    }

    pub(crate) fn update_goods_out(
        &mut self,
        id: u64,
        mut attrs: Map<String, Value>,
        address: Option<Value>,
    ) -> Result<Vec<Event>, ClarusError> {
        let order = self
            .goods_outs
            .get(&id)
            .cloned()
            .ok_or_else(|| ClarusError::not_found("Goods out", id))?;
        if !matches!(
            order.status,
            GoodsOutStatus::Draft | GoodsOutStatus::Pending
        ) {
            return Err(ClarusError::unprocessable(
                59,
                "goods_out_already_allocated",
                "Only draft or pending orders can be changed",
            ));
        }
        let mut lines = order.lines.clone();
        self.change_lines(&mut lines, changes(&attrs, "lines_changes"))?;
        attrs.remove("lines_changes");
        let o = self.goods_outs.get_mut(&id).expect("checked");
        o.lines = lines;
        merge(&mut o.attrs, attrs, &[]);
        if address.is_some() {
            o.address = address;
        }
        o.updated = now();
        self.goods_out_refs
            .set(id, self.goods_outs[&id].attrs.get("reference"));
        Ok(vec![Event {
            resource: "goods_out",
            event: "updated",
            record: self.goods_out_json(id),
        }])
    }

    pub(crate) fn delete_goods_out(&mut self, id: u64) -> Result<(), ClarusError> {
        let order = self
            .goods_outs
            .get(&id)
            .ok_or_else(|| ClarusError::not_found("Goods out", id))?;
        if !matches!(
            order.status,
            GoodsOutStatus::Draft | GoodsOutStatus::Pending
        ) {
            return Err(ClarusError::unprocessable(
                920,
                "goods_out_processing_started",
                "Processing has started; cancel the order instead",
            ));
        }
        self.goods_outs.remove(&id);
        self.goods_out_refs.remove(id);
        self.open_goods_outs.remove(&id);
        self.holding.remove(&id);
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
            self.goods_outs.remove(&id);
            self.goods_out_refs.remove(id);
            self.open_goods_outs.remove(&id);
            self.holding.remove(&id);
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
        o.status = GoodsOutStatus::Cancelled;
        self.open_goods_outs.remove(&id);
        self.holding.remove(&id);
        o.updated = now();
        if let Some(list) = self.pick_list_of(id) {
            events.push(self.move_pick_list(list, "cancelled"));
        }
        let record = self.goods_out_json(id);
        events.push(Event {
            resource: "goods_out",
            event: "cancelled",
            record: record.clone(),
        });
        Ok((record, events))
    }

    pub(crate) fn goods_out_json(&self, id: u64) -> Value {
        let Some(o) = self.goods_outs.get(&id) else {
            return Value::Null;
        };
        let mut out = o.attrs.clone();
        out.insert("id".into(), json!(id));
        out.insert("goods_out_status_id".into(), json!(o.status.id()));
        out.insert(
            "goods_out_status".into(),
            json!({"code": o.status.code(), "name": o.status.name()}),
        );
        out.insert("created_at".into(), json!(o.created.to_string()));
        out.insert("updated_at".into(), json!(o.updated.to_string()));
        if let Some(a) = &o.address {
            out.insert("address".into(), a.clone());
        }
        let lines: Vec<Value> = o
            .lines
            .iter()
            .map(|l| {
                let mut line = l.attrs.clone();
                line.insert("id".into(), json!(l.id));
                line.insert("product_id".into(), json!(l.product));
                line.insert("product_code".into(), json!(self.product_code(l.product)));
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

    fn set_product(&mut self, product: u64) {
        self.product = product;
    }

    fn set_quantity(&mut self, quantity: Decimal) {
        self.order_quantity = quantity;
    }

    fn attrs_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.attrs
    }
}
