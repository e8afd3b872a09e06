//! Planning throughput: despatch events of 3 lines against a state of 10,000 open orders.
//!
//! Goal: at least 1,000,000 events per second on one core.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use sync_core::*;

#[path = "support/planning_fixture.rs"]
mod planning_fixture;
use planning_fixture::*;

fn planning(c: &mut Criterion) {
    let m = mappings();
    let state = state(&m);
    let events = despatches();
    // Sanity: each event plans one fulfilment of 3 lines.
    let sample = plan(&state, &m, &events[0], now());
    assert_eq!(sample.actions.len(), 1);
    match &sample.actions[0].action {
        Action::FulfilSalesOrder(f) => assert_eq!(f.lines.len(), 3),
        other => panic!("unexpected {other:?}"),
    }

    let t = now();
    let mut group = c.benchmark_group("planning");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("despatch_3_lines_x10000", |b| {
        b.iter(|| {
            for e in &events {
                black_box(plan(&state, &m, black_box(e), t));
            }
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("despatch_replayed", |b| {
        // A replayed webhook: the event is seen, the plan is empty.
        let mut seen = state.clone();
        let p = plan(&seen, &m, &events[0], t);
        seen.apply(&p);
        b.iter(|| black_box(plan(&seen, &m, black_box(&events[0]), t)))
    });
    group.finish();

    let mut group = c.benchmark_group("plan_and_apply");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.sample_size(10);
    group.bench_function("despatch_3_lines_x10000", |b| {
        b.iter_batched(
            || state.clone(),
            |mut s| {
                for e in &events {
                    let p = plan(&s, &m, e, t);
                    s.apply(&p);
                }
                s
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, planning);
criterion_main!(benches);
