//! Short ways to write the bodies an integration sends most: references from literal ids, and
//! builders for item fulfilments, item receipts, inventory adjustments and inventory transfers
//! that take one call per line (examples in the [module docs](super)).

use rust_decimal::Decimal;

use super::{
    InventoryAdjustment, InventoryAdjustmentLine, InventoryTransfer, InventoryTransferLine,
    ItemFulfillment, ItemFulfillmentLine, ItemReceipt, ItemReceiptLine, RecordId, RecordRef,
    Select, ShipStatus, Sublist,
};

impl From<u64> for RecordId {
    /// Any unsigned integer is a valid internal id, so a literal id needs no `Result`.
    fn from(id: u64) -> Self {
        RecordId::new(id.to_string()).expect("the digits of an integer are an internal id")
    }
}

impl From<RecordId> for RecordRef {
    fn from(id: RecordId) -> Self {
        RecordRef::id(id)
    }
}

impl From<u64> for RecordRef {
    fn from(id: u64) -> Self {
        RecordRef::id(id)
    }
}

/// `line_with` (a line written in full, appended to the sublist `$field`) and `build`.
macro_rules! line_with_and_build {
    ($field:ident: $line:ty, $body:ty, $what:literal) => {
        #[doc = concat!("Adds a line written in full (", $what, ").")]
        pub fn line_with(mut self, line: $line) -> Self {
            self.body
                .$field
                .get_or_insert_with(Sublist::default)
                .items
                .push(line);
            self
        }

        /// The body.
        pub fn build(self) -> $body {
            self.body
        }
    };
}

/// The header setters every transaction builder has.
macro_rules! transaction_setters {
    () => {
        /// External id; makes the creation idempotent.
        pub fn external_id(mut self, external_id: impl Into<String>) -> Self {
            self.body.external_id = Some(external_id.into());
            self
        }

        /// Transaction date.
        pub fn tran_date(mut self, date: jiff::civil::Date) -> Self {
            self.body.tran_date = Some(date);
            self
        }

        /// Memo.
        pub fn memo(mut self, memo: impl Into<String>) -> Self {
            self.body.memo = Some(memo.into());
            self
        }

        /// Subsidiary.
        pub fn subsidiary(mut self, subsidiary: impl Into<RecordRef>) -> Self {
            self.body.subsidiary = Some(subsidiary.into());
            self
        }
    };
}

/// Builds an [`ItemFulfillment`] body; see [`ItemFulfillment::builder`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ItemFulfillmentBuilder {
    body: ItemFulfillment,
}

impl ItemFulfillment {
    /// A fulfilment body built line by line: each [`line`](ItemFulfillmentBuilder::line) fulfils
    /// a quantity of one source order line.
    pub fn builder() -> ItemFulfillmentBuilder {
        ItemFulfillmentBuilder::default()
    }
}

impl ItemFulfillmentBuilder {
    transaction_setters!();

    /// Picked, packed or shipped.
    pub fn ship_status(mut self, status: ShipStatus) -> Self {
        self.body.ship_status = Some(Select::new(status));
        self
    }

    /// Fulfils `quantity` of the source order's line `order_line` (`orderLine`, with
    /// `itemReceive: true`).
    pub fn line(self, order_line: i64, quantity: impl Into<Decimal>) -> Self {
        self.line_with(ItemFulfillmentLine {
            order_line: Some(order_line),
            item_receive: Some(true),
            quantity: Some(quantity.into()),
            ..Default::default()
        })
    }

    line_with_and_build!(item: ItemFulfillmentLine, ItemFulfillment, "location, inventory detail, custom fields");
}

/// Builds an [`ItemReceipt`] body; see [`ItemReceipt::builder`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ItemReceiptBuilder {
    body: ItemReceipt,
}

impl ItemReceipt {
    /// A receipt body built line by line: each [`line`](ItemReceiptBuilder::line) receives a
    /// quantity of one source order line.
    pub fn builder() -> ItemReceiptBuilder {
        ItemReceiptBuilder::default()
    }
}

impl ItemReceiptBuilder {
    transaction_setters!();

    /// Receives `quantity` of the source order's line `order_line` (`orderLine`, with
    /// `itemReceive: true`).
    pub fn line(self, order_line: i64, quantity: impl Into<Decimal>) -> Self {
        self.line_with(ItemReceiptLine {
            order_line: Some(order_line),
            item_receive: Some(true),
            quantity: Some(quantity.into()),
            ..Default::default()
        })
    }

    line_with_and_build!(item: ItemReceiptLine, ItemReceipt, "location, inventory detail, custom fields");
}

/// Builds an [`InventoryAdjustment`] body; see [`InventoryAdjustment::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct InventoryAdjustmentBuilder {
    body: InventoryAdjustment,
}

impl InventoryAdjustment {
    /// An adjustment booked to `account` at `location` (`adjLocation`), built line by line;
    /// every [`line`](InventoryAdjustmentBuilder::line) is at that location.
    pub fn builder(
        account: impl Into<RecordRef>,
        location: impl Into<RecordRef>,
    ) -> InventoryAdjustmentBuilder {
        InventoryAdjustmentBuilder {
            body: InventoryAdjustment {
                account: Some(account.into()),
                adj_location: Some(location.into()),
                ..Default::default()
            },
        }
    }
}

impl InventoryAdjustmentBuilder {
    transaction_setters!();

    /// Department.
    pub fn department(mut self, department: impl Into<RecordRef>) -> Self {
        self.body.department = Some(department.into());
        self
    }

    /// Class.
    pub fn class(mut self, class: impl Into<RecordRef>) -> Self {
        self.body.class = Some(class.into());
        self
    }

    /// Adds `adjust_qty_by` (negative to remove) of `item` at the adjustment's location.
    pub fn line(self, item: impl Into<RecordRef>, adjust_qty_by: impl Into<Decimal>) -> Self {
        let location = self.body.adj_location.clone();
        self.line_with(InventoryAdjustmentLine {
            item: Some(item.into()),
            location,
            adjust_qty_by: Some(adjust_qty_by.into()),
            ..Default::default()
        })
    }

    line_with_and_build!(inventory: InventoryAdjustmentLine, InventoryAdjustment, "another location, unit cost, inventory detail");
}

/// Builds an [`InventoryTransfer`] body; see [`InventoryTransfer::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct InventoryTransferBuilder {
    body: InventoryTransfer,
}

impl InventoryTransfer {
    /// A transfer from `from` (`location`) to `to` (`transferLocation`), built line by line.
    pub fn builder(
        from: impl Into<RecordRef>,
        to: impl Into<RecordRef>,
    ) -> InventoryTransferBuilder {
        InventoryTransferBuilder {
            body: InventoryTransfer {
                location: Some(from.into()),
                transfer_location: Some(to.into()),
                ..Default::default()
            },
        }
    }
}

impl InventoryTransferBuilder {
    transaction_setters!();

    /// Moves `quantity` of `item` (`adjustQtyBy`).
    pub fn line(self, item: impl Into<RecordRef>, quantity: impl Into<Decimal>) -> Self {
        self.line_with(InventoryTransferLine {
            item: Some(item.into()),
            adjust_qty_by: Some(quantity.into()),
            ..Default::default()
        })
    }

    line_with_and_build!(inventory: InventoryTransferLine, InventoryTransfer, "bins, inventory detail");
}
