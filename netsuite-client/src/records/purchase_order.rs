//! Purchase orders.

use rust_decimal::Decimal;

use super::{
    InventoryDetail, OrderStatus, PurchaseOrderStatus, Record, RecordRef, Select, Sublist,
};

netsuite_record! {
    /// A purchase order (`purchaseOrder`): goods expected in.
    pub struct PurchaseOrder: transaction {
        /// Customer or vendor. (`entity`)
        pub entity: Option<RecordRef>,
        /// Status. (`status`)
        pub status: Option<Select<PurchaseOrderStatus>>,
        /// Approval status. (`orderStatus`)
        pub order_status: Option<Select<OrderStatus>>,
        /// Due date. (`dueDate`)
        pub due_date: Option<jiff::civil::Date>,
        /// Ship date. (`shipDate`)
        pub ship_date: Option<jiff::civil::Date>,
        /// Currency. (`currency`)
        pub currency: Option<RecordRef>,
        /// Customer PO or other reference number. (`otherRefNum`)
        pub other_ref_num: Option<String>,
        /// Item. (`item`)
        pub item: Option<Sublist<PurchaseOrderLine>>,
    }
}

impl Record for PurchaseOrder {
    const TYPE: &'static str = "purchaseOrder";
}

netsuite_record! {
    /// A line of the `item` sublist of a purchase order.
    pub struct PurchaseOrderLine {
        /// Line number (not sequential; use it as `orderLine` when transforming). (`line`)
        pub line: Option<i64>,
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
        /// Expected receipt date. (`expectedReceiptDate`)
        pub expected_receipt_date: Option<jiff::civil::Date>,
        /// Unit of measure. (`units`)
        pub units: Option<String>,
        /// Rate (price per unit). (`rate`)
        pub rate: Option<Decimal>,
        /// Amount. (`amount`)
        pub amount: Option<Decimal>,
        /// Item type code (`InvtPart`, `Kit`, …). (`itemType`)
        pub item_type: Option<Select>,
        /// Vendor item name. (`vendorName`)
        pub vendor_name: Option<String>,
    }
}
