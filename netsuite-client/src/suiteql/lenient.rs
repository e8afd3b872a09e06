//! Lenient readers for SuiteQL columns, for `#[serde(deserialize_with = "...")]`.
//!
//! SuiteQL returns most values as strings (`"12"`, `"2.5"`, `"T"`), sometimes as JSON numbers,
//! and leaves NULL columns out. Put `#[serde(default)]` on every `Option` column so an omitted
//! column reads as `None`.
//!
//! ```
//! use netsuite_client::suiteql::lenient;
//! use rust_decimal::Decimal;
//!
//! #[derive(serde::Deserialize)]
//! struct Row {
//!     #[serde(deserialize_with = "lenient::i64")]
//!     id: i64,
//!     itemid: String,
//!     #[serde(default, deserialize_with = "lenient::opt_decimal")]
//!     quantityonhand: Option<Decimal>,
//!     #[serde(default, deserialize_with = "lenient::opt_bool")]
//!     isinactive: Option<bool>,
//! }
//!
//! let row: Row = serde_json::from_str(r#"{"id":"7","itemid":"SKU-7","quantityonhand":"12.50","isinactive":"F"}"#).unwrap();
//! assert_eq!(row.id, 7);
//! assert_eq!(row.quantityonhand, Some(Decimal::new(1250, 2)));
//! assert_eq!(row.isinactive, Some(false));
//! let row: Row = serde_json::from_str(r#"{"id":8,"itemid":"SKU-8"}"#).unwrap();
//! assert_eq!(row.quantityonhand, None);
//! ```

use std::fmt;

use rust_decimal::Decimal;
use serde::Deserializer;
use serde::de::{self, Visitor};

/// A scalar as SuiteQL may send it, borrowed where possible.
enum Scalar<'a> {
    Str(std::borrow::Cow<'a, str>),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Null,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean or null")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(v.into()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(v.to_owned().into()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(v.into()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::I64(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::U64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::F64(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar<'de>, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

fn bad<E: de::Error>(what: &str, got: &str) -> E {
    E::custom(format_args!("expected {what}, got {got:?}"))
}

fn to_decimal<E: de::Error>(s: Scalar<'_>) -> Result<Option<Decimal>, E> {
    match s {
        Scalar::Null => Ok(None),
        Scalar::Str(t) if t.trim().is_empty() => Ok(None),
        Scalar::Str(t) => crate::decimal::parse_decimal_str(&t)
            .map(Some)
            .ok_or_else(|| bad("a decimal", &t)),
        Scalar::I64(i) => Ok(Some(Decimal::from(i))),
        Scalar::U64(u) => Ok(Some(Decimal::from(u))),
        Scalar::F64(f) => crate::decimal::parse_decimal_str(&f.to_string())
            .map(Some)
            .ok_or_else(|| bad("a decimal", &f.to_string())),
        Scalar::Bool(b) => Err(bad("a decimal", &b.to_string())),
    }
}

fn to_i64<E: de::Error>(s: Scalar<'_>) -> Result<Option<i64>, E> {
    match s {
        Scalar::Null => Ok(None),
        Scalar::Str(t) if t.trim().is_empty() => Ok(None),
        Scalar::Str(t) => t
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad("an integer", &t)),
        Scalar::I64(i) => Ok(Some(i)),
        Scalar::U64(u) => i64::try_from(u)
            .map(Some)
            .map_err(|_| bad("an integer", &u.to_string())),
        Scalar::F64(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
        Scalar::F64(f) => Err(bad("an integer", &f.to_string())),
        Scalar::Bool(b) => Err(bad("an integer", &b.to_string())),
    }
}

fn to_bool<E: de::Error>(s: Scalar<'_>) -> Result<Option<bool>, E> {
    match s {
        Scalar::Null => Ok(None),
        Scalar::Bool(b) => Ok(Some(b)),
        Scalar::Str(t) => match t.trim() {
            "" => Ok(None),
            "T" | "t" | "true" | "TRUE" | "True" | "Y" | "y" | "Yes" | "yes" | "1" => {
                Ok(Some(true))
            }
            "F" | "f" | "false" | "FALSE" | "False" | "N" | "n" | "No" | "no" | "0" => {
                Ok(Some(false))
            }
            _ => Err(bad("a boolean (T/F)", &t)),
        },
        Scalar::I64(i) if i == 0 || i == 1 => Ok(Some(i == 1)),
        Scalar::U64(u) if u <= 1 => Ok(Some(u == 1)),
        Scalar::I64(_) | Scalar::U64(_) | Scalar::F64(_) => Err(bad("a boolean", "a number")),
    }
}

/// Parses `YYYY-MM-DD` (also with a time part, which is dropped) or the US account format
/// `M/D/YYYY`. Other account date formats are ambiguous; select
/// `TO_CHAR(col, 'YYYY-MM-DD')` for them.
pub fn parse_date(s: &str) -> Option<jiff::civil::Date> {
    let t = s.trim();
    let head = t.split([' ', 'T']).next().unwrap_or(t);
    if let Ok(d) = head.parse::<jiff::civil::Date>() {
        return Some(d);
    }
    let mut parts = head.split('/');
    let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    jiff::civil::Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()
}

fn to_date<E: de::Error>(s: Scalar<'_>) -> Result<Option<jiff::civil::Date>, E> {
    match s {
        Scalar::Null => Ok(None),
        Scalar::Str(t) if t.trim().is_empty() => Ok(None),
        Scalar::Str(t) => parse_date(&t)
            .map(Some)
            .ok_or_else(|| bad("a date (YYYY-MM-DD or M/D/YYYY)", &t)),
        _ => Err(bad("a date", "a non-string")),
    }
}

fn required<T, E: de::Error>(v: Option<T>) -> Result<T, E> {
    v.ok_or_else(|| E::custom("expected a value, got null or empty"))
}

/// A decimal from a string or number.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    to_decimal(scalar(d)?).and_then(required)
}

/// An optional decimal (null or empty string is `None`).
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    to_decimal(scalar(d)?)
}

/// An integer from a string or number.
pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    to_i64(scalar(d)?).and_then(required)
}

/// An optional integer.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    to_i64(scalar(d)?)
}

/// A boolean from `T`/`F` (and `true`/`false`, `Y`/`N`, `1`/`0`).
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    to_bool(scalar(d)?).and_then(required)
}

/// An optional boolean.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    to_bool(scalar(d)?)
}

/// A date (see [`parse_date`]).
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<jiff::civil::Date, D::Error> {
    to_date(scalar(d)?).and_then(required)
}

/// An optional date.
pub fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<jiff::civil::Date>, D::Error> {
    to_date(scalar(d)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Row {
        #[serde(deserialize_with = "i64")]
        id: i64,
        #[serde(default, deserialize_with = "opt_decimal")]
        qty: Option<Decimal>,
        #[serde(default, deserialize_with = "opt_bool")]
        flag: Option<bool>,
        #[serde(default, deserialize_with = "opt_date")]
        day: Option<jiff::civil::Date>,
    }

    #[test]
    fn reads_strings_numbers_and_omitted_columns() {
        let r: Row =
            serde_json::from_str(r#"{"id":"42","qty":"-1.25","flag":"T","day":"1/31/2026"}"#)
                .unwrap();
        assert_eq!(r.id, 42);
        assert_eq!(r.qty, Some(Decimal::new(-125, 2)));
        assert_eq!(r.flag, Some(true));
        assert_eq!(r.day, Some(jiff::civil::date(2026, 1, 31)));
        let r: Row = serde_json::from_str(r#"{"id":42.0,"qty":3,"day":"2026-02-03"}"#).unwrap();
        assert_eq!(r.qty, Some(Decimal::from(3)));
        assert_eq!(r.flag, None);
        assert_eq!(r.day, Some(jiff::civil::date(2026, 2, 3)));
        let r: Row = serde_json::from_str(r#"{"id":"1","qty":""}"#).unwrap();
        assert_eq!(r.qty, None);
    }

    #[test]
    fn refuses_garbage_with_a_clear_message() {
        let e = serde_json::from_str::<Row>(r#"{"id":"12a"}"#).unwrap_err();
        assert!(e.to_string().contains("expected an integer"), "{e}");
        assert!(serde_json::from_str::<Row>(r#"{"id":"1","flag":"maybe"}"#).is_err());
        assert!(serde_json::from_str::<Row>(r#"{"id":"1","day":"31.01.2026"}"#).is_err());
        assert!(serde_json::from_str::<Row>(r#"{"id":"1","qty":"1,5"}"#).is_err());
    }
}
