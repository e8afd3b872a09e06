//! The declarative macro every record and line struct is written with.

/// Declares a NetSuite record or sublist line struct from its typed fields.
///
/// Every field is an `Option`, named in snake case after its camelCase REST name, and read and
/// written through [`field`](super::field) (so its type picks the wire rules); absent fields
/// are not written. The macro adds the derives, the `links` NetSuite returns (never written)
/// and `extra`, the fields without a typed slot (custom fields, newer fields), kept as received.
///
/// `pub struct Name: transaction { ... }` starts with the header every transaction shares
/// (id, external id, document number and date, subsidiary, location, memo, creation and
/// modification times); `pub struct Name: receiving_line { ... }` with the fields the item
/// lines of fulfilments and receipts share.
macro_rules! netsuite_record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident: transaction { $($body:tt)* }
    ) => {
        netsuite_record! {
            $(#[$meta])*
            pub struct $name {
                /// Internal id (read only). (`id`)
                pub id: Option<$crate::RecordId>,
                /// External id; set it on created records to make creation idempotent. (`externalId`)
                pub external_id: Option<String>,
                /// Document number. (`tranId`)
                pub tran_id: Option<String>,
                /// Transaction date. (`tranDate`)
                pub tran_date: Option<jiff::civil::Date>,
                /// Subsidiary. (`subsidiary`)
                pub subsidiary: Option<$crate::records::RecordRef>,
                /// Location. (`location`)
                pub location: Option<$crate::records::RecordRef>,
                /// Memo. (`memo`)
                pub memo: Option<String>,
                /// Creation time (read only). (`createdDate`)
                pub created_date: Option<jiff::Timestamp>,
                /// Last modification time (read only). (`lastModifiedDate`)
                pub last_modified_date: Option<jiff::Timestamp>,
                $($body)*
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident: receiving_line { $($body:tt)* }
    ) => {
        netsuite_record! {
            $(#[$meta])*
            pub struct $name {
                /// The source order line this line fulfils or receives. (`orderLine`)
                pub order_line: Option<i64>,
                /// Line number (not sequential; use it as `orderLine` when transforming). (`line`)
                pub line: Option<i64>,
                /// Whether this line is fulfilled/received; `false` leaves it out. (`itemReceive`)
                pub item_receive: Option<bool>,
                /// Item. (`item`)
                pub item: Option<$crate::records::RecordRef>,
                /// Description. (`description`)
                pub description: Option<String>,
                /// Quantity. (`quantity`)
                pub quantity: Option<$crate::Decimal>,
                /// Quantity still open on the source line. (`quantityRemaining`)
                pub quantity_remaining: Option<$crate::Decimal>,
                /// Location. (`location`)
                pub location: Option<$crate::records::RecordRef>,
                /// Lots, serials, bins and statuses of this line. (`inventoryDetail`)
                pub inventory_detail: Option<$crate::records::InventoryDetail>,
                /// Lot/serial numbers (legacy text). (`serialNumbers`)
                pub serial_numbers: Option<String>,
                /// Bins (legacy text). (`binNumbers`)
                pub bin_numbers: Option<String>,
                /// Unit of measure. (`units`)
                pub units: Option<String>,
                $($body)*
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[serde(
                    default,
                    skip_serializing_if = "Option::is_none",
                    with = "crate::records::field"
                )]
                pub $field: $ty,
            )*
            /// Links returned by NetSuite (never written).
            #[serde(default, skip_serializing)]
            pub links: Vec<$crate::records::Link>,
            /// Fields without a typed slot (custom fields, newer fields), kept as received.
            #[serde(flatten)]
            pub extra: $crate::records::Extra,
        }
    };
}
