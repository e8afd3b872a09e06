//! Planning throughput measured in CPU time of the planning thread, so that the figure stays
//! meaningful when other processes share the machine (criterion's `planning` bench reports wall
//! time). Plans the 10,000 despatch events of 3 lines 100 times (1,000,000 plans).
//!
//! Run with `cargo bench -p sync-core --bench planning_cpu`.

use std::hint::black_box;
use std::time::Instant;
use sync_core::plan;

#[path = "support/planning_fixture.rs"]
mod planning_fixture;
use planning_fixture::*;

const ROUNDS: usize = 100;

/// Time this thread spent on a CPU, in seconds (`/proc/thread-self/schedstat`, Linux).
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

fn main() {
    let m = mappings();
    let state = state(&m);
    let events = despatches();
    let t = now();
    // Warm up.
    for e in &events {
        black_box(plan(&state, &m, e, t));
    }
    let wall = Instant::now();
    let cpu = cpu_seconds();
    let mut actions = 0usize;
    for _ in 0..ROUNDS {
        for e in &events {
            actions += black_box(plan(&state, &m, black_box(e), t)).actions.len();
        }
    }
    let wall = wall.elapsed().as_secs_f64();
    let plans = ROUNDS * events.len();
    assert_eq!(actions, plans, "each despatch plans one fulfilment");
    let per_second = |seconds: f64| plans as f64 / seconds / 1e6;
    match cpu_seconds().zip(cpu) {
        Some((end, start)) => println!(
            "planning: {plans} despatch events of 3 lines in {:.3} s on CPU ({:.2} M events/s), \
             {wall:.3} s wall ({:.2} M events/s)",
            end - start,
            per_second(end - start),
            per_second(wall)
        ),
        None => println!(
            "planning: {plans} despatch events of 3 lines in {wall:.3} s wall ({:.2} M events/s)",
            per_second(wall)
        ),
    }
}
