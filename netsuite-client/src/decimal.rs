//! Serde helpers for quantities: read a JSON number or a numeric string into a
//! [`rust_decimal::Decimal`], write it back as a JSON number with exactly its decimal digits.
//!
//! NetSuite types quantities as `number/float` on the wire. Reading goes through serde_json's
//! shortest round-trip representation of the number (so `1.1` becomes exactly `1.1`), and
//! writing emits the decimal's own digits (no binary float ever touches an outgoing value).

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

struct DecimalVisitor;

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a numeric string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::invalid_value(de::Unexpected::Float(v), &self));
        }
        // `Display` for f64 prints the shortest string that reads back as the same value.
        let s = v.to_string();
        Decimal::from_str(&s)
            .or_else(|_| Decimal::from_scientific(&s))
            .map_err(|_| E::invalid_value(de::Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_decimal_str(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// Parses a decimal written the way NetSuite and spreadsheets write it: surrounding spaces,
/// a leading `+`, a leading `.` (`.5`), scientific notation (`1E-3`).
pub fn parse_decimal_str(s: &str) -> Option<Decimal> {
    let t = s.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() {
        return None;
    }
    let owned;
    let t = if let Some(rest) = t.strip_prefix('.') {
        owned = format!("0.{rest}");
        owned.as_str()
    } else if let Some(rest) = t.strip_prefix("-.") {
        owned = format!("-0.{rest}");
        owned.as_str()
    } else {
        t
    };
    Decimal::from_str(t)
        .ok()
        .or_else(|| Decimal::from_scientific(t).ok())
}

/// Deserializes a decimal from a number or a string.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecimalVisitor)
}

/// Serializes a decimal as a JSON number with exactly its digits.
pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    let raw = serde_json::value::RawValue::from_string(value.normalize().to_string())
        .map_err(serde::ser::Error::custom)?;
    raw.serialize(s)
}

/// The same for `Option<Decimal>` (absent or `null` is `None`).
pub mod option {
    use super::*;

    struct OptVisitor;

    impl<'de> Visitor<'de> for OptVisitor {
        type Value = Option<Decimal>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number, a numeric string or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            super::deserialize(d).map(Some)
        }
    }

    /// Deserializes an optional decimal.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        d.deserialize_option(OptVisitor)
    }

    /// Serializes an optional decimal (`None` as `null`; records skip `None` fields).
    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => super::serialize(v, s),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Q {
        #[serde(with = "super")]
        a: Decimal,
        #[serde(default, with = "super::option")]
        b: Option<Decimal>,
    }

    #[test]
    fn reads_numbers_and_strings() {
        let q: Q = serde_json::from_str(r#"{"a": 1.1, "b": "2.50"}"#).unwrap();
        assert_eq!(q.a, dec("1.1"));
        assert_eq!(q.b, Some(dec("2.50")));
        let q: Q = serde_json::from_str(r#"{"a": -3, "b": null}"#).unwrap();
        assert_eq!(q.a, dec("-3"));
        assert_eq!(q.b, None);
        let q: Q = serde_json::from_str(r#"{"a": ".5"}"#).unwrap();
        assert_eq!(q.a, dec("0.5"));
        assert!(serde_json::from_str::<Q>(r#"{"a": "abc"}"#).is_err());
        assert!(serde_json::from_str::<Q>(r#"{"a": true}"#).is_err());
    }

    #[test]
    fn writes_json_numbers_with_exact_digits() {
        let q = Q {
            a: dec("0.1"),
            b: Some(dec("12345678901234567.125")),
        };
        assert_eq!(
            serde_json::to_string(&q).unwrap(),
            r#"{"a":0.1,"b":12345678901234567.125}"#
        );
        let q = Q {
            a: dec("2.500"),
            b: None,
        };
        assert_eq!(serde_json::to_string(&q).unwrap(), r#"{"a":2.5,"b":null}"#);
    }
}
