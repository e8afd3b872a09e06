//! Goods-in receipts: lines, create, update, delete, receiving and their REST rendering.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::changes::OrderLine;
use super::{
    ClarusError, Event, GoodsIn, GoodsInLine, Placement, Received, State, StockStatus, merge, now,
    stamped,
};
use crate::clarus::ReceivedLine;
use crate::json::decimal_to_json;

impl State {
    pub(crate) fn create_goods_in(
        &mut self,
        mut attrs: Map<String, Value>,
        address: Option<Value>,
    ) -> Result<(u64, Vec<Event>), ClarusError> {
        self.require_owner_and_warehouse(&attrs)?;
        let lines = self.edited_lines(Vec::new(), &mut attrs)?;
        let id = self.allocate_id();
        let t = now();
        self.goods_ins.insert(
            id,
            GoodsIn {
                attrs,
                address,
                status: "pending".into(),
                lines,
                created: t,
                updated: t,
                received_at: None,
            },
        );
        self.goods_in_refs
            .set(id, self.goods_ins[&id].attrs.get("reference"));
        Ok((id, vec![self.goods_in_event(id, "created")]))
    }

    pub(crate) fn update_goods_in(
        &mut self,
        id: u64,
        mut attrs: Map<String, Value>,
        address: Option<Value>,
    ) -> Result<(), ClarusError> {
        let lines = self
            .pending_receipt(
                id,
                916,
                "goods_in_receipt_not_pending",
                "Only pending receipts can be changed",
            )?
            .lines
            .clone();
        let lines = self.edited_lines(lines, &mut attrs)?;
        let r = self.goods_ins.get_mut(&id).expect("checked");
        r.lines = lines;
        merge(&mut r.attrs, attrs, &[]);
        if address.is_some() {
            r.address = address;
        }
        r.updated = now();
        self.goods_in_refs
            .set(id, self.goods_ins[&id].attrs.get("reference"));
        Ok(())
    }

    pub(crate) fn delete_goods_in(&mut self, id: u64) -> Result<Vec<Event>, ClarusError> {
        self.pending_receipt(
            id,
            917,
            "goods_in_receipt_receiving_started",
            "A receipt can be deleted only before receiving starts",
        )?;
        let record = self.goods_in_json(id);
        self.goods_ins.remove(&id);
        self.goods_in_refs.remove(id);
        Ok(vec![Event {
            resource: "goods_in",
            event: "cancelled",
            record,
        }])
    }

    /// `POST …/receive`: PENDING → receiving (receive tasks created).
    /// `POST …/revert`: back to pending, if nothing has been received yet.
    pub(crate) fn revert_receiving(&mut self, id: u64) -> Result<(), ClarusError> {
        let receipt = self
            .goods_ins
            .get_mut(&id)
            .ok_or_else(|| ClarusError::not_found("Goods in receipt", id))?;
        if receipt.status != "receiving" || receipt.lines.iter().any(|l| !l.received.is_empty()) {
            return Err(ClarusError::unprocessable(
                936,
                "goods_in_receipt_cannot_revert",
                "Only a receipt being received with no completed receive task can be reverted",
            ));
        }
        receipt.status = "pending".into();
        receipt.updated = now();
        Ok(())
    }

    pub(crate) fn start_receiving(&mut self, id: u64) -> Result<(), ClarusError> {
        let receipt = self.pending_receipt(
            id,
            916,
            "goods_in_receipt_not_pending",
            "The receipt must be pending",
        )?;
        if receipt.lines.is_empty() {
            return Err(ClarusError::unprocessable(
                918,
                "goods_in_receipt_has_no_lines",
                "The receipt has no lines",
            ));
        }
        receipt.status = "receiving".into();
        receipt.updated = now();
        Ok(())
    }

    /// Receipt `id` (404 when unknown) while it is pending; otherwise refused with `code`,
    /// `symbol` and `details`.
    fn pending_receipt(
        &mut self,
        id: u64,
        code: u32,
        symbol: &'static str,
        details: &str,
    ) -> Result<&mut GoodsIn, ClarusError> {
        let receipt = self
            .goods_ins
            .get_mut(&id)
            .ok_or_else(|| ClarusError::not_found("Goods in receipt", id))?;
        if receipt.status != "pending" {
            return Err(ClarusError::unprocessable(code, symbol, details));
        }
        Ok(receipt)
    }

    /// A `goods_in` event with the receipt's record.
    fn goods_in_event(&self, id: u64, event: &'static str) -> Event {
        Event {
            resource: "goods_in",
            event,
            record: self.goods_in_json(id),
        }
    }

    pub(crate) fn goods_in_json(&self, id: u64) -> Value {
        let Some(r) = self.goods_ins.get(&id) else {
            return Value::Null;
        };
        let mut out = stamped(&r.attrs, id, r.created, r.updated);
        out.insert("status".into(), json!(r.status));
        out.entry("receipt_type").or_insert(json!("standard"));
        out.insert(
            "actual_date_of_arrival".into(),
            json!(r.received_at.map(|t| t.to_string())),
        );
        if let Some(a) = &r.address {
            out.insert("address".into(), a.clone());
        }
        let lines: Vec<Value> = r
            .lines
            .iter()
            .map(|l| {
                let mut line = self.line_json(&l.attrs, l.id, l.product);
                line.insert("expected_quantity".into(), decimal_to_json(l.expected));
                line.insert("received_quantity".into(), decimal_to_json(l.received_quantity()));
                line.insert(
                    "received_stock".into(),
                    Value::Array(
                        l.received
                            .iter()
                            .map(|r| json!({"stock_id": r.stock, "quantity": decimal_to_json(r.quantity), "batch": r.batch, "serial_number": r.serial, "status": r.status.as_str()}))
                            .collect(),
                    ),
                );
                Value::Object(line)
            })
            .collect();
        out.insert("lines".into(), Value::Array(lines));
        Value::Object(out)
    }

    /// Receives stock against a goods-in receipt into `status` (held = quarantine: the stock is
    /// placed on hold as it is put away, firing `stock` / `placed_on_hold` after `received`). With
    /// `complete`, the receipt is completed (put away); otherwise it stays part-received.
    pub(crate) fn receive(
        &mut self,
        goods_in: u64,
        lines: &[ReceivedLine],
        status: StockStatus,
        complete: bool,
    ) -> Result<Vec<Event>, ClarusError> {
        let receipt = self
            .goods_ins
            .get(&goods_in)
            .cloned()
            .ok_or_else(|| ClarusError::not_found("Goods in receipt", goods_in))?;
        if !matches!(receipt.status.as_str(), "pending" | "receiving") {
            return Err(ClarusError::unprocessable(
                932,
                "goods_in_receipt_closed",
                format!("The receipt is {}", receipt.status),
            ));
        }
        let warehouse = receipt
            .attrs
            .get("warehouse_id")
            .and_then(crate::json::id_from_json)
            .unwrap_or(1);
        let account = receipt
            .attrs
            .get("account_id")
            .and_then(crate::json::id_from_json)
            .unwrap_or(1);
        let location = self.default_location(warehouse).ok_or_else(|| {
            ClarusError::unprocessable(907, "location_not_found", "The warehouse has no location")
        })?;
        for line in lines {
            if !receipt.lines.iter().any(|l| l.product == line.product.0) {
                return Err(ClarusError::unprocessable(
                    933,
                    "product_not_on_receipt",
                    format!("Product {} is not on the receipt", line.product),
                ));
            }
            if line.quantity <= Decimal::ZERO {
                return Err(ClarusError::unprocessable(
                    934,
                    "invalid_quantity",
                    "Received quantity must be positive",
                ));
            }
            if !line.serial_numbers.is_empty()
                && Decimal::from(line.serial_numbers.len()) != line.quantity
            {
                return Err(ClarusError::unprocessable(
                    935,
                    "serial_count_mismatch",
                    "One serial number per unit is needed",
                ));
            }
        }
        let mut events = Vec::new();
        let reference = receipt.attrs.get("reference").cloned();
        for line in lines {
            // Serial-numbered units are one stock record each; other stock is one record.
            let units: Vec<(Option<String>, Decimal)> = if line.serial_numbers.is_empty() {
                vec![(None, line.quantity)]
            } else {
                line.serial_numbers
                    .iter()
                    .map(|serial| (Some(serial.clone()), Decimal::ONE))
                    .collect()
            };
            let mut created = Vec::new();
            for (serial, quantity) in units {
                let stock = self.put_stock(
                    Placement {
                        product: line.product.0,
                        account,
                        location,
                        status,
                        batch: line.batch.clone(),
                        serial: serial.clone(),
                    },
                    quantity,
                );
                created.push((stock, quantity, serial));
            }
            let receipt_line = receipt
                .lines
                .iter()
                .find(|l| l.product == line.product.0 && l.received_quantity() < l.expected)
                .or_else(|| receipt.lines.iter().find(|l| l.product == line.product.0))
                .map(|l| l.id);
            for (stock, quantity, serial) in created {
                if let Some(r) = self.goods_ins.get_mut(&goods_in)
                    && let Some(l) = r.lines.iter_mut().find(|l| Some(l.id) == receipt_line)
                {
                    l.received.push(Received {
                        stock,
                        quantity,
                        batch: line.batch.clone(),
                        serial,
                        status,
                    });
                }
                events.push(self.stock_event(
                    "received",
                    stock,
                    quantity,
                    json!({"goods_in_receipt_id": goods_in, "reference": reference}),
                ));
                if status == StockStatus::Held {
                    // Stock received into quarantine is placed on hold as it is put away,
                    // with the `stock` webhook that comes with it.
                    events.push(self.stock_event(
                        "placed_on_hold",
                        stock,
                        quantity,
                        json!({"reason": "received_on_hold"}),
                    ));
                }
            }
        }
        let now = jiff::Timestamp::now();
        if let Some(r) = self.goods_ins.get_mut(&goods_in) {
            r.status = if complete {
                "completed".into()
            } else {
                "receiving".into()
            };
            r.received_at = Some(now);
            r.updated = now;
        }
        let event = if complete {
            "completed"
        } else {
            "moved_to_part"
        };
        events.push(self.goods_in_event(goods_in, event));
        Ok(events)
    }
}

impl OrderLine for GoodsInLine {
    const QUANTITY: &'static str = "expected_quantity";
    const QUANTITY_REQUIRED: (u32, &'static str) = (913, "expected_quantity_required");

    fn new(id: u64, product: u64, quantity: Decimal, attrs: Map<String, Value>) -> Self {
        Self {
            id,
            product,
            expected: quantity,
            received: Vec::new(),
            attrs,
        }
    }

    fn id(&self) -> u64 {
        self.id
    }

    fn editable(&mut self) -> (&mut u64, &mut Decimal, &mut Map<String, Value>) {
        (&mut self.product, &mut self.expected, &mut self.attrs)
    }
}
