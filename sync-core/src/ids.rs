//! Identifier newtypes.
//!
//! Text identifiers keep their value in a [`CompactString`], which stores up to 24 bytes inline:
//! SKUs, NetSuite internal ids, lot numbers and the like clone without allocating, which keeps the
//! planner and the drift computation allocation-light. Clarus record ids are integers.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(CompactString);

        impl $name {
            /// Wraps a value as this identifier.
            pub fn new(value: impl AsRef<str>) -> Self {
                Self(CompactString::new(value.as_ref()))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(CompactString::from(value))
            }
        }
    };
}

macro_rules! number_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

text_id!(
    /// A stock-keeping unit: NetSuite item `itemId`, Clarus product `code`.
    Sku
);
text_id!(
    /// A product barcode: NetSuite item `upcCode`, Clarus product `barcode`.
    Barcode
);
text_id!(
    /// A NetSuite internal id of a record (item, transaction, account, ship method, status...).
    NetSuiteId
);
text_id!(
    /// A NetSuite location internal id.
    LocationId
);
text_id!(
    /// A Clarus tenant: the subdomain sent as `X-Clarus-Subdomain`.
    Tenant
);
text_id!(
    /// One despatch of a goods out (for example the Clarus shipment id): a goods out despatched
    /// in several parts has several despatch ids.
    DespatchId
);
text_id!(
    /// One receipt event of a goods-in receipt (a goods in received in parts has several).
    ReceiptId
);
text_id!(
    /// A lot (batch) number.
    LotNumber
);
text_id!(
    /// A serial number.
    SerialNumber
);
text_id!(
    /// A parcel tracking number.
    TrackingNumber
);

number_id!(
    /// A Clarus product id.
    ProductId
);
number_id!(
    /// A Clarus warehouse id.
    WarehouseId
);
number_id!(
    /// A Clarus goods-out (sales order in the warehouse) id.
    GoodsOutId
);
number_id!(
    /// A Clarus goods-in receipt id.
    GoodsInId
);
number_id!(
    /// A Clarus stock transaction id (adjustment, hold, release, stock-check result).
    MovementId
);
number_id!(
    /// A Clarus carrier id.
    CarrierId
);
number_id!(
    /// A Clarus carrier service id.
    CarrierServiceId
);
number_id!(
    /// A Clarus reason code id (adjustment, hold, release, stock-check reasons).
    ReasonCodeId
);

/// A NetSuite transaction line number (`line` / `orderLine`). These are not 1..n.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LineNo(pub u64);

impl fmt::Debug for LineNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LineNo({})", self.0)
    }
}

impl fmt::Display for LineNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_ids_serialize_as_plain_strings() {
        let sku = Sku::new("ABC-1");
        assert_eq!(serde_json::to_string(&sku).unwrap(), "\"ABC-1\"");
        let back: Sku = serde_json::from_str("\"ABC-1\"").unwrap();
        assert_eq!(back, sku);
        assert_eq!(format!("{sku:?}"), "Sku(\"ABC-1\")");
    }

    #[test]
    fn number_ids_serialize_as_numbers() {
        assert_eq!(serde_json::to_string(&GoodsOutId(42)).unwrap(), "42");
    }
}
