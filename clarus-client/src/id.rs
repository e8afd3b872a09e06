//! The identifier newtype shared by every Clarus record.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Clarus record id.
///
/// REST bodies carry ids as JSON integers while GraphQL returns them as strings such as `"1024"`;
/// this type reads both forms and always writes an integer, which is what the REST request
/// schemas require.
///
/// ```
/// use clarus_client::ClarusId;
/// let a: ClarusId = serde_json::from_str("42").unwrap();
/// let b: ClarusId = serde_json::from_str("\"42\"").unwrap();
/// assert_eq!(a, b);
/// assert_eq!(serde_json::to_string(&a).unwrap(), "42");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClarusId(i64);

impl ClarusId {
    /// Wraps a raw id.
    pub const fn new(value: i64) -> Self {
        Self(value)
    }

    /// The raw integer value.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl From<i64> for ClarusId {
    fn from(value: i64) -> Self {
        Self(value)
    }
}

impl From<ClarusId> for i64 {
    fn from(value: ClarusId) -> Self {
        value.0
    }
}

impl fmt::Display for ClarusId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The text was not a whole number usable as a Clarus id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Clarus id: {0:?}")]
pub struct ParseIdError(pub String);

impl FromStr for ClarusId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<i64>()
            .map(Self)
            .map_err(|_| ParseIdError(s.to_owned()))
    }
}

impl Serialize for ClarusId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for ClarusId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;

        impl Visitor<'_> for IdVisitor {
            type Value = ClarusId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer id or a string holding one")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(ClarusId(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map(ClarusId)
                    .map_err(|_| E::custom(format!("id {v} is out of range")))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                // Some JSON producers write integral ids as `12.0`; anything else is rejected.
                if v.fract() == 0.0 && v >= i64::MIN as f64 && v <= i64::MAX as f64 {
                    Ok(ClarusId(v as i64))
                } else {
                    Err(E::custom(format!("id {v} is not a whole number")))
                }
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                v.parse().map_err(|e: ParseIdError| E::custom(e))
            }
        }

        deserializer.deserialize_any(IdVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_and_strings() {
        assert_eq!(serde_json::from_str::<ClarusId>("7").unwrap(), ClarusId(7));
        assert_eq!(
            serde_json::from_str::<ClarusId>("\" 7 \"").unwrap(),
            ClarusId(7)
        );
        assert_eq!(
            serde_json::from_str::<ClarusId>("7.0").unwrap(),
            ClarusId(7)
        );
    }

    #[test]
    fn rejects_non_ids() {
        assert!(serde_json::from_str::<ClarusId>("\"abc\"").is_err());
        assert!(serde_json::from_str::<ClarusId>("7.5").is_err());
        assert!(serde_json::from_str::<ClarusId>("true").is_err());
        assert!(serde_json::from_str::<ClarusId>("18446744073709551615").is_err());
    }

    #[test]
    fn writes_integers() {
        assert_eq!(serde_json::to_string(&ClarusId(12)).unwrap(), "12");
    }
}
