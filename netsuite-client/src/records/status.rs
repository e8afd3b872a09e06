//! Status and other select codes as open enums: known codes get a variant, any other code is
//! kept in `Other` so a newer or customised account never breaks deserialization.

/// Declares an open enum over string codes with serde support.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A code this crate does not know, exactly as sent.
            Other(String),
        }

        impl $name {
            /// The code as NetSuite writes it.
            pub fn code(&self) -> &str {
                match self {
                    $( Self::$variant => $code, )+
                    Self::Other(s) => s,
                }
            }

            /// Maps a code to a variant (unknown codes become `Other`).
            pub fn from_code(code: &str) -> Self {
                match code {
                    $( $code => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::from_code(&s))
            }
        }
    };
}

open_enum! {
    /// `salesOrder.status`.
    SalesOrderStatus {
        /// A: Pending Approval.
        PendingApproval = "A",
        /// B: Pending Fulfillment.
        PendingFulfillment = "B",
        /// C: Cancelled.
        Cancelled = "C",
        /// D: Partially Fulfilled.
        PartiallyFulfilled = "D",
        /// E: Pending Billing/Partially Fulfilled.
        PendingBillingPartiallyFulfilled = "E",
        /// F: Pending Billing.
        PendingBilling = "F",
        /// G: Billed.
        Billed = "G",
        /// H: Closed.
        Closed = "H",
    }
}

open_enum! {
    /// `orderStatus` of sales orders, return authorisations and transfer orders.
    OrderStatus {
        /// A: Pending Approval.
        PendingApproval = "A",
        /// B: Pending Fulfillment (or Pending Receipt).
        Approved = "B",
    }
}

open_enum! {
    /// `purchaseOrder.status`.
    PurchaseOrderStatus {
        /// A: Pending Supervisor Approval.
        PendingSupervisorApproval = "A",
        /// B: Pending Receipt.
        PendingReceipt = "B",
        /// C: Rejected by Supervisor.
        Rejected = "C",
        /// D: Partially Received.
        PartiallyReceived = "D",
        /// E: Pending Billing/Partially Received.
        PendingBillingPartiallyReceived = "E",
        /// F: Pending Bill.
        PendingBill = "F",
        /// G: Fully Billed.
        FullyBilled = "G",
        /// H: Closed.
        Closed = "H",
    }
}

open_enum! {
    /// `returnAuthorization.status`.
    ReturnAuthorizationStatus {
        /// A: Pending Approval.
        PendingApproval = "A",
        /// B: Pending Receipt.
        PendingReceipt = "B",
        /// C: Cancelled.
        Cancelled = "C",
        /// D: Partially Received.
        PartiallyReceived = "D",
        /// E: Pending Refund/Partially Received.
        PendingRefundPartiallyReceived = "E",
        /// F: Pending Refund.
        PendingRefund = "F",
        /// G: Refunded.
        Refunded = "G",
        /// H: Closed.
        Closed = "H",
    }
}

open_enum! {
    /// `itemFulfillment.shipStatus` (and `status`).
    ShipStatus {
        /// A: Picked.
        Picked = "A",
        /// B: Packed.
        Packed = "B",
        /// C: Shipped (on-hand drops only now when Pick/Pack/Ship is on).
        Shipped = "C",
    }
}

open_enum! {
    /// `costingMethod` of inventory items.
    CostingMethod {
        /// Specific (serial).
        Serial = "SERIAL",
        /// Lot.
        Lot = "LOT",
        /// Average.
        Average = "AVG",
        /// First in, first out.
        Fifo = "FIFO",
        /// Last in, first out.
        Lifo = "LIFO",
        /// Group average.
        GroupAverage = "GROUPAVG",
        /// Standard.
        Standard = "STANDARD",
    }
}
