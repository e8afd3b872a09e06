//! The engine's business clock: where every "now" the engine records or compares comes from.
//!
//! Every timestamp the engine writes or decides by (when a delivery was received, when an event
//! was planned, when an outbox action or a batch is due again, when a document became stuck, when
//! a delivery stalled, when an exception was raised or resolved, the go-live window) is read from
//! a [`Clock`], never from the system clock directly. Production runs on [`SystemClock`]; tests
//! and simulations use a [`ManualClock`] and move time themselves, so a retry, a stall or a stuck
//! document that would take minutes of real time happens at once.
//!
//! The clock is injected once and shared ([`SharedClock`]):
//!
//! - the [`Engine`](crate::engine::Engine) carries it
//!   ([`Engine::with_clock`](crate::engine::Engine::with_clock), [`SystemClock`] by default), and
//!   everything that works through an engine reads it there: the NetSuite poller, the Clarus
//!   sweeps, the delivery processor and every scheduled job's run (stuck detection, alerts,
//!   reconciliation, the schema check);
//! - the parts that hold no engine take one at construction with a `with_clock` builder,
//!   [`SystemClock`] by default: [`Outbox`](crate::outbox::Outbox),
//!   [`Batcher`](crate::batch::Batcher), the webhook intake
//!   ([`router_with_clock`](crate::intake::router_with_clock)), the Clarus decoder, despatch
//!   reader and executor, and the [`Health`](crate::health::Health) registry
//!   ([`Health::on_clock`](crate::health::Health::on_clock));
//! - [`assemble_with_clock`](crate::assemble::assemble_with_clock) hands the one clock to all of
//!   them.
//!
//! **Business time versus waiting.** The clock answers "what time is it" for the ledger. How long
//! a task *waits* is a different thing and stays on tokio's timers and monotonic
//! [`std::time::Instant`]: the outbox's idle poll, the service's job intervals and restarts, the
//! intake's request and header timeouts, the per-minute refusal counts, the reconciliation's
//! start-up delay and quiet wait, the schema check's recheck gap. Those are about not spinning and
//! not hanging, not about what the store records; moving a [`ManualClock`] does not wake them.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use jiff::{SignedDuration, Timestamp};
//! use sync_engine::clock::{Clock, ManualClock, SharedClock};
//!
//! let start: Timestamp = "2026-03-01T09:00:00Z".parse().unwrap();
//! let clock = ManualClock::new(start);
//! let shared: SharedClock = clock.shared(); // hand this to the engine's parts
//!
//! clock.advance(Duration::from_secs(90));
//! clock.advance(SignedDuration::from_mins(1));
//! assert_eq!(shared.now(), "2026-03-01T09:02:30Z".parse::<Timestamp>().unwrap());
//!
//! clock.set(start);
//! assert_eq!(shared.now(), start);
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use jiff::{SignedDuration, Timestamp};

/// A source of the current time.
///
/// ```
/// use sync_engine::clock::{Clock, SystemClock};
///
/// let before = jiff::Timestamp::now();
/// assert!(SystemClock.now() >= before);
/// ```
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// A clock shared by the parts of one engine.
pub type SharedClock = Arc<dyn Clock>;

/// The system's clock ([`Timestamp::now`]): what production runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// The system clock as a [`SharedClock`], the default of every part that takes a clock.
///
/// ```
/// let clock = sync_engine::clock::system();
/// assert!(clock.now() > jiff::Timestamp::UNIX_EPOCH);
/// ```
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that only moves when told to: for tests and simulations.
///
/// Cheap to clone; every clone (and every [`SharedClock`] made by [`ManualClock::shared`]) reads
/// and moves the same time.
///
/// ```
/// use jiff::{SignedDuration, Timestamp};
/// use sync_engine::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new(Timestamp::UNIX_EPOCH);
/// let copy = clock.clone();
/// copy.advance(SignedDuration::from_hours(1));
/// assert_eq!(clock.now(), Timestamp::UNIX_EPOCH + SignedDuration::from_hours(1));
/// ```
#[derive(Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Sets the time (forward or back).
    pub fn set(&self, at: Timestamp) {
        *self.lock() = at;
    }

    /// Moves the time by `by`: a [`SignedDuration`] (negative moves it back) or a
    /// [`std::time::Duration`]. Returns the new time.
    ///
    /// # Panics
    ///
    /// When the new time is outside the range of [`Timestamp`], or a [`std::time::Duration`]
    /// does not fit a [`SignedDuration`].
    pub fn advance<D>(&self, by: D) -> Timestamp
    where
        D: TryInto<SignedDuration>,
        D::Error: fmt::Debug,
    {
        let by = by
            .try_into()
            .expect("ManualClock::advance: duration out of range");
        let mut now = self.lock();
        *now = now
            .checked_add(by)
            .expect("ManualClock::advance: time out of range");
        *now
    }

    /// This clock as a [`SharedClock`], to give to the engine's parts; it moves with this one.
    pub fn shared(&self) -> SharedClock {
        Arc::new(self.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Timestamp> {
        // A timestamp cannot be left half-written: a poisoned lock still holds a valid time.
        self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.lock()
    }
}
