//! Transforms of orders into item fulfilments (sales orders) and item receipts (purchase orders,
//! returns), with NetSuite's line semantics: every open line pre-filled with its remaining
//! quantity, lines excluded or changed by the body.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::inventory::{Direction, LineAt, Movement};
use super::orders::LineProgress;
use super::{Posting, State, item_types, qty_field, ref_code, ref_id, status_ref, sublist_items};
use crate::json::{decimal_from_json, decimal_to_json, id_from_json};
use crate::netsuite::error::NsError;
use crate::netsuite::records::{RecordType, order_status_name};
use crate::netsuite::schema;

impl State {
    /// `POST /{source}/{id}/!transform/{target}`.
    pub(crate) fn transform(
        &mut self,
        source: RecordType,
        source_id: u64,
        target: RecordType,
        body: Value,
        replace_lines: bool,
    ) -> Result<u64, NsError> {
        let allowed = matches!(
            (source, target),
            (RecordType::SalesOrder, RecordType::ItemFulfillment)
                | (RecordType::PurchaseOrder, RecordType::ItemReceipt)
                | (RecordType::ReturnAuthorization, RecordType::ItemReceipt)
        );
        if !allowed {
            return Err(NsError::user(format!(
                "The transformation of {source} to {target} is not supported."
            )));
        }
        let Value::Object(mut body) = body else {
            return Err(NsError::content("The request body must be a JSON object."));
        };
        schema::check(target, &body)?;
        self.check_external_id_free(target, &body)?;
        let order = self.get(source, source_id).ok_or_else(|| {
            NsError::not_found(format!("The record instance does not exist. Provide a valid record instance ID ({source} {source_id})."))
        })?;
        let status = ref_code(&order.body, "status").unwrap_or("B");
        if matches!(status, "A" | "C" | "H") {
            return Err(NsError::user(format!(
                "You can not initialize {target}: the {} is {}.",
                source.display_name().to_lowercase(),
                order_status_name(source, status)
            )));
        }
        let direction = if target == RecordType::ItemFulfillment {
            Direction::Outbound
        } else {
            Direction::Inbound
        };
        let done_field = qty_field(source);
        let header_location = ref_id(order.body.get("location"));

        // Pre-fill: every open line with its remaining quantity.
        let mut drafts = Draft::open_lines(&order.body, done_field, header_location);
        let order_tran_id = order.body.get("tranId").cloned().unwrap_or(Value::Null);
        let all_lines: Vec<u64> = sublist_items(&order.body, "item")
            .into_iter()
            .flatten()
            .filter_map(|l| l.get("line").and_then(id_from_json))
            .collect();
        let entity = order.body.get("entity").cloned();

        // Overrides from the body, keyed by orderLine (or line).
        let body_lines = match body.remove("item") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => v
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| NsError::content("item must be {\"items\": [...]}.").at("item"))?,
        };
        let unknown_line = |key: u64| {
            format!(
                "Line {key} is not an open line of {} {}.",
                source,
                order_tran_id.as_str().unwrap_or("")
            )
        };
        self.override_lines(&mut drafts, body_lines, &all_lines, &unknown_line)?;
        if replace_lines {
            for d in drafts.iter_mut().filter(|d| !d.mentioned) {
                d.receive = false;
            }
        }
        let chosen: Vec<&Draft> = drafts.iter().filter(|d| d.receive).collect();
        if chosen.is_empty() {
            return Err(NsError::user(
                "You must enter at least one line item for this transaction.",
            )
            .at("item"));
        }

        let ship_status = ship_status_code(ref_code(&body, "shipStatus").unwrap_or("C"))?;
        let post_inventory = target == RecordType::ItemReceipt || ship_status == "C";

        let mut movements = Vec::new();
        let mut movement_paths = Vec::new();
        let mut stored_lines = Vec::new();
        let mut order_deltas = Vec::new();
        for (n, d) in chosen.iter().enumerate() {
            let path = format!("item.items[{}]", d.body_index.unwrap_or(n));
            if d.quantity <= Decimal::ZERO {
                return Err(NsError::user("Please enter a quantity greater than 0.")
                    .at(format!("{path}.quantity")));
            }
            if d.quantity > d.remaining {
                let verb = if direction == Direction::Outbound {
                    "fulfill"
                } else {
                    "receive"
                };
                return Err(NsError::user(format!(
                    "You can not {verb} more than the remaining quantity of line {} ({} remaining, {} requested).",
                    d.order_line,
                    d.remaining.normalize(),
                    d.quantity.normalize()
                ))
                .at(format!("{path}.quantity")));
            }
            let location = d.location.ok_or_else(|| {
                NsError::user("Please enter value(s) for: Inventory Location")
                    .at(format!("{path}.location"))
            })?;
            let assignments = self.assignments(
                &d.fields,
                d.item,
                d.quantity,
                direction,
                self.default_status,
                LineAt {
                    path: &path,
                    number: d.order_line,
                },
            )?;
            for a in &assignments {
                let delta = if direction == Direction::Outbound {
                    -a.quantity
                } else {
                    a.quantity
                };
                movements.push(Movement {
                    item: d.item,
                    location,
                    status: a.status,
                    lot: a.lot.clone(),
                    delta,
                });
                movement_paths.push(path.clone());
            }
            let mut line = d.fields.clone();
            self.store_detail(&mut line, &assignments, direction);
            line.insert("line".into(), json!(n + 1));
            line.insert("orderLine".into(), json!(d.order_line));
            line.insert("item".into(), self.item_ref(d.item));
            line.insert("quantity".into(), decimal_to_json(d.quantity));
            line.insert("quantityRemaining".into(), decimal_to_json(d.remaining));
            self.set_ref(&mut line, "location", RecordType::Location, location);
            line.insert("itemReceive".into(), json!(true));
            Self::normalise_loose_refs(&mut line);
            stored_lines.push(Value::Object(line));
            order_deltas.push((source, source_id, d.order_line, d.quantity));
        }
        if post_inventory {
            self.check_movements(&movements, |i| movement_paths[i].clone())?;
        }

        // Commit.
        body.insert("item".into(), json!({"items": stored_lines}));
        body.insert(
            "createdFrom".into(),
            json!({"id": source_id.to_string(), "refName": order_tran_id}),
        );
        if let Some(entity) = entity {
            body.entry("entity").or_insert(entity);
        }
        if let Some(loc) = header_location {
            body.entry("location")
                .or_insert(self.simple_ref(RecordType::Location, loc));
        }
        if target == RecordType::ItemFulfillment {
            set_ship_status(&mut body, ship_status);
        }
        self.finish_transaction(target, &mut body);
        let mut posting = Posting {
            balances: Vec::new(),
            order_lines: order_deltas,
            inventory_posted: false,
        };
        let realised = self.realise(movements);
        if post_inventory {
            self.apply_balances(&realised, Decimal::ONE);
            posting.inventory_posted = true;
        }
        posting.balances = realised;
        self.apply_order_deltas(&posting.order_lines, Decimal::ONE);
        Ok(self.stamp_new(target, body, Some(posting)))
    }

    /// Applies the body's lines to the drafts they name (by `orderLine`, or `line`): excluded
    /// (`itemReceive: false`), another quantity or location, inventory detail.
    fn override_lines(
        &self,
        drafts: &mut [Draft],
        body_lines: Vec<Value>,
        all_lines: &[u64],
        unknown_line: &dyn Fn(u64) -> String,
    ) -> Result<(), NsError> {
        for (i, line) in body_lines.into_iter().enumerate() {
            let path = format!("item.items[{i}]");
            let Value::Object(line) = line else {
                return Err(NsError::content("Each line must be an object.").at(path));
            };
            let key = line
                .get("orderLine")
                .or_else(|| line.get("line"))
                .and_then(id_from_json)
                .ok_or_else(|| {
                    NsError::user("Each line must name the order line it refers to (orderLine).")
                        .at(format!("{path}.orderLine"))
                })?;
            let excluded = line.get("itemReceive") == Some(&Value::Bool(false));
            if excluded && all_lines.contains(&key) && !drafts.iter().any(|d| d.order_line == key) {
                // Excluding a line that has nothing left to move is harmless.
                continue;
            }
            let draft = drafts
                .iter_mut()
                .find(|d| d.order_line == key)
                .ok_or_else(|| NsError::user(unknown_line(key)).at(format!("{path}.orderLine")))?;
            draft.mentioned = true;
            draft.body_index = Some(i);
            if let Some(receive) = line.get("itemReceive") {
                draft.receive = receive.as_bool().ok_or_else(|| {
                    NsError::content("itemReceive must be a boolean.")
                        .at(format!("{path}.itemReceive"))
                })?;
            }
            if let Some(item) = line.get("item").filter(|v| !v.is_null()) {
                let id = self.resolve_ref(item, &item_types(), &format!("{path}.item"))?;
                if id != draft.item {
                    return Err(NsError::user(format!("Line {key} holds another item."))
                        .at(format!("{path}.item")));
                }
            }
            if let Some(q) = line.get("quantity").filter(|v| !v.is_null()) {
                draft.quantity = decimal_from_json(q).ok_or_else(|| {
                    NsError::content("quantity must be a number.").at(format!("{path}.quantity"))
                })?;
            }
            if let Some(location) = line.get("location").filter(|v| !v.is_null()) {
                draft.location = Some(self.resolve_ref(
                    location,
                    &[RecordType::Location],
                    &format!("{path}.location"),
                )?);
            }
            draft.fields = line;
        }
        Ok(())
    }
}

/// An open order line being turned into a fulfilment or receipt line.
struct Draft {
    order_line: u64,
    item: u64,
    remaining: Decimal,
    quantity: Decimal,
    location: Option<u64>,
    /// Whether the line is fulfilled or received (`itemReceive`).
    receive: bool,
    /// Whether the body names the line.
    mentioned: bool,
    /// The body's fields for the line.
    fields: Map<String, Value>,
    /// Where the body names the line, for error paths.
    body_index: Option<usize>,
}

impl Draft {
    /// Every open line of an order with something left to process, at its remaining quantity.
    fn open_lines(
        order: &Map<String, Value>,
        done_field: &str,
        header_location: Option<u64>,
    ) -> Vec<Draft> {
        let mut drafts = Vec::new();
        for line in sublist_items(order, "item").into_iter().flatten() {
            let progress = LineProgress::of(line, done_field);
            let remaining = progress.quantity - progress.done;
            if progress.closed || remaining <= Decimal::ZERO {
                continue;
            }
            drafts.push(Draft {
                order_line: line.get("line").and_then(id_from_json).unwrap_or_default(),
                item: ref_id(line.get("item")).unwrap_or_default(),
                remaining,
                quantity: remaining,
                location: ref_id(line.get("location")).or(header_location),
                receive: true,
                mentioned: false,
                fields: Map::new(),
                body_index: None,
            });
        }
        drafts
    }
}

/// A fulfilment's ship status code: A (picked), B (packed) or C (shipped).
pub(super) fn ship_status_code(code: &str) -> Result<&'static str, NsError> {
    match code {
        "A" => Ok("A"),
        "B" => Ok("B"),
        "C" => Ok("C"),
        other => Err(NsError::field(format!(
            "Invalid Field Value {other} for the following field: shipStatus"
        ))
        .at("shipStatus")),
    }
}

/// Sets a fulfilment's `shipStatus` and `status` (the same code).
pub(super) fn set_ship_status(body: &mut Map<String, Value>, code: &str) {
    for field in ["shipStatus", "status"] {
        body.insert(field.into(), status_ref(RecordType::ItemFulfillment, code));
    }
}
