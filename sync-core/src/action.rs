//! Output actions: what must happen in Clarus or NetSuite, or for a person.

use crate::action_type::ActionType;
use crate::despatch::{LotQuantity, Package};
use crate::document::DocumentRef;
use crate::exception::Exception;
use crate::ids::{LineNo, LocationId, NetSuiteId, ProductId, SerialNumber, Sku, WarehouseId};
use crate::item::Tracking;
use crate::key::IdempotencyKey;
use crate::mapping::StockPlace;
use crate::order::{CarrierService, OrderRef};
use crate::owner::Owner;
use crate::receipt::StockCondition;
use crate::stock::{StockKey, StockRow, StockStatus};
use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An action with its idempotency key and the document it belongs to. The engine stores it in
/// its outbox under `key`; actions of one document run in the order planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAction {
    /// Deterministic key: NetSuite `externalId` of a created record, outbox key.
    pub key: IdempotencyKey,
    /// The document the action belongs to.
    pub document: DocumentRef,
    /// What to do.
    pub action: Action,
}

impl Action {
    /// Who is alerted when the action fails for good: see [`ActionType::failure_owner`].
    ///
    /// ```
    /// use sync_core::{Action, OrderRef, Owner};
    ///
    /// let cancel = Action::CancelGoodsOut {
    ///     order: OrderRef::sales("501"),
    ///     reference: "SO1023".into(),
    /// };
    /// assert_eq!(cancel.failure_owner(), Owner::Operations);
    /// ```
    pub fn failure_owner(&self) -> Owner {
        self.action_type().failure_owner()
    }

    /// The action's type, without its data.
    ///
    /// ```
    /// use sync_core::{Action, ActionType, OrderRef};
    ///
    /// let cancel = Action::CancelGoodsOut {
    ///     order: OrderRef::sales("501"),
    ///     reference: "SO1023".into(),
    /// };
    /// assert_eq!(cancel.action_type(), ActionType::CancelGoodsOut);
    /// ```
    pub fn action_type(&self) -> ActionType {
        match self {
            Self::CreateProduct(_) => ActionType::CreateProduct,
            Self::UpdateProduct(_) => ActionType::UpdateProduct,
            Self::CreateGoodsOut(_) => ActionType::CreateGoodsOut,
            Self::CancelGoodsOut { .. } => ActionType::CancelGoodsOut,
            Self::CreateGoodsIn(_) => ActionType::CreateGoodsIn,
            Self::FulfilSalesOrder(_) => ActionType::FulfilSalesOrder,
            Self::ReceivePurchaseOrder(_) => ActionType::ReceivePurchaseOrder,
            Self::ReceiveReturnAuthorisation(_) => ActionType::ReceiveReturnAuthorisation,
            Self::PostInventoryAdjustment(_) => ActionType::PostInventoryAdjustment,
            Self::MoveStock(_) => ActionType::MoveStock,
            Self::RaiseException(_) => ActionType::RaiseException,
            Self::ResolveException { .. } => ActionType::ResolveException,
        }
    }

    /// The change to NetSuite on-hand stock this action makes once done, per position: the
    /// "in flight" rows of the drift check while the action is pending. Fulfilments remove
    /// available stock, receipts add it (held for quarantined lines), adjustments change
    /// available stock, stock moves shift it between available and held. Other actions change
    /// no stock.
    pub fn on_hand_changes(&self) -> Vec<StockRow> {
        let row = |sku: &Sku, location: &LocationId, status, quantity| StockRow {
            key: StockKey {
                sku: sku.clone(),
                location: location.clone(),
                status,
            },
            quantity,
        };
        let place_location = |place: &Option<StockPlace>, default: &LocationId| match place {
            Some(StockPlace::Location { location }) => location.clone(),
            _ => default.clone(),
        };
        match self {
            Action::FulfilSalesOrder(f) => f
                .lines
                .iter()
                .map(|l| row(&l.sku, &f.location, StockStatus::Available, -l.quantity))
                .collect(),
            Action::ReceivePurchaseOrder(r) | Action::ReceiveReturnAuthorisation(r) => r
                .lines
                .iter()
                .map(|l| {
                    let status = match l.condition {
                        StockCondition::Sellable => StockStatus::Available,
                        StockCondition::Quarantine => StockStatus::Held,
                    };
                    let location = place_location(&l.place, &r.location);
                    row(&l.line.sku, &location, status, l.line.quantity)
                })
                .collect(),
            Action::PostInventoryAdjustment(a) => {
                vec![row(&a.sku, &a.location, StockStatus::Available, a.quantity)]
            }
            Action::MoveStock(m) => {
                let from_status = match m.to_status {
                    StockStatus::Held => StockStatus::Available,
                    StockStatus::Available => StockStatus::Held,
                };
                let from = place_location(&Some(m.from.clone()), &m.location);
                let to = place_location(&Some(m.to.clone()), &m.location);
                vec![
                    row(&m.sku, &from, from_status, -m.quantity),
                    row(&m.sku, &to, m.to_status, m.quantity),
                ]
            }
            _ => Vec::new(),
        }
    }
}

/// What must happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Action {
    /// Clarus: create a product from a NetSuite item.
    CreateProduct(ProductSpec),
    /// Clarus: update a product from a changed NetSuite item.
    UpdateProduct(ProductSpec),
    /// Clarus: create a goods out for a sales order.
    CreateGoodsOut(WarehouseOrder),
    /// Clarus: cancel the goods out of a cancelled or closed sales order.
    CancelGoodsOut {
        /// The sales order whose goods out (reference = `tranId`) is cancelled.
        order: OrderRef,
        /// The goods out's `reference`.
        reference: String,
    },
    /// Clarus: create a goods-in receipt for a purchase order or return authorisation.
    CreateGoodsIn(WarehouseOrder),
    /// NetSuite: transform the sales order into an item fulfilment (shipped).
    FulfilSalesOrder(Fulfilment),
    /// NetSuite: transform the purchase order into an item receipt.
    ReceivePurchaseOrder(ItemReceipt),
    /// NetSuite: transform the return authorisation into an item receipt.
    ReceiveReturnAuthorisation(ItemReceipt),
    /// NetSuite: post an inventory adjustment.
    PostInventoryAdjustment(InventoryAdjustment),
    /// NetSuite: move stock between sellable and quarantine (inventory status change, or
    /// inventory transfer when quarantine is a location).
    MoveStock(StockMove),
    /// Raise an exception for a person.
    RaiseException(Exception),
    /// Resolve an exception raised earlier.
    ResolveException {
        /// Key of the exception.
        exception: IdempotencyKey,
        /// Why it is resolved.
        note: String,
    },
}

/// A product as Clarus should hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSpec {
    /// NetSuite item (Clarus `external_system_reference1`).
    pub item: NetSuiteId,
    /// The Clarus product, when already known (updates).
    pub product: Option<ProductId>,
    /// `code`.
    pub sku: Sku,
    /// `barcode`.
    pub barcode: Option<crate::ids::Barcode>,
    /// `description`.
    pub description: String,
    /// `serial_number_tracking_setting` and batch capture.
    pub tracking: Tracking,
    /// `obsolete` when the item is inactive.
    pub inactive: bool,
}

/// A goods out or goods-in receipt to create in Clarus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarehouseOrder {
    /// The NetSuite order (`external_system_reference1` = internal id).
    pub order: OrderRef,
    /// `reference` (the NetSuite `tranId`).
    pub reference: String,
    /// `warehouse_id`.
    pub warehouse: WarehouseId,
    /// `carrier_id` / `carrier_service_id` from the ship method, when mapped.
    pub carrier: Option<CarrierService>,
    /// `expected_date_of_dispatch` / `expected_date_of_arrival`.
    pub expected_date: Option<Date>,
    /// Open lines.
    pub lines: Vec<WarehouseOrderLine>,
}

/// One line of a goods out or goods-in receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarehouseOrderLine {
    /// NetSuite line (`external_system_reference1` of the Clarus line).
    pub order_line: LineNo,
    /// Product code (resolved to `product_id`).
    pub sku: Sku,
    /// `order_quantity` / `expected_quantity`: the open quantity.
    pub quantity: Decimal,
}

/// A quantity posted against one NetSuite order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedLine {
    /// `orderLine` (the source order's `line`).
    pub order_line: LineNo,
    /// NetSuite item.
    pub item: NetSuiteId,
    /// The item's SKU.
    pub sku: Sku,
    /// `quantity`.
    pub quantity: Decimal,
    /// `inventoryDetail.inventoryAssignment` lots.
    pub lots: Vec<LotQuantity>,
    /// `inventoryDetail.inventoryAssignment` serials.
    pub serials: Vec<SerialNumber>,
}

/// An item fulfilment to create from a sales order (`shipStatus` C, shipped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fulfilment {
    /// Sales order internal id.
    pub order: NetSuiteId,
    /// Line `location`.
    pub location: LocationId,
    /// `shipMethod`, when the despatch named a carrier.
    pub ship_method: Option<NetSuiteId>,
    /// `tranDate` / `shippedDate`.
    pub despatched_at: Timestamp,
    /// Lines to ship; every other order line gets `itemReceive: false`.
    pub lines: Vec<PostedLine>,
    /// `package` sublist.
    pub packages: Vec<Package>,
}

/// One line of an item receipt, with where the stock goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedLine {
    /// Quantity and item.
    pub line: PostedLine,
    /// Sellable or quarantine, as received.
    pub condition: StockCondition,
    /// Inventory status or location to receive into; `None` = the order's location with the
    /// default status.
    pub place: Option<StockPlace>,
}

/// An item receipt to create from a purchase order or return authorisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemReceipt {
    /// The order received against.
    pub order: OrderRef,
    /// Receiving `location`.
    pub location: LocationId,
    /// `tranDate`.
    pub received_at: Timestamp,
    /// Lines received; every other order line gets `itemReceive: false`.
    pub lines: Vec<ReceivedLine>,
}

/// An inventory adjustment of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryAdjustment {
    /// `adjLocation` and line `location`.
    pub location: LocationId,
    /// `account`, from the reason mapping.
    pub account: NetSuiteId,
    /// NetSuite item.
    pub item: NetSuiteId,
    /// The item's SKU.
    pub sku: Sku,
    /// `adjustQtyBy`: positive adds, negative removes.
    pub quantity: Decimal,
    /// Lots (`receiptInventoryNumber` when adding, `issueInventoryNumber` when removing).
    pub lots: Vec<LotQuantity>,
    /// Serials.
    pub serials: Vec<SerialNumber>,
    /// `tranDate`.
    pub occurred_at: Timestamp,
    /// `memo`.
    pub memo: String,
    /// The inventory status of the stock adjusted (`inventoryStatus` of every inventory
    /// assignment), decided at planning from the stock status mapping
    /// ([`Mappings::sellable_status`](crate::mapping::Mappings::sellable_status)): an adjustment
    /// changes sellable stock. `None` where the location keeps no stock by status. Actions
    /// planned before this field existed read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_status: Option<NetSuiteId>,
}

/// Whether NetSuite's refusal of a stock removal (a negative adjustment, or a move between
/// sellable and quarantine) with `message` may pass by itself: a refusal for lack of stock may
/// be waiting for a movement still on its way. Clarus webhooks arrive out of order, so a
/// release can be planned before the hold it undoes, or a removal before the receipt that
/// supplied the stock. Such a refusal is retried with backoff up to the attempt limit (then
/// given up with an exception) instead of being given up at once. NetSuite names the lack of
/// stock only in the text of a `USER_ERROR`, so the rule reads the message.
///
/// ```
/// use sync_core::action::removal_refusal_may_pass;
///
/// assert!(removal_refusal_may_pass("Insufficient quantity on hand: item SKU-1 at location 1"));
/// assert!(removal_refusal_may_pass("Not enough stock in status Good"));
/// assert!(!removal_refusal_may_pass("Invalid account reference key 99"));
/// ```
pub fn removal_refusal_may_pass(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("insufficient") || message.contains("not enough")
}

/// Stock moved between sellable and quarantine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockMove {
    /// Location the stock is at.
    pub location: LocationId,
    /// NetSuite item.
    pub item: NetSuiteId,
    /// The item's SKU.
    pub sku: Sku,
    /// Quantity moved (positive).
    pub quantity: Decimal,
    /// The availability the stock moves to: `Held` for a hold, `Available` for a release.
    pub to_status: StockStatus,
    /// Where it was.
    pub from: StockPlace,
    /// Where it goes.
    pub to: StockPlace,
    /// Lots moved.
    pub lots: Vec<LotQuantity>,
    /// Serials moved.
    pub serials: Vec<SerialNumber>,
    /// `tranDate`.
    pub occurred_at: Timestamp,
}
