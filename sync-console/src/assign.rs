//! Who works an exception: assignments, each kept with who made it and when.
//!
//! The store's audit trail has no entry a console can append for an assignment, so
//! assignments are kept by the console process: they last while it runs and are not shared
//! between instances. The current assignee is the person of the latest assignment.
//!
//! ```
//! use sync_console::assign::Assignments;
//!
//! let assignments = Assignments::default();
//! let at = jiff::Timestamp::UNIX_EPOCH;
//! assignments.assign("EX-1", "ana", "lead", at);
//! assignments.assign("EX-1", "bo", "lead", at);
//! assert_eq!(assignments.current("EX-1").unwrap().person, "bo");
//! assert_eq!(assignments.history("EX-1").len(), 2);
//! assert!(assignments.current("EX-2").is_none());
//! ```

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::Timestamp;

/// One assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Who works the exception from now on.
    pub person: String,
    /// Who assigned it.
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// The assignments of every exception.
#[derive(Debug, Default)]
pub struct Assignments {
    by_key: Mutex<HashMap<String, Vec<Assignment>>>,
}

impl Assignments {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Assignment>>> {
        self.by_key.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Assigns exception `key` to `person`, by `by`.
    pub fn assign(&self, key: &str, person: &str, by: &str, at: Timestamp) {
        self.map()
            .entry(key.to_owned())
            .or_default()
            .push(Assignment {
                person: person.to_owned(),
                by: by.to_owned(),
                at,
            });
    }

    /// The latest assignment of `key`.
    pub fn current(&self, key: &str) -> Option<Assignment> {
        self.map().get(key).and_then(|h| h.last().cloned())
    }

    /// Every assignment of `key`, oldest first.
    pub fn history(&self, key: &str) -> Vec<Assignment> {
        self.map().get(key).cloned().unwrap_or_default()
    }
}
