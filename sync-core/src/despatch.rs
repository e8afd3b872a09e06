//! Despatches: what Clarus shipped for a goods out.

use crate::ids::{
    CarrierId, CarrierServiceId, DespatchId, GoodsOutId, LineNo, LotNumber, NetSuiteId,
    SerialNumber, Sku, Tenant, TrackingNumber, WarehouseId,
};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A quantity of one lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotQuantity {
    /// Lot (batch) number.
    pub lot: LotNumber,
    /// Quantity of that lot.
    pub quantity: Decimal,
}

/// One despatched parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Carrier tracking number, when the carrier issued one.
    pub tracking_number: Option<TrackingNumber>,
    /// Weight in kilograms, when known.
    pub weight_kg: Option<Decimal>,
}

/// One line of a despatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DespatchLine {
    /// The NetSuite sales-order line this goods-out line was created from.
    pub order_line: LineNo,
    /// Product code.
    pub sku: Sku,
    /// Quantity the goods-out line asked for (`order_quantity`).
    pub requested: Decimal,
    /// Quantity that left the warehouse (`dispatch_quantity`); below `requested` after a short
    /// or failed pick.
    pub quantity: Decimal,
    /// Lots shipped, for lot-tracked items; their quantities add up to `quantity`.
    pub lots: Vec<LotQuantity>,
    /// Serial numbers shipped, for serial-tracked items; one per unit.
    pub serials: Vec<SerialNumber>,
}

impl DespatchLine {
    /// Requested but not shipped, never negative.
    pub fn short_quantity(&self) -> Decimal {
        (self.requested - self.quantity).max(Decimal::ZERO)
    }
}

/// One despatch of a goods out. A goods out shipped in parts has several despatches, each with
/// its own [`DespatchId`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Despatch {
    /// Clarus tenant.
    pub tenant: Tenant,
    /// Clarus goods-out id.
    pub goods_out: GoodsOutId,
    /// Which despatch of that goods out.
    pub despatch: DespatchId,
    /// NetSuite sales order internal id (the goods out's `external_system_reference1`).
    pub order: NetSuiteId,
    /// Clarus warehouse that shipped.
    pub warehouse: WarehouseId,
    /// Clarus `carrier_id`, if any.
    pub carrier: Option<CarrierId>,
    /// Clarus `carrier_service_id`, if any.
    pub service: Option<CarrierServiceId>,
    /// When it left (`actual_date_of_dispatch`).
    pub despatched_at: Timestamp,
    /// Lines.
    pub lines: Vec<DespatchLine>,
    /// Parcels with tracking numbers.
    pub packages: Vec<Package>,
}
