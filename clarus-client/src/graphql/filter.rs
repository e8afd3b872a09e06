//! GraphQL filter arguments: `{ field: { operator: value } }`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use crate::ClarusId;

/// A value inside a filter. Ids, decimals and timestamps travel as strings, as GraphQL `ID`,
/// `Decimal` and datetime inputs do.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct FilterValue(Value);

impl From<&str> for FilterValue {
    fn from(v: &str) -> Self {
        Self(Value::String(v.to_owned()))
    }
}
impl From<String> for FilterValue {
    fn from(v: String) -> Self {
        Self(Value::String(v))
    }
}
impl From<&String> for FilterValue {
    fn from(v: &String) -> Self {
        Self(Value::String(v.clone()))
    }
}
impl From<ClarusId> for FilterValue {
    fn from(v: ClarusId) -> Self {
        Self(Value::String(v.to_string()))
    }
}
impl From<i64> for FilterValue {
    fn from(v: i64) -> Self {
        Self(Value::from(v))
    }
}
impl From<bool> for FilterValue {
    fn from(v: bool) -> Self {
        Self(Value::Bool(v))
    }
}
impl From<Decimal> for FilterValue {
    fn from(v: Decimal) -> Self {
        Self(Value::String(v.to_string()))
    }
}
impl From<Timestamp> for FilterValue {
    fn from(v: Timestamp) -> Self {
        Self(Value::String(v.to_string()))
    }
}

/// A filter for a list query. Field names are the documented filter names (`product_code`,
/// `goods_out_id`, …); operators follow the documented input types:
///
/// | input type | operators |
/// |---|---|
/// | String | `eq` `ilike` `like` `in` `between` |
/// | Integer / Decimal | `eq` `gt` `gteq` `lt` `lteq` `between` |
/// | Datetime | `eq` `from` `to` `between` |
/// | Boolean | `eq` |
/// | Id | `eq` `in` `gt` `gteq` `lt` `lteq` `filled` |
///
/// ```
/// use clarus_client::graphql::Filter;
/// let f = Filter::new().eq("product_code", "SKU-1").gteq("quantity", 1i64);
/// assert_eq!(
///     serde_json::to_value(&f).unwrap(),
///     serde_json::json!({"product_code": {"eq": "SKU-1"}, "quantity": {"gteq": 1}})
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Filter(BTreeMap<String, BTreeMap<&'static str, Value>>);

impl Filter {
    /// An empty filter (matches everything).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no condition is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn with(mut self, field: &str, op: &'static str, value: Value) -> Self {
        self.0
            .entry(field.to_owned())
            .or_default()
            .insert(op, value);
        self
    }

    /// `eq`: exact match.
    pub fn eq(self, field: &str, value: impl Into<FilterValue>) -> Self {
        self.with(field, "eq", value.into().0)
    }
    /// `ilike`: case-insensitive partial match.
    pub fn ilike(self, field: &str, value: impl Into<FilterValue>) -> Self {
        self.with(field, "ilike", value.into().0)
    }
    /// `like`: case-sensitive partial match.
    pub fn like(self, field: &str, value: impl Into<FilterValue>) -> Self {
        self.with(field, "like", value.into().0)
    }
    /// `in`: any of the values.
    pub fn any_of<V: Into<FilterValue>>(
        self,
        field: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let list = values.into_iter().map(|v| v.into().0).collect();
        self.with(field, "in", Value::Array(list))
    }
    /// `between`: inclusive range, sent as a two-element array.
    pub fn between(
        self,
        field: &str,
        low: impl Into<FilterValue>,
        high: impl Into<FilterValue>,
    ) -> Self {
        self.with(
            field,
            "between",
            Value::Array(vec![low.into().0, high.into().0]),
        )
    }
    /// `gt`: greater than.
    pub fn gt(self, field: &str, value: impl Into<FilterValue>) -> Self {
        self.with(field, "gt", value.into().0)
    }
    /// `gteq`: greater than or equal.
    pub fn gteq(self, field: &str, value: impl Into<FilterValue>) -> Self {
        self.with(field, "gteq", value.into().0)
    }
    /// `lt`: less than.
    pub fn lt(self, field: &str, value: impl Into<FilterValue>) -> Self {
        self.with(field, "lt", value.into().0)
    }
    /// `lteq`: less than or equal.
    pub fn lteq(self, field: &str, value: impl Into<FilterValue>) -> Self {
        self.with(field, "lteq", value.into().0)
    }
    /// `from`: datetime at or after.
    pub fn from(self, field: &str, value: impl Into<FilterValue>) -> Self {
        self.with(field, "from", value.into().0)
    }
    /// `to`: datetime at or before.
    pub fn to(self, field: &str, value: impl Into<FilterValue>) -> Self {
        self.with(field, "to", value.into().0)
    }
    /// `filled`: the id is set (`true`) or not (`false`).
    pub fn filled(self, field: &str, filled: bool) -> Self {
        self.with(field, "filled", Value::Bool(filled))
    }
}
