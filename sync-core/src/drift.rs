//! Drift: the stock difference between Clarus and NetSuite that movements in flight do not
//! explain, per SKU × location × status.
//!
//! `unexplained = clarus − netsuite − in_flight`, where `in_flight` is the signed on-hand change
//! Clarus has made and NetSuite has not posted yet (a despatch not yet fulfilled counts
//! negative, a receipt not yet received positive). Each position is classified:
//!
//! - [`DriftClass::InStep`]: the two systems agree (within the thresholds);
//! - [`DriftClass::ExplainedByInFlight`]: they differ, but in-flight movements explain it;
//! - [`DriftClass::Drift`]: an unexplained difference beyond the thresholds, an exception for
//!   operations.
//!
//! A difference is tolerated when it is at most [`Thresholds::units`] **or** at most
//! [`Thresholds::percent`] of the larger of the two on-hand figures; zero thresholds demand
//! exact agreement.
//!
//! Rows are added one by one, so snapshots can be streamed page by page without holding them.
//! Internally locations are interned to small integers, and positions are kept in 64 hash
//! partitions of a vector plus a table of 4-byte indexes, filled 256 rows at a time so each
//! partition stays in the CPU cache; 1,000,000 positions take under 100 MB.

use crate::document::DocumentRef;
use crate::exception::{Exception, ExceptionKind};
use crate::ids::{LocationId, Sku};
use crate::stock::{StockKey, StockRow, StockStatus};
use hashbrown::HashTable;
use jiff::Timestamp;
use rust_decimal::Decimal;
use rustc_hash::{FxBuildHasher, FxHashMap};
use serde::{Deserialize, Serialize};
use std::hash::BuildHasher;

/// How much difference is tolerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Thresholds {
    /// Absolute tolerance in units.
    pub units: Decimal,
    /// Relative tolerance, in percent of the larger on-hand figure (`0.5` = 0.5 %).
    pub percent: Decimal,
}

impl Thresholds {
    /// Whether `difference` is within tolerance for on-hand figures of size `base`.
    pub fn tolerates(&self, difference: Decimal, base: Decimal) -> bool {
        if difference.is_zero() {
            return true;
        }
        let difference = difference.abs();
        difference <= self.units || difference * Decimal::ONE_HUNDRED <= self.percent * base.abs()
    }
}

/// Classification of one stock position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftClass {
    /// The systems agree.
    InStep,
    /// They differ, and movements in flight explain the difference.
    ExplainedByInFlight,
    /// They differ beyond what is in flight and the thresholds.
    Drift,
}

/// One compared stock position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftRow {
    /// Position.
    pub key: StockKey,
    /// Clarus on hand.
    pub clarus: Decimal,
    /// NetSuite on hand.
    pub netsuite: Decimal,
    /// Signed on-hand change in flight from Clarus to NetSuite.
    pub in_flight: Decimal,
    /// `clarus − netsuite − in_flight`.
    pub unexplained: Decimal,
    /// Classification.
    pub class: DriftClass,
}

impl DriftRow {
    /// The exception for operations when the row is [`DriftClass::Drift`].
    pub fn exception(&self, now: Timestamp) -> Option<Exception> {
        if self.class != DriftClass::Drift {
            return None;
        }
        let document = DocumentRef::StockPosition {
            sku: self.key.sku.clone(),
            location: self.key.location.clone(),
            status: self.key.status,
        };
        Some(Exception::new(
            ExceptionKind::StockDrift,
            document,
            &[],
            format!(
                "{} at location {} ({:?}): Clarus has {}, NetSuite {}, in flight {}; {} unexplained",
                self.key.sku,
                self.key.location,
                self.key.status,
                self.clarus,
                self.netsuite,
                self.in_flight,
                self.unexplained
            ),
            now,
        ))
    }
}

/// Counts per class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftSummary {
    /// Positions compared.
    pub positions: usize,
    /// In step.
    pub in_step: usize,
    /// Explained by in-flight movements.
    pub explained_by_in_flight: usize,
    /// Drifting.
    pub drift: usize,
}

/// The outcome of a comparison: counts, and the positions that are not in step, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftReport {
    /// Counts per class.
    pub summary: DriftSummary,
    /// Positions explained by in-flight movements or drifting, sorted by position.
    pub rows: Vec<DriftRow>,
}

/// Compact internal key: the SKU and an interned location.
#[derive(Clone, PartialEq, Eq, Hash)]
struct PositionKey {
    sku: Sku,
    location: u32,
    status: StockStatus,
}

#[derive(Clone, Copy, Default)]
struct Quantities {
    clarus: Decimal,
    netsuite: Decimal,
    in_flight: Decimal,
}

struct Position {
    key: PositionKey,
    quantities: Quantities,
}

/// Which figure a row adds to.
#[derive(Clone, Copy)]
enum Source {
    Clarus,
    NetSuite,
    InFlight,
}

/// A row waiting in its partition's buffer.
struct PendingRow {
    hash: u64,
    key: PositionKey,
    source: Source,
    quantity: Decimal,
}

/// Positions are spread over this many partitions by hash.
const PARTITIONS: usize = 64;
/// Rows buffered per partition before they are applied together.
const BUFFERED_ROWS: usize = 256;

/// One share of the positions: a vector in the order first seen, found through a table of
/// 4-byte indexes (hashbrown's `HashTable`).
#[derive(Default)]
struct Partition {
    table: HashTable<u32>,
    positions: Vec<Position>,
    buffer: Vec<PendingRow>,
}

impl Partition {
    fn with_capacity(positions: usize) -> Self {
        Self {
            table: HashTable::with_capacity(positions),
            positions: Vec::with_capacity(positions),
            buffer: Vec::new(),
        }
    }

    fn push(&mut self, row: PendingRow) {
        if self.buffer.capacity() == 0 {
            self.buffer.reserve_exact(BUFFERED_ROWS);
        }
        self.buffer.push(row);
        if self.buffer.len() == BUFFERED_ROWS {
            self.flush();
        }
    }

    /// Applies the buffered rows. A partition's table and positions are small enough to stay in
    /// the CPU cache while a whole buffer is applied, which is what makes buffering pay.
    fn flush(&mut self) {
        let Self {
            table,
            positions,
            buffer,
        } = self;
        for row in buffer.drain(..) {
            let found = table
                .find(row.hash, |&i| positions[i as usize].key == row.key)
                .copied();
            let i = match found {
                Some(i) => i as usize,
                None => {
                    let i = positions.len();
                    let index = u32::try_from(i).expect("fewer than 2^32 positions");
                    positions.push(Position {
                        key: row.key,
                        quantities: Quantities::default(),
                    });
                    table.insert_unique(row.hash, index, |&j| {
                        FxBuildHasher.hash_one(&positions[j as usize].key)
                    });
                    i
                }
            };
            let q = &mut positions[i].quantities;
            match row.source {
                Source::Clarus => q.clarus += row.quantity,
                Source::NetSuite => q.netsuite += row.quantity,
                Source::InFlight => q.in_flight += row.quantity,
            }
        }
    }
}

/// Accumulates snapshot and in-flight rows, then classifies every position.
///
/// Positions are spread by hash over 64 partitions; rows are buffered per partition and applied
/// 256 at a time, so that each partition's index table and positions stay in the CPU cache while
/// they are worked on (a single table for 1,000,000 positions would miss the cache twice per
/// row).
pub struct DriftCalculator {
    partitions: Vec<Partition>,
    locations: FxHashMap<LocationId, u32>,
    location_names: Vec<LocationId>,
    last_location: Option<(LocationId, u32)>,
}

impl Default for DriftCalculator {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl DriftCalculator {
    /// An empty calculator.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty calculator with room for about `positions` positions (avoids regrowth).
    pub fn with_capacity(positions: usize) -> Self {
        // A little headroom: positions do not spread exactly evenly over the partitions.
        let per_partition = if positions == 0 {
            0
        } else {
            positions / PARTITIONS + positions / PARTITIONS / 16 + 16
        };
        Self {
            partitions: (0..PARTITIONS)
                .map(|_| Partition::with_capacity(per_partition))
                .collect(),
            locations: FxHashMap::default(),
            location_names: Vec::new(),
            last_location: None,
        }
    }

    /// Adds Clarus on hand at a position (rows of one position add up).
    pub fn add_clarus(&mut self, key: StockKey, quantity: Decimal) {
        self.add(key, Source::Clarus, quantity);
    }

    /// Adds NetSuite on hand at a position.
    pub fn add_netsuite(&mut self, key: StockKey, quantity: Decimal) {
        self.add(key, Source::NetSuite, quantity);
    }

    /// Adds a signed on-hand change in flight from Clarus to NetSuite at a position.
    pub fn add_in_flight(&mut self, key: StockKey, quantity: Decimal) {
        self.add(key, Source::InFlight, quantity);
    }

    fn location_index(&mut self, location: LocationId) -> u32 {
        if let Some((last, i)) = &self.last_location
            && *last == location
        {
            return *i;
        }
        let i = match self.locations.get(&location) {
            Some(&i) => i,
            None => {
                let i =
                    u32::try_from(self.location_names.len()).expect("fewer than 2^32 locations");
                self.locations.insert(location.clone(), i);
                self.location_names.push(location.clone());
                i
            }
        };
        self.last_location = Some((location, i));
        i
    }

    fn add(&mut self, key: StockKey, source: Source, quantity: Decimal) {
        let location = self.location_index(key.location);
        let key = PositionKey {
            sku: key.sku,
            location,
            status: key.status,
        };
        let hash = FxBuildHasher.hash_one(&key);
        // Middle bits choose the partition: hashbrown uses the low bits for the bucket and the
        // top 7 bits as a tag, and both must stay varied within a partition.
        let partition = (hash >> 32) as usize % PARTITIONS;
        self.partitions[partition].push(PendingRow {
            hash,
            key,
            source,
            quantity,
        });
    }

    /// Classifies every position and calls `each` with it, in no particular order; returns the
    /// counts. Use this to stream all rows somewhere.
    pub fn classify(self, thresholds: Thresholds, each: impl FnMut(DriftRow)) -> DriftSummary {
        self.classify_where(thresholds, |_| true, each)
    }

    /// Classifies every position, calling `each` only with rows whose class passes `keep`.
    fn classify_where(
        self,
        thresholds: Thresholds,
        keep: impl Fn(DriftClass) -> bool,
        mut each: impl FnMut(DriftRow),
    ) -> DriftSummary {
        let mut summary = DriftSummary::default();
        let Self {
            partitions,
            location_names,
            ..
        } = self;
        for mut partition in partitions {
            partition.flush();
            let Partition { positions, .. } = partition;
            for Position {
                key: position,
                quantities: q,
            } in positions
            {
                let class = classify(q, thresholds);
                summary.positions += 1;
                match class {
                    DriftClass::InStep => summary.in_step += 1,
                    DriftClass::ExplainedByInFlight => summary.explained_by_in_flight += 1,
                    DriftClass::Drift => summary.drift += 1,
                }
                if !keep(class) {
                    continue;
                }
                each(DriftRow {
                    key: StockKey {
                        sku: position.sku,
                        location: location_names[position.location as usize].clone(),
                        status: position.status,
                    },
                    clarus: q.clarus,
                    netsuite: q.netsuite,
                    in_flight: q.in_flight,
                    unexplained: q.clarus - q.netsuite - q.in_flight,
                    class,
                });
            }
        }
        summary
    }

    /// Classifies every position and reports the ones not in step, sorted by position.
    pub fn finish(self, thresholds: Thresholds) -> DriftReport {
        let mut rows = Vec::new();
        let summary = self.classify_where(
            thresholds,
            |class| class != DriftClass::InStep,
            |row| rows.push(row),
        );
        rows.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        DriftReport { summary, rows }
    }
}

fn classify(q: Quantities, thresholds: Thresholds) -> DriftClass {
    let base = q.clarus.abs().max(q.netsuite.abs());
    if thresholds.tolerates(q.clarus - q.netsuite, base) {
        DriftClass::InStep
    } else if thresholds.tolerates(q.clarus - q.netsuite - q.in_flight, base) {
        DriftClass::ExplainedByInFlight
    } else {
        DriftClass::Drift
    }
}

/// Compares whole snapshots: a convenience over [`DriftCalculator`].
pub fn compare(
    clarus: impl IntoIterator<Item = StockRow>,
    netsuite: impl IntoIterator<Item = StockRow>,
    in_flight: impl IntoIterator<Item = StockRow>,
    thresholds: Thresholds,
) -> DriftReport {
    let clarus = clarus.into_iter();
    let mut calculator = DriftCalculator::with_capacity(clarus.size_hint().0);
    for row in clarus {
        calculator.add_clarus(row.key, row.quantity);
    }
    for row in netsuite {
        calculator.add_netsuite(row.key, row.quantity);
    }
    for row in in_flight {
        calculator.add_in_flight(row.key, row.quantity);
    }
    calculator.finish(thresholds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(sku: &str) -> StockKey {
        StockKey {
            sku: sku.into(),
            location: "1".into(),
            status: StockStatus::Available,
        }
    }

    fn row(sku: &str, quantity: i64) -> StockRow {
        StockRow {
            key: key(sku),
            quantity: Decimal::from(quantity),
        }
    }

    #[test]
    fn classifies_in_step_explained_and_drift() {
        let report = compare(
            [row("A", 10), row("B", 10), row("C", 10), row("D", 5)],
            [row("A", 10), row("B", 12), row("C", 13)],
            [row("B", -2), row("C", -2)],
            Thresholds::default(),
        );
        assert_eq!(
            report.summary,
            DriftSummary {
                positions: 4,
                in_step: 1,
                explained_by_in_flight: 1,
                drift: 2
            }
        );
        let classes: Vec<(&str, DriftClass, Decimal)> = report
            .rows
            .iter()
            .map(|r| (r.key.sku.as_str(), r.class, r.unexplained))
            .collect();
        assert_eq!(
            classes,
            vec![
                ("B", DriftClass::ExplainedByInFlight, Decimal::ZERO),
                ("C", DriftClass::Drift, Decimal::from(-1)),
                ("D", DriftClass::Drift, Decimal::from(5)),
            ]
        );
        let exception = report.rows[1].exception(Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(exception.kind, ExceptionKind::StockDrift);
        assert_eq!(exception.runbook, "operations.md#stock-drift");
        assert!(report.rows[0].exception(Timestamp::UNIX_EPOCH).is_none());
    }

    #[test]
    fn thresholds_tolerate_small_differences_by_units_or_percent() {
        let t = Thresholds {
            units: Decimal::ONE,
            percent: Decimal::from(2),
        };
        // 1 unit: within the unit threshold.
        assert!(t.tolerates(Decimal::ONE, Decimal::from(10)));
        // 2 units of 100 = 2 %: within the percent threshold.
        assert!(t.tolerates(Decimal::from(-2), Decimal::from(100)));
        // 3 units of 100: beyond both.
        assert!(!t.tolerates(Decimal::from(3), Decimal::from(100)));
        let report = compare([row("A", 103)], [row("A", 100)], [], t);
        assert_eq!(report.summary.drift, 1);
        let report = compare([row("A", 102)], [row("A", 100)], [], t);
        assert_eq!(report.summary.in_step, 1);
    }

    #[test]
    fn positions_differ_by_location_and_status() {
        let mut held = key("A");
        held.status = StockStatus::Held;
        let mut elsewhere = key("A");
        elsewhere.location = "2".into();
        let mut calc = DriftCalculator::with_capacity(4);
        calc.add_clarus(key("A"), Decimal::from(5));
        calc.add_clarus(held.clone(), Decimal::from(1));
        calc.add_netsuite(key("A"), Decimal::from(5));
        calc.add_netsuite(elsewhere.clone(), Decimal::from(1));
        let report = calc.finish(Thresholds::default());
        let keys: Vec<&StockKey> = report.rows.iter().map(|r| &r.key).collect();
        assert_eq!(keys, vec![&held, &elsewhere]);
    }
}
