//! Item fulfilments.

use rust_decimal::Decimal;

use super::{Record, RecordRef, Select, ShipStatus, Sublist};

netsuite_record! {
    /// An item fulfilment (`itemFulfillment`), created by transforming a sales or transfer order.
    pub struct ItemFulfillment: transaction {
        /// Source transaction. (`createdFrom`)
        pub created_from: Option<RecordRef>,
        /// Customer or vendor. (`entity`)
        pub entity: Option<RecordRef>,
        /// Picked, packed or shipped. (`shipStatus`)
        pub ship_status: Option<Select<ShipStatus>>,
        /// Status. (`status`)
        pub status: Option<Select<ShipStatus>>,
        /// Date picked. (`pickedDate`)
        pub picked_date: Option<jiff::civil::Date>,
        /// Date packed. (`packedDate`)
        pub packed_date: Option<jiff::civil::Date>,
        /// Date shipped. (`shippedDate`)
        pub shipped_date: Option<jiff::civil::Date>,
        /// Shipping method (a ship item). (`shipMethod`)
        pub ship_method: Option<RecordRef>,
        /// Carrier. (`shipCarrier`)
        pub ship_carrier: Option<Select>,
        /// Internal id of the source order. (`orderId`)
        pub order_id: Option<i64>,
        /// Destination location. (`transferLocation`)
        pub transfer_location: Option<RecordRef>,
        /// Item. (`item`)
        pub item: Option<Sublist<ItemFulfillmentLine>>,
        /// Packages (carrier-neutral). (`package`)
        pub package: Option<Sublist<Package>>,
    }
}

impl Record for ItemFulfillment {
    const TYPE: &'static str = "itemFulfillment";
}

netsuite_record! {
    /// A line of the `item` sublist of an item fulfilment.
    pub struct ItemFulfillmentLine: receiving_line {
        /// Item type code (`InvtPart`, `Kit`, …). (`itemType`)
        pub item_type: Option<String>,
    }
}

netsuite_record! {
    /// A package of an item fulfilment (the carrier-neutral `package` sublist).
    pub struct Package {
        /// Tracking number. (`packageTrackingNumber`)
        pub package_tracking_number: Option<String>,
        /// Weight. (`packageWeight`)
        pub package_weight: Option<Decimal>,
        /// Description. (`packageDescr`)
        pub package_descr: Option<String>,
        /// Carton number. (`packageCartonNumber`)
        pub package_carton_number: Option<String>,
    }
}
