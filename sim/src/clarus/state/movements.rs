//! Stock movements: the `stock` webhook record of each and the `transactions` log.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Event, State, merge, now};
use crate::json::{decimal_to_json, id_from_json};

impl State {
    /// The record sent with a `stock` event: one movement of one stock record.
    pub(crate) fn stock_event(
        &mut self,
        event: &'static str,
        stock: u64,
        quantity: Decimal,
        extra: Value,
    ) -> Event {
        let movement = self.allocate_id();
        let s = self.stocks.get(&stock).cloned();
        let mut record = json!({
            "id": movement,
            "created_at": now().to_string(),
            "stock_id": stock,
            "quantity": decimal_to_json(quantity),
        });
        if let Some(s) = s {
            let extra_fields = json!({
                "new_quantity": decimal_to_json(s.quantity),
                "status": s.status.as_str(),
                "batch": s.batch,
                "serial_number": s.serial,
                "product_id": s.product,
                "account_id": s.account,
                "warehouse_id": s.warehouse,
                "location_id": s.location,
                "product": self.product_ref(s.product),
                "account": Self::named_ref(&self.accounts, s.account),
                "warehouse": Self::named_ref(&self.warehouses, s.warehouse),
                "location": Self::named_ref(&self.locations, s.location),
            });
            merge(
                record.as_object_mut().expect("object"),
                extra_fields.as_object().cloned().unwrap_or_default(),
                &[],
            );
        }
        if let Value::Object(extra) = extra {
            merge(record.as_object_mut().expect("object"), extra, &[]);
        }
        if let Some(reason) = record.get("reason").cloned().filter(Value::is_string) {
            record["reason_code"] = json!({"code": reason});
        }
        record["string1"] = record.get("batch").cloned().unwrap_or(Value::Null);
        self.record_transaction(event, &record);
        Event {
            resource: "stock",
            event,
            record,
        }
    }

    /// Keeps a stock movement for the `transactions` GraphQL root.
    fn record_transaction(&mut self, event: &str, record: &Value) {
        let (subtype, category) = match event {
            "picked" => ("PICK", "outbound"),
            "dispatched" => ("DISP", "outbound"),
            "received" => ("RCV", "inbound"),
            "positively_adjusted" => ("ADJUP", "adjustment"),
            "negatively_adjusted" => ("ADJDN", "adjustment"),
            "placed_on_hold" => ("HOLD", "status"),
            "released_from_hold" => ("RELEASE", "status"),
            _ => ("OTHER", "other"),
        };
        let location = record.get("location").cloned().unwrap_or(Value::Null);
        let (from, to) = match category {
            "inbound" => (Value::Null, location),
            "outbound" => (location, Value::Null),
            _ if event == "positively_adjusted" => (Value::Null, location),
            _ if event == "negatively_adjusted" => (location, Value::Null),
            _ => (location.clone(), location),
        };
        let string_id = |v: Option<&Value>| {
            v.and_then(id_from_json)
                .map(|n| Value::String(n.to_string()))
                .unwrap_or(Value::Null)
        };
        let stringify = |mut v: Value| {
            if let Some(id) = v.get("id").and_then(id_from_json) {
                v["id"] = Value::String(id.to_string());
            }
            v
        };
        // The reason code as the movement's webhook names it: its id (when the request gave
        // one) and its code.
        let reason_code_id = record
            .get("reason_code_id")
            .or_else(|| record.pointer("/reason_code/id"));
        let reason_code_text = record.pointer("/reason_code/code").cloned();
        let reason_code = match (string_id(reason_code_id), reason_code_text) {
            (Value::Null, None | Some(Value::Null)) => Value::Null,
            (id, code) => json!({"id": id, "code": code}),
        };
        let goods_out = record.get("goods_out_id").and_then(id_from_json);
        let goods_in = record.get("goods_in_receipt_id").and_then(id_from_json);
        let node = json!({
            "id": string_id(record.get("id")),
            "subtype": subtype,
            "category": category,
            "event": event,
            "quantity": record.get("quantity"),
            "status": record.get("status"),
            "batch": record.get("batch"),
            "serial_number": record.get("serial_number"),
            "reason": record.get("reason"),
            "reason_code": reason_code,
            "created_at": record.get("created_at"),
            "product": stringify(record.get("product").cloned().unwrap_or(Value::Null)),
            "account": stringify(record.get("account").cloned().unwrap_or(Value::Null)),
            "warehouse": stringify(record.get("warehouse").cloned().unwrap_or(Value::Null)),
            "location_from": stringify(from),
            "location_to": stringify(to),
            "stock": {"id": string_id(record.get("stock_id"))},
            "goods_out": record.get("goods_out_id").and_then(id_from_json).map(|id| json!({"id": id.to_string()})),
            "goods_in_receipt": record.get("goods_in_receipt_id").and_then(id_from_json).map(|id| json!({"id": id.to_string()})),
            "completing_user": null,
        });
        self.transactions.push(node, goods_out, goods_in, subtype);
    }
}
