//! Transfer orders.

use rust_decimal::Decimal;

use super::{InventoryDetail, OrderStatus, Record, RecordRef, Select, Sublist};

netsuite_record! {
    /// A transfer order (`transferOrder`): stock moved between locations through a fulfilment and a receipt.
    pub struct TransferOrder: transaction {
        /// Destination location. (`transferLocation`)
        pub transfer_location: Option<RecordRef>,
        /// Approval status. (`orderStatus`)
        pub order_status: Option<Select<OrderStatus>>,
        /// Ship date. (`shipDate`)
        pub ship_date: Option<jiff::civil::Date>,
        /// Shipping method (a ship item). (`shipMethod`)
        pub ship_method: Option<RecordRef>,
        /// Ship only complete orders. (`shipComplete`)
        pub ship_complete: Option<bool>,
        /// Employee. (`employee`)
        pub employee: Option<RecordRef>,
        /// Firmed. (`firmed`)
        pub firmed: Option<bool>,
        /// Use item cost as transfer cost. (`useItemCostAsTransferCost`)
        pub use_item_cost_as_transfer_cost: Option<bool>,
        /// Tracking numbers. (`trackingNumbers`)
        pub tracking_numbers: Option<String>,
        /// Item. (`item`)
        pub item: Option<Sublist<TransferOrderLine>>,
    }
}

impl Record for TransferOrder {
    const TYPE: &'static str = "transferOrder";
}

netsuite_record! {
    /// A line of the `item` sublist of a transfer order.
    pub struct TransferOrderLine {
        /// Line number (not sequential; use it as `orderLine` when transforming). (`line`)
        pub line: Option<i64>,
        /// Item. (`item`)
        pub item: Option<RecordRef>,
        /// Description. (`description`)
        pub description: Option<String>,
        /// Quantity. (`quantity`)
        pub quantity: Option<Decimal>,
        /// Quantity committed. (`quantityCommitted`)
        pub quantity_committed: Option<Decimal>,
        /// Quantity fulfilled. (`quantityFulfilled`)
        pub quantity_fulfilled: Option<Decimal>,
        /// Quantity received. (`quantityReceived`)
        pub quantity_received: Option<Decimal>,
        /// Quantity picked. (`quantityPicked`)
        pub quantity_picked: Option<Decimal>,
        /// Quantity packed. (`quantityPacked`)
        pub quantity_packed: Option<Decimal>,
        /// Quantity back-ordered. (`quantityBackOrdered`)
        pub quantity_back_ordered: Option<Decimal>,
        /// Lots, serials, bins and statuses of this line. (`inventoryDetail`)
        pub inventory_detail: Option<InventoryDetail>,
        /// Line closed. (`isClosed`)
        pub is_closed: Option<bool>,
        /// Commit inventory setting (1, 2 or 3). (`commitInventory`)
        pub commit_inventory: Option<Select>,
        /// `expectedShipDate`. (`expectedShipDate`)
        pub expected_ship_date: Option<jiff::civil::Date>,
        /// Expected receipt date. (`expectedReceiptDate`)
        pub expected_receipt_date: Option<jiff::civil::Date>,
        /// Unit of measure. (`units`)
        pub units: Option<String>,
        /// Rate (price per unit). (`rate`)
        pub rate: Option<Decimal>,
        /// Amount. (`amount`)
        pub amount: Option<Decimal>,
    }
}
