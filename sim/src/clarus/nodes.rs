//! The nodes of each list root the simulator serves, built from its state, and what it serves
//! beyond Clarus's documentation (the `Extended` profile).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::index::{exact_ids, intersect, narrowed};
use super::state::{
    GoodsIn, GoodsOut, GoodsOutLine, GoodsOutStatus, Package, Shipment, State, StockStatus,
};
use crate::json::decimal_to_json;

/// A list root the simulator serves.
pub(crate) struct Served {
    /// The root field, e.g. `goods_outs`.
    pub root: &'static str,
    /// Every filter the node builder can answer (the documented ones and more).
    pub filters: &'static [&'static str],
    /// The fields served beyond the documentation, as a selection: objects with their
    /// sub-fields (added to a documented object's), `[]` after a list's name.
    pub extras: &'static str,
}

/// The roots served, with their filters and the fields beyond the documentation.
pub(crate) const SERVED: [Served; 11] = [
    Served {
        root: "products",
        filters: &[
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
        ],
        extras: "external_system_reference1 created_at updated_at",
    },
    Served {
        root: "stocks",
        filters: &[
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
        ],
        extras: "batch string1 serial_number created_at updated_at location { name } account { name } warehouse { id code name }",
    },
    Served {
        root: "stock_balances",
        filters: &[
            "product_id",
            "product_code",
            "account_id",
            "warehouse_id",
            "available",
            "allocated",
            "picked",
        ],
        extras: "held on_hand account { name } warehouse { code name }",
    },
    Served {
        root: "goods_in_receipts",
        filters: &[
            "id",
            "external_system_reference1",
            "reference",
            "status",
            "account_id",
            "warehouse_id",
            "expected_date_of_receipt",
            "created_at",
            "updated_at",
        ],
        extras: "external_system_reference1 supplier { id } lines[] { id external_system_reference1 expected_quantity received_quantity product { id code } received_stock[] { quantity batch serial_number status stock { id } } } created_at updated_at",
    },
    Served {
        root: "goods_outs",
        filters: &[
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
        ],
        extras: "external_system_reference1 actual_date_of_dispatch account { name } warehouse { name } carrier { name } carrier_service { id } customer { id } created_at updated_at",
    },
    Served {
        root: "goods_out_lines",
        filters: &[
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
        ],
        extras: "external_system_reference1 goods_out_status { code } account { id code name } warehouse { id code name } carrier { code name } picked_stock[] { stock_id quantity batch serial_number } created_at",
    },
    Served {
        root: "shipments",
        filters: &[
            "id",
            "reference",
            "status",
            "carrier_id",
            "warehouse_id",
            "goods_out_id",
            "created_at",
            "updated_at",
        ],
        extras: "tracking_number goods_out { id reference } created_at updated_at",
    },
    Served {
        root: "packages",
        filters: &[
            "id",
            "shipment_id",
            "shipment_reference",
            "storage_unit_id",
            "storage_unit_type_code",
            "tracking_number",
        ],
        extras: "weight",
    },
    Served {
        root: "automations",
        filters: &[
            "id",
            "name",
            "resource_name",
            "event",
            "enabled",
            "integration_id",
            "created_at",
        ],
        extras: "",
    },
    Served {
        root: "pick_processing_requests",
        filters: &[
            "goods_out_id",
            "goods_out_reference",
            "status",
            "process_reference",
            "created_at",
            "updated_at",
        ],
        extras: "updated_at",
    },
    Served {
        root: "transactions",
        filters: &[
            "id",
            "subtype",
            "category",
            "goods_out_id",
            "goods_in_receipt_id",
            "product_id",
            "product_code",
            "created_at",
        ],
        extras: "event status batch serial_number reason reason_code { id code } account { name } warehouse { id code name } location_from { name } location_to { name } stock { id } goods_out { id } goods_in_receipt { id }",
    },
];

fn id(n: u64) -> Value {
    Value::String(n.to_string())
}

fn named(map: &BTreeMap<u64, super::state::Named>, key: u64) -> Value {
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

fn goods_in_node(state: &State, k: u64, r: &GoodsIn) -> Value {
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
    with_attrs(
        &r.attrs,
        json!({
            "id": id(k), "reference": attr(&r.attrs, "reference"), "status": r.status,
            "receipt_type": r.attrs.get("receipt_type").cloned().unwrap_or(json!("standard")),
            "expected_date_of_receipt": attr(&r.attrs, "expected_date_of_arrival"), "actual_date_of_receipt": r.received_at.map(|t| t.to_string()),
            "account": attr_id(&r.attrs, "account_id").map(|a| named(&state.accounts, a)),
            "warehouse": attr_id(&r.attrs, "warehouse_id").map(|w| named(&state.warehouses, w)),
            "supplier": attr_id(&r.attrs, "supplier_id").map(|s| json!({"id": id(s)})),
            "lines": lines,
            "created_at": r.created.to_string(), "updated_at": r.updated.to_string(),
        }),
    )
}

fn goods_out_node(state: &State, k: u64, o: &GoodsOut) -> Value {
    with_attrs(
        &o.attrs,
        json!({
            "id": id(k), "reference": attr(&o.attrs, "reference"), "priority": attr(&o.attrs, "priority"),
            "expected_date_of_dispatch": attr(&o.attrs, "expected_date_of_dispatch"), "actual_date_of_dispatch": o.dispatched.map(|t| t.to_string()),
            "goods_out_status": {"code": o.status.code(), "name": status_name(o.status)},
            "external_system_reference1": attr(&o.attrs, "external_system_reference1"),
            "account": attr_id(&o.attrs, "account_id").map(|a| named(&state.accounts, a)),
            "warehouse": attr_id(&o.attrs, "warehouse_id").map(|w| named(&state.warehouses, w)),
            "carrier": attr_id(&o.attrs, "carrier_id").map(|c| named(&state.carriers, c)),
            "carrier_service": attr_id(&o.attrs, "carrier_service_id").map(|c| json!({"id": id(c)})),
            "customer": attr_id(&o.attrs, "customer_id").map(|c| json!({"id": id(c)})),
            "created_at": o.created.to_string(), "updated_at": o.updated.to_string(),
        }),
    )
}

fn goods_out_line_node(state: &State, k: u64, o: &GoodsOut, l: &GoodsOutLine) -> Value {
    with_attrs(
        &l.attrs,
        json!({
            "id": id(l.id), "order_quantity": decimal_to_json(l.order_quantity), "allocated_quantity": decimal_to_json(l.allocated()),
            "pick_quantity": decimal_to_json(l.picked()), "dispatch_quantity": decimal_to_json(l.dispatch_quantity), "short_status": l.short_status,
            "product": product(state, l.product), "goods_out": {"id": id(k), "reference": attr(&o.attrs, "reference")},
            "goods_out_status": {"code": o.status.code()},
            "account": attr_id(&o.attrs, "account_id").map(|a| named(&state.accounts, a)),
            "warehouse": attr_id(&o.attrs, "warehouse_id").map(|w| named(&state.warehouses, w)),
            "carrier": attr_id(&o.attrs, "carrier_id").map(|c| named(&state.carriers, c)),
            "picked_stock": l.picks.iter().map(|p| json!({"stock_id": id(p.stock), "quantity": decimal_to_json(p.quantity), "batch": p.batch, "serial_number": p.serial})).collect::<Vec<_>>(),
            "created_at": l.created.to_string(),
        }),
    )
}

fn shipment_node(state: &State, k: u64, s: &Shipment) -> Value {
    let go = state.goods_outs.get(&s.goods_out);
    json!({
        "id": id(k), "reference": attr(&s.attrs, "reference"), "name": attr(&s.attrs, "name"), "status": s.status,
        "tracking_number": s.tracking_number, "delivery_notes": attr(&s.attrs, "delivery_notes"), "collection_datetime": null,
        "label_filename": null, "packages_count": s.packages.len(),
        "carrier": attr_id(&s.attrs, "carrier_id").map(|c| named(&state.carriers, c)), "carrier_service": null,
        "warehouse": go.and_then(|o| attr_id(&o.attrs, "warehouse_id")).map(|w| named(&state.warehouses, w)),
        "goods_out": {"id": id(s.goods_out), "reference": go.map(|o| attr(&o.attrs, "reference"))},
        "created_at": s.created.to_string(), "updated_at": s.updated.to_string(),
    })
}

fn package_node(k: u64, s: &Shipment, p: &Package) -> Value {
    json!({
        "id": id(p.id), "tracking_number": p.tracking_number, "weight": attr(&p.attrs, "weight"),
        "shipment": {"id": id(k), "reference": attr(&s.attrs, "reference")}, "storage_unit_type": null,
    })
}

/// The records of `map` among `ids` (every record when `None`), in id order.
fn among<'m, T>(
    map: &'m BTreeMap<u64, T>,
    ids: Option<BTreeSet<u64>>,
) -> Box<dyn Iterator<Item = (u64, &'m T)> + 'm> {
    match ids {
        None => Box::new(map.iter().map(|(k, v)| (*k, v))),
        Some(ids) => Box::new(
            ids.into_iter()
                .filter_map(move |k| map.get(&k).map(|v| (k, v))),
        ),
    }
}

/// The nodes of a served root that `filter` may keep, in id order: every node, or only those
/// an index finds when the filter names ids, references, parents or subtypes. The caller still
/// applies the whole filter to each.
pub(crate) fn nodes<'s>(
    state: &'s State,
    root: &str,
    filter: &Map<String, Value>,
) -> Option<Vec<Cow<'s, Value>>> {
    let by_id = |field: &str| narrowed(filter, field, exact_ids);
    let built: Vec<Value> = match root {
        "products" => among(&state.products, by_id("id"))
            .map(|(k, _)| {
                let mut node = state.product_json(k).as_object().cloned().unwrap_or_default();
                node.insert("id".into(), id(k));
                Value::Object(node)
            })
            .collect(),
        "stocks" => {
            state
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
                .collect()
        }
        "stock_balances" => {
            let mut keys: BTreeMap<(u64, u64, u64), (Decimal, Decimal)> = BTreeMap::new();
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
            keys
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
                .collect()
        }
        "goods_in_receipts" => {
            let ids = intersect(
                by_id("id"),
                narrowed(filter, "reference", |w| state.goods_in_refs.lookup(w)),
            );
            among(&state.goods_ins, ids)
                .map(|(k, r)| goods_in_node(state, k, r))
                .collect()
        }
        "goods_outs" => {
            let ids = intersect(
                by_id("id"),
                narrowed(filter, "reference", |w| state.goods_out_refs.lookup(w)),
            );
            among(&state.goods_outs, ids)
                .map(|(k, o)| goods_out_node(state, k, o))
                .collect()
        }
        "goods_out_lines" => {
            let mut lines: Vec<(u64, Value)> = among(&state.goods_outs, by_id("goods_out_id"))
                .flat_map(|(k, o)| {
                    o.lines
                        .iter()
                        .map(move |l| (l.id, goods_out_line_node(state, k, o, l)))
                })
                .collect();
            lines.sort_by_key(|(k, _)| *k);
            lines.into_iter().map(|(_, v)| v).collect()
        }
        "shipments" => {
            let of_goods_outs = by_id("goods_out_id").map(|goods_outs| {
                goods_outs
                    .iter()
                    .filter_map(|g| state.goods_outs.get(g))
                    .flat_map(|o| o.shipments.iter().copied())
                    .collect::<BTreeSet<u64>>()
            });
            among(&state.shipments, intersect(by_id("id"), of_goods_outs))
                .map(|(k, s)| shipment_node(state, k, s))
                .collect()
        }
        "packages" => {
            let mut packages: Vec<(u64, Value)> = among(&state.shipments, by_id("shipment_id"))
                .flat_map(|(k, s)| s.packages.iter().map(move |p| (p.id, package_node(k, s, p))))
                .collect();
            packages.sort_by_key(|(k, _)| *k);
            packages.into_iter().map(|(_, v)| v).collect()
        }
        "automations" => {
            state
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
                .collect()
        }
        "pick_processing_requests" => {
            return Some(state.pick_requests.iter().map(Cow::Borrowed).collect());
        }
        "transactions" => {
            let log = &state.transactions;
            let within = log.created_range(filter.get("created_at").and_then(Value::as_object));
            // A goods out or receipt has few movements: when the filter names one, its
            // movements are read and the subtype is left to the filter (a subtype has many).
            let positions = intersect(
                narrowed(filter, "goods_out_id", |w| log.of_goods_outs(w)),
                narrowed(filter, "goods_in_receipt_id", |w| log.of_goods_ins(w)),
            )
            .or_else(|| narrowed(filter, "subtype", |w| log.of_subtypes(w, &within)));
            return Some(match positions {
                None => log.all()[within].iter().map(Cow::Borrowed).collect(),
                Some(p) => p
                    .into_iter()
                    .filter(|p| within.contains(p))
                    .map(|p| Cow::Borrowed(log.at(p)))
                    .collect(),
            });
        }
        _ => return None,
    };
    Some(built.into_iter().map(Cow::Owned).collect())
}

fn status_name(status: GoodsOutStatus) -> String {
    let code = status.code();
    let mut name = code.replace('_', " ").to_lowercase();
    if let Some(first) = name.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    name
}
