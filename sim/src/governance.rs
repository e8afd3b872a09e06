//! Request governance shared by both simulators: a concurrency limit, latency and injected faults,
//! all driven by one seeded random generator so a run can be replayed.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How often faults are injected into requests. Rates are probabilities in `0.0..=1.0`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FaultRates {
    /// Share of requests answered with a 5xx before anything is committed (reads and writes).
    pub server_error_before_commit: f64,
    /// Share of write requests that commit and then lose the reply.
    pub commit_then_fail: f64,
    /// Among commit-then-fail faults, the share that drop the connection instead of answering 500.
    pub drop_connection_share: f64,
}

impl FaultRates {
    /// No faults at all.
    pub const NONE: FaultRates = FaultRates {
        server_error_before_commit: 0.0,
        commit_then_fail: 0.0,
        drop_connection_share: 0.0,
    };
}

/// One fault, either drawn at random from [`FaultRates`] or scripted for the next write request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 500 before committing anything.
    ServerErrorBeforeCommit,
    /// Commit the write, then lose the reply in the given way.
    CommitThenFail(LostReply),
    /// Answer as if the concurrency limit had been reached.
    Throttle,
    /// Refuse the write as a business rule does, committing nothing (NetSuite: 400 `USER_ERROR`
    /// "the accounting period is closed"; Clarus: 422). Retrying the same request is refused
    /// only while the fault is scripted again.
    Refuse,
}

/// How a reply is lost after the write has been committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostReply {
    /// The server answers 500 although the write happened.
    ServerError,
    /// The connection is closed without any answer.
    DropConnection,
}

/// Counters kept by the governance layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GovernanceStats {
    /// Requests that reached the governance layer.
    pub requests: u64,
    /// Requests refused because the concurrency limit was reached (or a scripted throttle).
    pub throttled: u64,
    /// Requests answered 5xx before commit.
    pub server_errors_before_commit: u64,
    /// Writes committed whose reply was then lost.
    pub commits_then_failed: u64,
    /// Writes refused by a scripted business-rule refusal.
    pub refused: u64,
    /// The highest number of requests in flight at once.
    pub max_in_flight: u64,
}

/// The governance layer's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GovernanceSettings {
    pub latency: Duration,
    pub latency_jitter: Duration,
    pub concurrency_limit: Option<usize>,
    pub faults: FaultRates,
    pub seed: u64,
}

pub(crate) struct Governor {
    settings: Mutex<GovernanceSettings>,
    in_flight: Arc<AtomicUsize>,
    rng: Mutex<StdRng>,
    script: Mutex<VecDeque<Fault>>,
    stats: Mutex<GovernanceStats>,
}

/// A slot in the concurrency limit, released on drop.
pub(crate) struct Permit(Arc<AtomicUsize>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(crate) fn lock_unpoisoned<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Governor {
    pub(crate) fn new(settings: GovernanceSettings) -> Self {
        Self {
            rng: Mutex::new(StdRng::seed_from_u64(settings.seed)),
            settings: Mutex::new(settings),
            in_flight: Arc::new(AtomicUsize::new(0)),
            script: Mutex::new(VecDeque::new()),
            stats: Mutex::new(GovernanceStats::default()),
        }
    }

    /// Takes a slot, or `None` when the limit is reached (the request must be refused).
    pub(crate) fn try_enter(&self) -> Option<Permit> {
        let limit = lock_unpoisoned(&self.settings).concurrency_limit;
        let mut stats = lock_unpoisoned(&self.stats);
        stats.requests += 1;
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        if limit.is_some_and(|limit| now > limit) {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            stats.throttled += 1;
            return None;
        }
        stats.max_in_flight = stats.max_in_flight.max(now as u64);
        Some(Permit(self.in_flight.clone()))
    }

    /// Waits for the configured latency (plus a seeded random jitter).
    pub(crate) async fn delay(&self) {
        let settings = *lock_unpoisoned(&self.settings);
        let jitter = if settings.latency_jitter.is_zero() {
            Duration::ZERO
        } else {
            let max = settings.latency_jitter.as_micros() as u64;
            Duration::from_micros(lock_unpoisoned(&self.rng).random_range(0..=max))
        };
        let total = settings.latency + jitter;
        if !total.is_zero() {
            tokio::time::sleep(total).await;
        }
    }

    /// Decides the fault (if any) for a request. Scripted faults apply to the next write.
    pub(crate) fn decide(&self, is_write: bool) -> Option<Fault> {
        if is_write && let Some(fault) = lock_unpoisoned(&self.script).pop_front() {
            self.count(fault);
            return Some(fault);
        }
        let rates = lock_unpoisoned(&self.settings).faults;
        let mut rng = lock_unpoisoned(&self.rng);
        let roll: f64 = rng.random();
        let commit_then_fail = if is_write {
            rates.commit_then_fail
        } else {
            0.0
        };
        let fault = if roll < commit_then_fail {
            let drop: f64 = rng.random();
            Some(Fault::CommitThenFail(
                if drop < rates.drop_connection_share {
                    LostReply::DropConnection
                } else {
                    LostReply::ServerError
                },
            ))
        } else if roll < commit_then_fail + rates.server_error_before_commit {
            Some(Fault::ServerErrorBeforeCommit)
        } else {
            None
        };
        drop(rng);
        if let Some(fault) = fault {
            self.count(fault);
        }
        fault
    }

    fn count(&self, fault: Fault) {
        let mut stats = lock_unpoisoned(&self.stats);
        match fault {
            Fault::ServerErrorBeforeCommit => stats.server_errors_before_commit += 1,
            Fault::CommitThenFail(_) => stats.commits_then_failed += 1,
            Fault::Throttle => stats.throttled += 1,
            Fault::Refuse => stats.refused += 1,
        }
    }

    pub(crate) fn script(&self, fault: Fault) {
        lock_unpoisoned(&self.script).push_back(fault);
    }

    pub(crate) fn set_faults(&self, faults: FaultRates) {
        lock_unpoisoned(&self.settings).faults = faults;
    }

    pub(crate) fn set_latency(&self, latency: Duration) {
        lock_unpoisoned(&self.settings).latency = latency;
    }

    pub(crate) fn stats(&self) -> GovernanceStats {
        *lock_unpoisoned(&self.stats)
    }

    pub(crate) fn concurrency_limit(&self) -> Option<usize> {
        lock_unpoisoned(&self.settings).concurrency_limit
    }

    /// A seeded random number in `0.0..1.0`, from the same generator as the faults.
    pub(crate) fn random(&self) -> f64 {
        lock_unpoisoned(&self.rng).random()
    }
}
