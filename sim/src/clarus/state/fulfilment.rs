//! The goods-out flow on the warehouse floor: allocate, short, pick and despatch.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde_json::{Map, json};

use super::{
    ClarusError, Event, GoodsOutStatus, Package, Pick, Shipment, State, StockStatus, id_attr, now,
};
use crate::json::decimal_to_json;

impl State {
    /// Allocates free available stock to the order's lines (FIFO by stock id).
    pub(crate) fn allocate(
        &mut self,
        id: u64,
    ) -> Result<(GoodsOutStatus, Vec<Event>), ClarusError> {
        let order = self.goods_outs.get(&id).cloned().ok_or_else(|| {
            ClarusError::unprocessable(
                37,
                "invalid_ids_provided",
                format!("Goods out {id} does not exist"),
            )
        })?;
        if !matches!(
            order.status,
            GoodsOutStatus::Pending | GoodsOutStatus::Allocated | GoodsOutStatus::PartAllocated
        ) {
            return Err(ClarusError::unprocessable(
                59,
                "goods_out_already_allocated",
                format!("Goods out {id} is {}", order.status.code()),
            ));
        }
        let warehouse = id_attr(&order.attrs, "warehouse_id").unwrap_or(1);
        let mut allocated = self.allocated_on();
        let mut lines = order.lines.clone();
        for line in lines.iter_mut() {
            let mut need = line.order_quantity - line.allocated();
            if need <= Decimal::ZERO || line.short_status == "SHORT" {
                continue;
            }
            for (stock_id, stock) in &self.stocks {
                if need <= Decimal::ZERO {
                    break;
                }
                if stock.product != line.product
                    || stock.warehouse != warehouse
                    || stock.status != StockStatus::Available
                {
                    continue;
                }
                let free = stock.quantity - allocated.get(stock_id).copied().unwrap_or_default();
                let take = free.min(need);
                if take > Decimal::ZERO {
                    line.allocations.push((*stock_id, take));
                    *allocated.entry(*stock_id).or_default() += take;
                    need -= take;
                }
            }
        }
        let fully = lines
            .iter()
            .all(|l| l.allocated() >= l.order_quantity || l.short_status == "SHORT");
        let any = lines.iter().any(|l| l.allocated() > Decimal::ZERO);
        let status = if fully {
            GoodsOutStatus::Allocated
        } else if any {
            GoodsOutStatus::PartAllocated
        } else {
            GoodsOutStatus::Pending
        };
        if lines.iter().any(|l| !l.allocations.is_empty()) {
            self.holding.insert(id);
        } else {
            self.holding.remove(&id);
        }
        let o = self.goods_outs.get_mut(&id).expect("checked");
        o.lines = lines;
        o.status = status;
        o.updated = now();
        let mut events = Vec::new();
        if any {
            events.push(self.goods_out_event(id, "processed"));
            if self.pick_list_of(id).is_none() {
                events.push(self.open_pick_list(id));
            }
        }
        Ok((status, events))
    }

    /// Shorts the unallocated remainder of part-allocated orders; they become ALLOCATED.
    pub(crate) fn short_order_lines(&mut self, ids: &[u64]) -> Result<Vec<Event>, ClarusError> {
        if ids.is_empty() {
            return Err(ClarusError::unprocessable(
                36,
                "empty_ids_provided",
                "ids is empty",
            ));
        }
        for id in ids {
            match self.goods_outs.get(id) {
                None => {
                    return Err(ClarusError::unprocessable(
                        37,
                        "invalid_ids_provided",
                        format!("Goods out {id} does not exist"),
                    ));
                }
                Some(o) if o.status != GoodsOutStatus::PartAllocated => {
                    return Err(ClarusError::unprocessable(
                        923,
                        "goods_out_not_part_allocated",
                        format!("Goods out {id} is {}", o.status.code()),
                    ));
                }
                Some(_) => {}
            }
        }
        let mut events = Vec::new();
        for id in ids {
            let o = self.goods_outs.get_mut(id).expect("checked");
            for line in o.lines.iter_mut() {
                if line.allocated() < line.order_quantity {
                    line.short_status = "SHORT".into();
                }
            }
            o.status = GoodsOutStatus::Allocated;
            o.updated = now();
            events.push(self.goods_out_event(*id, "updated"));
        }
        Ok(events)
    }

    /// Picks allocated stock. `picked` caps the quantity picked per product (a short pick); the
    /// allocated remainder is released and the line marked SHORT.
    pub(crate) fn pick(
        &mut self,
        id: u64,
        picked: &HashMap<u64, Decimal>,
    ) -> Result<Vec<Event>, ClarusError> {
        let order = self
            .goods_out_in(id, &[GoodsOutStatus::Allocated], |status| {
                ClarusError::unprocessable(
                    924,
                    "goods_out_not_allocated",
                    format!(
                        "Goods out {id} is {}; only ALLOCATED orders can be picked",
                        status.code()
                    ),
                )
            })?
            .clone();
        let reference = order.attrs.get("reference").cloned();
        let mut budget = picked.clone();
        let mut lines = order.lines.clone();
        let mut taken: Vec<(u64, Decimal)> = Vec::new();
        for line in lines.iter_mut() {
            let mut pick_cap = budget.get(&line.product).copied();
            let mut picks = Vec::new();
            for (stock, quantity) in line.allocations.drain(..) {
                let q = match pick_cap.as_mut() {
                    Some(cap) => {
                        let q = (*cap).min(quantity).max(Decimal::ZERO);
                        *cap -= q;
                        q
                    }
                    None => quantity,
                };
                if q > Decimal::ZERO {
                    let s = &self.stocks[&stock];
                    picks.push(Pick {
                        stock,
                        quantity: q,
                        batch: s.batch.clone(),
                        serial: s.serial.clone(),
                        location: s.location,
                    });
                    taken.push((stock, q));
                }
            }
            if let Some(cap) = pick_cap {
                budget.insert(line.product, cap);
            }
            line.picks.extend(picks);
            if line.picked() < line.order_quantity {
                line.short_status = "SHORT".into();
            } else {
                line.short_status = "FULL".into();
            }
        }
        let mut events = Vec::new();
        for (stock, q) in taken {
            self.take_stock(stock, q);
            events.push(self.stock_event(
                "picked",
                stock,
                q,
                json!({"goods_out_id": id, "reference": reference}),
            ));
        }
        let o = self.goods_outs.get_mut(&id).expect("checked");
        o.lines = lines;
        o.status = GoodsOutStatus::Pick;
        self.holding.remove(&id);
        o.updated = now();
        if let Some(list) = self.pick_list_of(id) {
            events.push(self.move_pick_list(list, "picked"));
        }
        Ok(events)
    }

    /// Despatches a picked order: a shipment with packages and tracking numbers. With `part`
    /// (quantity per product), only that much leaves and the order stays in PICK (a part
    /// shipment: `goods_out.updated` fires); without it, everything picked and not yet
    /// dispatched leaves and the order is COMPLETED.
    pub(crate) fn despatch(
        &mut self,
        id: u64,
        carrier: u64,
        packages: Vec<(String, Option<Decimal>)>,
        part: Option<&HashMap<u64, Decimal>>,
    ) -> Result<Vec<Event>, ClarusError> {
        let order = self
            .goods_out_in(id, &[GoodsOutStatus::Pick], |status| {
                ClarusError::unprocessable(
                    925,
                    "goods_out_not_picked",
                    format!("Goods out {id} is {}; pick it first", status.code()),
                )
            })?
            .clone();
        if !self.carriers.contains_key(&carrier) {
            return Err(ClarusError::unprocessable(
                907,
                "carrier_not_found",
                format!("Carrier {carrier} does not exist"),
            ));
        }
        if order.lines.iter().all(|l| l.picked().is_zero()) {
            return Err(ClarusError::unprocessable(
                926,
                "nothing_picked",
                "Nothing was picked; cancel the order instead",
            ));
        }
        let reference = order.attrs.get("reference").cloned();
        let shipment_id = self.allocate_id();
        let mut package_list = Vec::new();
        for (tracking, weight) in &packages {
            let pid = self.allocate_id();
            let mut attrs = Map::new();
            if let Some(w) = weight {
                attrs.insert("weight".into(), decimal_to_json(*w));
            }
            package_list.push(Package {
                id: pid,
                tracking_number: Some(tracking.clone()),
                attrs,
            });
        }
        let t = now();
        self.shipments.insert(
            shipment_id,
            Shipment {
                goods_out: id,
                attrs: json!({"carrier_id": carrier, "reference": format!("SHP-{shipment_id}")})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                status: "dispatched".into(),
                tracking_number: packages.first().map(|(t, _)| t.clone()),
                packages: package_list,
                created: t,
                updated: t,
            },
        );
        let mut events = Vec::new();
        let o = self.goods_outs.get_mut(&id).expect("checked");
        o.updated = t;
        o.shipments.push(shipment_id);
        o.attrs.insert("carrier_id".into(), json!(carrier));
        let mut budget = part.cloned();
        let mut dispatched = Vec::new();
        for line in o.lines.iter_mut() {
            let left = line.picked() - line.dispatch_quantity;
            let now = match budget.as_mut().map(|b| b.entry(line.product).or_default()) {
                Some(cap) => {
                    let q = (*cap).min(left).max(Decimal::ZERO);
                    *cap -= q;
                    q
                }
                None => left,
            };
            if now <= Decimal::ZERO {
                continue;
            }
            line.dispatch_quantity += now;
            // Picked stock left its location at the pick: the dispatch only reports it, from
            // the line's picks in order.
            let mut rest = now;
            for p in &line.picks {
                let q = p.quantity.min(rest);
                if q > Decimal::ZERO {
                    dispatched.push((p.stock, q));
                    rest -= q;
                }
            }
        }
        for (stock, q) in dispatched {
            events.push(self.stock_event(
                "dispatched",
                stock,
                q,
                json!({"goods_out_id": id, "reference": reference}),
            ));
        }
        if part.is_some() {
            events.push(self.goods_out_event(id, "updated"));
            return Ok(events);
        }
        self.close_goods_out(id, GoodsOutStatus::Completed, t);
        events.extend(self.goods_out_closed(id, "completed"));
        Ok(events)
    }
}
