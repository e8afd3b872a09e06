//! Who works an exception: assignments, kept in the exception's audit trail in the store.
//!
//! An assignment is an `assigned` entry ([`AuditEntry::ASSIGNED`]) whose note names the person
//! and who assigned them, `to <person> by <who>`, so it survives a restart and every instance on
//! the store sees it. The current assignee is the person of the exception's latest `assigned`
//! entry. Console user names are one word (letters, digits, `.`, `_`, `@`, `-`), so the note
//! reads back unambiguously.
//!
//! ```
//! use sync_console::assign::{Assignment, current};
//! use sync_engine::store::AuditEntry;
//!
//! let at = jiff::Timestamp::UNIX_EPOCH;
//! let note = Assignment::note("bo", "lead");
//! assert_eq!(note, "to bo by lead");
//! let entry = |seq, note: &str| AuditEntry {
//!     seq,
//!     key: "EX-1".into(),
//!     at,
//!     change: AuditEntry::ASSIGNED.into(),
//!     note: Some(note.into()),
//! };
//! let trail = [entry(1, "to ana by lead"), entry(2, &note)];
//! let assigned = current(&trail).unwrap().unwrap();
//! assert_eq!((assigned.person.as_str(), assigned.by.as_str()), ("bo", "lead"));
//! assert!(current(&trail[..0]).is_none());
//! // An `assigned` entry written otherwise is reported, not taken for nobody.
//! let odd = [entry(3, "bo, by lead")];
//! assert_eq!(current(&odd).unwrap().unwrap_err().note, "bo, by lead");
//! ```

use std::collections::HashMap;

use jiff::Timestamp;
use sync_engine::store::{AuditEntry, ExceptionStore, StoreError};

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

/// An `assigned` audit entry whose note is not `to <person> by <who>` (written by something
/// other than the console).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "assignment note {note:?} of exception `{key}` (entry {seq}) is not `to <person> by <who>`"
)]
pub struct UnreadableAssignment {
    /// The exception's key.
    pub key: String,
    /// The entry's position in the audit trail.
    pub seq: i64,
    /// The note as stored (empty when there was none).
    pub note: String,
}

impl Assignment {
    /// The audit note of an assignment of `person` by `by`: `to <person> by <by>`.
    pub fn note(person: &str, by: &str) -> String {
        format!("to {person} by {by}")
    }

    /// The assignment an audit entry records: `None` when the entry is not an assignment, an
    /// error when it is one whose note does not read as `to <person> by <who>`.
    pub fn from_entry(entry: &AuditEntry) -> Option<Result<Assignment, UnreadableAssignment>> {
        if entry.change != AuditEntry::ASSIGNED {
            return None;
        }
        let note = entry.note.as_deref().unwrap_or("");
        let words: Vec<&str> = note.split_whitespace().collect();
        Some(match words.as_slice() {
            ["to", person, "by", by] => Ok(Assignment {
                person: (*person).to_owned(),
                by: (*by).to_owned(),
                at: entry.at,
            }),
            _ => Err(UnreadableAssignment {
                key: entry.key.clone(),
                seq: entry.seq,
                note: note.to_owned(),
            }),
        })
    }
}

/// The current assignment in an exception's audit trail (oldest first, as
/// [`ExceptionStore::exception_audit`] reads it): its latest `assigned` entry, `None` when it
/// was never assigned.
pub fn current(trail: &[AuditEntry]) -> Option<Result<Assignment, UnreadableAssignment>> {
    trail.iter().rev().find_map(Assignment::from_entry)
}

/// The current assignment of each exception of `keys` that was assigned, by key.
pub async fn current_of<S: ExceptionStore + ?Sized>(
    store: &S,
    keys: &[String],
) -> Result<HashMap<String, Result<Assignment, UnreadableAssignment>>, StoreError> {
    let latest = store.latest_audit(AuditEntry::ASSIGNED, keys).await?;
    Ok(latest
        .iter()
        .filter_map(|e| Some((e.key.clone(), Assignment::from_entry(e)?)))
        .collect())
}

/// Assigns exception `key` to `person`, by `by`: an `assigned` entry in its audit trail.
/// Returns the entry's position; fails with [`StoreError::NotFound`] when there is no such
/// exception.
pub async fn assign<S: ExceptionStore + ?Sized>(
    store: &S,
    key: &str,
    person: &str,
    by: &str,
    at: Timestamp,
) -> Result<i64, StoreError> {
    store
        .record_audit(
            key,
            AuditEntry::ASSIGNED,
            Some(&Assignment::note(person, by)),
            at,
        )
        .await
}

/// The assignee as a page shows it: the person, or what is wrong with the entry (logged).
pub(crate) fn shown(assignment: &Result<Assignment, UnreadableAssignment>) -> String {
    match assignment {
        Ok(a) => a.person.clone(),
        Err(e) => {
            tracing::warn!(error = %e, "unreadable assignment");
            format!("unreadable assignment: {}", e.note)
        }
    }
}
