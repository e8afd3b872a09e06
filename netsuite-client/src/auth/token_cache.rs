//! A cached OAuth 2.0 access token, renewed single-flight before it expires.
//!
//! Readers take a short `std` lock to look at the cached token. When it is missing or due for
//! renewal, callers queue on one `tokio` mutex; the first one fetches, the others find the fresh
//! token when their turn comes. A failed fetch is handed to everyone who queued behind it, so a
//! broken token endpoint sees one request per wave of callers, not one per caller.

use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use super::secret::Secret;
use super::{AuthError, SharedClock};

/// How long before expiry a token is renewed (capped at half its lifetime for short tokens).
pub(crate) const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// Longer `expires_in` values are treated as this (and cannot overflow the clock arithmetic).
const MAX_CACHED_LIFETIME: Duration = super::http::MAX_TOKEN_LIFETIME;

/// A token as the endpoint issued it.
pub(crate) struct FetchedToken {
    pub(crate) access_token: Secret,
    pub(crate) lifetime: Duration,
}

struct Cached {
    token: Secret,
    renew_at: SystemTime,
}

#[derive(Default)]
struct Slot {
    cached: Option<Cached>,
    /// Number of completed fetches; tells a waiter whether someone fetched while it queued.
    fetches: u64,
    last_error: Option<AuthError>,
}

pub(crate) struct TokenCache {
    slot: Mutex<Slot>,
    renewal: tokio::sync::Mutex<()>,
    clock: SharedClock,
}

impl TokenCache {
    pub(crate) fn new(clock: SharedClock) -> Self {
        TokenCache {
            slot: Mutex::new(Slot::default()),
            renewal: tokio::sync::Mutex::new(()),
            clock,
        }
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        // A panic while holding this short lock cannot leave the slot half-written.
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fresh(&self, slot: &Slot) -> Option<Secret> {
        let now = self.clock.now();
        slot.cached
            .as_ref()
            .filter(|c| now < c.renew_at)
            .map(|c| c.token.clone())
    }

    /// Returns a fresh access token, calling `fetch` (at most once across all concurrent
    /// callers) when the cached one is missing or due for renewal.
    pub(crate) async fn token<F, Fut>(&self, fetch: F) -> Result<Secret, AuthError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<FetchedToken, AuthError>>,
    {
        let fetches_seen = {
            let slot = self.slot();
            if let Some(token) = self.fresh(&slot) {
                return Ok(token);
            }
            slot.fetches
        };

        let _renewing = self.renewal.lock().await;
        {
            let slot = self.slot();
            if let Some(token) = self.fresh(&slot) {
                return Ok(token);
            }
            if slot.fetches != fetches_seen
                && let Some(error) = &slot.last_error
            {
                return Err(error.clone());
            }
        }

        let fetched_at = self.clock.now();
        let result = fetch().await;
        let mut slot = self.slot();
        slot.fetches += 1;
        match result {
            Ok(fetched) => {
                Self::put(&mut slot, fetched_at, &fetched);
                tracing::debug!(
                    lifetime_secs = fetched.lifetime.as_secs(),
                    "access token renewed"
                );
                Ok(fetched.access_token)
            }
            Err(error) => {
                slot.last_error = Some(error.clone());
                Err(error)
            }
        }
    }

    fn put(slot: &mut Slot, fetched_at: SystemTime, fetched: &FetchedToken) {
        let lifetime = fetched.lifetime.min(MAX_CACHED_LIFETIME);
        let margin = RENEW_BEFORE_EXPIRY.min(lifetime / 2);
        // Checked: a clock the sum does not fit (a test clock near the end of time) makes the
        // token due at once (renewed on next use), never a panic. A zero lifetime does the same.
        let renew_at = fetched_at
            .checked_add(lifetime.saturating_sub(margin))
            .unwrap_or(fetched_at);
        slot.cached = Some(Cached {
            token: fetched.access_token.clone(),
            renew_at,
        });
        slot.last_error = None;
    }

    /// Caches a token obtained outside [`TokenCache::token`] (e.g. by an authorization-code
    /// exchange), as issued now.
    #[cfg(feature = "oauth2-authorization-code")]
    pub(crate) fn store(&self, fetched: &FetchedToken) {
        let now = self.clock.now();
        Self::put(&mut self.slot(), now, fetched);
    }

    /// Drops the cached token so the next call fetches a new one.
    pub(crate) fn invalidate(&self) {
        self.slot().cached = None;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::auth::Clock;

    struct FixedClock(SystemTime);

    impl Clock for FixedClock {
        fn now(&self) -> SystemTime {
            self.0
        }
    }

    fn fetched(lifetime: Duration) -> FetchedToken {
        FetchedToken {
            access_token: Secret::new("tok".to_owned()),
            lifetime,
        }
    }

    /// Caches `fetched` as issued at the clock's time (what `TokenCache::store` does; tested
    /// through `put` so the tests build with either OAuth 2.0 method).
    fn store(cache: &TokenCache, fetched: &FetchedToken) {
        let now = cache.clock.now();
        TokenCache::put(&mut cache.slot(), now, fetched);
    }

    #[test]
    fn absurd_lifetimes_never_panic() {
        let now = SystemTime::now();
        let cache = TokenCache::new(Arc::new(FixedClock(now)));
        store(&cache, &fetched(Duration::MAX));
        let renew_at = cache.slot().cached.as_ref().unwrap().renew_at;
        assert!(renew_at <= now + MAX_CACHED_LIFETIME);
        assert!(renew_at > now);
        // A zero lifetime is due at once: renewed on next use.
        store(&cache, &fetched(Duration::ZERO));
        assert!(cache.fresh(&cache.slot()).is_none());
    }

    #[test]
    fn a_clock_near_its_end_makes_the_token_due_instead_of_panicking() {
        // The latest time this platform's clock can hold (give or take), if it can be found.
        let mut late = SystemTime::UNIX_EPOCH;
        let mut step = Duration::from_secs(1 << 62);
        while step >= Duration::from_secs(1) {
            if let Some(t) = late.checked_add(step) {
                late = t;
            }
            step /= 2;
        }
        let cache = TokenCache::new(Arc::new(FixedClock(late)));
        store(&cache, &fetched(Duration::from_secs(3600)));
        assert_eq!(cache.slot().cached.as_ref().unwrap().renew_at, late);
        assert!(cache.fresh(&cache.slot()).is_none());
    }
}
