//! A simulated warehouse day: seed both systems, then play the warehouse (pick, short-pick,
//! despatch, receive, quarantine, adjust, hold, count) against whatever the engine sends it.

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use sim::clarus::{ClarusId, GoodsOutStatus, Parcel, ReceivedLine, StockStatus};
use sim::netsuite::{InternalId, ItemKind, NewItem, NewOrder, NewOrderLine, OrderKind};

use crate::harness::{SetupError, Systems};

/// The size and shape of the day.
#[derive(Debug, Clone)]
pub struct ScenarioOptions {
    /// Sales orders.
    pub orders: usize,
    /// Purchase orders.
    pub purchase_orders: usize,
    /// Return authorisations.
    pub returns: usize,
    /// Items in the catalogue.
    pub skus: usize,
    /// Opening stock per SKU, in both systems.
    pub opening_stock: i64,
    /// Share of picks that come up short.
    pub short_pick_rate: f64,
    /// Share of returns received into quarantine.
    pub quarantine_rate: f64,
    /// Share of sales orders cancelled in NetSuite after release to the warehouse.
    pub cancel_rate: f64,
    /// Stock movements in the warehouse (adjustments, breakages, holds, releases, counts).
    pub movements: usize,
    /// Seed of every choice.
    pub seed: u64,
}

impl ScenarioOptions {
    /// A day of `orders` sales orders with everything else in proportion: purchase orders,
    /// returns and stock movements, and the opening stock (150 per SKU up to 1,000 orders, then
    /// growing with the orders, so a bigger day is as well stocked as a small one).
    pub fn day(orders: usize, seed: u64) -> Self {
        ScenarioOptions {
            orders,
            purchase_orders: (orders / 15).max(2),
            returns: (orders / 25).max(2),
            skus: 40,
            opening_stock: (orders as i64 * 3 / 20).max(150),
            short_pick_rate: 0.08,
            quarantine_rate: 0.3,
            cancel_rate: 0.02,
            movements: (orders / 10).max(5),
            seed,
        }
    }
}

/// What was seeded.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    /// `(SKU, NetSuite item id)`.
    pub items: Vec<(String, InternalId)>,
    /// Sales orders.
    pub sales_orders: Vec<InternalId>,
    /// Sales orders to cancel once they reach the warehouse.
    pub to_cancel: HashSet<u64>,
    /// Purchase orders.
    pub purchase_orders: Vec<InternalId>,
    /// Return authorisations.
    pub returns: Vec<InternalId>,
}

/// Seeds the NetSuite item master with opening stock.
pub fn seed_items(systems: &Systems, options: &ScenarioOptions) -> Result<Seeded, SetupError> {
    let ns = systems.netsuite.handle();
    let mut seeded = Seeded::default();
    for i in 0..options.skus {
        let sku = format!("SKU-{:04}", i + 1);
        let mut item = NewItem::new(&sku, ItemKind::Inventory);
        item.display_name = Some(format!("Product {}", i + 1));
        item.upc = Some(format!("50000000{:05}", i + 1));
        let id = ns.add_item(item)?;
        ns.set_on_hand(
            id,
            systems.location,
            sim::netsuite::GOOD,
            Decimal::from(options.opening_stock),
        );
        seeded.items.push((sku, id));
    }
    seed_costs(systems, options, &seeded);
    Ok(seeded)
}

/// Gives the items NetSuite average costs (1.00 to 80.00): item-wide for every item, a cost of
/// its own at the warehouse location for every third, none at all for every twentieth (a new
/// item NetSuite has not costed yet, whose drift shows without a value).
fn seed_costs(systems: &Systems, options: &ScenarioOptions, seeded: &Seeded) {
    let ns = systems.netsuite.handle();
    // A generator of its own, so costs do not change the day's other choices.
    let mut rng = StdRng::seed_from_u64(options.seed ^ 0x00C0_57C0_57C0_57C0);
    for (n, (_, item)) in seeded.items.iter().enumerate() {
        if n % 20 == 19 {
            continue;
        }
        let cost = Decimal::new(rng.random_range(100..=8000), 2);
        ns.set_average_cost(*item, Some(cost));
        if n % 3 == 2 {
            let at_location = cost + Decimal::new(rng.random_range(-50..=50), 2);
            ns.set_location_average_cost(*item, systems.location, Some(at_location));
        }
    }
}

/// Whether every item has reached Clarus as a product.
pub fn products_ready(systems: &Systems, seeded: &Seeded) -> bool {
    let cl = systems.clarus.handle();
    seeded
        .items
        .iter()
        .all(|(sku, _)| cl.find_product(sku).is_some())
}

/// Gives Clarus the same opening stock as NetSuite.
pub fn seed_clarus_stock(
    systems: &Systems,
    options: &ScenarioOptions,
    seeded: &Seeded,
) -> Result<(), SetupError> {
    let cl = systems.clarus.handle();
    for (sku, _) in &seeded.items {
        let product = cl
            .find_product(sku)
            .ok_or_else(|| format!("product {sku} is not in Clarus"))?;
        cl.seed_stock(
            product,
            systems.bin,
            Decimal::from(options.opening_stock),
            StockStatus::Available,
            None,
        )?;
    }
    Ok(())
}

/// Seeds the day's sales orders, purchase orders and return authorisations in NetSuite.
pub fn seed_orders(
    systems: &Systems,
    options: &ScenarioOptions,
    seeded: &mut Seeded,
) -> Result<(), SetupError> {
    let ns = systems.netsuite.handle();
    let mut rng = StdRng::seed_from_u64(options.seed);
    let lines = |rng: &mut StdRng, max_lines: usize, max_qty: i64| -> Vec<NewOrderLine> {
        let count = rng.random_range(1..=max_lines);
        let mut chosen = HashSet::new();
        (0..count)
            .filter_map(|_| {
                let (_, item) = seeded.items[rng.random_range(0..seeded.items.len())];
                chosen.insert(item.0).then(|| NewOrderLine {
                    item,
                    quantity: Decimal::from(rng.random_range(1..=max_qty)),
                    location: None,
                })
            })
            .collect()
    };
    let mut orders = Vec::new();
    for _ in 0..options.orders {
        orders.push((OrderKind::SalesOrder, lines(&mut rng, 3, 4)));
    }
    for _ in 0..options.purchase_orders {
        orders.push((OrderKind::PurchaseOrder, lines(&mut rng, 3, 30)));
    }
    for _ in 0..options.returns {
        orders.push((OrderKind::ReturnAuthorization, lines(&mut rng, 1, 2)));
    }
    for (kind, lines) in orders {
        let id = ns.add_order(
            kind,
            NewOrder {
                location: Some(systems.location),
                lines,
                ..NewOrder::default()
            },
        )?;
        match kind {
            OrderKind::SalesOrder => {
                if rng.random_bool(options.cancel_rate) {
                    seeded.to_cancel.insert(id.0);
                }
                seeded.sales_orders.push(id);
            }
            OrderKind::PurchaseOrder => seeded.purchase_orders.push(id),
            OrderKind::ReturnAuthorization => seeded.returns.push(id),
        }
    }
    Ok(())
}

/// What the warehouse did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WarehouseStats {
    /// Goods outs despatched.
    pub despatched: usize,
    /// Of which short-picked.
    pub short_picked: usize,
    /// Sales orders cancelled in NetSuite after release.
    pub cancelled: usize,
    /// Goods-in receipts received.
    pub received: usize,
    /// Of which into quarantine.
    pub quarantined: usize,
    /// Stock movements made (adjustments, breakages, holds, releases, counts).
    pub movements: usize,
    /// Parcels shipped.
    pub parcels: usize,
    /// Goods outs with nothing to pick (every line shorted): failed picks, completed in Clarus
    /// with nothing despatched (no fulfilment, a short despatch).
    pub unpickable: usize,
    /// Goods-in `completed` webhooks that never arrived, re-sent from Clarus by operations
    /// after the integration raised `receipt-not-reported`.
    pub receipts_resent: usize,
}

/// How many steps a goods out with no stock waits at most before trying to allocate again.
const RETRY_WAITING_EVERY: u64 = 20;

/// The simulated warehouse staff.
#[derive(Debug)]
pub struct WarehouseDay {
    rng: StdRng,
    options: ScenarioOptions,
    to_cancel: HashSet<u64>,
    finished_outs: HashSet<u64>,
    /// The NetSuite sales order of each goods out seen (from `external_system_reference1`).
    orders_of: HashMap<u64, u64>,
    /// Goods outs that found no stock to allocate, with the stock generation they tried at.
    waiting: HashMap<u64, u64>,
    /// Steps taken (a waiting goods out tries again at least every [`RETRY_WAITING_EVERY`]).
    steps: u64,
    finished_ins: HashSet<u64>,
    cancel_sent: HashSet<u64>,
    movements_left: usize,
    /// What was done so far.
    pub stats: WarehouseStats,
}

fn text(value: &Value, field: &str) -> Option<String> {
    match value.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn decimal(value: &Value, field: &str) -> Decimal {
    text(value, field)
        .and_then(|t| t.parse().ok())
        .unwrap_or(Decimal::ZERO)
}

impl WarehouseDay {
    /// A day for the seeded documents.
    pub fn new(options: &ScenarioOptions, seeded: &Seeded) -> Self {
        WarehouseDay {
            rng: StdRng::seed_from_u64(options.seed ^ 0x5eed),
            options: options.clone(),
            to_cancel: seeded.to_cancel.clone(),
            finished_outs: HashSet::new(),
            orders_of: HashMap::new(),
            waiting: HashMap::new(),
            steps: 0,
            finished_ins: HashSet::new(),
            cancel_sent: HashSet::new(),
            movements_left: options.movements,
            stats: WarehouseStats::default(),
        }
    }

    /// What the warehouse did so far that can free or bring stock: a goods out waiting for
    /// stock tries to allocate again when this changes.
    fn stock_generation(&self) -> u64 {
        let s = &self.stats;
        (s.received + s.short_picked + s.unpickable + s.cancelled + s.movements) as u64
    }

    /// Works through every goods out and receipt that arrived since the last step; answers
    /// how many things it did.
    pub fn step(&mut self, systems: &Systems) -> Result<usize, SetupError> {
        let mut done = 0;
        let cl = systems.clarus.handle();
        let wh = systems.clarus.warehouse();
        self.steps += 1;
        for id in cl.goods_out_ids() {
            if self.finished_outs.contains(&id.0) {
                continue;
            }
            let netsuite_order = match self.orders_of.get(&id.0) {
                Some(order) => *order,
                None => {
                    let Some(order) = cl.goods_out(id) else {
                        continue;
                    };
                    let netsuite_order = text(&order, "external_system_reference1")
                        .and_then(|t| t.parse::<u64>().ok())
                        .unwrap_or_default();
                    self.orders_of.insert(id.0, netsuite_order);
                    netsuite_order
                }
            };
            if self.to_cancel.contains(&netsuite_order) {
                if self.cancel_sent.insert(netsuite_order) {
                    systems
                        .netsuite
                        .handle()
                        .cancel_order(OrderKind::SalesOrder, InternalId(netsuite_order))?;
                    self.stats.cancelled += 1;
                    done += 1;
                }
                if cl.goods_out_status(id) == Some(GoodsOutStatus::Cancelled) {
                    self.finished_outs.insert(id.0);
                }
                continue;
            }
            let mut status = cl.goods_out_status(id);
            if status == Some(GoodsOutStatus::Pending) {
                // No stock at the last try: wait until some may have come back or arrived.
                let generation = self.stock_generation();
                if self.waiting.get(&id.0).is_some_and(|tried| {
                    *tried == generation && !self.steps.is_multiple_of(RETRY_WAITING_EVERY)
                }) {
                    continue;
                }
                status = Some(wh.allocate(id)?);
                if status == Some(GoodsOutStatus::Pending) {
                    self.waiting.insert(id.0, generation);
                    continue;
                }
                self.waiting.remove(&id.0);
            }
            if status == Some(GoodsOutStatus::PartAllocated) {
                wh.short_order_lines(id)?;
                status = cl.goods_out_status(id);
            }
            if status != Some(GoodsOutStatus::Allocated) {
                continue;
            }
            let Some(order) = cl.goods_out(id) else {
                continue;
            };
            let short = self.rng.random_bool(self.options.short_pick_rate);
            let caps: Vec<(ClarusId, Decimal)> = order
                .get("lines")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|line| {
                    let product = text(line, "product_id")?.parse().ok()?;
                    let wanted = decimal(line, "order_quantity");
                    Some((ClarusId(product), (wanted / Decimal::TWO).floor()))
                })
                .collect();
            // A short pick that would pick nothing (lines of one unit, or lines shorted at
            // allocation) is a full pick instead.
            let picked = if short
                && caps.iter().any(|(_, q)| *q > Decimal::ZERO)
                && wh.short_pick(id, &caps).is_ok()
            {
                self.stats.short_picked += 1;
                true
            } else {
                wh.pick(id).is_ok()
            };
            if !picked || cl.goods_out_picked(id).is_none_or(|q| q.is_zero()) {
                // Nothing could be picked (every line shorted): a failed pick. Clarus completes
                // the order with nothing despatched, and the integration posts no fulfilment
                // and raises a short despatch; the day goes on.
                wh.fail_pick(id)?;
                self.stats.unpickable += 1;
                self.finished_outs.insert(id.0);
                done += 1;
                continue;
            }
            let parcels: Vec<Parcel> = (0..self.rng.random_range(1..=2))
                .map(|n| Parcel {
                    tracking_number: format!("TRK{:06}{n}", id.0),
                    weight_kg: Some(Decimal::new(self.rng.random_range(5..50), 1)),
                })
                .collect();
            self.stats.parcels += parcels.len();
            wh.despatch(id, systems.carrier, &parcels)?;
            self.stats.despatched += 1;
            self.finished_outs.insert(id.0);
            done += 1;
        }
        for id in cl.goods_in_ids() {
            if self.finished_ins.contains(&id.0) {
                continue;
            }
            let Some(receipt) = cl.goods_in(id) else {
                continue;
            };
            let lines: Vec<ReceivedLine> = receipt
                .get("lines")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|line| {
                    Some(ReceivedLine {
                        product: ClarusId(text(line, "product_id")?.parse().ok()?),
                        quantity: decimal(line, "expected_quantity"),
                        batch: None,
                        serial_numbers: Vec::new(),
                    })
                })
                .collect();
            let is_return = text(&receipt, "external_system_reference3").as_deref() == Some("RA");
            let quarantine = is_return && self.rng.random_bool(self.options.quarantine_rate);
            let status = if quarantine {
                StockStatus::Held
            } else {
                StockStatus::Available
            };
            wh.receive(id, &lines, status, true)?;
            self.stats.received += 1;
            self.stats.quarantined += usize::from(quarantine);
            self.finished_ins.insert(id.0);
            done += 1;
        }
        Ok(done)
    }

    /// Makes the day's stock movements (once the picking is done, so stock is not fought over).
    pub fn move_stock(&mut self, systems: &Systems, seeded: &Seeded) -> Result<usize, SetupError> {
        let cl = systems.clarus.handle();
        let wh = systems.clarus.warehouse();
        let mut done = 0;
        while self.movements_left > 0 {
            self.movements_left -= 1;
            let (sku, _) = &seeded.items[self.rng.random_range(0..seeded.items.len())];
            let Some(product) = cl.find_product(sku) else {
                continue;
            };
            let available = cl.on_hand(product, systems.warehouse, StockStatus::Available);
            let outcome = match self.rng.random_range(0..5) {
                0 => wh.adjust(product, systems.bin, Decimal::from(3), "found"),
                1 if available > Decimal::TWO => {
                    wh.adjust(product, systems.bin, Decimal::from(-2), "lost")
                }
                2 if available > Decimal::ONE => wh.breakage(product, systems.bin, Decimal::ONE),
                3 if available > Decimal::ONE => wh.hold(
                    product,
                    systems.warehouse,
                    Decimal::ONE,
                    "damaged packaging",
                ),
                _ => wh
                    .stock_check(product, systems.bin, available + Decimal::ONE)
                    .map(|_| ()),
            };
            if outcome.is_ok() {
                self.stats.movements += 1;
                done += 1;
            }
        }
        Ok(done)
    }

    /// Goods outs the warehouse could not finish (no stock), by Clarus status.
    pub fn unfinished(&self, systems: &Systems) -> BTreeMap<String, usize> {
        let cl = systems.clarus.handle();
        let mut out = BTreeMap::new();
        for id in cl.goods_out_ids() {
            if !self.finished_outs.contains(&id.0) {
                let status = cl
                    .goods_out_status(id)
                    .map(|s| format!("{s:?}"))
                    .unwrap_or_default();
                *out.entry(status).or_default() += 1;
            }
        }
        out
    }
}
