//! Inventory transfers.

use rust_decimal::Decimal;

use super::{InventoryDetail, Record, RecordRef, Sublist};

netsuite_record! {
    /// An inventory transfer (`inventoryTransfer`): stock moved from `location` to `transferLocation` in one step.
    pub struct InventoryTransfer: transaction {
        /// Destination location. (`transferLocation`)
        pub transfer_location: Option<RecordRef>,
        /// Department. (`department`)
        pub department: Option<RecordRef>,
        /// Class. (`class`)
        pub class: Option<RecordRef>,
        /// Posting period. (`postingPeriod`)
        pub posting_period: Option<RecordRef>,
        /// Lines. (`inventory`)
        pub inventory: Option<Sublist<InventoryTransferLine>>,
    }
}

impl Record for InventoryTransfer {
    const TYPE: &'static str = "inventoryTransfer";
}

netsuite_record! {
    /// A line of the `inventory` sublist of an inventory transfer (`adjustQtyBy` is the quantity moved).
    pub struct InventoryTransferLine {
        /// Line number (not sequential; use it as `orderLine` when transforming). (`line`)
        pub line: Option<i64>,
        /// Item. (`item`)
        pub item: Option<RecordRef>,
        /// Quantity to add (negative to remove; for transfers, the quantity moved). (`adjustQtyBy`)
        pub adjust_qty_by: Option<Decimal>,
        /// Quantity on hand (read only). (`quantityOnHand`)
        pub quantity_on_hand: Option<Decimal>,
        /// Lots, serials, bins and statuses of this line. (`inventoryDetail`)
        pub inventory_detail: Option<InventoryDetail>,
        /// Source bins (legacy text). (`fromBinNumbers`)
        pub from_bin_numbers: Option<String>,
        /// Destination bins (legacy text). (`toBinNumbers`)
        pub to_bin_numbers: Option<String>,
        /// Unit of measure. (`units`)
        pub units: Option<String>,
        /// Description. (`description`)
        pub description: Option<String>,
    }
}
