//! The record shapes the simulator accepts in request bodies, from the project-owned metadata
//! `sim/spec/netsuite-records.json` (derived from the REST API Browser 2026.1 by
//! `sim/tests/it/netsuite_spec.rs`) and `sim/spec/netsuite-records-supplement.json` (hand-kept
//! shapes of records the browser leaves out).
//!
//! A create, update or transform body naming a field the record, sublist line or subrecord does
//! not have is refused with 400 `INVALID_FLD_VALUE`; one setting a read-only field with 400
//! `USER_ERROR`. Custom fields (`custbody…`, `custcol…`, `custitem…`, `custrecord…`, `custentity…`,
//! `custevent…`) are accepted anywhere, as accounts define their own. NetSuite itself only warns
//! about unknown names unless the request says `X-NetSuite-PropertyNameValidation: Error`, which
//! the SDK's client sends; see `docs/decisions/netsuite-strict-sim.md`.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::error::NsError;
use super::records::RecordType;

const DERIVED: &str = include_str!("../../spec/netsuite-records.json");
const SUPPLEMENT: &str = include_str!("../../spec/netsuite-records-supplement.json");

/// Prefixes of custom field ids (body, line, item, custom record, entity, CRM fields).
const CUSTOM_PREFIXES: [&str; 6] = [
    "custbody",
    "custcol",
    "custitem",
    "custrecord",
    "custentity",
    "custevent",
];

/// Keys a reference object may carry when written (`links` is read-only).
const REFERENCE_KEYS: [&str; 3] = ["id", "externalId", "refName"];
/// Keys an inline select (`{id, refName}`) may carry.
const SELECT_KEYS: [&str; 2] = ["id", "refName"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    /// A reference to another record: `{id}` or `{externalId}`.
    Reference,
    /// An inline select, `{id, refName}`.
    Select,
    /// A plain value.
    Value,
}

/// The fields of a record body, a sublist line or a subrecord.
#[derive(Debug, Default)]
struct Shape {
    fields: HashMap<String, FieldKind>,
    read_only: HashSet<String>,
    sublists: HashMap<String, Shape>,
    subrecords: HashMap<String, Shape>,
}

impl Shape {
    fn parse(value: &Value) -> Shape {
        let mut shape = Shape::default();
        if let Some(fields) = value.get("fields").and_then(Value::as_object) {
            for (name, kind) in fields {
                let kind = match kind.as_str().unwrap_or_default() {
                    k if k.starts_with("ref:") => FieldKind::Reference,
                    "select" => FieldKind::Select,
                    _ => FieldKind::Value,
                };
                shape.fields.insert(name.clone(), kind);
            }
        }
        for name in value
            .get("readOnly")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            shape.read_only.insert(name.to_owned());
        }
        for (part, into) in [
            ("sublists", &mut shape.sublists),
            ("subrecords", &mut shape.subrecords),
        ] {
            for (name, inner) in value
                .get(part)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                into.insert(name.clone(), Shape::parse(inner));
            }
        }
        shape
    }
}

fn shapes() -> &'static HashMap<String, Shape> {
    static SHAPES: OnceLock<HashMap<String, Shape>> = OnceLock::new();
    SHAPES.get_or_init(|| {
        let mut out = HashMap::new();
        for text in [DERIVED, SUPPLEMENT] {
            let file: Value = serde_json::from_str(text).expect("the record metadata is JSON");
            for (name, shape) in file
                .get("records")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                out.insert(name.clone(), Shape::parse(shape));
            }
        }
        out
    })
}

fn is_custom(name: &str) -> bool {
    CUSTOM_PREFIXES.iter().any(|p| name.starts_with(p))
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn unknown(record: RecordType, path: &str) -> NsError {
    NsError::field(format!(
        "Invalid field {path}: the {record} record has no such field (property name validation)."
    ))
    .at(path.to_owned())
}

fn read_only(record: RecordType, path: &str) -> NsError {
    NsError::user(format!(
        "Invalid field {path}: the field is read-only on {record} and cannot be set."
    ))
    .at(path.to_owned())
}

/// Checks every field name of a create, update or transform body of `record`.
pub(crate) fn check(record: RecordType, body: &Map<String, Value>) -> Result<(), NsError> {
    match shapes().get(record.as_str()) {
        Some(shape) => check_object(record, shape, body, ""),
        None => Ok(()),
    }
}

fn check_object(
    record: RecordType,
    shape: &Shape,
    object: &Map<String, Value>,
    path: &str,
) -> Result<(), NsError> {
    for (name, value) in object {
        let at = join(path, name);
        if is_custom(name) {
            continue;
        }
        if shape.read_only.contains(name) {
            return Err(read_only(record, &at));
        }
        if value.is_null() {
            if shape.fields.contains_key(name)
                || shape.sublists.contains_key(name)
                || shape.subrecords.contains_key(name)
            {
                continue;
            }
            return Err(unknown(record, &at));
        }
        if let Some(line) = shape.sublists.get(name) {
            check_sublist(record, line, value, &at)?;
        } else if let Some(sub) = shape.subrecords.get(name) {
            let inner = value.as_object().ok_or_else(|| {
                NsError::content(format!("{at} is a subrecord: write it as an object.")).at(&at)
            })?;
            check_object(record, sub, inner, &at)?;
        } else if let Some(kind) = shape.fields.get(name) {
            check_value(record, *kind, value, &at)?;
        } else {
            return Err(unknown(record, &at));
        }
    }
    Ok(())
}

fn check_sublist(record: RecordType, line: &Shape, value: &Value, at: &str) -> Result<(), NsError> {
    let object = value.as_object().ok_or_else(|| {
        NsError::content(format!(
            "{at} is a sublist: write it as {{\"items\": [...]}}."
        ))
        .at(at)
    })?;
    for (key, items) in object {
        let key_at = join(at, key);
        match key.as_str() {
            "items" => {
                let lines = items.as_array().ok_or_else(|| {
                    NsError::content(format!("{key_at} must be an array.")).at(&key_at)
                })?;
                for (i, entry) in lines.iter().enumerate() {
                    let entry_at = format!("{key_at}[{i}]");
                    let entry = entry.as_object().ok_or_else(|| {
                        NsError::content("Each line must be an object.").at(&entry_at)
                    })?;
                    check_object(record, line, entry, &entry_at)?;
                }
            }
            "links" | "count" | "hasMore" | "offset" | "totalResults" => {
                return Err(read_only(record, &key_at));
            }
            _ => return Err(unknown(record, &key_at)),
        }
    }
    Ok(())
}

fn check_value(
    record: RecordType,
    kind: FieldKind,
    value: &Value,
    at: &str,
) -> Result<(), NsError> {
    let allowed: &[&str] = match kind {
        FieldKind::Reference => &REFERENCE_KEYS,
        FieldKind::Select => &SELECT_KEYS,
        FieldKind::Value => return Ok(()),
    };
    let Some(object) = value.as_object() else {
        // The value validation of each operation judges a reference written another way.
        return Ok(());
    };
    for key in object.keys() {
        let key_at = join(at, key);
        if key == "links" {
            return Err(read_only(record, &key_at));
        }
        if !allowed.contains(&key.as_str()) {
            return Err(unknown(record, &key_at));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn every_simulated_record_type_has_a_shape() {
        for record in RecordType::ALL {
            assert!(shapes().contains_key(record.as_str()), "{record}");
        }
    }

    #[test]
    fn known_fields_pass_and_unknown_or_read_only_ones_are_refused() {
        let receipt = body(json!({
            "externalId": "K-1", "tranDate": "2026-11-27", "custbody_wms_ref": "X",
            "item": {"items": [{
                "orderLine": 4, "itemReceive": true, "quantity": 3, "location": {"id": "7"},
                "custcol_bin": "A1",
                "inventoryDetail": {"inventoryAssignment": {"items": [
                    {"quantity": 2, "inventoryStatus": {"id": "1"}},
                    {"quantity": 1, "inventoryStatus": {"id": "2", "refName": "Quarantine"}}
                ]}}
            }]}
        }));
        check(RecordType::ItemReceipt, &receipt).unwrap();

        let mut bad = receipt.clone();
        bad["item"]["items"][0]["inventoryDetail"]["inventoryAssignment"]["items"][0]["status"] =
            json!({"id": "1"});
        let e = check(RecordType::ItemReceipt, &bad).unwrap_err();
        assert_eq!(e.code, "INVALID_FLD_VALUE");
        assert_eq!(
            e.path.as_deref(),
            Some("item.items[0].inventoryDetail.inventoryAssignment.items[0].status")
        );
        assert!(e.detail.contains("Invalid field"), "{}", e.detail);

        let e = check(
            RecordType::InventoryAdjustment,
            &body(json!({"shipStatus": {"id": "C"}})),
        )
        .unwrap_err();
        assert_eq!(e.path.as_deref(), Some("shipStatus"));

        let e = check(RecordType::InventoryAdjustment, &body(json!({"links": []}))).unwrap_err();
        assert_eq!(e.code, "USER_ERROR");

        let e = check(
            RecordType::InventoryAdjustment,
            &body(json!({"account": {"id": "5", "name": "Shrinkage"}})),
        )
        .unwrap_err();
        assert_eq!(e.path.as_deref(), Some("account.name"));
    }

    #[test]
    fn the_status_change_shape_comes_from_the_supplement() {
        let change = body(json!({
            "location": {"id": "1"}, "previousStatus": {"id": "1"}, "revisedStatus": {"id": "2"},
            "subsidiary": {"id": "3"}, "department": {"id": "4"}, "class": {"id": "5"},
            "tranDate": "2026-11-27",
            "inventory": {"items": [{"item": {"id": "9"}, "quantity": 2}]}
        }));
        check(RecordType::InventoryStatusChange, &change).unwrap();
        let e = check(
            RecordType::InventoryStatusChange,
            &body(json!({"adjLocation": {"id": "1"}})),
        )
        .unwrap_err();
        assert_eq!(e.path.as_deref(), Some("adjLocation"));
    }
}
