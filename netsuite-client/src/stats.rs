//! Counters of what the client absorbed on the caller's behalf: 429s, retries, attempts.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a client's counters ([`crate::NetSuiteClient::stats`]), shared by every clone
/// of the client and counted from when it was built.
///
/// ```
/// let a = netsuite_client::ClientStats { attempts: 10, throttled: 3, throttled_absorbed: 3, retries: 4, ..Default::default() };
/// let b = netsuite_client::ClientStats { attempts: 4, throttled: 1, throttled_absorbed: 1, retries: 1, ..Default::default() };
/// // The requests made between two snapshots:
/// assert_eq!(a.since(&b).throttled_absorbed, 2);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Requests sent, every attempt counted (retries and the `governanceLimits` read included).
    pub attempts: u64,
    /// 429 answers received (NetSuite refused the request: too many in flight).
    pub throttled: u64,
    /// 429 answers that were retried, so the caller never saw them.
    pub throttled_absorbed: u64,
    /// Retries made, for any reason: 429s, transient failures (5xx, network) of requests safe to
    /// repeat, and the one re-send after a 401 with renewed credentials.
    pub retries: u64,
    /// Retries that were allowed but not made because the retry budget was empty; each one
    /// returned its error to the caller.
    pub retries_refused: u64,
}

impl ClientStats {
    /// What was counted after `earlier` (a snapshot of the same client taken before).
    pub fn since(&self, earlier: &ClientStats) -> ClientStats {
        ClientStats {
            attempts: self.attempts.saturating_sub(earlier.attempts),
            throttled: self.throttled.saturating_sub(earlier.throttled),
            throttled_absorbed: self
                .throttled_absorbed
                .saturating_sub(earlier.throttled_absorbed),
            retries: self.retries.saturating_sub(earlier.retries),
            retries_refused: self.retries_refused.saturating_sub(earlier.retries_refused),
        }
    }
}

/// The live counters behind [`ClientStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub attempts: AtomicU64,
    pub throttled: AtomicU64,
    pub throttled_absorbed: AtomicU64,
    pub retries: AtomicU64,
    pub retries_refused: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> ClientStats {
        ClientStats {
            attempts: self.attempts.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            throttled_absorbed: self.throttled_absorbed.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            retries_refused: self.retries_refused.load(Ordering::Relaxed),
        }
    }
}
