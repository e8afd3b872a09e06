//! Orders (sales orders, purchase orders, return authorisations): their lines, the quantities
//! processed on them and the status those quantities give the order.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::{
    LINE_STEP, State, item_types, qty_field, ref_code, required_lines, status_ref, sublist_items,
};
use crate::json::{decimal_from_json, decimal_to_json, id_from_json, now_seconds};
use crate::netsuite::error::NsError;
use crate::netsuite::records::RecordType;

/// Where an order line stands: ordered, processed (fulfilled or received) and closed.
pub(super) struct LineProgress {
    pub(super) quantity: Decimal,
    pub(super) done: Decimal,
    pub(super) closed: bool,
}

impl LineProgress {
    /// Reads a line; `field` is the order's processed-quantity field (see `qty_field`).
    pub(super) fn of(line: &Value, field: &str) -> Self {
        let decimal = |name: &str| {
            line.get(name)
                .and_then(decimal_from_json)
                .unwrap_or_default()
        };
        Self {
            quantity: decimal("quantity"),
            done: decimal(field),
            closed: line
                .get("isClosed")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }
}

/// An order's lines, to change in place (none when the body has no `item` sublist).
fn order_lines_mut(body: &mut Map<String, Value>) -> impl Iterator<Item = &mut Value> {
    body.get_mut("item")
        .and_then(|s| s.get_mut("items"))
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

impl State {
    /// Validates and normalises one order line; `line` is its line number.
    pub(super) fn order_line(
        &self,
        mut line: Map<String, Value>,
        number: u64,
        path: &str,
    ) -> Result<Map<String, Value>, NsError> {
        let item = self.resolve_ref(
            line.get("item").unwrap_or(&Value::Null),
            &item_types(),
            &format!("{path}.item"),
        )?;
        let quantity = line
            .get("quantity")
            .and_then(decimal_from_json)
            .filter(|q| *q > Decimal::ZERO)
            .ok_or_else(|| {
                NsError::user("Please enter a quantity greater than 0.")
                    .at(format!("{path}.quantity"))
            })?;
        if let Some(location) = line.get("location").filter(|v| !v.is_null()).cloned() {
            let id = self.resolve_ref(
                &location,
                &[RecordType::Location],
                &format!("{path}.location"),
            )?;
            line.insert("location".into(), self.simple_ref(RecordType::Location, id));
        }
        line.insert("line".into(), json!(number));
        line.insert("item".into(), self.item_ref(item));
        line.insert("quantity".into(), decimal_to_json(quantity));
        // Order lines carry both `quantityFulfilled` and `quantityReceived` (as the browser
        // lists them); only the record's own one moves.
        line.insert("quantityFulfilled".into(), json!(0));
        line.insert("quantityReceived".into(), json!(0));
        line.entry("isClosed").or_insert(json!(false));
        Self::normalise_loose_refs(&mut line);
        Ok(line)
    }

    /// Creates a sales order, purchase order or return authorisation (pending approval when
    /// `orderStatus` is A).
    pub(super) fn create_order(
        &mut self,
        record: RecordType,
        mut body: Map<String, Value>,
    ) -> Result<u64, NsError> {
        let lines = required_lines(&body, "item")?;
        let mut normalised = Vec::new();
        for (i, line) in lines.into_iter().enumerate() {
            let Value::Object(line) = line else {
                return Err(
                    NsError::content("Each line must be an object.").at(format!("item.items[{i}]"))
                );
            };
            normalised.push(Value::Object(self.order_line(
                line,
                1 + LINE_STEP * i as u64,
                &format!("item.items[{i}]"),
            )?));
        }
        if let Some(location) = body.get("location").filter(|v| !v.is_null()).cloned() {
            let id = self.resolve_ref(&location, &[RecordType::Location], "location")?;
            body.insert("location".into(), self.simple_ref(RecordType::Location, id));
        }
        let pending_approval = ref_code(&body, "orderStatus") == Some("A");
        body.insert("item".into(), json!({"items": normalised}));
        body.insert(
            "status".into(),
            status_ref(record, if pending_approval { "A" } else { "B" }),
        );
        body.insert(
            "orderStatus".into(),
            json!({"id": if pending_approval { "A" } else { "B" }}),
        );
        self.finish_transaction(record, &mut body);
        Ok(self.stamp_new(record, body, None))
    }

    /// Moves the processed quantities of order lines by `deltas` times `sign` (one when a
    /// fulfilment or receipt is made, minus one when it is deleted) and recomputes the orders'
    /// status.
    pub(super) fn apply_order_deltas(
        &mut self,
        deltas: &[(RecordType, u64, u64, Decimal)],
        sign: Decimal,
    ) {
        let now = now_seconds();
        for (record, id, line_number, delta) in deltas {
            let field = qty_field(*record);
            let Some(order) = self.get_mut(*record, *id) else {
                continue;
            };
            for line in order_lines_mut(&mut order.body) {
                if line.get("line").and_then(id_from_json) == Some(*line_number) {
                    let done = LineProgress::of(line, field).done + *delta * sign;
                    line[field] = decimal_to_json(done);
                }
            }
            Self::recompute_order_status(*record, &mut order.body);
            self.touch(*record, *id, now);
        }
    }

    /// Sets an order's status from its lines (unless it is held in a terminal or approval state).
    pub(super) fn recompute_order_status(record: RecordType, body: &mut Map<String, Value>) {
        if matches!(ref_code(body, "status").unwrap_or("B"), "A" | "C" | "G") {
            return;
        }
        let field = qty_field(record);
        let lines = sublist_items(body, "item").cloned().unwrap_or_default();
        let mut any_done = false;
        let mut all_done = true;
        let mut all_closed = !lines.is_empty();
        for line in &lines {
            let LineProgress {
                quantity,
                done,
                closed,
            } = LineProgress::of(line, field);
            any_done |= done > Decimal::ZERO;
            if !closed {
                all_closed = false;
                all_done &= done >= quantity;
            }
        }
        let code = if all_closed {
            "H"
        } else if all_done && any_done {
            "F"
        } else if any_done {
            "E"
        } else {
            "B"
        };
        body.insert("status".into(), status_ref(record, code));
    }

    /// The order part of a `PATCH`: a keyed merge of the lines (or their replacement when
    /// `replace` names `item`), keeping processed quantities, and approval (`orderStatus` B on
    /// an order pending approval).
    pub(super) fn patch_order(
        &self,
        record: RecordType,
        body: &mut Map<String, Value>,
        patch: &mut Map<String, Value>,
        replace: &[String],
    ) -> Result<(), NsError> {
        if let Some(Value::Object(lines)) = patch.remove("item") {
            let items = lines
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let replace_all = replace.iter().any(|r| r == "item");
            let existing = sublist_items(body, "item").cloned().unwrap_or_default();
            let mut next_line = existing
                .iter()
                .filter_map(|l| l.get("line").and_then(id_from_json))
                .max()
                .unwrap_or(0)
                + LINE_STEP;
            let done_field = qty_field(record);
            let mut result: Vec<Value> = if replace_all {
                Vec::new()
            } else {
                existing.clone()
            };
            for (i, line) in items.into_iter().enumerate() {
                let path = format!("item.items[{i}]");
                let Value::Object(line) = line else {
                    return Err(NsError::content("Each line must be an object.").at(path));
                };
                let key = line.get("line").and_then(id_from_json);
                let old = key.and_then(|k| {
                    existing
                        .iter()
                        .find(|l| l.get("line").and_then(id_from_json) == Some(k))
                });
                match old {
                    Some(old) => {
                        let mut merged = old.as_object().cloned().unwrap_or_default();
                        for (k, v) in line {
                            if k == done_field {
                                continue;
                            }
                            merged.insert(k, v);
                        }
                        let done = merged
                            .get(done_field)
                            .and_then(decimal_from_json)
                            .unwrap_or_default();
                        let normalised = self.order_line(merged, key.unwrap_or_default(), &path)?;
                        let quantity = normalised
                            .get("quantity")
                            .and_then(decimal_from_json)
                            .unwrap_or_default();
                        if quantity < done {
                            return Err(NsError::user(format!(
                                "The quantity of line {} cannot go below the {} already processed.",
                                key.unwrap_or_default(),
                                done.normalize()
                            ))
                            .at(format!("{path}.quantity")));
                        }
                        let mut normalised = normalised;
                        normalised.insert(done_field.into(), decimal_to_json(done));
                        let value = Value::Object(normalised);
                        match result
                            .iter_mut()
                            .find(|l| l.get("line").and_then(id_from_json) == key)
                        {
                            Some(slot) => *slot = value,
                            None => result.push(value),
                        }
                    }
                    None => {
                        if let Some(k) = key {
                            return Err(NsError::user(format!(
                                "Line {k} does not exist on this order."
                            ))
                            .at(format!("{path}.line")));
                        }
                        result.push(Value::Object(self.order_line(line, next_line, &path)?));
                        next_line += LINE_STEP;
                    }
                }
            }
            if replace_all {
                for old in &existing {
                    let done = old
                        .get(done_field)
                        .and_then(decimal_from_json)
                        .unwrap_or_default();
                    let key = old.get("line").and_then(id_from_json);
                    if done > Decimal::ZERO
                        && !result
                            .iter()
                            .any(|l| l.get("line").and_then(id_from_json) == key)
                    {
                        return Err(NsError::user(format!(
                            "Line {} has been processed and cannot be removed.",
                            key.unwrap_or_default()
                        ))
                        .at("item"));
                    }
                }
            }
            body.insert("item".into(), json!({"items": result}));
        }
        if ref_code(patch, "orderStatus") == Some("B")
            && ref_code(body, "status").unwrap_or("B") == "A"
        {
            body.insert("status".into(), status_ref(record, "B"));
        }
        patch.remove("status");
        Ok(())
    }

    /// Sets an order's status directly (cancel, close), as a user would in the UI.
    pub(crate) fn set_order_status(
        &mut self,
        record: RecordType,
        id: u64,
        code: &str,
    ) -> Result<(), NsError> {
        let order = self
            .get_mut(record, id)
            .ok_or_else(|| NsError::not_found(format!("{record} {id} does not exist.")))?;
        if code == "H" {
            for line in order_lines_mut(&mut order.body) {
                line["isClosed"] = json!(true);
            }
        }
        order.body.insert("status".into(), status_ref(record, code));
        self.touch(record, id, now_seconds());
        Ok(())
    }
}
