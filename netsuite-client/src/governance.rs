//! One concurrency budget per account: a permit pool that narrows on 429 and widens back slowly.
//!
//! NetSuite counts requests in flight per account (across SOAP, REST and RESTlets) and answers
//! 429 `CONCURRENCY_LIMIT_EXCEEDED` without `Retry-After` beyond the limit. Every clone of a
//! [`crate::NetSuiteClient`] holds the same [`ConcurrencyBudget`], so they never exceed it
//! together. Hand-written rather than a `tokio::sync::Semaphore` because the limit moves in both
//! directions while permits are out, and a 429 must only narrow the pool once per "round"
//! (requests sent under an older limit say nothing about the current one).

use std::sync::{Arc, Mutex};

use serde::Deserialize;
use tokio::sync::Notify;

/// The account's concurrency limits as `GET /system/v1/governanceLimits` reports them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GovernanceLimits {
    /// Requests the whole account may have in flight.
    pub account_concurrency_limit: Option<u32>,
    /// Slots not allocated to a specific integration.
    pub account_unallocated_concurrency_limit: Option<u32>,
    /// This integration's own limit, when it has one.
    pub integration_concurrency_limit: Option<u32>,
    /// `integrationSpecific`, `accountLimit` or `internal`.
    pub integration_limit_type: Option<String>,
}

impl GovernanceLimits {
    /// The number of requests this integration may have in flight.
    ///
    /// An integration-specific limit wins; otherwise the unallocated pool (shared with other
    /// integrations), then the account limit.
    pub fn effective_limit(&self) -> Option<u32> {
        let specific = self.integration_limit_type.as_deref() == Some("integrationSpecific");
        let pick = if specific {
            self.integration_concurrency_limit
        } else {
            self.account_unallocated_concurrency_limit
                .or(self.integration_concurrency_limit)
                .or(self.account_concurrency_limit)
        };
        pick.filter(|n| *n > 0)
    }
}

/// How a client's concurrency pool got its width ([`crate::NetSuiteClient::pool_sizing`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolSizing {
    /// Set with [`crate::ClientBuilder::concurrency_limit`]; `governanceLimits` is not read.
    Configured(usize),
    /// A pool shared through [`crate::ClientBuilder::concurrency_budget`], sized by its owner.
    Shared,
    /// `governanceLimits` will be read before the first request.
    Pending,
    /// Read from `governanceLimits` ([`GovernanceLimits::effective_limit`]).
    GovernanceLimits {
        /// The width the pool was given.
        limit: usize,
    },
    /// `governanceLimits` could not be read (it needs an administrator role) or named no limit,
    /// or sizing from it was turned off: the pool keeps
    /// [`DEFAULT_CONCURRENCY`](crate::DEFAULT_CONCURRENCY) slots.
    Default {
        /// Why the default is used (the error, when the read failed).
        reason: String,
    },
    /// The pool was resized by its user (e.g. [`ConcurrencyBudget::resize`]) before the first
    /// request; that width is kept and `governanceLimits` is not read.
    Resized,
}

#[derive(Debug)]
struct State {
    resizes: u64,
    limit: usize,
    ceiling: usize,
    in_flight: usize,
    generation: u64,
    successes: usize,
    last_change_was_increase: bool,
    hold: usize,
}

/// The shared permit pool of one account.
#[derive(Debug)]
pub struct ConcurrencyBudget {
    state: Mutex<State>,
    notify: Notify,
}

/// A slot in the pool; the slot is returned when the permit is dropped.
#[derive(Debug)]
pub struct Permit {
    budget: Arc<ConcurrencyBudget>,
    generation: u64,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut s = self.budget.lock();
        s.in_flight -= 1;
        drop(s);
        self.budget.notify.notify_one();
    }
}

impl ConcurrencyBudget {
    /// A pool of `limit` slots (at least one); the pool never widens past `limit`.
    pub fn new(limit: usize) -> Arc<Self> {
        let limit = limit.max(1);
        Arc::new(Self {
            state: Mutex::new(State {
                resizes: 0,
                limit,
                ceiling: limit,
                in_flight: 0,
                generation: 0,
                successes: 0,
                last_change_was_increase: false,
                hold: 1,
            }),
            notify: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a slot.
    pub async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut s = self.lock();
                if s.in_flight < s.limit {
                    s.in_flight += 1;
                    let generation = s.generation;
                    let more = s.in_flight < s.limit;
                    drop(s);
                    if more {
                        // Pass the wake-up on: another waiter may fit too.
                        self.notify.notify_one();
                    }
                    return Permit {
                        budget: Arc::clone(self),
                        generation,
                    };
                }
            }
            notified.await;
        }
    }

    /// Records a success: after enough successes at the current width, widen by one slot.
    pub fn on_success(&self) {
        let mut s = self.lock();
        s.successes += 1;
        if s.limit < s.ceiling && s.successes >= s.limit * s.hold {
            s.limit += 1;
            s.generation += 1;
            s.successes = 0;
            s.last_change_was_increase = true;
            drop(s);
            self.notify.notify_one();
        }
    }

    /// Records a 429 for a request sent under `permit`: narrows the pool, at most once per
    /// generation. A failed probe (the last change widened) steps back by one and waits longer
    /// before probing again; otherwise the pool shrinks by a quarter.
    pub fn on_throttled(&self, permit: &Permit) {
        let mut s = self.lock();
        if permit.generation != s.generation {
            return;
        }
        if s.last_change_was_increase {
            s.limit = (s.limit - 1).max(1);
            s.hold = (s.hold * 2).min(16);
        } else {
            s.limit = (s.limit * 3 / 4).max(1);
        }
        s.generation += 1;
        s.successes = 0;
        s.last_change_was_increase = false;
        tracing::debug!(
            limit = s.limit,
            "NetSuite concurrency pool narrowed after 429"
        );
    }

    /// Resizes the pool (e.g. from [`GovernanceLimits::effective_limit`]).
    pub fn resize(&self, limit: usize) {
        let mut s = self.lock();
        Self::resize_locked(&mut s, limit);
        drop(s);
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// How many times the pool was resized (a mark for [`Self::resize_unless_resized_since`]).
    pub(crate) fn resizes(&self) -> u64 {
        self.lock().resizes
    }

    /// Resizes the pool unless it was resized since `mark` ([`Self::resizes`]); true if resized.
    pub(crate) fn resize_unless_resized_since(&self, mark: u64, limit: usize) -> bool {
        let mut s = self.lock();
        if s.resizes != mark {
            return false;
        }
        Self::resize_locked(&mut s, limit);
        drop(s);
        self.notify.notify_waiters();
        self.notify.notify_one();
        true
    }

    fn resize_locked(s: &mut State, limit: usize) {
        let limit = limit.max(1);
        s.resizes += 1;
        s.limit = limit;
        s.ceiling = limit;
        s.generation += 1;
        s.successes = 0;
        s.hold = 1;
        s.last_change_was_increase = false;
    }

    /// The current width of the pool.
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// The width the pool widens back to.
    pub fn ceiling(&self) -> usize {
        self.lock().ceiling
    }

    /// Slots in use.
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn never_exceeds_the_limit() {
        let budget = ConcurrencyBudget::new(3);
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let b = Arc::clone(&budget);
            let peak = Arc::clone(&peak);
            tasks.push(tokio::spawn(async move {
                let _p = b.acquire().await;
                peak.fetch_max(b.in_flight(), std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(std::sync::atomic::Ordering::SeqCst), 3);
        assert_eq!(budget.in_flight(), 0);
    }

    #[tokio::test]
    async fn narrows_once_per_generation_and_widens_back_slowly() {
        let budget = ConcurrencyBudget::new(20);
        let a = budget.acquire().await;
        let b = budget.acquire().await;
        budget.on_throttled(&a);
        assert_eq!(budget.limit(), 15);
        // b was sent under the old width: no further narrowing.
        budget.on_throttled(&b);
        assert_eq!(budget.limit(), 15);
        drop((a, b));
        for _ in 0..14 {
            budget.on_success();
        }
        assert_eq!(budget.limit(), 15);
        budget.on_success();
        assert_eq!(budget.limit(), 16);
        // A failed probe steps back by one and waits twice as long before the next probe.
        let p = budget.acquire().await;
        budget.on_throttled(&p);
        assert_eq!(budget.limit(), 15);
        for _ in 0..29 {
            budget.on_success();
        }
        assert_eq!(budget.limit(), 15);
        budget.on_success();
        assert_eq!(budget.limit(), 16);
    }

    #[test]
    fn effective_limit_prefers_the_integration_specific_one() {
        let l: GovernanceLimits = serde_json::from_str(
            r#"{"accountConcurrencyLimit":25,"accountUnallocatedConcurrencyLimit":15,"integrationConcurrencyLimit":5,"integrationLimitType":"integrationSpecific"}"#,
        )
        .unwrap();
        assert_eq!(l.effective_limit(), Some(5));
        let l: GovernanceLimits = serde_json::from_str(
            r#"{"accountConcurrencyLimit":25,"accountUnallocatedConcurrencyLimit":15,"integrationLimitType":"accountLimit"}"#,
        )
        .unwrap();
        assert_eq!(l.effective_limit(), Some(15));
    }
}
