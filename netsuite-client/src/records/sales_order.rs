//! Sales orders.

use rust_decimal::Decimal;

use super::{InventoryDetail, OrderStatus, Record, RecordRef, SalesOrderStatus, Select, Sublist};

netsuite_record! {
    /// A sales order (`salesOrder`): the order to fulfil.
    pub struct SalesOrder: transaction {
        /// Customer or vendor. (`entity`)
        pub entity: Option<RecordRef>,
        /// Status. (`status`)
        pub status: Option<Select<SalesOrderStatus>>,
        /// Approval status. (`orderStatus`)
        pub order_status: Option<Select<OrderStatus>>,
        /// Ship date. (`shipDate`)
        pub ship_date: Option<jiff::civil::Date>,
        /// Shipping method (a ship item). (`shipMethod`)
        pub ship_method: Option<RecordRef>,
        /// Ship only complete orders. (`shipComplete`)
        pub ship_complete: Option<bool>,
        /// Customer PO or other reference number. (`otherRefNum`)
        pub other_ref_num: Option<String>,
        /// Currency. (`currency`)
        pub currency: Option<RecordRef>,
        /// Item. (`item`)
        pub item: Option<Sublist<SalesOrderLine>>,
    }
}

impl Record for SalesOrder {
    const TYPE: &'static str = "salesOrder";
}

netsuite_record! {
    /// A line of the `item` sublist of a sales order.
    pub struct SalesOrderLine {
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
        /// Quantity committed. (`quantityCommitted`)
        pub quantity_committed: Option<Decimal>,
        /// Quantity fulfilled. (`quantityFulfilled`)
        pub quantity_fulfilled: Option<Decimal>,
        /// Quantity back-ordered. (`quantityBackOrdered`)
        pub quantity_back_ordered: Option<Decimal>,
        /// Quantity picked. (`quantityPicked`)
        pub quantity_picked: Option<Decimal>,
        /// Quantity packed. (`quantityPacked`)
        pub quantity_packed: Option<Decimal>,
        /// Quantity billed. (`quantityBilled`)
        pub quantity_billed: Option<Decimal>,
        /// Location. (`location`)
        pub location: Option<RecordRef>,
        /// Lots, serials, bins and statuses of this line. (`inventoryDetail`)
        pub inventory_detail: Option<InventoryDetail>,
        /// Line closed. (`isClosed`)
        pub is_closed: Option<bool>,
        /// Commit inventory setting (1, 2 or 3). (`commitInventory`)
        pub commit_inventory: Option<Select>,
        /// Item type code (`InvtPart`, `Kit`, …). (`itemType`)
        pub item_type: Option<Select>,
        /// Unit of measure. (`units`)
        pub units: Option<String>,
        /// Rate (price per unit). (`rate`)
        pub rate: Option<Decimal>,
        /// Amount. (`amount`)
        pub amount: Option<Decimal>,
    }
}
