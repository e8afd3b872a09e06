//! The project-owned NetSuite record metadata, `sim/spec/netsuite-records.json`, is derived from
//! the REST API Browser dump (`shared/specs/netsuite-records.json`, beside the repository). This
//! test derives it again when that file is present and fails when the committed copy differs;
//! with the file absent it says so and passes, since nothing at build, run or test time may read
//! outside the repository.
//!
//! Regenerate after a spec update with
//! `NETSUITE_SPEC_UPDATE=1 cargo test -p sim --test it netsuite_spec::`.
//!
//! The derived file holds, for each record type in [`RECORDS`] (the types the simulator serves
//! and the engine writes), a *shape*: `fields` (name → `type`, `type:format`, `select` for an
//! inline `{id, refName}` object, or `ref:<definition>` for a reference to another record),
//! `readOnly` (the fields the browser marks read-only), `sublists` (name → the shape of one line,
//! from `<record>-<sublist>Element`) and `subrecords` (name → the shape of a subrecord such as
//! `inventoryDetail`, whose own `inventoryAssignment` sublist nests the same way). Empty parts are
//! left out. `inventoryStatusChange` is absent from the browser; its hand-kept shape is in
//! `sim/spec/netsuite-records-supplement.json`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value, json};
use sim::netsuite::RecordType;

const FULL_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/specs/netsuite-records.json"
);
const DERIVED_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/netsuite-records.json");
const SUPPLEMENT_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/spec/netsuite-records-supplement.json"
);
const UPDATE: &str = "NETSUITE_SPEC_UPDATE=1 cargo test -p sim --test it netsuite_spec::";

/// The record types kept: every type the simulator serves that the browser documents.
const RECORDS: [&str; 13] = [
    "salesOrder",
    "purchaseOrder",
    "returnAuthorization",
    "itemFulfillment",
    "itemReceipt",
    "inventoryAdjustment",
    "inventoryTransfer",
    "inventoryItem",
    "lotNumberedInventoryItem",
    "serializedInventoryItem",
    "location",
    "inventoryNumber",
    "inventoryStatus",
];

// ------------------------------------------------------------------ the checks

#[test]
fn committed_record_metadata_matches_the_browser_dump() {
    if !Path::new(FULL_SPEC).exists() {
        eprintln!(
            "netsuite_spec: check skipped: the REST API Browser dump is not beside the repository \
             (looked for {FULL_SPEC}); the committed sim/spec/netsuite-records.json is used as it is"
        );
        return;
    }
    let text = std::fs::read_to_string(FULL_SPEC).expect("the browser dump is readable");
    let spec: Value = serde_json::from_str(&text).expect("the browser dump is JSON");
    let want = pretty(&derive(&spec));
    let have = std::fs::read_to_string(DERIVED_FILE).unwrap_or_default();
    if have == want {
        return;
    }
    if std::env::var("NETSUITE_SPEC_UPDATE").is_ok_and(|v| v == "1") {
        std::fs::write(DERIVED_FILE, &want)
            .unwrap_or_else(|e| panic!("cannot write {DERIVED_FILE}: {e}"));
        eprintln!("netsuite_spec: rewrote {DERIVED_FILE}");
        return;
    }
    panic!(
        "sim/spec/netsuite-records.json differs from what the browser dump derives:\n{}\n\nTo rewrite it: {UPDATE}",
        first_difference(&have, &want)
    );
}

#[test]
fn every_simulated_record_type_has_a_shape_once() {
    let derived = read(DERIVED_FILE);
    let supplement = read(SUPPLEMENT_FILE);
    for record in RecordType::ALL {
        let name = record.as_str();
        let in_derived = derived["records"].get(name).is_some();
        let in_supplement = supplement["records"].get(name).is_some();
        assert!(
            in_derived != in_supplement,
            "{name}: needs exactly one shape (derived {in_derived}, supplement {in_supplement})"
        );
    }
    let known: BTreeSet<&str> = RecordType::ALL.iter().map(|r| r.as_str()).collect();
    for file in [&derived, &supplement] {
        for name in file["records"].as_object().expect("records").keys() {
            assert!(known.contains(name.as_str()), "{name} is not simulated");
        }
    }
}

fn read(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ------------------------------------------------------------------ the derivation

fn derive(spec: &Value) -> Value {
    let types = spec["types"].as_object().expect("the dump has types");
    let mut records = Map::new();
    for record in RECORDS {
        let definition = types
            .get(record)
            .unwrap_or_else(|| panic!("the dump has no definition {record}"));
        records.insert(record.to_owned(), shape(types, definition, 0));
    }
    json!({
        "source": format!(
            "{}; derived by sim/tests/it/netsuite_spec.rs ({UPDATE})",
            spec["source"].as_str().unwrap_or("NetSuite REST API Browser")
        ),
        "records": records,
    })
}

fn shape(types: &Map<String, Value>, definition: &Value, depth: usize) -> Value {
    assert!(depth < 6, "the definitions nest too deeply");
    let mut fields = Map::new();
    let mut read_only = Vec::new();
    let mut sublists = Map::new();
    let mut subrecords = Map::new();
    let properties = definition["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (name, property) in &properties {
        if property["readOnly"] == json!(true) {
            read_only.push(Value::String(name.clone()));
        }
        let target = property["ref"].as_str();
        match target.and_then(|t| types.get(t).map(|d| (t, d))) {
            // Sublists and subrecords are definitions named after their record
            // (`itemReceipt-itemCollection`, `itemReceipt-item-inventoryDetail`); a reference to
            // a record type (`location`) or to `nsResource` is a plain reference.
            Some((collection, _))
                if collection.contains('-') && collection.ends_with("Collection") =>
            {
                let element = property["items"]
                    .as_str()
                    .and_then(|e| types.get(e))
                    .unwrap_or_else(|| panic!("{name}: {collection} has no element definition"));
                sublists.insert(name.clone(), shape(types, element, depth + 1));
            }
            Some((t, sub)) if t.contains('-') && sub.get("properties").is_some() => {
                subrecords.insert(name.clone(), shape(types, sub, depth + 1));
            }
            _ => {
                fields.insert(name.clone(), Value::String(kind(property)));
            }
        }
    }
    let mut out = Map::new();
    out.insert("fields".into(), Value::Object(fields));
    if !read_only.is_empty() {
        out.insert("readOnly".into(), Value::Array(read_only));
    }
    if !sublists.is_empty() {
        out.insert("sublists".into(), Value::Object(sublists));
    }
    if !subrecords.is_empty() {
        out.insert("subrecords".into(), Value::Object(subrecords));
    }
    Value::Object(out)
}

/// `ref:<target>`, `select`, `type:format` or `type`.
fn kind(property: &Value) -> String {
    if let Some(target) = property["ref"].as_str() {
        return format!("ref:{target}");
    }
    let ty = property["type"].as_str().unwrap_or("object");
    if ty == "object" && property.get("properties").is_some() {
        return "select".to_owned();
    }
    match property["format"].as_str() {
        Some(format) => format!("{ty}:{format}"),
        None => ty.to_owned(),
    }
}

// ------------------------------------------------------------------ helpers

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON serialises");
    text.push('\n');
    text
}

fn first_difference(have: &str, want: &str) -> String {
    let mut have_lines = have.lines();
    for (n, want_line) in want.lines().enumerate() {
        let have_line = have_lines.next();
        if have_line != Some(want_line) {
            return format!(
                "line {}: committed {:?}, derived {:?}",
                n + 1,
                have_line.unwrap_or("<end of file>"),
                want_line
            );
        }
    }
    match have_lines.next() {
        Some(extra) => format!("the committed file goes on: {extra:?}"),
        None => "the files differ only in line endings".to_owned(),
    }
}
