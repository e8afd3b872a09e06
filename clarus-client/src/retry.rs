//! When to retry: a pure decision over what is known about the request, what came back and how
//! many attempts were made.
//!
//! Clarus documents no rate limits, no `429` and no `Retry-After` header, and no idempotency
//! key. The decision therefore follows HTTP itself (RFC 9110 and RFC 6585) and the one thing the
//! documentation does say about creates: look the record up before sending it again.
//!
//! - Reads (GraphQL queries) and idempotent writes (`DELETE`, holding or releasing stock) are
//!   tried again on `429`, `408`, `5xx` and transport failures, with capped exponential backoff.
//!   A `Retry-After` header (seconds or an HTTP date) is honoured as sent; one asking for more
//!   than [`RetryPolicy::max_retry_after`] ends the call instead, so the caller can schedule it.
//! - Creates, actions and updates that may append lines are never repeated once they may have
//!   reached the server (`5xx`, a timeout, a connection lost after sending): the error is
//!   returned as it is, classified ([`crate::Error::is_transient`]), and the caller looks the
//!   record up first. They are repeated only when the server certainly did not run them: the
//!   connection was never made, or the answer was `429` (the request was refused).
//!
//! [`decide`] does no I/O and reads no clock, so it is tested as a table.
//!
//! ```
//! use std::time::Duration;
//! use clarus_client::retry::{Decision, Failure, RequestKind, RetryPolicy, decide};
//!
//! let policy = RetryPolicy::default();
//! let throttled = Failure::Status { status: 429, retry_after: Some(Duration::from_secs(2)) };
//! assert_eq!(
//!     decide(RequestKind::Read, throttled, 1, &policy, 0),
//!     Decision::RetryAfter(Duration::from_secs(2))
//! );
//! let unavailable = Failure::Status { status: 503, retry_after: None };
//! assert_eq!(decide(RequestKind::NonIdempotent, unavailable, 1, &policy, 0), Decision::GiveUp);
//! ```

use std::time::Duration;

/// How safe a request is to send twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Changes nothing: GraphQL queries (and REST `GET`, should one be used).
    Read,
    /// A write whose repetition has the same effect: `DELETE`, `PUT`, holding or releasing stock.
    Idempotent,
    /// Creates (`POST`), actions and `PATCH` updates (a change array may append lines). Clarus
    /// has no idempotency key, so these are never repeated once they may have run.
    NonIdempotent,
}

impl RequestKind {
    fn is_repeatable(self) -> bool {
        !matches!(self, Self::NonIdempotent)
    }
}

/// What went wrong with one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// An HTTP error status, with the `Retry-After` the answer carried (already turned into a
    /// wait from now), if any.
    Status {
        /// HTTP status.
        status: u16,
        /// The wait the server asked for.
        retry_after: Option<Duration>,
    },
    /// The connection could not be made: nothing was sent.
    Connect,
    /// The request was (or may have been) sent, then the connection failed or timed out.
    AfterSend,
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send the request again after this wait.
    RetryAfter(Duration),
    /// Return the error as it is.
    GiveUp,
}

/// Attempt limit and backoff used by [`decide`]; set on the client with
/// [`crate::ClarusConfigBuilder::retry_policy`] or [`crate::ClarusConfigBuilder::max_attempts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, including the first (1 disables retrying).
    pub max_attempts: u32,
    /// Wait before the first retry when the server asks for none; doubled for each later retry.
    pub base_delay: Duration,
    /// Longest wait between attempts when the server asks for none.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured inside one call; a longer one ends the call.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts, 200 ms doubling up to 10 s, `Retry-After` honoured up to 30 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The backoff before retry number `retry` (1 for the first) with `jitter` per mille
    /// (0..=1000) taken off the upper half: a wait in `[ceiling/2, ceiling]` where
    /// `ceiling = min(max_delay, base_delay · 2^(retry-1))`, so clients that failed together do
    /// not retry in lock-step.
    pub fn backoff(&self, retry: u32, jitter: u16) -> Duration {
        let exp = retry.saturating_sub(1).min(20);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let spread = ceiling / 2;
        let jitter = u32::from(jitter.min(1000));
        ceiling - spread * jitter / 1000
    }
}

/// Whether an answer with this status is worth sending again unchanged: `408`, `429` and `5xx`.
pub fn is_transient_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..=599).contains(&status)
}

/// Decides whether attempt number `attempt` (1 for the first send) may be followed by another,
/// and after how long. `jitter` (0..=1000, a random draw the caller supplies) spreads the
/// backoff; see [`RetryPolicy::backoff`].
///
/// - No attempts left: give up.
/// - `429`: the request was refused, so retry whatever it is.
/// - Connection never made: nothing was sent, so retry whatever it is.
/// - `408`, `5xx`, or a failure after sending: retry reads and idempotent writes; give up on
///   anything else (it may have been applied).
/// - Any other status (`401` after re-authenticating, `403`, `404`, `422`, …): give up.
/// - A `Retry-After` is waited exactly, unless it is longer than
///   [`RetryPolicy::max_retry_after`], which gives up.
pub fn decide(
    kind: RequestKind,
    failure: Failure,
    attempt: u32,
    policy: &RetryPolicy,
    jitter: u16,
) -> Decision {
    if attempt >= policy.max_attempts {
        return Decision::GiveUp;
    }
    let (permitted, retry_after) = match failure {
        Failure::Status {
            status: 429,
            retry_after,
        } => (true, retry_after),
        Failure::Status {
            status,
            retry_after,
        } if is_transient_status(status) => (kind.is_repeatable(), retry_after),
        Failure::Status { .. } => (false, None),
        Failure::Connect => (true, None),
        Failure::AfterSend => (kind.is_repeatable(), None),
    };
    if !permitted {
        return Decision::GiveUp;
    }
    match retry_after {
        Some(wait) if wait > policy.max_retry_after => Decision::GiveUp,
        Some(wait) => Decision::RetryAfter(wait),
        None => Decision::RetryAfter(policy.backoff(attempt, jitter)),
    }
}

/// Reads a `Retry-After` value: delay seconds, or an HTTP date (RFC 9110 §10.2.3) taken
/// relative to `now`. A date in the past is no wait; anything unreadable is `None`.
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = at.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;
    use RequestKind::*;

    fn status(status: u16) -> Failure {
        Failure::Status {
            status,
            retry_after: None,
        }
    }

    fn status_after(status: u16, secs: u64) -> Failure {
        Failure::Status {
            status,
            retry_after: Some(Duration::from_secs(secs)),
        }
    }

    const fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn decision_table() {
        let p = RetryPolicy::default();
        #[rustfmt::skip]
        let table: &[(RequestKind, Failure, u32, Decision)] = &[
            // reads: 429, 408, 5xx and transport failures, with doubling backoff
            (Read, status(429), 1, RetryAfter(ms(200))),
            (Read, status(500), 1, RetryAfter(ms(200))),
            (Read, status(502), 2, RetryAfter(ms(400))),
            (Read, status(503), 3, RetryAfter(ms(800))),
            (Read, status(504), 1, RetryAfter(ms(200))),
            (Read, status(408), 1, RetryAfter(ms(200))),
            (Read, Failure::AfterSend, 1, RetryAfter(ms(200))),
            (Read, Failure::Connect, 2, RetryAfter(ms(400))),
            // ... until the attempts run out
            (Read, status(503), 4, GiveUp),
            (Read, status(429), 4, GiveUp),
            (Read, Failure::Connect, 4, GiveUp),
            // Retry-After is honoured as sent, for 429 and 503 alike
            (Read, status_after(429, 3), 1, RetryAfter(Duration::from_secs(3))),
            (Read, status_after(503, 0), 2, RetryAfter(Duration::ZERO)),
            (Idempotent, status_after(503, 5), 1, RetryAfter(Duration::from_secs(5))),
            // ... unless it asks for more than one call should wait
            (Read, status_after(429, 31), 1, GiveUp),
            (Read, status_after(429, 30), 1, RetryAfter(Duration::from_secs(30))),
            // idempotent writes are treated as reads
            (Idempotent, status(500), 1, RetryAfter(ms(200))),
            (Idempotent, Failure::AfterSend, 3, RetryAfter(ms(800))),
            (Idempotent, status(429), 1, RetryAfter(ms(200))),
            // creates are never repeated once they may have run
            (NonIdempotent, status(500), 1, GiveUp),
            (NonIdempotent, status(503), 1, GiveUp),
            (NonIdempotent, status_after(503, 1), 1, GiveUp),
            (NonIdempotent, status(504), 1, GiveUp),
            (NonIdempotent, status(408), 1, GiveUp),
            (NonIdempotent, Failure::AfterSend, 1, GiveUp),
            // ... but a refused (429) or never-sent request did not run
            (NonIdempotent, status(429), 1, RetryAfter(ms(200))),
            (NonIdempotent, status_after(429, 2), 1, RetryAfter(Duration::from_secs(2))),
            (NonIdempotent, Failure::Connect, 1, RetryAfter(ms(200))),
            (NonIdempotent, Failure::Connect, 4, GiveUp),
            // answers that repeating cannot change
            (Read, status(401), 1, GiveUp),
            (Read, status(403), 1, GiveUp),
            (Read, status(404), 1, GiveUp),
            (Read, status(422), 1, GiveUp),
            (Idempotent, status(404), 1, GiveUp),
            (NonIdempotent, status(422), 1, GiveUp),
            (Read, status(400), 1, GiveUp),
        ];
        for (i, (kind, failure, attempt, want)) in table.iter().enumerate() {
            assert_eq!(
                decide(*kind, *failure, *attempt, &p, 0),
                *want,
                "row {i}: {kind:?} {failure:?} attempt {attempt}"
            );
        }
    }

    #[test]
    fn max_attempts_is_the_total_number_of_sends() {
        let once = RetryPolicy::never();
        assert_eq!(decide(Read, status(503), 1, &once, 0), GiveUp);
        let two = RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        };
        assert!(matches!(
            decide(Read, status(503), 1, &two, 0),
            RetryAfter(_)
        ));
        assert_eq!(decide(Read, status(503), 2, &two, 0), GiveUp);
    }

    #[test]
    fn backoff_doubles_is_capped_and_jitter_stays_in_the_upper_half() {
        let p = RetryPolicy {
            base_delay: ms(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        assert_eq!(p.backoff(1, 0), ms(100));
        assert_eq!(p.backoff(2, 0), ms(200));
        assert_eq!(p.backoff(4, 0), ms(800));
        assert_eq!(p.backoff(5, 0), Duration::from_secs(1));
        assert_eq!(p.backoff(u32::MAX, 0), Duration::from_secs(1));
        assert_eq!(p.backoff(1, 1000), ms(50));
        assert_eq!(p.backoff(2, 500), ms(150));
        assert_eq!(p.backoff(1, u16::MAX), ms(50), "jitter is clamped");
        assert_eq!(
            decide(Read, status(500), 2, &p, 500),
            RetryAfter(ms(150)),
            "the jitter reaches the decision"
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now: jiff::Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 01 Mar 2026 10:00:07 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sun, 01 Mar 2026 09:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past is no wait"
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn transient_statuses() {
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert!(is_transient_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 409, 422, 600] {
            assert!(!is_transient_status(s), "{s}");
        }
    }
}
