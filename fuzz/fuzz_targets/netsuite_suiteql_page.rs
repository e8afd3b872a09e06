//! SuiteQL result pages (`items`, `hasMore`, `totalResults`) with rows read through every
//! `netsuite_client::suiteql::lenient` reader, typed and optional.
//!
//! The client's own page decoder (a `DeserializeSeed` that preallocates `items`) is private and
//! reached only through HTTP, so this target reads the same page shape with the public row
//! readers; the page decoder itself is covered by the proptest property against wiremock
//! (`netsuite-client/tests/suiteql_stream.rs`, `fuzz_suiteql_pages_never_panic`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netsuite_client::suiteql::lenient;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
#[allow(dead_code)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
    #[serde(rename = "hasMore", default)]
    has_more: Option<bool>,
    #[serde(rename = "totalResults", default)]
    total_results: Option<u64>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TypedRow {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(deserialize_with = "lenient::decimal")]
    quantity: rust_decimal::Decimal,
    #[serde(deserialize_with = "lenient::bool")]
    isinactive: bool,
    #[serde(deserialize_with = "lenient::date")]
    trandate: jiff::civil::Date,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct OptionalRow {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    quantity: Option<rust_decimal::Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    isinactive: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    trandate: Option<jiff::civil::Date>,
}

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<Page<TypedRow>>(data);
    let _ = serde_json::from_slice::<Page<OptionalRow>>(data);
    let _ = serde_json::from_slice::<Page<serde_json::Value>>(data);
});
