//! The warehouse floor driver: allocates, picks, despatches, receives, adjusts, holds and counts,
//! firing the webhooks of every change.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::state::{ClarusError, ClarusId, Event, GoodsOutStatus, State, StockStatus};
use super::{Shared, rejected};
use crate::SimError;
use crate::governance::lock_unpoisoned as lock;

/// One parcel of a despatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parcel {
    /// The carrier's tracking number.
    pub tracking_number: String,
    /// Weight in kilograms.
    pub weight_kg: Option<Decimal>,
}

/// One line of a receipt into stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedLine {
    /// Product received (must be on the receipt).
    pub product: ClarusId,
    /// Quantity received.
    pub quantity: Decimal,
    /// Batch (lot) number.
    pub batch: Option<String>,
    /// Serial numbers; when given there must be one per unit.
    pub serial_numbers: Vec<String>,
}

/// Drives the simulated warehouse floor. Every action fires its webhooks.
#[derive(Clone)]
pub struct Warehouse {
    pub(super) shared: Arc<Shared>,
}

impl fmt::Debug for Warehouse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Warehouse").finish_non_exhaustive()
    }
}

impl Warehouse {
    /// Runs an action on the state under its lock, then fires the events it answers.
    fn run<T>(
        &self,
        action: impl FnOnce(&mut State) -> Result<(T, Vec<Event>), ClarusError>,
    ) -> Result<T, SimError> {
        let mut state = lock(&self.shared.state);
        let (value, events) = action(&mut state).map_err(rejected)?;
        self.shared.fire(&state, events);
        Ok(value)
    }

    /// Runs an action that answers only its events, then fires them.
    fn act(
        &self,
        action: impl FnOnce(&mut State) -> Result<Vec<Event>, ClarusError>,
    ) -> Result<(), SimError> {
        self.run(|s| action(s).map(|events| ((), events)))
    }

    /// Allocates stock to a pending order (what `process_picks_async` does).
    pub fn allocate(&self, goods_out: ClarusId) -> Result<GoodsOutStatus, SimError> {
        self.run(|s| s.allocate(goods_out.0))
    }

    /// Shorts the unallocated remainder of a part-allocated order.
    pub fn short_order_lines(&self, goods_out: ClarusId) -> Result<(), SimError> {
        self.act(|s| s.short_order_lines(&[goods_out.0]))
    }

    /// Picks everything allocated to an ALLOCATED order.
    pub fn pick(&self, goods_out: ClarusId) -> Result<(), SimError> {
        self.act(|s| s.pick(goods_out.0, &HashMap::new()))
    }

    /// Picks less than allocated: at most `picked` of each listed product; the rest is released
    /// and the line marked SHORT.
    pub fn short_pick(
        &self,
        goods_out: ClarusId,
        picked: &[(ClarusId, Decimal)],
    ) -> Result<(), SimError> {
        let caps: HashMap<u64, Decimal> = picked.iter().map(|(p, q)| (p.0, *q)).collect();
        self.act(|s| s.pick(goods_out.0, &caps))
    }

    /// Despatches a picked order with a carrier and one tracking number per parcel: COMPLETED.
    pub fn despatch(
        &self,
        goods_out: ClarusId,
        carrier: ClarusId,
        parcels: &[Parcel],
    ) -> Result<(), SimError> {
        self.ship(goods_out, carrier, parcels, None)
    }

    /// Ships part of a picked order in a shipment of its own (at most `lines` of each listed
    /// product, with one tracking number per parcel); the order stays open for the rest and
    /// `goods_out.updated` fires. A later [`Warehouse::despatch`] ships the rest and completes it.
    pub fn despatch_part(
        &self,
        goods_out: ClarusId,
        carrier: ClarusId,
        lines: &[(ClarusId, Decimal)],
        parcels: &[Parcel],
    ) -> Result<(), SimError> {
        let part: HashMap<u64, Decimal> = lines.iter().map(|(p, q)| (p.0, *q)).collect();
        self.ship(goods_out, carrier, parcels, Some(&part))
    }

    /// One shipment of a picked order: `part` (quantity per product) or everything left.
    fn ship(
        &self,
        goods_out: ClarusId,
        carrier: ClarusId,
        parcels: &[Parcel],
        part: Option<&HashMap<u64, Decimal>>,
    ) -> Result<(), SimError> {
        let packages = parcels
            .iter()
            .map(|p| (p.tracking_number.clone(), p.weight_kg))
            .collect();
        self.act(|s| s.despatch(goods_out.0, carrier.0, packages, part))
    }

    /// Records a failed pick of an ALLOCATED or PICK order on which nothing was picked (every
    /// line shorted, or no stock where it should be): allocations are released, every line is
    /// SHORT and the order is COMPLETED with nothing despatched and no shipment, firing
    /// `goods_out.completed`. An order with picked stock is refused: despatch it.
    pub fn fail_pick(&self, goods_out: ClarusId) -> Result<(), SimError> {
        self.act(|s| s.fail_pick(goods_out.0))
    }

    /// Cancels an order from the warehouse side.
    pub fn cancel(&self, goods_out: ClarusId) -> Result<(), SimError> {
        self.run(|s| s.cancel_goods_out(goods_out.0).map(|(_, e)| ((), e)))
    }

    /// Receives stock against a goods-in receipt into `status` (held = quarantine: the stock is
    /// placed on hold as it is put away, firing `stock` / `placed_on_hold` after `received`). With
    /// `complete`, the receipt is completed (put away); otherwise it stays part-received.
    pub fn receive(
        &self,
        goods_in: ClarusId,
        lines: &[ReceivedLine],
        status: StockStatus,
        complete: bool,
    ) -> Result<(), SimError> {
        self.act(|s| s.receive(goods_in.0, lines, status, complete))
    }

    /// Adjusts available stock of a product at a location by `delta` (positive adds a new
    /// batch-less record or tops up one; negative takes free stock, oldest first).
    pub fn adjust(
        &self,
        product: ClarusId,
        location: ClarusId,
        delta: Decimal,
        reason: &str,
    ) -> Result<(), SimError> {
        self.act(|s| s.adjust(product.0, location.0, delta, reason))
    }

    /// Writes off broken stock (a negative adjustment with reason `breakage`).
    pub fn breakage(
        &self,
        product: ClarusId,
        location: ClarusId,
        quantity: Decimal,
    ) -> Result<(), SimError> {
        self.adjust(product, location, -quantity, "breakage")
    }

    /// Puts `quantity` of a product's free available stock in a warehouse on hold.
    pub fn hold(
        &self,
        product: ClarusId,
        warehouse: ClarusId,
        quantity: Decimal,
        reason: &str,
    ) -> Result<(), SimError> {
        self.act(|s| s.change_status(product.0, warehouse.0, quantity, StockStatus::Held, reason))
    }

    /// Releases `quantity` of a product's held stock in a warehouse.
    pub fn release(
        &self,
        product: ClarusId,
        warehouse: ClarusId,
        quantity: Decimal,
        reason: &str,
    ) -> Result<(), SimError> {
        let to = StockStatus::Available;
        self.act(|s| s.change_status(product.0, warehouse.0, quantity, to, reason))
    }

    /// Counts a product's available stock at a location; a difference is adjusted (reason
    /// `stock_check`). Answers the difference (counted − expected).
    pub fn stock_check(
        &self,
        product: ClarusId,
        location: ClarusId,
        counted: Decimal,
    ) -> Result<Decimal, SimError> {
        self.run(|s| {
            let expected: Decimal = s
                .stocks
                .values()
                .filter(|st| {
                    st.product == product.0
                        && st.location == location.0
                        && st.status == StockStatus::Available
                })
                .map(|st| st.quantity)
                .sum();
            let (check, _task) = s.create_stock_check(location.0)?;
            let difference = counted - expected;
            let events = if difference.is_zero() {
                Vec::new()
            } else {
                s.adjust(product.0, location.0, difference, "stock_check")?
            };
            if let Some(c) = s.stock_checks.get_mut(&check) {
                c.status = if difference.is_zero() {
                    "passed".into()
                } else {
                    "resolved".into()
                };
                c.product = Some(product.0);
                c.expected = Some(expected);
                c.counted = Some(counted);
            }
            Ok((difference, events))
        })
    }
}
