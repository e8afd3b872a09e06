//! Item receipts.

use rust_decimal::Decimal;

use super::{Record, RecordRef, Select, Sublist};

netsuite_record! {
    /// An item receipt (`itemReceipt`), created by transforming a purchase order, return authorisation or transfer order.
    pub struct ItemReceipt: transaction {
        /// Source transaction. (`createdFrom`)
        pub created_from: Option<RecordRef>,
        /// Customer or vendor. (`entity`)
        pub entity: Option<RecordRef>,
        /// Item fulfilment this receipt receives (transfer orders). (`itemFulfillment`)
        pub item_fulfillment: Option<RecordRef>,
        /// Inbound shipment. (`inboundShipment`)
        pub inbound_shipment: Option<RecordRef>,
        /// Landed cost allocation method. (`landedCostMethod`)
        pub landed_cost_method: Option<Select>,
        /// Item. (`item`)
        pub item: Option<Sublist<ItemReceiptLine>>,
    }
}

impl Record for ItemReceipt {
    const TYPE: &'static str = "itemReceipt";
}

netsuite_record! {
    /// A line of the `item` sublist of an item receipt.
    pub struct ItemReceiptLine: receiving_line {
        /// Unit cost override. (`unitCostOverride`)
        pub unit_cost_override: Option<Decimal>,
        /// Item type code (`InvtPart`, `Kit`, …). (`itemType`)
        pub item_type: Option<String>,
        /// Drop shipment line. (`isDropShipment`)
        pub is_drop_shipment: Option<bool>,
    }
}
