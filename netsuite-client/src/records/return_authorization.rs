//! Return authorisations.

use rust_decimal::Decimal;

use super::{
    InventoryDetail, OrderStatus, Record, RecordRef, ReturnAuthorizationStatus, Select, Sublist,
};

netsuite_record! {
    /// A return authorisation (`returnAuthorization`): goods expected back from a customer.
    pub struct ReturnAuthorization: transaction {
        /// Customer or vendor. (`entity`)
        pub entity: Option<RecordRef>,
        /// Source transaction. (`createdFrom`)
        pub created_from: Option<RecordRef>,
        /// Status. (`status`)
        pub status: Option<Select<ReturnAuthorizationStatus>>,
        /// Approval status. (`orderStatus`)
        pub order_status: Option<Select<OrderStatus>>,
        /// Customer PO or other reference number. (`otherRefNum`)
        pub other_ref_num: Option<String>,
        /// Currency. (`currency`)
        pub currency: Option<RecordRef>,
        /// Item. (`item`)
        pub item: Option<Sublist<ReturnAuthorizationLine>>,
    }
}

impl Record for ReturnAuthorization {
    const TYPE: &'static str = "returnAuthorization";
}

netsuite_record! {
    /// A line of the `item` sublist of a return authorisation.
    pub struct ReturnAuthorizationLine {
        /// Line number (not sequential; use it as `orderLine` when transforming). (`line`)
        pub line: Option<i64>,
        /// Line key that never changes. (`lineUniqueKey`)
        pub line_unique_key: Option<String>,
        /// Item. (`item`)
        pub item: Option<RecordRef>,
        /// Description. (`description`)
        pub description: Option<String>,
        /// Quantity. (`quantity`)
        pub quantity: Option<Decimal>,
        /// Quantity received. (`quantityReceived`)
        pub quantity_received: Option<Decimal>,
        /// Quantity billed. (`quantityBilled`)
        pub quantity_billed: Option<Decimal>,
        /// Location. (`location`)
        pub location: Option<RecordRef>,
        /// Lots, serials, bins and statuses of this line. (`inventoryDetail`)
        pub inventory_detail: Option<InventoryDetail>,
        /// Line closed. (`isClosed`)
        pub is_closed: Option<bool>,
        /// Unit of measure. (`units`)
        pub units: Option<String>,
        /// Rate (price per unit). (`rate`)
        pub rate: Option<Decimal>,
        /// Amount. (`amount`)
        pub amount: Option<Decimal>,
        /// Item type code (`InvtPart`, `Kit`, …). (`itemType`)
        pub item_type: Option<Select>,
    }
}
