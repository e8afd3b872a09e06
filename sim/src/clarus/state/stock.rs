//! Stock records: putting away, taking, holding, adjusting, balances and stock checks.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{
    ClarusError, Event, GoodsOut, GoodsOutStatus, Placement, State, Stock, StockCheck, StockStatus,
    id_attr, now,
};
use crate::json::decimal_to_json;

impl State {
    /// Quantity of a stock record promised to open goods-out lines.
    pub(super) fn allocated_on(&self) -> HashMap<u64, Decimal> {
        let mut out: HashMap<u64, Decimal> = HashMap::new();
        for g in self.holding.iter().filter_map(|id| self.goods_outs.get(id)) {
            for l in &g.lines {
                for (stock, q) in &l.allocations {
                    *out.entry(*stock).or_default() += *q;
                }
            }
        }
        out
    }

    /// The goods outs neither completed nor cancelled, in id order.
    pub(crate) fn open_orders(&self) -> impl Iterator<Item = &GoodsOut> {
        self.open_goods_outs
            .iter()
            .filter_map(|id| self.goods_outs.get(id))
    }

    pub(crate) fn free_quantity(&self, stock: u64) -> Decimal {
        let allocated = self.allocated_on().get(&stock).copied().unwrap_or_default();
        self.stocks
            .get(&stock)
            .map_or(Decimal::ZERO, |s| s.quantity - allocated)
    }

    /// Adds stock to a record with the same product, location, status and batch, or a new one.
    pub(crate) fn put_stock(&mut self, at: Placement, quantity: Decimal) -> u64 {
        let Placement {
            product,
            account,
            location,
            status,
            batch,
            serial,
        } = at;
        let warehouse = self
            .locations
            .get(&location)
            .and_then(|l| l.warehouse)
            .unwrap_or(1);
        // Serial-numbered stock is one record per unit; other stock shares the first record
        // with the same product, owner, location, status and batch.
        let slot = (product, account, location, status, batch.clone());
        let existing = if serial.is_none() {
            self.stock_slots.first(&slot)
        } else {
            None
        };
        let t = now();
        match existing {
            Some(id) => {
                let s = self.stocks.get_mut(&id).expect("found");
                s.quantity += quantity;
                s.updated = t;
                id
            }
            None => {
                let id = self.allocate_id();
                if serial.is_none() {
                    self.stock_slots.add(slot, id);
                }
                self.stocks.insert(
                    id,
                    Stock {
                        product,
                        account,
                        warehouse,
                        location,
                        status,
                        quantity,
                        batch,
                        serial,
                        created: t,
                        updated: t,
                    },
                );
                id
            }
        }
    }

    pub(super) fn take_stock(&mut self, stock: u64, quantity: Decimal) {
        if let Some(s) = self.stocks.get_mut(&stock) {
            s.quantity -= quantity;
            s.updated = now();
        }
    }

    pub(crate) fn stock_json(&self, id: u64) -> Value {
        let Some(s) = self.stocks.get(&id) else {
            return Value::Null;
        };
        json!({
            "id": id,
            "product_id": s.product,
            "product_code": self.product_code(s.product),
            "account_id": s.account,
            "warehouse_id": s.warehouse,
            "location_id": s.location,
            "location_code": self.locations.get(&s.location).map(|l| l.code.clone()),
            "status": s.status.as_str(),
            "quantity": decimal_to_json(s.quantity),
            "batch": s.batch,
            "string1": s.batch,
            "serial_number": s.serial,
            "fifo_date": s.created.to_string(),
            "created_at": s.created.to_string(),
            "updated_at": s.updated.to_string(),
        })
    }

    /// A `stock_balance` record for a product in a warehouse (what `stock_balance.updated` carries).
    pub(crate) fn balance_json(&self, product: u64, warehouse: u64) -> Value {
        let mut available = Decimal::ZERO;
        let mut held = Decimal::ZERO;
        for s in self
            .stocks
            .values()
            .filter(|s| s.product == product && s.warehouse == warehouse)
        {
            match s.status {
                StockStatus::Available => available += s.quantity,
                StockStatus::Held => held += s.quantity,
            }
        }
        let (allocated, picked, ordered) = self
            .committed()
            .get(&(product, warehouse))
            .copied()
            .unwrap_or_default();
        json!({
            "product_id": product,
            "warehouse_id": warehouse,
            "account_id": 1,
            "product": self.product_ref(product),
            "warehouse": Self::named_ref(&self.warehouses, warehouse),
            "account": Self::named_ref(&self.accounts, 1),
            "available": decimal_to_json(available - allocated),
            "allocated": decimal_to_json(allocated),
            "picked": decimal_to_json(picked),
            "ordered": decimal_to_json(ordered),
            "held": decimal_to_json(held),
            "on_hand": decimal_to_json(available + held + picked),
            "updated_at": now().to_string(),
        })
    }

    /// Moves `quantity` of a stock record to the other status (splitting the record if needed).
    pub(crate) fn set_status(
        &mut self,
        stock: u64,
        quantity: Decimal,
        status: StockStatus,
        extra: Value,
    ) -> Result<Event, ClarusError> {
        let s = self.stocks.get(&stock).cloned().ok_or_else(|| {
            ClarusError::unprocessable(
                37,
                "invalid_ids_provided",
                format!("Stock {stock} does not exist"),
            )
        })?;
        if s.status == status {
            return Err(ClarusError::unprocessable(
                910,
                "stock_already_in_status",
                format!("Stock {stock} is already {}", status.as_str()),
            ));
        }
        if quantity > self.free_quantity(stock) || quantity <= Decimal::ZERO {
            return Err(ClarusError::unprocessable(
                911,
                "not_enough_free_stock",
                format!("Stock {stock} has {} free", self.free_quantity(stock)),
            ));
        }
        let target = if quantity == s.quantity {
            let record = self.stocks.get_mut(&stock).expect("exists");
            if record.serial.is_none() {
                let slot = |status| {
                    (
                        record.product,
                        record.account,
                        record.location,
                        status,
                        record.batch.clone(),
                    )
                };
                self.stock_slots.remove(&slot(record.status), stock);
                self.stock_slots.add(slot(status), stock);
            }
            record.status = status;
            record.updated = now();
            stock
        } else {
            self.take_stock(stock, quantity);
            self.put_stock(
                Placement {
                    product: s.product,
                    account: s.account,
                    location: s.location,
                    status,
                    batch: s.batch.clone(),
                    serial: s.serial.clone(),
                },
                quantity,
            )
        };
        let event = if status == StockStatus::Held {
            "placed_on_hold"
        } else {
            "released_from_hold"
        };
        Ok(self.stock_event(event, target, quantity, extra))
    }

    pub(crate) fn negative_adjustment(
        &mut self,
        stock: u64,
        quantity: Decimal,
        extra: Value,
    ) -> Result<Event, ClarusError> {
        if !self.stocks.contains_key(&stock) {
            return Err(ClarusError::not_found("Stock", stock));
        }
        if quantity <= Decimal::ZERO || quantity > self.free_quantity(stock) {
            return Err(ClarusError::unprocessable(
                912,
                "invalid_adjustment_quantity",
                format!(
                    "Quantity must be greater than 0 and no more than the {} available",
                    self.free_quantity(stock).normalize()
                ),
            )
            .at("/data/attributes/quantity"));
        }
        self.take_stock(stock, quantity);
        Ok(self.stock_event("negatively_adjusted", stock, quantity, extra))
    }

    pub(crate) fn create_stock_check(&mut self, location: u64) -> Result<(u64, u64), ClarusError> {
        if !self.locations.contains_key(&location) {
            return Err(ClarusError::unprocessable(
                907,
                "location_not_found",
                format!("Location {location} does not exist"),
            )
            .at("/data/attributes/location_id"));
        }
        if let Some((id, check)) = self
            .stock_checks
            .iter()
            .find(|(_, c)| c.location == location && c.status == "pending")
        {
            return Ok((*id, check.task));
        }
        let id = self.allocate_id();
        let task = self.allocate_id();
        self.stock_checks.insert(
            id,
            StockCheck {
                location,
                status: "pending".into(),
                task,
                product: None,
                expected: None,
                counted: None,
            },
        );
        Ok((id, task))
    }

    /// Quantity on hand per product × warehouse × status, including picked stock not yet despatched.
    pub(crate) fn on_hand(&self) -> BTreeMap<(u64, u64, StockStatus), Decimal> {
        let mut out: BTreeMap<(u64, u64, StockStatus), Decimal> = BTreeMap::new();
        for s in self.stocks.values() {
            *out.entry((s.product, s.warehouse, s.status)).or_default() += s.quantity;
        }
        for o in self
            .goods_outs
            .values()
            .filter(|o| o.status != GoodsOutStatus::Completed)
        {
            let warehouse = id_attr(&o.attrs, "warehouse_id").unwrap_or(1);
            for l in &o.lines {
                if !l.picked().is_zero() {
                    *out.entry((l.product, warehouse, StockStatus::Available))
                        .or_default() += l.picked();
                }
            }
        }
        out.retain(|_, q| !q.is_zero());
        out
    }

    /// Allocated (not yet picked) and picked quantities per product × warehouse, for balances.
    pub(crate) fn committed(&self) -> HashMap<(u64, u64), (Decimal, Decimal, Decimal)> {
        let mut out: HashMap<(u64, u64), (Decimal, Decimal, Decimal)> = HashMap::new();
        for o in self.open_orders().filter(|o| {
            !matches!(
                o.status,
                GoodsOutStatus::Completed | GoodsOutStatus::Cancelled
            )
        }) {
            let warehouse = id_attr(&o.attrs, "warehouse_id").unwrap_or(1);
            for l in &o.lines {
                let entry = out.entry((l.product, warehouse)).or_default();
                entry.0 += l.allocations.iter().map(|(_, q)| *q).sum::<Decimal>();
                entry.1 += l.picked();
                entry.2 += l.order_quantity - l.dispatch_quantity;
            }
        }
        out
    }

    /// The stock records that `keep` selects, in id order.
    pub(crate) fn stock_ids(&self, keep: impl Fn(&Stock) -> bool) -> Vec<u64> {
        self.stocks
            .iter()
            .filter(|(_, st)| keep(st))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Adjusts available stock of a product at a location by `delta`: a positive delta tops up
    /// (or opens) the batch-less record; a negative one takes free stock, oldest record first.
    pub(crate) fn adjust(
        &mut self,
        product: u64,
        location: u64,
        delta: Decimal,
        reason: &str,
    ) -> Result<Vec<Event>, ClarusError> {
        if !self.products.contains_key(&product) || !self.locations.contains_key(&location) {
            return Err(ClarusError::unprocessable(
                37,
                "invalid_ids_provided",
                "Unknown product or location",
            ));
        }
        let extra = json!({"reason": reason});
        if delta > Decimal::ZERO {
            let at = Placement::main_account(product, location, StockStatus::Available);
            let stock = self.put_stock(at, delta);
            return Ok(vec![self.stock_event(
                "positively_adjusted",
                stock,
                delta,
                extra,
            )]);
        }
        let need = -delta;
        let candidates = self.stock_ids(|st| {
            st.product == product && st.location == location && st.status == StockStatus::Available
        });
        let free: Decimal = candidates.iter().map(|id| self.free_quantity(*id)).sum();
        if free < need {
            return Err(ClarusError::unprocessable(
                912,
                "invalid_adjustment_quantity",
                format!("Only {} is free to adjust", free.normalize()),
            ));
        }
        self.take_free(candidates, need, |s, id, take| {
            s.negative_adjustment(id, take, extra.clone())
        })
    }

    /// Moves `quantity` of a product's free stock in a warehouse to status `to` (hold or
    /// release), oldest record first.
    pub(crate) fn change_status(
        &mut self,
        product: u64,
        warehouse: u64,
        quantity: Decimal,
        to: StockStatus,
        reason: &str,
    ) -> Result<Vec<Event>, ClarusError> {
        let from = if to == StockStatus::Held {
            StockStatus::Available
        } else {
            StockStatus::Held
        };
        let candidates = self.stock_ids(|st| {
            st.product == product
                && st.warehouse == warehouse
                && st.status == from
                && !st.quantity.is_zero()
        });
        let free: Decimal = candidates.iter().map(|id| self.free_quantity(*id)).sum();
        if quantity <= Decimal::ZERO || free < quantity {
            return Err(ClarusError::unprocessable(
                911,
                "not_enough_free_stock",
                format!("Only {} {} is free", free.normalize(), from.as_str()),
            ));
        }
        let extra = json!({"description": reason, "reason": reason});
        self.take_free(candidates, quantity, |s, id, take| {
            s.set_status(id, take, to, extra.clone())
        })
    }

    /// Takes `need` from the free quantity of `candidates` in order, with `take_from` making the
    /// movement of each record touched.
    fn take_free(
        &mut self,
        candidates: Vec<u64>,
        mut need: Decimal,
        mut take_from: impl FnMut(&mut Self, u64, Decimal) -> Result<Event, ClarusError>,
    ) -> Result<Vec<Event>, ClarusError> {
        let mut events = Vec::new();
        for id in candidates {
            if need.is_zero() {
                break;
            }
            let take = self.free_quantity(id).min(need);
            if take > Decimal::ZERO {
                events.push(take_from(self, id, take)?);
                need -= take;
            }
        }
        Ok(events)
    }
}
