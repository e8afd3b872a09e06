//! The exception queue: problems a person must look at, their audit trail, and the requests
//! people make about them from outside the running engine.

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::Value;

use super::StoreError;
use sync_core::ExceptionKind;

/// An exception to raise in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewException {
    /// Deterministic key: raising the same exception twice keeps one open row.
    pub key: String,
    /// Exception kind (`unknown_sku`, `over_despatch`, ...).
    pub kind: String,
    /// Who owns it (`operations`, `finance`, `item_master`, `integration`).
    pub owner: String,
    /// Severity as the core names it.
    pub severity: String,
    /// The document it concerns.
    pub document: String,
    /// A human message.
    pub message: String,
    /// Anchor into the operations guide.
    pub runbook: String,
    /// The full exception, serialised.
    pub payload: Value,
}

impl NewException {
    /// An exception of `kind`, with the owner, severity and runbook entry the core gives that
    /// kind: the shell names what happened, never who owns it.
    ///
    /// ```
    /// use sync_core::ExceptionKind;
    /// use sync_engine::store::NewException;
    ///
    /// let e = NewException::of(
    ///     ExceptionKind::JobFailing,
    ///     "EX-INTEGRATION-JOB-poll",
    ///     "job poll",
    ///     "the NetSuite poll has failed 3 times in a row",
    ///     serde_json::json!({}),
    /// );
    /// assert_eq!((e.owner.as_str(), e.severity.as_str()), ("integration", "error"));
    /// assert_eq!(e.runbook, "operations.md#job-failing");
    /// ```
    pub fn of(
        kind: ExceptionKind,
        key: impl Into<String>,
        document: impl Into<String>,
        message: impl Into<String>,
        payload: Value,
    ) -> Self {
        Self {
            key: key.into(),
            kind: kind.code().to_owned(),
            owner: kind.owner().code().to_owned(),
            severity: kind.severity().code().to_owned(),
            document: document.into(),
            message: message.into(),
            runbook: kind.runbook(),
            payload,
        }
    }
}

/// An exception read back from the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredException {
    /// The exception as raised.
    pub exception: NewException,
    /// When it was first raised.
    pub raised_at: Timestamp,
    /// When it was resolved, if it was.
    pub resolved_at: Option<Timestamp>,
    /// The note given on resolution.
    pub resolution_note: Option<String>,
}

/// Which exceptions [`ExceptionStore::exceptions_page`] returns: every field set narrows the
/// choice (the default takes every exception).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExceptionQuery {
    /// `Some(true)`: open ones only; `Some(false)`: resolved ones only; `None`: both.
    pub open: Option<bool>,
    /// Only these kinds (any kind when empty).
    pub kinds: Vec<String>,
    /// Only keys starting with this.
    pub key_prefix: Option<String>,
    /// Only these keys (any key when empty).
    pub keys: Vec<String>,
}

impl ExceptionQuery {
    /// The open exceptions of `kinds`.
    pub fn open_of(kinds: &[&str]) -> Self {
        ExceptionQuery {
            open: Some(true),
            kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
            ..ExceptionQuery::default()
        }
    }
}

/// Where a page of [`ExceptionStore::exceptions_page`] ended: the next page starts after it.
/// Pages are in the order of (time raised, key in byte order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionCursor {
    /// The last exception's time raised.
    pub raised_at: Timestamp,
    /// The last exception's key.
    pub key: String,
}

impl StoredException {
    /// The cursor of a page ending with this exception.
    pub fn cursor(&self) -> ExceptionCursor {
        ExceptionCursor {
            raised_at: self.raised_at,
            key: self.exception.key.clone(),
        }
    }
}

/// One entry of an exception's audit trail: every change to an exception is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the trail (increasing across all exceptions).
    pub seq: i64,
    /// The exception's key.
    pub key: String,
    /// When the change happened.
    pub at: Timestamp,
    /// What changed. The exception's own changes, each written by the store method making it:
    /// `raised`, `updated`, `reopened` (raising), `resolved`
    /// ([`ExceptionStore::resolve_exception`]), `retry-requested`
    /// ([`ExceptionStore::request_retry`]), `retried` ([`ExceptionStore::finish_request`]).
    /// What people do that leaves the exception as it is, written by
    /// [`ExceptionStore::record_audit`]: `assigned` ([`AuditEntry::ASSIGNED`]: someone was
    /// assigned to work it; the note says who, and who assigned it).
    pub change: String,
    /// The note given with the change (a resolution note, a retry's outcome, an assignment).
    pub note: Option<String>,
}

/// Fails unless `change` is one of [`AuditEntry::RECORDED`] (for the backends'
/// [`ExceptionStore::record_audit`]).
pub(crate) fn recordable(change: &str) -> Result<(), StoreError> {
    if AuditEntry::RECORDED.contains(&change) {
        Ok(())
    } else {
        Err(StoreError::UnrecordableChange {
            change: change.to_owned(),
        })
    }
}

impl AuditEntry {
    /// The change of an assignment: someone was assigned to work the exception.
    pub const ASSIGNED: &str = "assigned";
    /// The changes [`ExceptionStore::record_audit`] records: what people do that leaves the
    /// exception as it is.
    pub const RECORDED: [&str; 1] = [AuditEntry::ASSIGNED];
}

/// A request a person made about an exception from outside the running engine (the `sync`
/// command line), handled by the engine in order (see `crate::exceptions::RequestHandler`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRequest {
    /// Position in the request queue.
    pub seq: i64,
    /// The exception's key.
    pub key: String,
    /// What was asked (`retry`).
    pub request: String,
    /// The note given with the request.
    pub note: Option<String>,
    /// When it was asked.
    pub requested_at: Timestamp,
    /// When the engine handled it, once it did.
    pub handled_at: Option<Timestamp>,
    /// What handling it did, once handled.
    pub outcome: Option<String>,
}

/// The exception queue with its audit trail and request queue. Exceptions are keyed: raising an
/// open one again changes nothing, raising a resolved one reopens it.
#[async_trait]
pub trait ExceptionStore: Send + Sync {
    /// Raises an exception outside a plan (worker failures, stuck documents).
    async fn raise_exception(
        &self,
        exception: NewException,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Raises an exception, or refreshes an open one with the newest message and payload (the
    /// audit trail records an `updated` entry when the message changed).
    async fn refresh_exception(
        &self,
        exception: NewException,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Resolves an open exception with a note; resolving a resolved one changes nothing.
    async fn resolve_exception(
        &self,
        key: &str,
        note: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Every exception, open first, then by time raised.
    async fn exceptions(&self) -> Result<Vec<StoredException>, StoreError>;
    /// The open exceptions, by time raised (monitoring, alerts, reconciliation: the queue of
    /// what still needs someone, without the resolved history).
    async fn open_exceptions(&self) -> Result<Vec<StoredException>, StoreError>;
    /// At most `limit` exceptions matching `filter`, by time raised then key (byte order),
    /// after `after` (from the start when `None`): a periodic reader pages through what it
    /// needs instead of reading the whole queue. An exception reopened while a reader pages
    /// moves to its new time raised, so the reader may see it twice or at its next pass.
    async fn exceptions_page(
        &self,
        filter: &ExceptionQuery,
        after: Option<&ExceptionCursor>,
        limit: usize,
    ) -> Result<Vec<StoredException>, StoreError>;
    /// One exception by key.
    async fn exception(&self, key: &str) -> Result<Option<StoredException>, StoreError>;
    /// The audit trail of one exception, oldest first.
    async fn exception_audit(&self, key: &str) -> Result<Vec<AuditEntry>, StoreError>;
    /// Audit entries of every exception after position `after_seq`, in order (a running
    /// engine learns from them what people changed from outside).
    async fn audit_since(&self, after_seq: i64) -> Result<Vec<AuditEntry>, StoreError>;
    /// The position of the newest audit entry, 0 when the trail is empty (where a reader of
    /// [`ExceptionStore::audit_since`] starts without reading the trail).
    async fn audit_head(&self) -> Result<i64, StoreError>;
    /// Appends an entry to the audit trail of exception `key` for something a person did that
    /// leaves the exception as it is (an assignment), returning the entry's position. `change`
    /// is one of [`AuditEntry::RECORDED`] (`assigned`); the exception's own changes (`resolved`,
    /// ...) are written by the methods making them, and readers of
    /// [`ExceptionStore::audit_since`] act on those. Fails with [`StoreError::NotFound`] when
    /// there is no such exception, and with [`StoreError::UnrecordableChange`] when `change` is
    /// not one of [`AuditEntry::RECORDED`], recording nothing.
    async fn record_audit(
        &self,
        key: &str,
        change: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<i64, StoreError>;
    /// The latest audit entry of kind `change` of each exception of `keys` that has one, in
    /// the trail's order (the current assignee of every exception of a page, in one read).
    async fn latest_audit(
        &self,
        change: &str,
        keys: &[String],
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// Queues a request to retry an exception and records it in the audit trail. Fails with
    /// [`StoreError::NotFound`] when there is no such exception.
    async fn request_retry(
        &self,
        key: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<i64, StoreError>;
    /// Requests not handled yet, oldest first.
    async fn open_requests(&self) -> Result<Vec<ExceptionRequest>, StoreError>;
    /// Every request about one exception, oldest first.
    async fn requests_for(&self, key: &str) -> Result<Vec<ExceptionRequest>, StoreError>;
    /// Records what handling a request did, in the request and in the audit trail.
    async fn finish_request(
        &self,
        seq: i64,
        outcome: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;
}
