//! Inventory adjustments.

use rust_decimal::Decimal;

use super::{InventoryDetail, Record, RecordRef, Sublist};

netsuite_record! {
    /// An inventory adjustment (`inventoryAdjustment`): stock added or removed, booked to an account.
    pub struct InventoryAdjustment: transaction {
        /// Adjustment account (required). (`account`)
        pub account: Option<RecordRef>,
        /// Adjustment location. (`adjLocation`)
        pub adj_location: Option<RecordRef>,
        /// `customer`. (`customer`)
        pub customer: Option<RecordRef>,
        /// Department. (`department`)
        pub department: Option<RecordRef>,
        /// Class. (`class`)
        pub class: Option<RecordRef>,
        /// Posting period. (`postingPeriod`)
        pub posting_period: Option<RecordRef>,
        /// Lines. (`inventory`)
        pub inventory: Option<Sublist<InventoryAdjustmentLine>>,
    }
}

impl Record for InventoryAdjustment {
    const TYPE: &'static str = "inventoryAdjustment";
}

netsuite_record! {
    /// A line of the `inventory` sublist of an inventory adjustment.
    pub struct InventoryAdjustmentLine {
        /// Line number (not sequential; use it as `orderLine` when transforming). (`line`)
        pub line: Option<i64>,
        /// Item. (`item`)
        pub item: Option<RecordRef>,
        /// Location. (`location`)
        pub location: Option<RecordRef>,
        /// Quantity to add (negative to remove; for transfers, the quantity moved). (`adjustQtyBy`)
        pub adjust_qty_by: Option<Decimal>,
        /// New on-hand quantity. (`newQuantity`)
        pub new_quantity: Option<Decimal>,
        /// Quantity on hand (read only). (`quantityOnHand`)
        pub quantity_on_hand: Option<Decimal>,
        /// Unit cost. (`unitCost`)
        pub unit_cost: Option<Decimal>,
        /// Lots, serials, bins and statuses of this line. (`inventoryDetail`)
        pub inventory_detail: Option<InventoryDetail>,
        /// Memo. (`memo`)
        pub memo: Option<String>,
        /// Unit of measure. (`units`)
        pub units: Option<String>,
        /// Description. (`description`)
        pub description: Option<String>,
        /// Bins (legacy text). (`binNumbers`)
        pub bin_numbers: Option<String>,
        /// Lot/serial numbers (legacy text). (`serialNumbers`)
        pub serial_numbers: Option<String>,
    }
}
