//! Drift over 1,000,000 SKU × location × status positions. Goal: under 1 s.
//!
//! `streamed`: rows are generated and added one by one (as the engine adds snapshot pages).
//! `preloaded`: all rows are in memory first; only the comparison is timed.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use sync_core::drift::{self, Thresholds};

#[path = "support/drift_rows.rs"]
mod drift_rows;
use drift_rows::*;

fn check(report: &sync_core::DriftReport) {
    assert_eq!(report.summary.positions, POSITIONS);
    assert_eq!(report.summary.drift, POSITIONS / 1000);
    assert_eq!(
        report.summary.explained_by_in_flight,
        POSITIONS / 100 - POSITIONS / 1000
    );
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("drift_1m_positions");
    group.sample_size(10);
    group.bench_function("streamed", |b| {
        b.iter(|| {
            let report = streamed();
            check(&report);
            black_box(report)
        })
    });
    group.bench_function("preloaded", |b| {
        b.iter_batched(
            rows,
            |(c, n, f)| black_box(drift::compare(c, n, f, Thresholds::default())),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
