//! How long to wait before trying again: the one backoff of the shell. The outbox and the
//! adjustment batcher wait [`Backoff::jittered`] between attempts of an action or batch, the
//! alerter [`Backoff::delay`] between deliveries of an alert, and the service between restarts
//! of a part that crashed.

use std::time::Duration;

/// Exponential backoff: `base`, doubled per attempt, capped at `max`.
///
/// ```
/// use std::time::Duration;
/// use sync_engine::backoff::Backoff;
///
/// let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
/// assert_eq!(backoff.delay(0), Duration::from_secs(1));
/// assert_eq!(backoff.delay(3), Duration::from_secs(8));
/// assert_eq!(backoff.delay(30), Duration::from_secs(60));
/// let jittered = backoff.jittered(3, "CLR-DESP-acme-9-1");
/// assert!(jittered >= Duration::from_secs(4) && jittered <= Duration::from_secs(8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Backoff {
    /// A backoff from `base` doubling up to `max`.
    pub const fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }

    /// The delay after `retries` earlier retries: `base × 2^retries`, capped at `max`.
    pub fn delay(&self, retries: u32) -> Duration {
        self.base
            .saturating_mul(1u32 << retries.min(20))
            .min(self.max)
    }

    /// [`delay`](Self::delay) spread to between half and all of it, by a hash of `key` and
    /// `retries`, so that things retried together (documents failing in the same outage) do not
    /// come back at the same moment. The same key and count always give the same delay.
    pub fn jittered(&self, retries: u32, key: &str) -> Duration {
        let spread = key
            .bytes()
            .fold(retries, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
        // 50% to 100% of the exponential delay.
        let fraction = 0.5 + f64::from(spread % 1000) / 2000.0;
        self.delay(retries).mul_f64(fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_jitter_stays_within_half() {
        let b = Backoff::new(Duration::from_millis(200), Duration::from_secs(300));
        let delays: Vec<u64> = (0..4).map(|n| b.delay(n).as_millis() as u64).collect();
        assert_eq!(delays, [200, 400, 800, 1600]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(300));
        for key in ["a", "b", "SO-1", "CLR-DESP-acme-9-1"] {
            for n in 0..12 {
                let j = b.jittered(n, key);
                assert!(j <= b.delay(n) && j >= b.delay(n) / 2, "{key} {n}: {j:?}");
                assert_eq!(j, b.jittered(n, key));
            }
        }
        assert_ne!(b.jittered(5, "a"), b.jittered(5, "b"));
    }
}
