//! Small JSON helpers shared by the simulators: decimals in and out of JSON numbers, timestamps.

use std::str::FromStr;

use jiff::Timestamp;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;

/// Reads a quantity from a JSON number or numeric string, without going through `f64`.
pub(crate) fn decimal_from_json(value: &Value) -> Option<Decimal> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
        .map(|d| d.normalize())
}

/// Writes a quantity as a JSON number (integers stay integers; fractions become the nearest `f64`,
/// as the real services send them).
pub(crate) fn decimal_to_json(value: Decimal) -> Value {
    let value = value.normalize();
    if value.fract().is_zero()
        && let Some(i) = value.to_i64()
    {
        return Value::from(i);
    }
    value
        .to_f64()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// The current time, truncated to whole seconds (NetSuite keeps second precision).
pub(crate) fn now_seconds() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Reads an id that may arrive as a JSON number or a string.
pub(crate) fn id_from_json(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
