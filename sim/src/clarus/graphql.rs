//! A minimal GraphQL reader for the documented list roots.
//!
//! It parses one operation (optional `query Name($vars...)` header, fields, aliases, arguments
//! with literal or variable values, nested selections; no fragments or directives), answers
//! `<root> { all(filter:, first:, after:) { pageInfo edges { cursor node } nodes totalCount } }`
//! for `products`, `stocks`, `stock_balances`, `goods_in_receipts`, `goods_outs`,
//! `goods_out_lines`, `shipments`, `packages`, `transactions`, `automations` and
//! `pick_processing_requests`, applies the filter operators, pages Relay-style
//! (cursor = base64 of the position, ordered by id) and returns only the fields asked for.

use std::cmp::Ordering;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::state::{GoodsOutStatus, State, StockStatus};
use crate::json::decimal_to_json;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Var(String),
    Str(String),
    Num(String),
    Punct(char),
    Spread,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || c == ',' {
            i += 1;
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                s.push(chars[i]);
                i += 1;
            }
            if i >= chars.len() {
                return Err("unterminated string".into());
            }
            i += 1;
            out.push(Token::Str(s));
        } else if c == '.' {
            if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') {
                out.push(Token::Spread);
                i += 3;
            } else {
                return Err("unexpected '.'".into());
            }
        } else if c == '$' || c.is_alphabetic() || c == '_' {
            let start = if c == '$' { i + 1 } else { i };
            i = start;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            out.push(if c == '$' {
                Token::Var(name)
            } else {
                Token::Name(name)
            });
        } else if c.is_ascii_digit() || c == '-' {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || chars[i] == '.'
                    || chars[i] == 'e'
                    || chars[i] == 'E')
            {
                i += 1;
            }
            out.push(Token::Num(chars[start..i].iter().collect()));
        } else if "{}()[]:!=@".contains(c) {
            out.push(Token::Punct(c));
            i += 1;
        } else {
            return Err(format!("unexpected character '{c}'"));
        }
    }
    Ok(out)
}

/// A field of a selection set.
#[derive(Debug, Clone)]
struct Field {
    alias: Option<String>,
    name: String,
    args: Vec<(String, Value)>,
    selections: Vec<Field>,
}

impl Field {
    fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    fn arg(&self, name: &str) -> Option<&Value> {
        self.args.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    variables: &'a Map<String, Value>,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.next() {
            Some(Token::Punct(p)) if p == c => Ok(()),
            other => Err(format!("expected '{c}', found {other:?}")),
        }
    }

    fn document(&mut self) -> Result<Vec<Field>, String> {
        if let Some(Token::Name(n)) = self.peek() {
            if n == "mutation" || n == "subscription" {
                return Err(format!(
                    "{n} operations are not supported; use the REST API"
                ));
            }
            if n == "query" {
                self.pos += 1;
                if let Some(Token::Name(_)) = self.peek() {
                    self.pos += 1;
                }
                if self.peek() == Some(&Token::Punct('(')) {
                    let mut depth = 0;
                    loop {
                        match self.next() {
                            Some(Token::Punct('(')) => depth += 1,
                            Some(Token::Punct(')')) => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            None => return Err("unterminated variable definitions".into()),
                            _ => {}
                        }
                    }
                }
            }
        }
        let selections = self.selection_set()?;
        if self.peek().is_some() {
            return Err("only one operation per request is supported".into());
        }
        Ok(selections)
    }

    fn selection_set(&mut self) -> Result<Vec<Field>, String> {
        self.expect('{')?;
        let mut fields = Vec::new();
        loop {
            match self.peek() {
                Some(Token::Punct('}')) => {
                    self.pos += 1;
                    return Ok(fields);
                }
                Some(Token::Spread) => {
                    return Err("fragments are not supported by the simulator".into());
                }
                Some(Token::Punct('@')) => {
                    return Err("directives are not supported by the simulator".into());
                }
                Some(Token::Name(_)) => fields.push(self.field()?),
                other => return Err(format!("unexpected {other:?} in a selection set")),
            }
        }
    }

    fn field(&mut self) -> Result<Field, String> {
        let Some(Token::Name(first)) = self.next() else {
            return Err("expected a field name".into());
        };
        let (alias, name) = if self.peek() == Some(&Token::Punct(':')) {
            self.pos += 1;
            match self.next() {
                Some(Token::Name(n)) => (Some(first), n),
                _ => return Err("expected a field name after an alias".into()),
            }
        } else {
            (None, first)
        };
        let mut args = Vec::new();
        if self.peek() == Some(&Token::Punct('(')) {
            self.pos += 1;
            while self.peek() != Some(&Token::Punct(')')) {
                let Some(Token::Name(arg)) = self.next() else {
                    return Err("expected an argument name".into());
                };
                self.expect(':')?;
                args.push((arg, self.value()?));
            }
            self.pos += 1;
        }
        let selections = if self.peek() == Some(&Token::Punct('{')) {
            self.selection_set()?
        } else {
            Vec::new()
        };
        Ok(Field {
            alias,
            name,
            args,
            selections,
        })
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Token::Var(v)) => Ok(self.variables.get(&v).cloned().unwrap_or(Value::Null)),
            Some(Token::Str(s)) => Ok(Value::String(s)),
            Some(Token::Num(n)) => serde_json::from_str(&n).map_err(|_| format!("bad number {n}")),
            Some(Token::Name(n)) => Ok(match n.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => Value::String(n),
            }),
            Some(Token::Punct('[')) => {
                let mut items = Vec::new();
                while self.peek() != Some(&Token::Punct(']')) {
                    if self.peek().is_none() {
                        return Err("unterminated list".into());
                    }
                    items.push(self.value()?);
                }
                self.pos += 1;
                Ok(Value::Array(items))
            }
            Some(Token::Punct('{')) => {
                let mut map = Map::new();
                while self.peek() != Some(&Token::Punct('}')) {
                    let Some(Token::Name(key)) = self.next() else {
                        return Err("expected an object field name".into());
                    };
                    self.expect(':')?;
                    map.insert(key, self.value()?);
                }
                self.pos += 1;
                Ok(Value::Object(map))
            }
            other => Err(format!("unexpected {other:?} where a value was expected")),
        }
    }
}

fn id(n: u64) -> Value {
    Value::String(n.to_string())
}

fn named(map: &std::collections::BTreeMap<u64, super::state::Named>, key: u64) -> Value {
    match map.get(&key) {
        Some(n) => json!({"id": id(key), "code": n.code, "name": n.name}),
        None => Value::Null,
    }
}

fn product(state: &State, key: u64) -> Value {
    json!({"id": id(key), "code": state.product_code(key)})
}

fn attr(attrs: &Map<String, Value>, key: &str) -> Value {
    attrs.get(key).cloned().unwrap_or(Value::Null)
}

/// A node from a record's stored attributes (generic fields such as `external_system_reference1`,
/// `alt_line_number` or `string1` included; raw `*_id` integers left out), overlaid with `fields`.
fn with_attrs(attrs: &Map<String, Value>, fields: Value) -> Value {
    let mut node: Map<String, Value> = attrs
        .iter()
        .filter(|(k, _)| !k.ends_with("_id") && !k.ends_with("_changes"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Value::Object(fields) = fields {
        node.extend(fields);
    }
    Value::Object(node)
}

fn attr_id(attrs: &Map<String, Value>, key: &str) -> Option<u64> {
    attrs.get(key).and_then(crate::json::id_from_json)
}

/// The nodes of a root, in id order, and the filters it accepts.
fn nodes(state: &State, root: &str) -> Option<(Vec<Value>, &'static [&'static str])> {
    let common_nodes: Vec<Value>;
    let filters: &'static [&'static str];
    match root {
        "products" => {
            filters = &[
                "id",
                "external_system_reference1",
                "code",
                "barcode",
                "all_codes",
                "description",
                "account_id",
                "product_type",
                "created_at",
                "updated_at",
            ];
            common_nodes = state
                .products
                .keys()
                .map(|k| {
                    let mut node = state
                        .product_json(*k)
                        .as_object()
                        .cloned()
                        .unwrap_or_default();
                    node.insert("id".into(), id(*k));
                    Value::Object(node)
                })
                .collect();
        }
        "stocks" => {
            filters = &[
                "id",
                "product_id",
                "product_code",
                "account_id",
                "warehouse_id",
                "location_id",
                "location_code",
                "storage_unit_id",
                "status",
                "quantity",
                "fifo_date",
                "created_at",
                "updated_at",
            ];
            common_nodes = state
                .stocks
                .iter()
                .filter(|(_, s)| !s.quantity.is_zero())
                .map(|(k, s)| {
                    json!({
                        "id": id(*k), "quantity": decimal_to_json(s.quantity), "status": s.status.as_str(),
                        "fifo_date": s.created.to_string(), "batch": s.batch, "string1": s.batch, "serial_number": s.serial,
                        "product": product(state, s.product), "location": named(&state.locations, s.location),
                        "account": named(&state.accounts, s.account), "warehouse": named(&state.warehouses, s.warehouse),
                        "storage_unit": null, "created_at": s.created.to_string(), "updated_at": s.updated.to_string(),
                    })
                })
                .collect();
        }
        "stock_balances" => {
            filters = &[
                "product_id",
                "product_code",
                "account_id",
                "warehouse_id",
                "available",
                "allocated",
                "picked",
            ];
            let mut keys: std::collections::BTreeMap<(u64, u64, u64), (Decimal, Decimal)> =
                std::collections::BTreeMap::new();
            for s in state.stocks.values() {
                let entry = keys.entry((s.product, s.account, s.warehouse)).or_default();
                match s.status {
                    StockStatus::Available => entry.0 += s.quantity,
                    StockStatus::Held => entry.1 += s.quantity,
                }
            }
            let committed = state.committed();
            for (product_id, warehouse) in committed.keys() {
                keys.entry((*product_id, 1, *warehouse)).or_default();
            }
            common_nodes = keys
                .into_iter()
                .map(|((p, a, w), (available_stock, held))| {
                    let (allocated, picked, ordered) = committed.get(&(p, w)).copied().unwrap_or_default();
                    json!({
                        "available": decimal_to_json(available_stock - allocated), "allocated": decimal_to_json(allocated),
                        "ordered": decimal_to_json(ordered), "received": 0, "picked": decimal_to_json(picked),
                        "held": decimal_to_json(held), "on_hand": decimal_to_json(available_stock + picked + held),
                        "product": product(state, p), "account": named(&state.accounts, a), "warehouse": named(&state.warehouses, w),
                    })
                })
                .collect();
        }
        "goods_in_receipts" => {
            filters = &[
                "id",
                "external_system_reference1",
                "reference",
                "status",
                "account_id",
                "warehouse_id",
                "expected_date_of_receipt",
                "created_at",
                "updated_at",
            ];
            common_nodes = state
                .goods_ins
                .iter()
                .map(|(k, r)| {
                    let lines: Vec<Value> = r
                        .lines
                        .iter()
                        .map(|l| {
                            with_attrs(&l.attrs, json!({
                                "id": id(l.id), "product": product(state, l.product),
                                "expected_quantity": decimal_to_json(l.expected), "received_quantity": decimal_to_json(l.received_quantity()),
                                "received_stock": l.received.iter().map(|x| json!({
                                    "stock": {"id": id(x.stock)}, "quantity": decimal_to_json(x.quantity), "batch": x.batch,
                                    "serial_number": x.serial, "status": x.status.as_str(),
                                })).collect::<Vec<_>>(),
                            }))
                        })
                        .collect();
                    with_attrs(&r.attrs, json!({
                        "id": id(*k), "reference": attr(&r.attrs, "reference"), "status": r.status,
                        "receipt_type": r.attrs.get("receipt_type").cloned().unwrap_or(json!("standard")),
                        "expected_date_of_receipt": attr(&r.attrs, "expected_date_of_arrival"), "actual_date_of_receipt": r.received_at.map(|t| t.to_string()),
                        "account": attr_id(&r.attrs, "account_id").map(|a| named(&state.accounts, a)),
                        "warehouse": attr_id(&r.attrs, "warehouse_id").map(|w| named(&state.warehouses, w)),
                        "supplier": attr_id(&r.attrs, "supplier_id").map(|s| json!({"id": id(s)})),
                        "lines": lines,
                        "created_at": r.created.to_string(), "updated_at": r.updated.to_string(),
                    }))
                })
                .collect();
        }
        "goods_outs" => {
            filters = &[
                "id",
                "external_system_reference1",
                "reference",
                "goods_out_status_code",
                "account_id",
                "warehouse_id",
                "carrier_id",
                "expected_date_of_dispatch",
                "created_at",
                "updated_at",
            ];
            common_nodes = state
                .goods_outs
                .iter()
                .map(|(k, o)| {
                    with_attrs(&o.attrs, json!({
                        "id": id(*k), "reference": attr(&o.attrs, "reference"), "priority": attr(&o.attrs, "priority"),
                        "expected_date_of_dispatch": attr(&o.attrs, "expected_date_of_dispatch"), "actual_date_of_dispatch": o.dispatched.map(|t| t.to_string()),
                        "goods_out_status": {"code": o.status.code(), "name": status_name(o.status)},
                        "external_system_reference1": attr(&o.attrs, "external_system_reference1"),
                        "account": attr_id(&o.attrs, "account_id").map(|a| named(&state.accounts, a)),
                        "warehouse": attr_id(&o.attrs, "warehouse_id").map(|w| named(&state.warehouses, w)),
                        "carrier": attr_id(&o.attrs, "carrier_id").map(|c| named(&state.carriers, c)),
                        "carrier_service": attr_id(&o.attrs, "carrier_service_id").map(|c| json!({"id": id(c)})),
                        "customer": attr_id(&o.attrs, "customer_id").map(|c| json!({"id": id(c)})),
                        "created_at": o.created.to_string(), "updated_at": o.updated.to_string(),
                    }))
                })
                .collect();
        }
        "goods_out_lines" => {
            filters = &[
                "id",
                "goods_out_id",
                "product_id",
                "account_id",
                "warehouse_id",
                "goods_out_status_code",
                "carrier_id",
                "order_quantity",
                "pick_quantity",
                "created_at",
            ];
            let mut lines: Vec<(u64, Value)> = Vec::new();
            for (k, o) in &state.goods_outs {
                for l in &o.lines {
                    lines.push((l.id, with_attrs(&l.attrs, json!({
                        "id": id(l.id), "order_quantity": decimal_to_json(l.order_quantity), "allocated_quantity": decimal_to_json(l.allocated()),
                        "pick_quantity": decimal_to_json(l.picked()), "dispatch_quantity": decimal_to_json(l.dispatch_quantity), "short_status": l.short_status,
                        "product": product(state, l.product), "goods_out": {"id": id(*k), "reference": attr(&o.attrs, "reference")},
                        "goods_out_status": {"code": o.status.code()},
                        "account": attr_id(&o.attrs, "account_id").map(|a| named(&state.accounts, a)),
                        "warehouse": attr_id(&o.attrs, "warehouse_id").map(|w| named(&state.warehouses, w)),
                        "carrier": attr_id(&o.attrs, "carrier_id").map(|c| named(&state.carriers, c)),
                        "picked_stock": l.picks.iter().map(|p| json!({"stock_id": id(p.stock), "quantity": decimal_to_json(p.quantity), "batch": p.batch, "serial_number": p.serial})).collect::<Vec<_>>(),
                        "created_at": l.created.to_string(),
                    }))));
                }
            }
            lines.sort_by_key(|(k, _)| *k);
            common_nodes = lines.into_iter().map(|(_, v)| v).collect();
        }
        "shipments" => {
            filters = &[
                "id",
                "reference",
                "status",
                "carrier_id",
                "warehouse_id",
                "goods_out_id",
                "created_at",
                "updated_at",
            ];
            common_nodes = state
                .shipments
                .iter()
                .map(|(k, s)| {
                    let go = state.goods_outs.get(&s.goods_out);
                    json!({
                        "id": id(*k), "reference": attr(&s.attrs, "reference"), "name": attr(&s.attrs, "name"), "status": s.status,
                        "tracking_number": s.tracking_number, "delivery_notes": attr(&s.attrs, "delivery_notes"), "collection_datetime": null,
                        "label_filename": null, "packages_count": s.packages.len(),
                        "carrier": attr_id(&s.attrs, "carrier_id").map(|c| named(&state.carriers, c)), "carrier_service": null,
                        "warehouse": go.and_then(|o| attr_id(&o.attrs, "warehouse_id")).map(|w| named(&state.warehouses, w)),
                        "goods_out": {"id": id(s.goods_out), "reference": go.map(|o| attr(&o.attrs, "reference"))},
                        "created_at": s.created.to_string(), "updated_at": s.updated.to_string(),
                    })
                })
                .collect();
        }
        "packages" => {
            filters = &[
                "id",
                "shipment_id",
                "shipment_reference",
                "storage_unit_id",
                "storage_unit_type_code",
                "tracking_number",
            ];
            let mut packages: Vec<(u64, Value)> = Vec::new();
            for (k, s) in &state.shipments {
                for p in &s.packages {
                    packages.push((p.id, json!({
                        "id": id(p.id), "tracking_number": p.tracking_number, "weight": attr(&p.attrs, "weight"),
                        "shipment": {"id": id(*k), "reference": attr(&s.attrs, "reference")}, "storage_unit_type": null,
                    })));
                }
            }
            packages.sort_by_key(|(k, _)| *k);
            common_nodes = packages.into_iter().map(|(_, v)| v).collect();
        }
        "automations" => {
            filters = &[
                "id",
                "name",
                "resource_name",
                "event",
                "enabled",
                "integration_id",
                "created_at",
            ];
            common_nodes = state
                .automations
                .keys()
                .map(|k| {
                    let full = state.automation_json(*k);
                    let integration = full["actions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .flat_map(|a| a["parameters"].as_array().cloned().unwrap_or_default())
                        .find(|p| p["parameter_code"] == json!("integration_id"))
                        .map(|p| p["value"].clone());
                    json!({
                        "id": id(*k), "name": full["name"], "resource_name": full["resource_name"], "event": full["event"],
                        "enabled": full["enabled"], "integration_id": integration, "created_at": null,
                    })
                })
                .collect();
        }
        "pick_processing_requests" => {
            filters = &[
                "goods_out_id",
                "goods_out_reference",
                "status",
                "process_reference",
                "created_at",
                "updated_at",
            ];
            common_nodes = state.pick_requests.clone();
        }
        "transactions" => {
            filters = &[
                "id",
                "subtype",
                "category",
                "goods_out_id",
                "goods_in_receipt_id",
                "product_id",
                "product_code",
                "created_at",
            ];
            common_nodes = state.transactions.clone();
        }
        _ => return None,
    }
    Some((common_nodes, filters))
}

fn status_name(status: GoodsOutStatus) -> String {
    let code = status.code();
    let mut name = code.replace('_', " ").to_lowercase();
    if let Some(first) = name.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    name
}

/// The value a filter field reads from a node.
fn filter_source<'a>(node: &'a Value, field: &str) -> Vec<&'a Value> {
    if field == "all_codes" {
        return [
            "code",
            "barcode",
            "case_barcode",
            "inner_barcode",
            "outer_barcode",
        ]
        .iter()
        .filter_map(|k| node.get(*k))
        .collect();
    }
    if field == "goods_out_status_code" {
        return node.pointer("/goods_out_status/code").into_iter().collect();
    }
    for (suffix, key) in [
        ("_id", "id"),
        ("_code", "code"),
        ("_reference", "reference"),
    ] {
        if let Some(base) = field.strip_suffix(suffix)
            && let Some(v) = node.get(base).and_then(|o| o.get(key))
        {
            return vec![v];
        }
    }
    node.get(field).into_iter().collect()
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    let (a, b) = (text(a)?, text(b)?);
    if let (Ok(x), Ok(y)) = (a.parse::<Decimal>(), b.parse::<Decimal>()) {
        return Some(x.cmp(&y));
    }
    if let (Ok(x), Ok(y)) = (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
        return Some(x.cmp(&y));
    }
    Some(a.cmp(&b))
}

fn matches(actual: &Value, operator: &str, wanted: &Value) -> Result<bool, String> {
    let like = |case: bool| -> bool {
        let (Some(a), Some(w)) = (text(actual), text(wanted)) else {
            return false;
        };
        let w = w.trim_matches('%');
        if case {
            a.contains(w)
        } else {
            a.to_lowercase().contains(&w.to_lowercase())
        }
    };
    Ok(match operator {
        "eq" => compare(actual, wanted) == Some(Ordering::Equal),
        "in" => wanted
            .as_array()
            .ok_or("`in` takes a list")?
            .iter()
            .any(|w| compare(actual, w) == Some(Ordering::Equal)),
        "gt" => compare(actual, wanted) == Some(Ordering::Greater),
        "gteq" | "from" => matches!(
            compare(actual, wanted),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        "lt" => compare(actual, wanted) == Some(Ordering::Less),
        "lteq" | "to" => matches!(
            compare(actual, wanted),
            Some(Ordering::Less | Ordering::Equal)
        ),
        "ilike" => like(false),
        "like" => like(true),
        "between" => {
            let range = wanted
                .as_array()
                .filter(|r| r.len() == 2)
                .ok_or("`between` takes two values")?;
            matches!(
                compare(actual, &range[0]),
                Some(Ordering::Greater | Ordering::Equal)
            ) && matches!(
                compare(actual, &range[1]),
                Some(Ordering::Less | Ordering::Equal)
            )
        }
        "filled" => {
            let filled = !actual.is_null() && text(actual).is_some_and(|t| !t.is_empty());
            filled == wanted.as_bool().unwrap_or(true)
        }
        other => return Err(format!("unknown filter operator `{other}`")),
    })
}

fn keep(
    node: &Value,
    filter: &Map<String, Value>,
    allowed: &[&str],
    root: &str,
) -> Result<bool, String> {
    for (field, ops) in filter {
        if !allowed.contains(&field.as_str()) {
            return Err(format!(
                "Argument '{field}' on the filter of '{root}' is not accepted by the simulator"
            ));
        }
        let ops = ops
            .as_object()
            .ok_or_else(|| format!("filter `{field}` must be an object of operators"))?;
        let sources = filter_source(node, field);
        for (op, wanted) in ops {
            let mut any = false;
            for source in &sources {
                any |= matches(source, op, wanted)?;
            }
            let absent_and_unfilled =
                op == "filled" && sources.is_empty() && wanted == &Value::Bool(false);
            if !(any || absent_and_unfilled) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn project(value: &Value, selections: &[Field], type_name: &str) -> Value {
    if selections.is_empty() {
        return value.clone();
    }
    match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| project(v, selections, type_name))
                .collect(),
        ),
        Value::Object(map) => {
            let mut out = Map::new();
            for field in selections {
                let v = if field.name == "__typename" {
                    Value::String(type_name.to_string())
                } else {
                    project(
                        map.get(&field.name).unwrap_or(&Value::Null),
                        &field.selections,
                        type_name,
                    )
                };
                out.insert(field.key().to_string(), v);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn cursor(position: usize) -> String {
    STANDARD_NO_PAD.encode(position.to_string())
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let trimmed = cursor.trim_end_matches('=');
    let bytes = STANDARD_NO_PAD.decode(trimmed).ok()?;
    String::from_utf8(bytes).ok()?.parse().ok()
}

fn resolve_all(state: &State, root: &str, all: &Field, max_page: usize) -> Result<Value, String> {
    for (name, _) in &all.args {
        if !matches!(
            name.as_str(),
            "filter" | "first" | "after" | "include_archived"
        ) {
            return Err(format!(
                "argument `{name}` of `all` is not supported by the simulator (use filter, first, after)"
            ));
        }
    }
    let (nodes, allowed) = nodes(state, root)
        .ok_or_else(|| format!("Field '{root}' doesn't exist on type 'Query'"))?;
    let filter = match all.arg("filter") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(f)) => f.clone(),
        Some(_) => return Err("filter must be an object".into()),
    };
    let mut kept = Vec::new();
    for node in nodes {
        if keep(&node, &filter, allowed, root)? {
            kept.push(node);
        }
    }
    let first = match all.arg("first") {
        None | Some(Value::Null) => 100,
        Some(v) => v.as_u64().ok_or("first must be a non-negative integer")? as usize,
    }
    .min(max_page);
    let start = match all.arg("after") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => {
            decode_cursor(c).ok_or_else(|| format!("invalid cursor `{c}`"))?
        }
        Some(_) => return Err("after must be a cursor string".into()),
    };
    let total = kept.len();
    let page: Vec<(usize, Value)> = kept
        .into_iter()
        .enumerate()
        .skip(start)
        .take(first)
        .map(|(i, n)| (i + 1, n))
        .collect();
    let type_name = root.trim_end_matches('s');
    let mut out = Map::new();
    for field in &all.selections {
        let value = match field.name.as_str() {
            "pageInfo" => project(
                &json!({
                    "hasNextPage": start + page.len() < total,
                    "hasPreviousPage": start > 0,
                    "startCursor": page.first().map(|(i, _)| cursor(*i)),
                    "endCursor": page.last().map(|(i, _)| cursor(*i)),
                }),
                &field.selections,
                "PageInfo",
            ),
            "edges" => Value::Array(
                page.iter()
                    .map(|(i, node)| {
                        let mut edge = Map::new();
                        for f in &field.selections {
                            let v = match f.name.as_str() {
                                "cursor" => Value::String(cursor(*i)),
                                "node" => project(node, &f.selections, type_name),
                                _ => Value::Null,
                            };
                            edge.insert(f.key().to_string(), v);
                        }
                        Value::Object(edge)
                    })
                    .collect(),
            ),
            "nodes" => Value::Array(
                page.iter()
                    .map(|(_, n)| project(n, &field.selections, type_name))
                    .collect(),
            ),
            "totalCount" | "count" => json!(total),
            other => {
                return Err(format!(
                    "Field '{other}' doesn't exist on the connection of '{root}'"
                ));
            }
        };
        out.insert(field.key().to_string(), value);
    }
    Ok(Value::Object(out))
}

/// Answers one GraphQL request body `{query, variables}` with `{data, errors?}`.
pub(crate) fn execute(state: &State, body: &Value, max_page: usize) -> Value {
    let error = |message: String| json!({"data": null, "errors": [{"message": message}]});
    let Some(query) = body.get("query").and_then(Value::as_str) else {
        return error("the body needs a `query` string".into());
    };
    let empty = Map::new();
    let variables = body
        .get("variables")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let tokens = match tokenize(query) {
        Ok(t) => t,
        Err(e) => return error(format!("Parse error: {e}")),
    };
    let roots = match (Parser {
        tokens,
        pos: 0,
        variables,
    })
    .document()
    {
        Ok(r) => r,
        Err(e) => return error(format!("Parse error: {e}")),
    };
    let mut data = Map::new();
    let mut errors = Vec::new();
    for root in &roots {
        if root.name == "__typename" {
            data.insert(root.key().to_string(), json!("Query"));
            continue;
        }
        let mut value = Map::new();
        let mut failed = false;
        for field in &root.selections {
            if field.name != "all" {
                errors.push(json!({"message": format!("Field '{}' on '{}' is not supported by the simulator (only all)", field.name, root.name), "path": [root.key(), field.key()]}));
                failed = true;
                continue;
            }
            match resolve_all(state, &root.name, field, max_page) {
                Ok(v) => {
                    value.insert(field.key().to_string(), v);
                }
                Err(message) => {
                    errors.push(json!({"message": message, "path": [root.key(), field.key()]}));
                    failed = true;
                }
            }
        }
        data.insert(
            root.key().to_string(),
            if failed {
                Value::Null
            } else {
                Value::Object(value)
            },
        );
    }
    let mut out = json!({"data": data});
    if !errors.is_empty() {
        out["errors"] = Value::Array(errors);
    }
    out
}
