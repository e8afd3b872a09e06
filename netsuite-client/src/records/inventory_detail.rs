//! Inventory detail subrecords (lots, serials, bins, statuses).

use rust_decimal::Decimal;

use super::{RecordRef, Sublist};

netsuite_record! {
    /// The `inventoryDetail` subrecord of a transaction line: which lots, serials, bins and statuses make up its quantity. Written only through its parent line.
    pub struct InventoryDetail {
        /// Quantity. (`quantity`)
        pub quantity: Option<Decimal>,
        /// Item. (`item`)
        pub item: Option<RecordRef>,
        /// Location. (`location`)
        pub location: Option<RecordRef>,
        /// Destination location. (`toLocation`)
        pub to_location: Option<RecordRef>,
        /// `unit`. (`unit`)
        pub unit: Option<String>,
        /// Assignments (lot/serial, bin, status, quantity). (`inventoryAssignment`)
        pub inventory_assignment: Option<Sublist<InventoryAssignment>>,
    }
}

netsuite_record! {
    /// One assignment: a quantity of one lot/serial in one bin and status. Outbound lines use `issueInventoryNumber` (an existing number), inbound lines `receiptInventoryNumber` (free text); never both.
    pub struct InventoryAssignment {
        /// Existing lot/serial issued (outbound lines). (`issueInventoryNumber`)
        pub issue_inventory_number: Option<RecordRef>,
        /// New lot/serial received (inbound lines). (`receiptInventoryNumber`)
        pub receipt_inventory_number: Option<String>,
        /// Bin. (`binNumber`)
        pub bin_number: Option<RecordRef>,
        /// Destination bin. (`toBinNumber`)
        pub to_bin_number: Option<RecordRef>,
        /// Inventory status. (`inventoryStatus`)
        pub inventory_status: Option<RecordRef>,
        /// Destination inventory status. (`toInventoryStatus`)
        pub to_inventory_status: Option<RecordRef>,
        /// Quantity. (`quantity`)
        pub quantity: Option<Decimal>,
        /// Expiration date. (`expirationDate`)
        pub expiration_date: Option<jiff::civil::Date>,
    }
}
