//! Property tests over random event streams with duplicates and reorderings, and over keys and
//! drift.

use crate::support::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use sync_core::*;

const SKUS: [(&str, &str, Tracking); 4] = [
    ("11", "A", Tracking::None),
    ("12", "B", Tracking::None),
    ("13", "L", Tracking::Lot),
    ("14", "C", Tracking::None),
];
/// NetSuite line numbers are not 1..n.
const LINE_NUMBERS: [u64; 4] = [1, 4, 9, 16];

#[derive(Debug, Clone)]
struct Scenario {
    /// Per order: (sku index, ordered quantity) per line.
    orders: Vec<Vec<(usize, i64)>>,
    /// Per order: its despatches; each despatch lists (line index, requested, shipped).
    despatches: Vec<Vec<Vec<(usize, i64, i64)>>>,
    /// Per order: cancelled in its last revision.
    cancelled: Vec<bool>,
    /// Revisions per order event.
    revisions: u64,
}

fn sales_order_for(index: usize, lines: &[(usize, i64)], status: OrderStatus) -> Order {
    order(
        OrderKind::Sales,
        &format!("50{index}"),
        status,
        lines
            .iter()
            .enumerate()
            .map(|(i, &(sku, q))| order_line(LINE_NUMBERS[i], SKUS[sku].0, SKUS[sku].1, q))
            .collect(),
    )
}

fn events_of(s: &Scenario) -> Vec<Event> {
    let mut events = Vec::new();
    for (id, sku, tracking) in SKUS {
        events.push(item_event(item(id, sku, tracking), 1));
    }
    for (o, lines) in s.orders.iter().enumerate() {
        for revision in 1..=s.revisions {
            let status = if s.cancelled[o] && revision == s.revisions {
                OrderStatus::Cancelled
            } else {
                OrderStatus::Open
            };
            events.push(order_event(sales_order_for(o, lines, status), revision));
        }
        for (d, despatch_lines) in s.despatches[o].iter().enumerate() {
            let lines = despatch_lines
                .iter()
                .map(|&(line, requested, shipped)| {
                    let sku = SKUS[s.orders[o][line].0].1;
                    let mut l = despatch_line(LINE_NUMBERS[line], sku, requested, shipped);
                    if shipped > 0 {
                        l.lots = vec![LotQuantity {
                            lot: "LOT1".into(),
                            quantity: dec(shipped),
                        }];
                    }
                    l
                })
                .collect();
            events.push(despatch_event(despatch(
                100 + o as u64,
                &d.to_string(),
                &format!("50{o}"),
                lines,
            )));
        }
    }
    events
}

/// Any scenario: despatches may exceed what is open, orders may be cancelled.
fn any_scenario() -> impl Strategy<Value = Scenario> {
    let order = prop::collection::vec((0..SKUS.len(), 1i64..8), 1..=LINE_NUMBERS.len());
    (prop::collection::vec(order, 1..4), 1u64..4).prop_flat_map(|(orders, revisions)| {
        let despatches: Vec<_> = orders
            .iter()
            .map(|lines| {
                let line = (0..lines.len(), 0i64..7, 0i64..3)
                    .prop_map(|(l, shipped, short)| (l, shipped + short, shipped));
                prop::collection::vec(prop::collection::vec(line, 1..4), 0..4)
            })
            .collect();
        let n = orders.len();
        (
            Just(orders),
            despatches,
            prop::collection::vec(any::<bool>(), n),
            Just(revisions),
        )
            .prop_map(|(orders, despatches, cancelled, revisions)| Scenario {
                orders,
                despatches,
                cancelled,
                revisions,
            })
    })
}

/// A valid scenario: every line is ordered at least what its despatches ship, nothing is
/// cancelled.
fn valid_scenario() -> impl Strategy<Value = Scenario> {
    any_scenario().prop_map(|mut s| {
        for (o, lines) in s.orders.iter_mut().enumerate() {
            for (l, line) in lines.iter_mut().enumerate() {
                let shipped: i64 = s.despatches[o]
                    .iter()
                    .flatten()
                    .filter(|d| d.0 == l)
                    .map(|d| d.2)
                    .sum();
                line.1 = line.1.max(shipped).max(1);
            }
        }
        s.cancelled.iter_mut().for_each(|c| *c = false);
        s
    })
}

/// Shuffles `events` with duplicates: each event may appear up to three times.
fn stream(s: Scenario) -> impl Strategy<Value = (Scenario, Vec<Event>)> {
    let events = events_of(&s);
    let n = events.len();
    (Just(s), prop::collection::vec(1usize..=3, n)).prop_flat_map(move |(s, copies)| {
        let mut all = Vec::new();
        for (e, c) in events.iter().zip(copies) {
            for _ in 0..c {
                all.push(e.clone());
            }
        }
        (Just(s), Just(all).prop_shuffle())
    })
}

/// Runs the stream, then replays every event once (the engine's retry of blocked events).
/// Checks after every step that planning the same event again plans nothing.
fn process(events: &[Event]) -> (MemoryState, Vec<PlannedAction>) {
    let m = mappings();
    let mut state = MemoryState::new();
    let mut actions = Vec::new();
    for e in events.iter().chain(events.iter()) {
        let p = plan(&state, &m, e, now());
        state.apply(&p);
        let again = plan(&state, &m, e, now());
        assert!(again.is_empty(), "replanning {e:?} gave {again:?}");
        actions.extend(p.actions);
    }
    (state, actions)
}

fn fulfilled_per_line(actions: &[PlannedAction]) -> BTreeMap<(String, LineNo), Decimal> {
    let mut per_line = BTreeMap::new();
    for a in actions {
        if let Action::FulfilSalesOrder(f) = &a.action {
            for l in &f.lines {
                *per_line
                    .entry((f.order.to_string(), l.order_line))
                    .or_insert(Decimal::ZERO) += l.quantity;
            }
        }
    }
    per_line
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn at_most_one_fulfilment_per_despatch_and_never_above_ordered(
        (scenario, events) in any_scenario().prop_flat_map(stream)
    ) {
        let (state, actions) = process(&events);
        // Older order revisions arriving late never undo the newest one.
        for (o, cancelled) in scenario.cancelled.iter().enumerate() {
            let known = state.order(&OrderRef::sales(format!("50{o}"))).unwrap();
            prop_assert_eq!(known.revision, Revision::Sequence(scenario.revisions));
            let expected = if *cancelled { OrderStatus::Cancelled } else { OrderStatus::Open };
            prop_assert_eq!(known.order.status, expected);
        }
        // Every action key is planned once: in particular one fulfilment per despatch.
        let mut keys = BTreeSet::new();
        for a in &actions {
            prop_assert!(keys.insert(a.key.clone()), "key {} planned twice", a.key);
        }
        for ((order, line), posted) in fulfilled_per_line(&actions) {
            let o: usize = order[2..].parse().unwrap();
            let i = LINE_NUMBERS.iter().position(|&n| n == line.0).unwrap();
            let ordered = dec(scenario.orders[o][i].1);
            prop_assert!(posted <= ordered, "{order} line {line}: posted {posted} > ordered {ordered}");
        }
    }

    #[test]
    fn valid_streams_fulfil_every_despatch_exactly_once_whatever_the_order(
        (scenario, events) in valid_scenario().prop_flat_map(stream)
    ) {
        let (state, actions) = process(&events);
        let mut expected = BTreeMap::new();
        let mut despatch_keys = BTreeSet::new();
        for (o, despatches) in scenario.despatches.iter().enumerate() {
            for (d, lines) in despatches.iter().enumerate() {
                let shipped: i64 = lines.iter().map(|l| l.2).sum();
                if shipped > 0 {
                    despatch_keys.insert(format!("CLR-DESP-acme-{}-{d}", 100 + o));
                }
                for &(line, _, q) in lines {
                    if q > 0 {
                        *expected
                            .entry((format!("50{o}"), LineNo(LINE_NUMBERS[line])))
                            .or_insert(Decimal::ZERO) += dec(q);
                    }
                }
            }
        }
        let fulfilled: BTreeSet<String> = actions
            .iter()
            .filter(|a| matches!(a.action, Action::FulfilSalesOrder(_)))
            .map(|a| a.key.to_string())
            .collect();
        prop_assert_eq!(fulfilled, despatch_keys);
        prop_assert_eq!(fulfilled_per_line(&actions), expected);
        // Only short-despatch warnings remain open.
        for e in state.open_exceptions() {
            prop_assert_eq!(e.kind, ExceptionKind::ShortDespatch);
        }
        // Every order was released to the warehouse once.
        let goods_outs = actions
            .iter()
            .filter(|a| matches!(a.action, Action::CreateGoodsOut(_)))
            .count();
        prop_assert_eq!(goods_outs, scenario.orders.len());
    }

    #[test]
    fn idempotency_keys_are_stable_legal_and_injective(
        a in prop::collection::vec(any::<String>(), 1..5),
        b in prop::collection::vec(any::<String>(), 1..5),
    ) {
        let parts_a: Vec<&str> = a.iter().map(String::as_str).collect();
        let parts_b: Vec<&str> = b.iter().map(String::as_str).collect();
        let key_a = IdempotencyKey::build("CLR-DESP", &parts_a);
        prop_assert_eq!(&key_a, &IdempotencyKey::build("CLR-DESP", &parts_a));
        prop_assert!(key_a.as_str().len() <= IdempotencyKey::MAX_LEN);
        prop_assert!(key_a.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        prop_assert!(IdempotencyKey::parse(key_a.as_str()).is_ok());
        let key_b = IdempotencyKey::build("CLR-DESP", &parts_b);
        prop_assert_eq!(a == b, key_a == key_b);
    }

    #[test]
    fn drift_is_zero_when_systems_agree_once_in_flight_is_counted(
        positions in prop::collection::btree_map(
            (0u8..50, 0u8..4, any::<bool>()),
            (0i64..1000, -50i64..50, 1usize..4),
            1..100,
        ),
        broken in any::<prop::sample::Index>(),
        delta in prop_oneof![-20i64..=-1, 1i64..=20],
    ) {
        let key = |&(sku, location, held): &(u8, u8, bool)| StockKey {
            sku: Sku::new(format!("SKU{sku}")),
            location: LocationId::new(location.to_string()),
            status: if held { StockStatus::Held } else { StockStatus::Available },
        };
        let mut calc = DriftCalculator::new();
        let mut broken_calc = DriftCalculator::new();
        let broken_at = broken.index(positions.len());
        // A change that makes the two systems equal is "in step", not drift.
        let broken_in_flight = positions.values().nth(broken_at).unwrap().1;
        prop_assume!(delta != -broken_in_flight);
        for (i, (k, &(clarus, in_flight, parts))) in positions.iter().enumerate() {
            // NetSuite has not yet posted what is in flight; Clarus rows come in several parts.
            let netsuite = clarus - in_flight;
            for part in 0..parts {
                let q = if part == 0 { clarus - (parts as i64 - 1) } else { 1 };
                calc.add_clarus(key(k), dec(q));
                let extra = if i == broken_at && part == 0 { delta } else { 0 };
                broken_calc.add_clarus(key(k), dec(q + extra));
            }
            for c in [&mut calc, &mut broken_calc] {
                c.add_netsuite(key(k), dec(netsuite));
                if in_flight != 0 {
                    c.add_in_flight(key(k), dec(in_flight));
                }
            }
        }
        let report = calc.finish(Thresholds::default());
        prop_assert_eq!(report.summary.positions, positions.len());
        prop_assert_eq!(report.summary.drift, 0);
        prop_assert!(report.rows.iter().all(|r| r.unexplained.is_zero()));
        let broken_report = broken_calc.finish(Thresholds::default());
        prop_assert_eq!(broken_report.summary.drift, 1);
        let drifting: Vec<&DriftRow> = broken_report
            .rows
            .iter()
            .filter(|r| r.class == DriftClass::Drift)
            .collect();
        prop_assert_eq!(drifting[0].unexplained, dec(delta));
        prop_assert_eq!(&drifting[0].key, &key(positions.keys().nth(broken_at).unwrap()));
    }
}
