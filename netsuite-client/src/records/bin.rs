//! Bins.

use super::{Record, RecordId, RecordRef};

netsuite_record! {
    /// A bin (`bin`) inside a location.
    pub struct Bin {
        /// Internal id (read only). (`id`)
        pub id: Option<RecordId>,
        /// External id; set it on created records to make creation idempotent. (`externalId`)
        pub external_id: Option<String>,
        /// Bin. (`binNumber`)
        pub bin_number: Option<String>,
        /// Location. (`location`)
        pub location: Option<RecordRef>,
        /// Memo. (`memo`)
        pub memo: Option<String>,
        /// Inactive. (`isInactive`)
        pub is_inactive: Option<bool>,
        /// Last modification time (read only). (`lastModifiedDate`)
        pub last_modified_date: Option<jiff::Timestamp>,
    }
}

impl Record for Bin {
    const TYPE: &'static str = "bin";
}
