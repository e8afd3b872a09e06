//! Indexes over the simulator's records, so a GraphQL filter that names a reference, a parent or
//! a subtype reads the few records it can match instead of building every node of the root.
//!
//! An index only narrows: the full filter still runs on every node it yields, so answers are the
//! same as a scan of every node. A lookup answers `None` when it cannot be exact for the value
//! asked (a timestamp-like text, a non-integer id), and the caller scans instead.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// The text the GraphQL filters compare (`null` has none; other non-strings their JSON).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The key two values share when the filters' `eq` holds between them: numbers compare as
/// decimals, everything else as text. `None` for values a timestamp comparison could match
/// (the filters compare timestamps by instant, which a text key cannot).
fn equality_key(v: &Value) -> Option<String> {
    let t = text(v)?;
    if let Ok(d) = t.parse::<Decimal>() {
        return Some(format!("#{}", d.normalize()));
    }
    if t.parse::<jiff::Timestamp>().is_ok() {
        return None;
    }
    Some(format!("'{t}"))
}

/// The integer a filter value names as a record id, when it names one exactly.
pub(crate) fn wanted_id(v: &Value) -> Option<u64> {
    let d = text(v)?.parse::<Decimal>().ok()?;
    if d.fract().is_zero() {
        u64::try_from(d).ok()
    } else {
        None
    }
}

/// The values an `eq` or `in` operator asks for; `None` for any other operator.
pub(crate) fn wanted_values<'v>(op: &str, wanted: &'v Value) -> Option<Vec<&'v Value>> {
    match op {
        "eq" => Some(vec![wanted]),
        "in" => wanted.as_array().map(|a| a.iter().collect()),
        _ => None,
    }
}

/// The ids named by `wanted` (an id filter's values); `None` when one is not an exact id.
pub(crate) fn exact_ids(wanted: &[&Value]) -> Option<BTreeSet<u64>> {
    let mut out = BTreeSet::new();
    for w in wanted {
        if !w.is_null() {
            out.insert(wanted_id(w)?);
        }
    }
    Some(out)
}

/// What both narrowings allow (either alone when the other does not narrow).
pub(crate) fn intersect<T: Ord>(
    a: Option<BTreeSet<T>>,
    b: Option<BTreeSet<T>>,
) -> Option<BTreeSet<T>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.into_iter().filter(|x| b.contains(x)).collect()),
        (a, None) => a,
        (None, b) => b,
    }
}

/// The records the `eq` and `in` operators of `filter[field]` may match, found by `lookup`
/// (which answers `None` when it cannot be exact); `None` when nothing narrows.
pub(crate) fn narrowed<T: Ord>(
    filter: &Map<String, Value>,
    field: &str,
    lookup: impl Fn(&[&Value]) -> Option<BTreeSet<T>>,
) -> Option<BTreeSet<T>> {
    let ops = filter.get(field)?.as_object()?;
    let mut out = None;
    for (op, wanted) in ops {
        if let Some(values) = wanted_values(op, wanted) {
            out = intersect(out, lookup(&values));
        }
    }
    out
}

/// Records by the value of one text field (a goods out's or receipt's `reference`), kept in
/// step with every create, change and delete of the records.
#[derive(Debug, Default)]
pub(crate) struct ValueIndex {
    by_key: HashMap<String, BTreeSet<u64>>,
    /// Each record's key, and whether it has a value the index could not key (scan for those).
    of: HashMap<u64, Option<String>>,
    unkeyed: BTreeSet<u64>,
}

impl ValueIndex {
    /// Records `id` with the field's value (`None` when the record has no such field).
    pub(crate) fn set(&mut self, id: u64, value: Option<&Value>) {
        self.remove(id);
        let key = match value {
            None | Some(Value::Null) => None,
            Some(v) => match equality_key(v) {
                Some(k) => Some(k),
                None => {
                    self.unkeyed.insert(id);
                    None
                }
            },
        };
        if let Some(k) = &key {
            self.by_key.entry(k.clone()).or_default().insert(id);
        }
        self.of.insert(id, key);
    }

    /// Forgets a deleted record.
    pub(crate) fn remove(&mut self, id: u64) {
        self.unkeyed.remove(&id);
        if let Some(Some(old)) = self.of.remove(&id)
            && let Some(ids) = self.by_key.get_mut(&old)
        {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_key.remove(&old);
            }
        }
    }

    /// The records whose value `eq` may hold against any of `wanted`, in id order; `None` when
    /// the index cannot answer exactly.
    pub(crate) fn lookup(&self, wanted: &[&Value]) -> Option<BTreeSet<u64>> {
        let mut out: BTreeSet<u64> = self.unkeyed.clone();
        for w in wanted {
            if w.is_null() {
                // `eq null` holds for nothing (a comparison with null has no order).
                continue;
            }
            let key = equality_key(w)?;
            if let Some(ids) = self.by_key.get(&key) {
                out.extend(ids.iter().copied());
            }
        }
        Some(out)
    }
}

/// Positions in an append-only list of records, by a value (a goods out id, a subtype).
#[derive(Debug, Default)]
pub(crate) struct PositionIndex<K: std::hash::Hash + Eq> {
    by: HashMap<K, Vec<usize>>,
}

impl<K: std::hash::Hash + Eq> PositionIndex<K> {
    /// Records that the item at `position` has `key`.
    pub(crate) fn add(&mut self, key: K, position: usize) {
        self.by.entry(key).or_default().push(position);
    }

    /// The positions with `key`, in order.
    pub(crate) fn get(&self, key: &K) -> &[usize] {
        self.by.get(key).map_or(&[], Vec::as_slice)
    }
}

/// Records by a composite key, several records per key, the lowest id first.
#[derive(Debug)]
pub(crate) struct SlotIndex<K: std::hash::Hash + Eq> {
    by: HashMap<K, BTreeSet<u64>>,
}

impl<K: std::hash::Hash + Eq> Default for SlotIndex<K> {
    fn default() -> Self {
        SlotIndex { by: HashMap::new() }
    }
}

impl<K: std::hash::Hash + Eq> SlotIndex<K> {
    /// Files `id` under `key`.
    pub(crate) fn add(&mut self, key: K, id: u64) {
        self.by.entry(key).or_default().insert(id);
    }

    /// Takes `id` out of `key`.
    pub(crate) fn remove(&mut self, key: &K, id: u64) {
        if let Some(ids) = self.by.get_mut(key) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by.remove(key);
            }
        }
    }

    /// The lowest id filed under `key`.
    pub(crate) fn first(&self, key: &K) -> Option<u64> {
        self.by.get(key).and_then(|ids| ids.first().copied())
    }
}

/// Every stock movement, in order (the `transactions` GraphQL root), indexed by goods out,
/// receipt and subtype, and by creation time while the log is in creation order.
#[derive(Debug)]
pub(crate) struct TransactionLog {
    rows: Vec<Value>,
    by_goods_out: PositionIndex<u64>,
    by_goods_in: PositionIndex<u64>,
    by_subtype: PositionIndex<&'static str>,
    /// Each movement's `created_at`, position by position, while every one so far is a
    /// timestamp no earlier than the one before; emptied for good (and `in_order` false) once
    /// one is not, and a `created_at` filter then reads the whole log.
    created: Vec<jiff::Timestamp>,
    in_order: bool,
}

impl Default for TransactionLog {
    fn default() -> Self {
        TransactionLog {
            rows: Vec::new(),
            by_goods_out: PositionIndex::default(),
            by_goods_in: PositionIndex::default(),
            by_subtype: PositionIndex::default(),
            created: Vec::new(),
            in_order: true,
        }
    }
}

/// The instant a filter value names, when the filters compare it as one (a text that reads
/// as a timestamp; see `compare` in the GraphQL module).
fn instant(v: &Value) -> Option<jiff::Timestamp> {
    v.as_str()?.parse().ok()
}

impl TransactionLog {
    /// Appends a movement's node, with the goods out or receipt it belongs to and its subtype.
    pub(crate) fn push(
        &mut self,
        node: Value,
        goods_out: Option<u64>,
        goods_in: Option<u64>,
        subtype: &'static str,
    ) {
        let position = self.rows.len();
        if let Some(g) = goods_out {
            self.by_goods_out.add(g, position);
        }
        if let Some(g) = goods_in {
            self.by_goods_in.add(g, position);
        }
        self.by_subtype.add(subtype, position);
        if self.in_order {
            match node.get("created_at").and_then(instant) {
                Some(t) if self.created.last().is_none_or(|last| *last <= t) => {
                    self.created.push(t);
                }
                _ => {
                    self.in_order = false;
                    self.created = Vec::new();
                }
            }
        }
        self.rows.push(node);
    }

    /// The positions whose `created_at` may satisfy the `from`, `gteq`, `to`, `lteq` and
    /// `between` operators of a `created_at` filter (`ops`): a range that holds every match
    /// (the filter still runs on each). The whole log when the log is not in creation order, no
    /// operator bounds the time, or a bound is not a timestamp (the filters then compare text).
    pub(crate) fn created_range(&self, ops: Option<&Map<String, Value>>) -> Range<usize> {
        let all = 0..self.rows.len();
        let Some(ops) = ops else { return all };
        if !self.in_order {
            return all;
        }
        let first_from = |t: jiff::Timestamp| self.created.partition_point(|c| *c < t);
        let past_to = |t: jiff::Timestamp| self.created.partition_point(|c| *c <= t);
        let (mut start, mut end) = (all.start, all.end);
        for (op, wanted) in ops {
            let bounds = match op.as_str() {
                "from" | "gteq" => (Some(wanted), None),
                "to" | "lteq" => (None, Some(wanted)),
                "between" => match wanted.as_array().map(Vec::as_slice) {
                    Some([from, to]) => (Some(from), Some(to)),
                    _ => (None, None),
                },
                _ => (None, None),
            };
            if let Some(from) = bounds.0 {
                let Some(t) = instant(from) else { return all };
                start = start.max(first_from(t));
            }
            if let Some(to) = bounds.1 {
                let Some(t) = instant(to) else { return all };
                end = end.min(past_to(t));
            }
        }
        start..end.max(start)
    }

    /// Every movement, in order.
    pub(crate) fn all(&self) -> &[Value] {
        &self.rows
    }

    /// The movement at a position.
    pub(crate) fn at(&self, position: usize) -> &Value {
        &self.rows[position]
    }

    /// Positions of the movements of these goods outs; `None` when an id is not exact.
    pub(crate) fn of_goods_outs(&self, wanted: &[&Value]) -> Option<BTreeSet<usize>> {
        Self::positions(&self.by_goods_out, wanted)
    }

    /// Positions of the movements of these receipts; `None` when an id is not exact.
    pub(crate) fn of_goods_ins(&self, wanted: &[&Value]) -> Option<BTreeSet<usize>> {
        Self::positions(&self.by_goods_in, wanted)
    }

    /// Positions of the movements of these subtypes (compared as text, as the filters do: a
    /// subtype is never a number or a timestamp).
    /// Only positions within `within` are answered.
    pub(crate) fn of_subtypes(
        &self,
        wanted: &[&Value],
        within: &Range<usize>,
    ) -> Option<BTreeSet<usize>> {
        let mut out = BTreeSet::new();
        for w in wanted {
            let Some(t) = text(w) else { continue };
            for (subtype, positions) in &self.by_subtype.by {
                if *subtype == t {
                    let from = positions.partition_point(|p| *p < within.start);
                    let to = positions.partition_point(|p| *p < within.end);
                    out.extend(positions[from..to.max(from)].iter().copied());
                }
            }
        }
        Some(out)
    }

    fn positions(index: &PositionIndex<u64>, wanted: &[&Value]) -> Option<BTreeSet<usize>> {
        let mut out = BTreeSet::new();
        for w in wanted {
            if w.is_null() {
                continue;
            }
            out.extend(index.get(&wanted_id(w)?).iter().copied());
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn references_are_found_as_the_filters_compare_them() {
        let mut index = ValueIndex::default();
        index.set(1, Some(&json!("SO-1")));
        index.set(2, Some(&json!("007")));
        index.set(3, Some(&json!("SO-1")));
        index.set(4, None);
        fn found_in(index: &ValueIndex, w: Value) -> Option<Vec<u64>> {
            index.lookup(&[&w]).map(|s| s.into_iter().collect())
        }
        assert_eq!(found_in(&index, json!("SO-1")), Some(vec![1, 3]));
        assert_eq!(
            found_in(&index, json!("7")),
            Some(vec![2]),
            "numbers compare as decimals"
        );
        assert_eq!(found_in(&index, json!(7.0)), Some(vec![2]));
        assert_eq!(found_in(&index, json!("so-1")), Some(vec![]));
        assert_eq!(found_in(&index, json!("2026-01-01T00:00:00Z")), None);

        index.set(3, Some(&json!("SO-3")));
        assert_eq!(found_in(&index, json!("SO-1")), Some(vec![1]));
        index.remove(1);
        assert_eq!(found_in(&index, json!("SO-1")), Some(vec![]));
        index.set(5, Some(&json!("2026-01-01T00:00:00Z")));
        assert_eq!(
            found_in(&index, json!("SO-3")),
            Some(vec![3, 5]),
            "a value the index cannot key is always a candidate"
        );
    }

    fn movement(id: u64, subtype: &'static str, created_at: &str) -> (Value, &'static str) {
        (
            json!({"id": id.to_string(), "subtype": subtype, "created_at": created_at}),
            subtype,
        )
    }

    fn log_of(movements: Vec<(Value, &'static str)>) -> TransactionLog {
        let mut log = TransactionLog::default();
        for (node, subtype) in movements {
            log.push(node, None, None, subtype);
        }
        log
    }

    #[test]
    fn a_created_at_filter_reads_only_the_movements_in_its_time() {
        let log = log_of(vec![
            movement(1, "ADJUP", "2026-01-01T00:00:00Z"),
            movement(2, "PICK", "2026-01-01T00:00:01Z"),
            movement(3, "ADJDN", "2026-01-01T00:00:01Z"),
            movement(4, "ADJUP", "2026-01-01T00:00:02Z"),
            movement(5, "ADJUP", "2026-01-01T00:00:03Z"),
        ]);
        let ops = |v: Value| v.as_object().cloned().unwrap();
        let from = ops(json!({"from": "2026-01-01T00:00:01Z"}));
        assert_eq!(log.created_range(Some(&from)), 1..5, "a bound is inclusive");
        let window = ops(json!({"from": "2026-01-01T00:00:01Z", "to": "2026-01-01T00:00:02Z"}));
        assert_eq!(log.created_range(Some(&window)), 1..4);
        let between = ops(json!({"between": ["2026-01-01T00:00:02Z", "2026-01-01T00:00:09Z"]}));
        assert_eq!(log.created_range(Some(&between)), 3..5);
        let none = ops(json!({"from": "2026-01-01T00:00:09Z", "to": "2026-01-01T00:00:01Z"}));
        assert!(log.created_range(Some(&none)).is_empty());
        let text = ops(json!({"from": "yesterday"}));
        assert_eq!(
            log.created_range(Some(&text)),
            0..5,
            "text is compared as text"
        );
        assert_eq!(log.created_range(None), 0..5);

        let adjustments = [&json!("ADJUP")];
        let within = log.created_range(Some(&from));
        assert_eq!(
            log.of_subtypes(&adjustments, &within),
            Some(BTreeSet::from([3, 4])),
            "subtypes only within the time"
        );
        assert_eq!(
            log.of_subtypes(&adjustments, &(0..5)),
            Some(BTreeSet::from([0, 3, 4]))
        );
    }

    #[test]
    fn a_log_out_of_creation_order_is_read_whole() {
        let log = log_of(vec![
            movement(1, "ADJUP", "2026-01-01T00:00:05Z"),
            movement(2, "ADJUP", "2026-01-01T00:00:01Z"),
            movement(3, "ADJUP", "2026-01-01T00:00:09Z"),
        ]);
        let from = json!({"from": "2026-01-01T00:00:04Z"});
        assert_eq!(log.created_range(from.as_object()), 0..3);
    }

    #[test]
    fn ids_are_named_exactly_or_not_at_all() {
        assert_eq!(wanted_id(&json!("12")), Some(12));
        assert_eq!(wanted_id(&json!(12)), Some(12));
        assert_eq!(wanted_id(&json!("12.0")), Some(12));
        assert_eq!(wanted_id(&json!("12.5")), None);
        assert_eq!(wanted_id(&json!("abc")), None);
        assert_eq!(wanted_id(&json!(null)), None);
    }
}
