//! Structure-aware inputs for the parser fuzz tests: a valid document with one to three of its
//! values replaced by hostile ones (huge, negative or unrepresentable numbers, wrong types, deep
//! nesting, long strings, NUL and control characters), plus raw number tokens no `Value` holds.
//!
//! One file for every parser fuzz test of the workspace, included once per test binary with
//! `#[path = ".../testing/fuzz_inputs.rs"] mod fuzz_inputs;` (the `tests/it` binaries of
//! clarus-client and netsuite-client).

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

/// Number tokens spliced into the text in place of a `"@@RAW<n>@@"` marker.
const RAW: &[&str] = &[
    "1e400",
    "-1e400",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890.123456789",
    "-0",
    "0.00000000000000000000000000000000001",
    "1E+99999999999999999999",
    "1e-99999999999999999999",
    "5e-324",
];

fn nested(depth: usize, object: bool) -> Value {
    let mut v = json!(1);
    for _ in 0..depth {
        v = if object {
            json!({ "a": v })
        } else {
            json!([v])
        };
    }
    v
}

fn control_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![0u32..0x20, Just(0x7f), 0x80u32..0xa0], 0..24)
        .prop_map(|v| v.into_iter().filter_map(char::from_u32).collect())
}

/// A hostile JSON value.
pub fn nasty() -> impl Strategy<Value = Value> {
    let numeric_text = proptest::sample::select(vec![
        "1e300",
        "-1e300",
        "1e-300",
        "NaN",
        "inf",
        "-",
        "+",
        ".",
        "-.",
        ".e5",
        "1e",
        "1.5e",
        "1e-99999999999",
        "99999999999999999999999999999999",
        "0x10",
        "18446744073709551615",
        "-9223372036854775808",
        " 7 ",
        "1,5",
        "2026-02-30",
        "9999-12-31T23:59:59Z",
        "0000-00-00",
        "1/1/99999",
        "13/45/2026",
        "T",
        "",
        "\u{0}",
    ])
    .prop_map(|s| Value::String(s.to_owned()));
    prop_oneof![
        Just(json!(1e300)),
        Just(json!(-1e300)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(-1)),
        Just(json!(0.5)),
        Just(json!(5e-324)),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
        Just(json!([null, 1, "x", {}])),
        Just(nested(100, true)),
        Just(nested(100, false)),
        Just(nested(300, false)),
        Just(Value::String("x".repeat(100_000))),
        Just(Value::String("é".repeat(40_000))),
        control_string().prop_map(Value::String),
        any::<String>().prop_map(Value::String),
        numeric_text,
        (0..RAW.len()).prop_map(|i| Value::String(format!("@@RAW{i}@@"))),
    ]
}

fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                pointers(child, p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// Replaces the values at the chosen places and serialises, splicing in the raw tokens.
pub fn apply(mut doc: Value, edits: Vec<(Index, Value)>) -> Vec<u8> {
    for (at, value) in edits {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let p = at.get(&all).clone();
        if let Some(slot) = doc.pointer_mut(&p) {
            *slot = value;
        }
    }
    let mut text = serde_json::to_string(&doc).unwrap();
    for (i, raw) in RAW.iter().enumerate() {
        text = text.replace(&format!("\"@@RAW{i}@@\""), raw);
    }
    text.into_bytes()
}

/// `seed` mutated at one to three places.
pub fn mutated(seed: Value) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec((any::<Index>(), nasty()), 1..4)
        .prop_map(move |edits| apply(seed.clone(), edits))
}

/// Arbitrary bytes, or a mutation of one of the seeds.
pub fn body(seeds: Vec<Value>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..256),
        3 => proptest::sample::select(seeds).prop_flat_map(mutated),
    ]
}
