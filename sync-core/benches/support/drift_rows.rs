//! Synthetic stock positions for the drift benchmarks: 50,000 SKUs × 10 locations × 2 statuses
//! = 1,000,000 positions. Every 100th position has 2 units in flight (explained), every 1,000th
//! is off by one unit more (drift).

use rust_decimal::Decimal;
use std::fmt::Write as _;
use sync_core::drift::{DriftCalculator, Thresholds};
use sync_core::{DriftReport, LocationId, Sku, StockKey, StockRow, StockStatus};

pub const POSITIONS: usize = 1_000_000;

/// Builds position `p`'s key, reusing `buf` so that no heap allocation happens per row
/// (the identifiers are short enough to be stored inline).
pub fn key(p: usize, buf: &mut String) -> StockKey {
    buf.clear();
    let _ = write!(buf, "SKU-{:07}", p / 20);
    let sku = Sku::new(buf.as_str());
    buf.clear();
    let _ = write!(buf, "{}", 101 + (p / 2) % 10);
    StockKey {
        sku,
        location: LocationId::new(buf.as_str()),
        status: if p.is_multiple_of(2) {
            StockStatus::Available
        } else {
            StockStatus::Held
        },
    }
}

pub fn clarus(p: usize) -> Decimal {
    Decimal::from((p % 97) as i64 + 5)
}

pub fn netsuite(p: usize) -> Decimal {
    let mut q = clarus(p);
    if p.is_multiple_of(100) {
        q += Decimal::from(2);
    }
    if p.is_multiple_of(1000) {
        q += Decimal::ONE;
    }
    q
}

/// The in-flight movement of position `p`, if any (a despatch of 2 not yet in NetSuite).
pub fn in_flight(p: usize) -> Option<Decimal> {
    (p.is_multiple_of(100)).then(|| Decimal::from(-2))
}

/// All rows in memory: Clarus, NetSuite, in flight.
pub fn rows() -> (Vec<StockRow>, Vec<StockRow>, Vec<StockRow>) {
    let mut buf = String::new();
    let mut c = Vec::with_capacity(POSITIONS);
    let mut n = Vec::with_capacity(POSITIONS);
    let mut f = Vec::new();
    for p in 0..POSITIONS {
        let k = key(p, &mut buf);
        c.push(StockRow {
            key: k.clone(),
            quantity: clarus(p),
        });
        if let Some(q) = in_flight(p) {
            f.push(StockRow {
                key: k.clone(),
                quantity: q,
            });
        }
        n.push(StockRow {
            key: k,
            quantity: netsuite(p),
        });
    }
    (c, n, f)
}

/// Drift computed streamed: every position's rows are generated and added one by one (as the
/// engine adds snapshot pages), Clarus first, then NetSuite with the in-flight movements.
pub fn streamed() -> DriftReport {
    let mut buf = String::new();
    let mut calc = DriftCalculator::with_capacity(POSITIONS);
    for p in 0..POSITIONS {
        calc.add_clarus(key(p, &mut buf), clarus(p));
    }
    for p in 0..POSITIONS {
        calc.add_netsuite(key(p, &mut buf), netsuite(p));
        if let Some(q) = in_flight(p) {
            calc.add_in_flight(key(p, &mut buf), q);
        }
    }
    calc.finish(Thresholds::default())
}
