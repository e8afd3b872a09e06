//! How one typed record field is read and written, chosen by its type.
//!
//! Every typed field of a record is an `Option<T>` serialized through this module
//! (`#[serde(with = "crate::records::field")]`, added by the record macro), so the wire rules
//! follow from `T` alone: quantities are decimals written with exactly their digits and read
//! from numbers or numeric strings, integers and flags are read leniently (`"4"`, `"T"`), and
//! everything else is plain serde.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{InventoryDetail, RecordId, RecordRef, Select, Sublist};

/// A type a typed record field can hold.
pub trait Field: Sized {
    /// Writes a present value.
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;

    /// Reads the value; `None` for `null` (and, for the lenient types, an empty string).
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error>;
}

/// Plain serde both ways.
macro_rules! plain_field {
    ($($ty:ty),* $(,)?) => {$(
        impl Field for $ty {
            fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.serialize(serializer)
            }

            fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
                Option::<Self>::deserialize(deserializer)
            }
        }
    )*};
}

plain_field!(
    String,
    RecordId,
    RecordRef,
    InventoryDetail,
    jiff::civil::Date,
    jiff::Timestamp,
    serde_json::Value,
);

impl<T: Serialize + for<'a> Deserialize<'a>> Field for Select<T> {
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize(serializer)
    }

    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        Option::<Self>::deserialize(deserializer)
    }
}

impl<T: Serialize + for<'a> Deserialize<'a>> Field for Sublist<T> {
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize(serializer)
    }

    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        Option::<Self>::deserialize(deserializer)
    }
}

impl Field for Decimal {
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::decimal::serialize(self, serializer)
    }

    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        crate::decimal::option::deserialize(deserializer)
    }
}

impl Field for i64 {
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize(serializer)
    }

    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        crate::suiteql::lenient::opt_i64(deserializer)
    }
}

impl Field for bool {
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize(serializer)
    }

    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        crate::suiteql::lenient::opt_bool(deserializer)
    }
}

/// Serde `with` entry point: writes a present field (absent ones are skipped before this).
pub fn serialize<T: Field, S: Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => value.write(serializer),
        None => serializer.serialize_none(),
    }
}

/// Serde `with` entry point: reads a field.
pub fn deserialize<'de, T: Field, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::read(deserializer)
}
