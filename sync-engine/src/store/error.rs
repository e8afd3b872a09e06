//! The store's error type, the same for every backend.

use std::error::Error;

/// Errors from the durable store.
///
/// No backend's own error type appears here: a backend wraps its errors in
/// [`StoreError::Backend`] and says whether they were a conflict or transient, so callers decide
/// about retries without knowing which database is behind the [`Store`](super::Store).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused an operation or could not be reached.
    #[error("database error: {source}")]
    Backend {
        /// The backend's own error.
        #[source]
        source: Box<dyn Error + Send + Sync + 'static>,
        /// A unique key, a constraint or a concurrent transaction refused the write (see
        /// [`StoreError::is_conflict`]).
        conflict: bool,
        /// The database was busy, locked or unreachable: the same call may succeed later (see
        /// [`StoreError::is_transient`]).
        transient: bool,
    },
    /// A stored JSON payload could not be read back.
    #[error("stored payload is not valid JSON: {0}")]
    Payload(#[from] serde_json::Error),
    /// The database was written by a newer version of this crate.
    #[error("database schema version {found} is newer than this build knows ({known})")]
    SchemaTooNew {
        /// The version found in the database.
        found: i64,
        /// The newest version this build can migrate to.
        known: i64,
    },
    /// An action or exception that the caller named does not exist.
    #[error("{what} `{key}` not found")]
    NotFound {
        /// What was looked for ("action", "exception").
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// An audit entry of a change people do not record directly (only
    /// [`AuditEntry::RECORDED`](crate::store::AuditEntry::RECORDED) are; the exception's own
    /// changes, such as `resolved`, are written by the methods that make them).
    #[error("`{change}` is not an audit change that can be recorded on its own")]
    UnrecordableChange {
        /// The change refused.
        change: String,
    },
    /// A batch could not be formed: a member is already in a batch or no longer waiting.
    #[error("batch `{batch}` cannot take action `{action}`: it is not waiting for a batch")]
    BatchConflict {
        /// The batch.
        batch: String,
        /// The action.
        action: String,
    },
    /// The blocking task running the query was cancelled or panicked.
    #[error("store task failed: {0}")]
    Task(String),
}

impl StoreError {
    /// A backend error with its classification (for backends; callers only read it).
    pub fn backend(
        source: impl Into<Box<dyn Error + Send + Sync + 'static>>,
        conflict: bool,
        transient: bool,
    ) -> Self {
        StoreError::Backend {
            source: source.into(),
            conflict,
            transient,
        }
    }

    /// Whether the write was refused because of other data: a unique key or another constraint
    /// was violated, or a concurrent transaction conflicted with this one (serialisation
    /// failure). A [`StoreError::BatchConflict`] is a conflict too.
    pub fn is_conflict(&self) -> bool {
        match self {
            StoreError::Backend { conflict, .. } => *conflict,
            StoreError::BatchConflict { .. } => true,
            _ => false,
        }
    }

    /// Whether the same call may succeed if retried later: the database was busy or locked, the
    /// connection was lost, or a concurrent transaction must be retried. Nothing was written.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Backend { transient, .. } => *transient,
            _ => false,
        }
    }
}
