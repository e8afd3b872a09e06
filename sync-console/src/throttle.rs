//! The sign-in throttle: failed sign-ins counted per user name and per address in a window;
//! past the limit, attempts are refused without checking the password until the window ends.
//!
//! ```
//! use jiff::{SignedDuration, Timestamp};
//! use sync_console::throttle::Throttle;
//!
//! let throttle = Throttle::new(2, 10, SignedDuration::from_mins(15));
//! let now = Timestamp::UNIX_EPOCH;
//! let addr = "192.0.2.1".parse().unwrap();
//! assert!(throttle.allows("ops", addr, now));
//! throttle.failed("ops", addr, now);
//! throttle.failed("ops", addr, now);
//! assert!(!throttle.allows("ops", addr, now));
//! assert!(throttle.allows("ops", addr, now + SignedDuration::from_mins(16)));
//! ```

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// Most names and addresses counted at once; past it, expired counts are dropped.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    User(String),
    Address(IpAddr),
}

/// Counts failed sign-ins.
#[derive(Debug)]
pub struct Throttle {
    per_user: u32,
    per_address: u32,
    window: SignedDuration,
    counts: Mutex<HashMap<Subject, (Timestamp, u32)>>,
}

impl Throttle {
    /// At most `per_user` failures per name and `per_address` per address in `window`.
    pub fn new(per_user: u32, per_address: u32, window: SignedDuration) -> Throttle {
        Throttle {
            per_user,
            per_address,
            window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<Subject, (Timestamp, u32)>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn count(&self, subject: &Subject, now: Timestamp) -> u32 {
        match self.counts().get(subject) {
            Some((start, n)) if now.duration_since(*start) < self.window => *n,
            _ => 0,
        }
    }

    /// Whether a sign-in as `user` from `address` may be checked at `now`.
    pub fn allows(&self, user: &str, address: IpAddr, now: Timestamp) -> bool {
        self.count(&Subject::User(user.to_owned()), now) < self.per_user
            && self.count(&Subject::Address(address), now) < self.per_address
    }

    /// Counts a failed sign-in.
    pub fn failed(&self, user: &str, address: IpAddr, now: Timestamp) {
        let mut counts = self.counts();
        if counts.len() >= MAX_TRACKED {
            let window = self.window;
            counts.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        for subject in [Subject::User(user.to_owned()), Subject::Address(address)] {
            let entry = counts.entry(subject).or_insert((now, 0));
            if now.duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 = entry.1.saturating_add(1);
        }
    }

    /// Forgets the failures of `user` (after a successful sign-in).
    pub fn succeeded(&self, user: &str) {
        self.counts().remove(&Subject::User(user.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_address_limit_covers_every_name() {
        let t = Throttle::new(100, 3, SignedDuration::from_mins(1));
        let addr: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let now = Timestamp::UNIX_EPOCH;
        for name in ["a", "b", "c"] {
            t.failed(name, addr, now);
        }
        assert!(!t.allows("d", addr, now));
        assert!(t.allows("d", other, now));
        t.succeeded("a");
        assert!(!t.allows("a", addr, now));
    }
}
