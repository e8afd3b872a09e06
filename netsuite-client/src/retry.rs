//! When to retry: a pure decision, a jittered backoff and a token-bucket retry budget.
//!
//! The decision looks only at what is known about the request (method and [`Idempotency`]), what
//! came back ([`Failure`]) and how many attempts were made. It does no I/O and reads no clock, so
//! it is tested as a table. The governance pool and the retry budget decide *when* a permitted
//! retry runs, not *whether* it is permitted.

use std::sync::Mutex;
use std::time::Duration;

use http::Method;
use rand::Rng;

use crate::error::ErrorCode;

/// How safe a request is to send twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads nothing changes (GET, SuiteQL POST): always safe.
    Read,
    /// A write whose repetition has the same effect (PUT `eid:` upsert, DELETE).
    Idempotent,
    /// An asynchronous request with `X-NetSuite-Idempotency-Key`: NetSuite refuses a repeat.
    AsyncWithKey,
    /// A plain create (POST), a transform or a PATCH that may append lines: never blindly repeated.
    NonIdempotent,
}

/// What went wrong with one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure<'a> {
    /// An HTTP error status, with the first `o:errorCode` if the body had one.
    Status {
        /// HTTP status.
        status: u16,
        /// First `o:errorCode` of the body.
        code: Option<&'a ErrorCode>,
    },
    /// The connection could not be made: nothing was sent.
    Connect,
    /// The request was (or may have been) sent, then the connection failed or timed out.
    AfterSend,
}

/// Why a retry is allowed; the retry budget charges differently for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryKind {
    /// NetSuite refused the request because too many were in flight (429): it did not run.
    Throttled,
    /// A transient server or network failure on a request that is safe to repeat.
    Transient,
    /// A 401: credentials are renewed and the request sent once more.
    Reauthenticate,
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try again after a backoff.
    Retry(RetryKind),
    /// Give up and return the error as it is.
    Fail,
    /// Give up: the request may have been applied and is not safe to repeat.
    OutcomeUnknown,
}

/// Attempt limits used by [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryLimits {
    /// Total attempts for transient failures (including the first).
    pub max_attempts: u32,
    /// Total attempts when NetSuite keeps answering 429 (the request never ran, so more are allowed).
    pub max_throttled_attempts: u32,
}

impl Default for RetryLimits {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            max_throttled_attempts: 12,
        }
    }
}

/// Decides whether attempt number `attempt` (1 for the first send) may be followed by another.
///
/// - 429 `CONCURRENCY_LIMIT_EXCEEDED` (or any 429): the request was refused, retry whatever it is.
/// - 401 on the first attempt: retry once with renewed credentials (the server did not run it).
/// - Connection not made: nothing was sent, retry whatever it is.
/// - 5xx or a failure after sending: retry reads, idempotent writes and keyed async requests;
///   a non-idempotent request ends as [`Decision::OutcomeUnknown`].
/// - Any other 4xx: fail (repeating it cannot help).
pub fn decide(
    method: &Method,
    idempotency: Idempotency,
    failure: Failure<'_>,
    attempt: u32,
    limits: RetryLimits,
) -> Decision {
    let safe = *method == Method::GET
        || *method == Method::HEAD
        || !matches!(idempotency, Idempotency::NonIdempotent);
    let may_have_run = |status: u16| status >= 500;
    match failure {
        Failure::Status { status: 429, .. } => {
            if attempt < limits.max_throttled_attempts {
                Decision::Retry(RetryKind::Throttled)
            } else {
                Decision::Fail
            }
        }
        Failure::Status { status: 401, .. } => {
            if attempt == 1 {
                Decision::Retry(RetryKind::Reauthenticate)
            } else {
                Decision::Fail
            }
        }
        Failure::Status { status, code } if may_have_run(status) => {
            let _ = code;
            if !safe {
                Decision::OutcomeUnknown
            } else if attempt < limits.max_attempts {
                Decision::Retry(RetryKind::Transient)
            } else {
                Decision::Fail
            }
        }
        Failure::Status { .. } => Decision::Fail,
        Failure::Connect => {
            if attempt < limits.max_attempts {
                Decision::Retry(RetryKind::Transient)
            } else {
                Decision::Fail
            }
        }
        Failure::AfterSend => {
            if !safe {
                Decision::OutcomeUnknown
            } else if attempt < limits.max_attempts {
                Decision::Retry(RetryKind::Transient)
            } else {
                Decision::Fail
            }
        }
    }
}

/// Exponential backoff with full jitter: a uniform wait in `[base/2, min(cap, base·2^(n-1))]`.
///
/// The floor of half the base keeps a burst of 429s from retrying at once in lock-step
/// (NetSuite's advice is "increasing delays, not in lock-step").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay scale for the first retry.
    pub base: Duration,
    /// Largest delay.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// The delay before retry number `retry` (1 for the first retry).
    pub fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let exp = retry.saturating_sub(1).min(20);
        let ceiling = self.base.saturating_mul(1u32 << exp).min(self.cap);
        let floor = (self.base / 2).min(ceiling);
        if ceiling <= floor {
            return ceiling;
        }
        let span = (ceiling - floor).as_micros() as u64;
        floor + Duration::from_micros(rng.random_range(0..=span))
    }
}

/// Token-bucket retry quota shared by every clone of a client (modelled on smithy-rs's
/// `TokenBucket`): each retry takes tokens, each success puts one back. When the bucket is empty
/// retries stop, so a failing account cannot be hammered and retries cannot crowd out fresh work.
#[derive(Debug)]
pub struct RetryBudget {
    tokens: Mutex<u32>,
    capacity: u32,
}

/// Tokens a retry costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryCosts {
    /// Cost of retrying a 429 (cheap: the request did not run and the pool narrows anyway).
    pub throttled: u32,
    /// Cost of retrying a 5xx or network failure.
    pub transient: u32,
}

impl Default for RetryCosts {
    fn default() -> Self {
        Self {
            throttled: 1,
            transient: 5,
        }
    }
}

impl RetryBudget {
    /// A full bucket of `capacity` tokens.
    pub fn new(capacity: u32) -> Self {
        Self {
            tokens: Mutex::new(capacity),
            capacity,
        }
    }

    /// Takes `cost` tokens if there are enough; false means "do not retry".
    pub fn try_acquire(&self, cost: u32) -> bool {
        let mut t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if *t >= cost {
            *t -= cost;
            true
        } else {
            false
        }
    }

    /// Puts one token back after a success.
    pub fn on_success(&self) {
        let mut t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        *t = (*t + 1).min(self.capacity);
    }

    /// Tokens left.
    pub fn available(&self) -> u32 {
        *self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;
    use Idempotency::*;

    fn status(status: u16) -> Failure<'static> {
        Failure::Status { status, code: None }
    }

    #[test]
    fn decision_table() {
        let conc = ErrorCode::ConcurrencyLimitExceeded;
        let throttled = Failure::Status {
            status: 429,
            code: Some(&conc),
        };
        let l = RetryLimits::default();
        let post = Method::POST;
        let get = Method::GET;
        let put = Method::PUT;
        let patch = Method::PATCH;
        let delete = Method::DELETE;
        #[rustfmt::skip]
        let table: &[(&Method, Idempotency, Failure<'_>, u32, Decision)] = &[
            // reads retry on 5xx and network errors, until the attempt limit
            (&get, Read, status(500), 1, Retry(RetryKind::Transient)),
            (&get, Read, status(503), 3, Retry(RetryKind::Transient)),
            (&get, Read, status(503), 4, Fail),
            (&get, Read, Failure::AfterSend, 1, Retry(RetryKind::Transient)),
            (&get, NonIdempotent, status(502), 1, Retry(RetryKind::Transient)),
            // SuiteQL is a POST that reads
            (&post, Read, status(500), 1, Retry(RetryKind::Transient)),
            // eid: upserts and deletes are idempotent
            (&put, Idempotent, status(500), 1, Retry(RetryKind::Transient)),
            (&put, Idempotent, Failure::AfterSend, 2, Retry(RetryKind::Transient)),
            (&delete, Idempotent, status(504), 1, Retry(RetryKind::Transient)),
            // async with an idempotency key
            (&post, AsyncWithKey, status(500), 1, Retry(RetryKind::Transient)),
            (&post, AsyncWithKey, Failure::AfterSend, 1, Retry(RetryKind::Transient)),
            // plain POST, transform, PATCH: never blindly retried once sent
            (&post, NonIdempotent, status(500), 1, OutcomeUnknown),
            (&post, NonIdempotent, status(503), 1, OutcomeUnknown),
            (&post, NonIdempotent, Failure::AfterSend, 1, OutcomeUnknown),
            (&patch, NonIdempotent, status(500), 1, OutcomeUnknown),
            // ... but nothing was sent when the connection failed
            (&post, NonIdempotent, Failure::Connect, 1, Retry(RetryKind::Transient)),
            (&post, NonIdempotent, Failure::Connect, 4, Fail),
            // 429 is always safe: the request was refused
            (&post, NonIdempotent, throttled, 1, Retry(RetryKind::Throttled)),
            (&post, NonIdempotent, status(429), 11, Retry(RetryKind::Throttled)),
            (&post, NonIdempotent, throttled, 12, Fail),
            (&get, Read, throttled, 5, Retry(RetryKind::Throttled)),
            // 401: once more with renewed credentials
            (&post, NonIdempotent, status(401), 1, Retry(RetryKind::Reauthenticate)),
            (&get, Read, status(401), 2, Fail),
            // other client errors never help
            (&get, Read, status(400), 1, Fail),
            (&get, Read, status(404), 1, Fail),
            (&post, NonIdempotent, status(400), 1, Fail),
            (&put, Idempotent, status(403), 1, Fail),
        ];
        for (i, (m, idem, f, attempt, want)) in table.iter().enumerate() {
            assert_eq!(
                decide(m, *idem, *f, *attempt, l),
                *want,
                "row {i}: {m} {idem:?} {f:?} attempt {attempt}"
            );
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_stays_capped() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        let mut rng = rand::rng();
        for retry in 1..30 {
            let d = b.delay(retry, &mut rng);
            assert!(d >= Duration::from_millis(50), "{d:?}");
            assert!(d <= Duration::from_secs(1), "{d:?}");
        }
        let first: Vec<_> = (0..50).map(|_| b.delay(1, &mut rng)).collect();
        assert!(first.iter().all(|d| *d <= Duration::from_millis(100)));
        assert!(
            first.iter().any(|d| *d != first[0]),
            "delays must be jittered"
        );
    }

    #[test]
    fn retry_budget_drains_and_refills() {
        let b = RetryBudget::new(10);
        assert!(b.try_acquire(5));
        assert!(b.try_acquire(5));
        assert!(!b.try_acquire(1));
        b.on_success();
        assert!(b.try_acquire(1));
        for _ in 0..100 {
            b.on_success();
        }
        assert_eq!(b.available(), 10);
    }
}
