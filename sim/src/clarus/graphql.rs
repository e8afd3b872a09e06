//! A minimal GraphQL reader for the list roots the simulator serves.
//!
//! It parses one operation (see `parse.rs`), answers
//! `<root> { all(filter:, first:, after:) { pageInfo edges { cursor node } } }` for `products`,
//! `stocks`, `stock_balances`, `goods_in_receipts`, `goods_outs`, `goods_out_lines`,
//! `shipments`, `packages`, `transactions`, `automations` and `pick_processing_requests`,
//! applies the filter operators, pages Relay-style (cursor = base64 of the position, ordered by
//! id) and returns only the fields asked for. `__typename` names the types of `types.rs`;
//! `__schema` and `__type` answer introspection (`introspection.rs`).
//!
//! In the [`GraphqlProfile::Documented`] profile a query is first validated against Clarus's
//! documentation (`validate.rs`) and refused as a whole, graphql-ruby style, when it asks for
//! anything else. In the [`GraphqlProfile::Extended`] profile every field the simulator builds
//! can be read (unknown ones answer `null`), `nodes`, `totalCount` and `count` sit beside
//! `edges`, and the filters the simulator can answer are accepted besides the documented ones.

use std::cmp::Ordering;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::nodes::{SERVED, nodes};
use super::parse::{Field, parse};
use super::state::State;
use super::types::{RootDef, Schema, schema};

/// Which GraphQL the simulator serves.
///
/// Clarus documents, per list root, a set of node fields and filters (each filter with its
/// operators) and adds that more fields and filters are "available via GraphQL introspection":
/// a tenant may serve more, but only the documentation is promised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GraphqlProfile {
    /// Exactly what Clarus documents: per served root its documented node fields (nested
    /// objects with their documented sub-fields) and filters with their documented operators,
    /// the Relay envelope (`pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`,
    /// `edges { cursor node }`), `__typename`, the `all` arguments `filter`, `first`, `after`
    /// and the documented extras (`include_archived` on `transactions`), and introspection.
    /// Anything else (a field such as `updated_at` or `external_system_reference1` on
    /// `goods_outs`, a filter such as `id` or `updated_at`, an operator a filter does not list)
    /// refuses the whole query with graphql-ruby's validation errors at HTTP 200 and no `data`.
    /// The default: the engine must work against a tenant that offers no more than this.
    #[default]
    Documented,
    /// What a richer tenant serves: the documented fields and filters plus every field and
    /// filter the simulator builds (`external_system_reference1`, `updated_at`, `lines`,
    /// `batch`, …, and `nodes`/`totalCount` beside `edges`); an unknown field answers `null`.
    Extended,
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

/// Refuses a filter the way [`keep`] would on any node, whether or not a node is read: an
/// unknown filter field, a field that is not an object of operators, an unknown operator, or an
/// operator given the wrong shape of value.
fn check_filter(filter: &Map<String, Value>, root: &RootDef, name: &str) -> Result<(), String> {
    for (field, ops) in filter {
        let ops = filter_ops(field, ops, root, name)?;
        for (op, wanted) in ops {
            matches(&Value::Null, op, wanted)?;
        }
    }
    Ok(())
}

/// The operators given for one filter field: refused when the root has no such filter, or
/// when they are not an object.
fn filter_ops<'a>(
    field: &str,
    ops: &'a Value,
    root: &RootDef,
    name: &str,
) -> Result<&'a Map<String, Value>, String> {
    if !root.filters.contains_key(field) {
        return Err(format!(
            "InputObject '{}' doesn't accept argument '{field}' (root '{name}')",
            root.filter_type
        ));
    }
    ops.as_object()
        .ok_or_else(|| format!("filter `{field}` must be an object of operators"))
}

fn keep(
    node: &Value,
    filter: &Map<String, Value>,
    root: &RootDef,
    name: &str,
) -> Result<bool, String> {
    for (field, ops) in filter {
        let ops = filter_ops(field, ops, root, name)?;
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

/// The selected fields of `value`, a `type_name` (or a list of them); `__typename` answers the
/// type's name, nested objects their own.
fn project(value: &Value, selections: &[Field], type_name: &str, schema: &Schema) -> Value {
    if selections.is_empty() {
        return value.clone();
    }
    match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| project(v, selections, type_name, schema))
                .collect(),
        ),
        Value::Object(map) => {
            let mut out = Map::new();
            for field in selections {
                let v = if field.name == "__typename" {
                    Value::String(type_name.to_string())
                } else {
                    let child = if field.selections.is_empty() {
                        String::new()
                    } else {
                        schema.field_type(type_name, &field.name)
                    };
                    project(
                        map.get(&field.name).unwrap_or(&Value::Null),
                        &field.selections,
                        &child,
                        schema,
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

/// How a request is answered: the page size limit and the profile.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub max_page: usize,
    pub profile: GraphqlProfile,
}

fn resolve_all(
    state: &State,
    root: &str,
    all: &Field,
    settings: Settings,
) -> Result<Value, String> {
    let schema = schema(settings.profile);
    for arg in &all.args {
        if !matches!(
            arg.name.as_str(),
            "filter" | "first" | "after" | "include_archived"
        ) {
            return Err(format!(
                "argument `{}` of `all` is not supported by the simulator (use filter, first, after)",
                arg.name
            ));
        }
    }
    let def = match schema.roots.get(root) {
        Some(def) if SERVED.iter().any(|s| s.root == root) => def,
        _ => return Err(format!("Field '{root}' doesn't exist on type 'Query'")),
    };
    let filter = match all.arg("filter") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(f)) => f.clone(),
        Some(_) => return Err("filter must be an object".into()),
    };
    check_filter(&filter, def, root)?;
    let nodes = nodes(state, root, &filter)
        .ok_or_else(|| format!("Field '{root}' doesn't exist on type 'Query'"))?;
    let mut kept = Vec::new();
    for node in nodes {
        if keep(&node, &filter, def, root)? {
            kept.push(node.into_owned());
        }
    }
    let first = match all.arg("first") {
        None | Some(Value::Null) => 100,
        Some(v) => v.as_u64().ok_or("first must be a non-negative integer")? as usize,
    }
    .min(settings.max_page);
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
    let node_type = def.node_type.as_str();
    let mut out = Map::new();
    for field in &all.selections {
        let value = match field.name.as_str() {
            "__typename" => json!(format!("{node_type}Connection")),
            "pageInfo" => project(
                &json!({
                    "hasNextPage": start + page.len() < total,
                    "hasPreviousPage": start > 0,
                    "startCursor": page.first().map(|(i, _)| cursor(*i)),
                    "endCursor": page.last().map(|(i, _)| cursor(*i)),
                }),
                &field.selections,
                "PageInfo",
                schema,
            ),
            "edges" => Value::Array(
                page.iter()
                    .map(|(i, node)| {
                        let mut edge = Map::new();
                        for f in &field.selections {
                            let v = match f.name.as_str() {
                                "__typename" => json!(format!("{node_type}Edge")),
                                "cursor" => Value::String(cursor(*i)),
                                "node" => project(node, &f.selections, node_type, schema),
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
                    .map(|(_, n)| project(n, &field.selections, node_type, schema))
                    .collect(),
            ),
            "totalCount" | "count" => json!(total),
            other => {
                return Err(format!(
                    "Field '{other}' doesn't exist on type '{node_type}Connection'"
                ));
            }
        };
        out.insert(field.key().to_string(), value);
    }
    Ok(Value::Object(out))
}

/// Answers one GraphQL request body `{query, variables}` with `{data, errors?}`, or with
/// `{errors}` alone when the documented profile refuses the query.
pub(crate) fn execute(state: &State, body: &Value, settings: Settings) -> Value {
    let error = |message: String| json!({"data": null, "errors": [{"message": message}]});
    let Some(query) = body.get("query").and_then(Value::as_str) else {
        return error("the body needs a `query` string".into());
    };
    let empty = Map::new();
    let variables = body
        .get("variables")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let document = match parse(query, variables) {
        Ok(d) => d,
        Err(e) => return error(format!("Parse error: {e}")),
    };
    let schema = schema(settings.profile);
    if settings.profile == GraphqlProfile::Documented {
        let errors = super::validate::validate(&document, schema);
        if !errors.is_empty() {
            return json!({"errors": errors});
        }
    }
    let mut data = Map::new();
    let mut errors = Vec::new();
    for root in &document.fields {
        match root.name.as_str() {
            "__typename" => {
                data.insert(root.key().to_string(), json!("Query"));
                continue;
            }
            "__schema" | "__type" => {
                let answer = super::introspection::answer(schema, root);
                data.insert(root.key().to_string(), answer);
                continue;
            }
            _ => {}
        }
        let mut value = Map::new();
        let mut failed = false;
        let root_type = schema.field_type("Query", &root.name);
        for field in &root.selections {
            if field.name == "__typename" {
                value.insert(field.key().to_string(), json!(root_type));
                continue;
            }
            if field.name != "all" {
                errors.push(json!({"message": format!("Field '{}' on '{}' is not supported by the simulator (only all)", field.name, root.name), "path": [root.key(), field.key()]}));
                failed = true;
                continue;
            }
            match resolve_all(state, &root.name, field, settings) {
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
