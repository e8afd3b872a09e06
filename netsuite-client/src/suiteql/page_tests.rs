//! The page decoder against `serde_json` alone: the same rows, the same page fields, and an error
//! wherever `serde_json` has one.

use std::collections::HashMap;

use proptest::prelude::*;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::decode;
use crate::suiteql::{Text, lenient};

/// What `serde_json` alone makes of a page.
#[derive(Deserialize)]
struct Reference<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
    #[serde(rename = "hasMore", default)]
    has_more: Option<bool>,
    #[serde(rename = "totalResults", default)]
    total_results: Option<u64>,
}

/// Both decoders on `text`: both fail, or both give the same page.
fn same<T: DeserializeOwned + PartialEq + std::fmt::Debug>(text: &str) -> bool {
    let ours = decode::<T>(text, 4);
    let theirs = serde_json::from_str::<Reference<T>>(text);
    match (ours, theirs) {
        (Ok(o), Ok(t)) => {
            assert_eq!(o.items, t.items, "{text}");
            assert_eq!(o.has_more, t.has_more.unwrap_or(false), "{text}");
            assert_eq!(o.total_results, t.total_results, "{text}");
            true
        }
        (Err(_), Err(_)) => false,
        (o, t) => panic!(
            "decoders disagree on {text:?}: ours {:?}, serde_json {:?}",
            o.map(|p| p.items),
            t.map(|p| p.items)
        ),
    }
}

#[derive(Debug, PartialEq, Deserialize)]
struct Flat {
    id: Text,
    itemid: String,
    #[serde(default)]
    memo: Option<Text>,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Id(Text);

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Flag {
    T,
    F,
}

/// Every kind of field a row type may have.
#[derive(Debug, PartialEq, Deserialize)]
struct Mixed {
    #[serde(default)]
    a: Option<Text>,
    #[serde(default)]
    b: Option<serde_json::Value>,
    #[serde(default)]
    c: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    n: Option<i64>,
    #[serde(default)]
    id: Option<Id>,
    #[serde(default)]
    flag: Option<Flag>,
    #[serde(default)]
    list: Vec<u32>,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Strict {
    id: Text,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Flattened {
    id: Text,
    #[serde(flatten)]
    rest: HashMap<String, serde_json::Value>,
}

#[test]
fn pages_as_netsuite_sends_them() {
    let page = r#"{"links":[{"rel":"self","href":"https://x/query/v1/suiteql?limit=2&offset=0"}],"count":2,"hasMore":true,"items":[{"links":[],"id":"1","itemid":"SKU-1"},{"links":[],"id":"2","itemid":"SKU-2","memo":"a \"quoted\" memo \u00e9"}],"offset":0,"totalResults":5}"#;
    assert!(same::<Flat>(page));
    let decoded = decode::<Flat>(page, 2).unwrap();
    assert_eq!(
        decoded.items[1].memo.as_deref(),
        Some("a \"quoted\" memo é")
    );
    assert!(decoded.has_more);
    assert_eq!(decoded.total_results, Some(5));
    assert_eq!(decoded.items.capacity(), 2);
    // Whitespace everywhere, keys in another order, no `items`, `hasMore` null.
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(page).unwrap())
            .unwrap();
    assert!(same::<Flat>(&pretty));
    assert!(same::<Flat>(
        r#" { "hasMore" : null , "totalResults" : 0 } "#
    ));
    assert!(same::<Flat>(r#"{"items":[]}"#));
    assert!(same::<Flat>(
        r#"{"it\u0065ms":[{"id":"1","itemid":"x"}],"h\u0061sMore":true}"#
    ));
    assert!(same::<Flat>(
        r#"{"items":[{"\u0069d":"1","itemid":"\ud83d\ude00"}]}"#
    ));
}

#[test]
fn rows_of_every_shape() {
    let mixed = r#"{"items":[
        {"a":"x","b":{"k":[1,2.5,"z",null]},"c":"c\n","n":"42","id":"7","flag":"t","list":[1,2]},
        {"a":12,"b":"s","n":-3,"c":null,"flag":"f"},
        {"a":true},
        {}
    ]}"#;
    assert!(same::<Mixed>(mixed));
    assert!(same::<Strict>(r#"{"items":[{"id":"1"}]}"#));
    assert!(!same::<Strict>(r#"{"items":[{"id":"1","links":[]}]}"#));
    assert!(same::<Flattened>(
        r#"{"items":[{"id":"1","x":"y","links":[]}]}"#
    ));
    assert!(same::<HashMap<String, Text>>(
        r#"{"items":[{"id":"1","x":"y"}]}"#
    ));
    assert!(same::<serde_json::Value>(
        r#"{"items":[{"id":"1"},[1],"s",null]}"#
    ));
    assert!(same::<(Text, u8)>(r#"{"items":[["a",1]]}"#));
    let raw = decode::<Box<serde_json::value::RawValue>>(r#"{"items":[{"id" : "1"}]}"#, 1).unwrap();
    assert_eq!(raw.items[0].get(), r#"{"id" : "1"}"#);
}

#[test]
fn malformed_pages_fail_as_with_serde_json() {
    for bad in [
        "",
        r#"{"items":[{"id":"1","itemid":"x"},]}"#,
        r#"{"items":[{"id":"1","itemid":"x",}]}"#,
        r#"{"items":[{"id":"1" "itemid":"x"}]}"#,
        r#"{"items":[{"id":"1","itemid":"x"}]} x"#,
        r#"{"items":[{"id":"1","itemid":"x"}],}"#,
        r#"{"items":[{"id":"1","itemid":"a	tab"}]}"#,
        r#"{"items":[{"id":1x,"itemid":"x"}]}"#,
        r#"{"items":[{"id":"1","itemid":"x"}],"links":[}"#,
        r#"{"items":[{"id":"1","itemid":"x","memo":"\q"}]}"#,
        r#"{"items":[{"id":"1","itemid":"x"}],"hasMore":"yes"}"#,
        r#"{"items":[{"id":"1","itemid":"x"}],"totalResults":-1}"#,
        r#"{"items":[{"id":"1","itemid":"x"}"#,
    ] {
        assert!(!same::<Flat>(bad), "{bad}");
    }
    // A page is an object (a derived struct would also take an array).
    assert!(decode::<Flat>("[]", 1).is_err());
}

#[test]
fn every_prefix_of_a_page_fails() {
    let page = r#"{"links":[],"count":2,"hasMore":false,"items":[{"links":[],"id":"1","itemid":"SKU \"1\""},{"id":"2","itemid":"SKU-2","memo":null}],"totalResults":2}"#;
    assert!(same::<Flat>(page));
    for end in 0..page.len() {
        assert!(!same::<Flat>(&page[..end]), "{}", &page[..end]);
    }
}

/// A value a SuiteQL column could hold, or something stranger.
fn column() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        4 => any::<String>().prop_map(Value::from),
        4 => "[ -~]{0,30}".prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::from),
        1 => Just(Value::Null),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            proptest::collection::vec(("[a-c]", inner), 0..3)
                .prop_map(|kv| json!(kv.into_iter().collect::<serde_json::Map<_, _>>())),
        ]
    })
}

fn page_text() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("c".to_owned()),
        Just("n".to_owned()),
        Just("id".to_owned()),
        Just("links".to_owned()),
        Just("é\"\\".to_owned()),
    ];
    let row = proptest::collection::btree_map(key, column(), 0..6);
    (
        proptest::collection::vec(row, 0..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(rows, more, pretty)| {
            let page =
                serde_json::json!({"links": [], "hasMore": more, "items": rows, "totalResults": 9});
            if pretty {
                serde_json::to_string_pretty(&page).unwrap()
            } else {
                page.to_string()
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn agrees_with_serde_json_on_any_page(text in page_text()) {
        same::<Mixed>(&text);
        same::<serde_json::Value>(&text);
    }

    #[test]
    fn agrees_with_serde_json_on_damaged_pages(
        text in page_text(),
        at in any::<proptest::sample::Index>(),
        byte in prop_oneof![Just(b'"'), Just(b'\\'), Just(b','), Just(b'}'), Just(b']'), Just(b'{'), Just(b' '), Just(b'1'), Just(b'n'), Just(0x01)],
        insert in any::<bool>(),
    ) {
        let mut bytes = text.into_bytes();
        let i = at.index(bytes.len());
        if insert {
            bytes.insert(i, byte);
        } else {
            bytes[i] = byte;
        }
        if let Ok(text) = String::from_utf8(bytes) {
            same::<Mixed>(&text);
        }
    }
}
