//! Peak memory (and wall time) of drift over 1,000,000 positions, measured from the process's
//! own high-water mark of resident memory (`VmHWM` in `/proc/self/status`, Linux).
//! Goal: under 300 MB peak.
//!
//! Run with `cargo bench -p sync-core --bench drift_memory`.

use std::time::Instant;
use sync_core::drift::{self, Thresholds};

#[path = "support/drift_rows.rs"]
mod drift_rows;
use drift_rows::*;

fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Time this thread spent on a CPU, in seconds (first field of `/proc/thread-self/schedstat`,
/// nanoseconds), so that figures stay meaningful on a busy machine.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(f64::NAN, |ns| ns as f64 / 1e9)
}

/// Resets the high-water mark to the current resident size (Linux 4.0+).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn report(label: &str, seconds: f64, cpu: f64, summary: &sync_core::DriftSummary) {
    let peak = status_kb("VmHWM:").map_or("unknown".to_owned(), |kb| {
        format!("{:.1} MB", kb as f64 / 1024.0)
    });
    println!(
        "drift {label}: {} positions in {seconds:.3} s wall, {cpu:.3} s on CPU, peak resident \
         memory {peak} (in step {}, explained {}, drift {})",
        summary.positions, summary.in_step, summary.explained_by_in_flight, summary.drift
    );
}

fn main() {
    if status_kb("VmHWM:").is_none() {
        println!("drift_memory: /proc/self/status not available; nothing measured");
        return;
    }
    println!(
        "baseline resident memory {:.1} MB",
        status_kb("VmRSS:").unwrap_or(0) as f64 / 1024.0
    );

    // Generating the rows alone, to tell generation from comparison in the figures below.
    let start = Instant::now();
    let cpu = cpu_seconds();
    let mut buf = String::new();
    let mut checksum = 0usize;
    for p in 0..POSITIONS {
        checksum += key(p, &mut buf).sku.as_str().len();
        checksum += key(p, &mut buf).location.as_str().len();
        if in_flight(p).is_some() {
            checksum += key(p, &mut buf).sku.as_str().len();
        }
    }
    println!(
        "row generation alone: {:.3} s wall, {:.3} s on CPU (checksum {checksum})",
        start.elapsed().as_secs_f64(),
        cpu_seconds() - cpu
    );

    // Streamed: rows are added as they are produced, as the engine adds snapshot pages.
    reset_peak();
    let start = Instant::now();
    let cpu = cpu_seconds();
    let result = streamed();
    report(
        "streamed",
        start.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
        &result.summary,
    );
    drop(result);

    // Preloaded: both snapshots fully in memory first (the peak includes them).
    reset_peak();
    let start = Instant::now();
    let (c, n, f) = rows();
    let loaded = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let cpu = cpu_seconds();
    let result = drift::compare(c, n, f, Thresholds::default());
    let (wall, cpu) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    println!("preloaded rows built in {loaded:.3} s");
    report("preloaded (rows in memory)", wall, cpu, &result.summary);
}
