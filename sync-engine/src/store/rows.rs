//! What every backend shares about reading and writing rows: times as Unix milliseconds,
//! payloads as JSON text, the column lists of each record, and one reader per record.
//!
//! Both backends store a record in the same columns of the same types, so a record is read the
//! same way from either: each backend's row type implements [`Columns`] (a column by position,
//! its error classified by the backend), and the readers here build the store's types from it.
//! A column list below is selected in its order by every query that reads that record.

use jiff::Timestamp;
use serde_json::Value;

use super::{
    ActionCount, ActionRecord, ActionStatus, AuditEntry, BatchMember, Delivery, ExceptionRequest,
    InstanceRecord, Lease, NewAction, NewBatch, NewDelivery, NewException, OutboxAction,
    RecordedEvent, StateEntry, StateSnapshot, StoreError, StoredBatch, StoredDriftRow,
    StoredDriftRun, StoredException,
};

/// The columns [`action`] reads, in its order.
pub(crate) const ACTION_COLUMNS: &str =
    "seq, key, document, kind, payload, status, attempts, not_before, last_error, result_id";
/// The columns [`action_record`] reads, in its order.
pub(crate) const ACTION_RECORD_COLUMNS: &str =
    "key, document, kind, status, event_key, created_at, updated_at";
/// The columns [`batch`] reads, in its order.
pub(crate) const BATCH_COLUMNS: &str =
    "key, kind, grouping, status, attempts, next_attempt_at, last_error, result_id, created_at";
/// The columns [`delivery`] reads, in its order.
pub(crate) const DELIVERY_COLUMNS: &str = "id, source, received_at, headers, body";
/// The columns [`exception`] reads, in its order.
pub(crate) const EXCEPTION_COLUMNS: &str = "key, kind, owner, severity, document, message, \
                                            runbook, payload, raised_at, resolved_at, \
                                            resolution_note";
/// The columns [`audit`] reads, in its order.
pub(crate) const AUDIT_COLUMNS: &str = "seq, key, at, change, note";
/// The columns [`request`] reads, in its order.
pub(crate) const REQUEST_COLUMNS: &str =
    "seq, key, request, note, requested_at, handled_at, outcome";
/// The columns [`lease`] reads, in its order.
pub(crate) const LEASE_COLUMNS: &str = "name, holder, expires_at, acquired_at";
/// The columns [`instance`] reads, in its order.
pub(crate) const INSTANCE_COLUMNS: &str = "id, started_at, last_seen";
/// The columns [`recorded_event`] reads, in its order.
pub(crate) const EVENT_COLUMNS: &str = "event_key, document, event, planned_at";
/// The columns [`drift_row`] reads, in its order (`drift_rows r JOIN drift_runs d`).
pub(crate) const DRIFT_ROW_COLUMNS: &str = "r.run_id, d.at, r.position, r.class, r.row";
/// The columns [`drift_run`] reads, in its order.
pub(crate) const DRIFT_RUN_COLUMNS: &str = "id, at, summary";
/// The columns [`state_entry`] reads, in its order.
pub(crate) const STATE_ENTRY_COLUMNS: &str = "value, version, updated_at";
/// The columns [`snapshot`] reads, in its order.
pub(crate) const SNAPSHOT_COLUMNS: &str = "head, format, taken_at, state";

/// `columns` (a list above) each prefixed with a table alias (`a.`).
pub(crate) fn prefixed(columns: &str, alias: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A time as stored: Unix milliseconds.
pub(crate) fn millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// A stored time read back. Times outside jiff's millisecond range are clamped to its ends:
/// [`WAITING_FOR_BATCH`](crate::store::WAITING_FOR_BATCH) (`Timestamp::MAX`, stored as its
/// milliseconds, which jiff does not take back) reads back as itself, never as the epoch.
pub(crate) fn from_millis(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms > 0 {
        Timestamp::MAX
    } else {
        Timestamp::MIN
    })
}

/// A payload as stored: JSON text.
pub(crate) fn json(value: &Value) -> Result<String, StoreError> {
    Ok(serde_json::to_string(value)?)
}

/// A stored payload read back.
pub(crate) fn parse_json(text: &str) -> Result<Value, StoreError> {
    Ok(serde_json::from_str(text)?)
}

/// A `LIMIT` parameter: a limit beyond `i64` means no limit (PostgreSQL refuses a negative one).
pub(crate) fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A stored status; an unknown name reads as failed.
pub(crate) fn parse_status(status: &str) -> ActionStatus {
    ActionStatus::parse(status).unwrap_or(ActionStatus::Failed)
}

/// The status after a failed attempt: retried at `retry_at` (ambiguous when the request may
/// have been applied), or failed for good when there is no retry.
pub(crate) fn status_after_failure(retry_at: Option<Timestamp>, ambiguous: bool) -> ActionStatus {
    match (retry_at, ambiguous) {
        (None, _) => ActionStatus::Failed,
        (Some(_), true) => ActionStatus::Ambiguous,
        (Some(_), false) => ActionStatus::Pending,
    }
}

/// [`StoreError::NotFound`] for the `what` named `key`.
pub(crate) fn not_found(what: &'static str, key: impl Into<String>) -> StoreError {
    StoreError::NotFound {
        what,
        key: key.into(),
    }
}

/// Ok when `n` rows changed, else [`StoreError::NotFound`] for the `what` named `key`.
pub(crate) fn found(n: u64, what: &'static str, key: &str) -> Result<(), StoreError> {
    match n {
        0 => Err(not_found(what, key)),
        _ => Ok(()),
    }
}

/// A row of either backend, read a column at a time by position. A column that cannot be read
/// as asked is the backend's error, classified as the backend classifies its errors.
pub(crate) trait Columns {
    /// An integer column.
    fn int(&self, i: usize) -> Result<i64, StoreError>;
    /// A nullable integer column.
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    /// A text column.
    fn text(&self, i: usize) -> Result<String, StoreError>;
    /// A nullable text column.
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError>;
    /// A binary column.
    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError>;

    /// A time column (Unix milliseconds).
    fn time(&self, i: usize) -> Result<Timestamp, StoreError> {
        Ok(from_millis(self.int(i)?))
    }
    /// A nullable time column.
    fn opt_time(&self, i: usize) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.opt_int(i)?.map(from_millis))
    }
    /// A JSON column.
    fn json(&self, i: usize) -> Result<Value, StoreError> {
        parse_json(&self.text(i)?)
    }
    /// A nullable JSON column.
    fn opt_json(&self, i: usize) -> Result<Option<Value>, StoreError> {
        self.opt_text(i)?.as_deref().map(parse_json).transpose()
    }
    /// A status column.
    fn status(&self, i: usize) -> Result<ActionStatus, StoreError> {
        Ok(parse_status(&self.text(i)?))
    }
    /// A count of attempts, saturating.
    fn attempts(&self, i: usize) -> Result<u32, StoreError> {
        Ok(u32::try_from(self.int(i)?).unwrap_or(u32::MAX))
    }
}

/// Implements [`Columns`] for a backend's row type `$row`, whose method `$get` reads a column
/// by position and whose errors `$classify` turns into [`StoreError`]s.
macro_rules! impl_columns {
    ($row:ty, $get:ident, $classify:path) => {
        impl $crate::store::rows::Columns for $row {
            fn int(&self, i: usize) -> Result<i64, StoreError> {
                self.$get(i).map_err($classify)
            }
            fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
                self.$get(i).map_err($classify)
            }
            fn text(&self, i: usize) -> Result<String, StoreError> {
                self.$get(i).map_err($classify)
            }
            fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
                self.$get(i).map_err($classify)
            }
            fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
                self.$get(i).map_err($classify)
            }
        }
    };
}
pub(crate) use impl_columns;

/// An action read with [`ACTION_COLUMNS`].
pub(crate) fn action(r: &dyn Columns) -> Result<OutboxAction, StoreError> {
    Ok(OutboxAction {
        seq: r.int(0)?,
        action: NewAction {
            key: r.text(1)?,
            document: r.text(2)?,
            kind: r.text(3)?,
            payload: r.json(4)?,
            not_before: r.time(7)?,
        },
        status: r.status(5)?,
        attempts: r.attempts(6)?,
        last_error: r.opt_text(8)?,
        result_id: r.opt_text(9)?,
    })
}

/// How many actions there are per kind and status, in that order (the same text for every
/// backend).
pub(crate) const ACTION_COUNTS: &str =
    "SELECT kind, status, COUNT(*) FROM actions GROUP BY kind, status ORDER BY kind, status";

/// A row of [`ACTION_COUNTS`].
pub(crate) fn action_count(r: &dyn Columns) -> Result<ActionCount, StoreError> {
    Ok(ActionCount {
        kind: r.text(0)?,
        status: r.status(1)?,
        count: u64::try_from(r.int(2)?).unwrap_or(0),
    })
}

/// A batch member read with [`ACTION_COLUMNS`] then the event key and the event.
pub(crate) fn batch_member(r: &dyn Columns) -> Result<BatchMember, StoreError> {
    Ok(BatchMember {
        action: action(r)?,
        event_key: r.text(10)?,
        event: r.opt_json(11)?,
    })
}

/// An action's record read with [`ACTION_RECORD_COLUMNS`].
pub(crate) fn action_record(r: &dyn Columns) -> Result<ActionRecord, StoreError> {
    Ok(ActionRecord {
        key: r.text(0)?,
        document: r.text(1)?,
        kind: r.text(2)?,
        status: r.status(3)?,
        event_key: r.text(4)?,
        created_at: r.time(5)?,
        updated_at: r.time(6)?,
    })
}

/// A batch read with [`BATCH_COLUMNS`], without its members.
pub(crate) fn batch(r: &dyn Columns) -> Result<StoredBatch, StoreError> {
    Ok(StoredBatch {
        batch: NewBatch {
            key: r.text(0)?,
            kind: r.text(1)?,
            grouping: r.text(2)?,
            members: Vec::new(),
        },
        status: r.status(3)?,
        attempts: r.attempts(4)?,
        next_attempt_at: r.time(5)?,
        last_error: r.opt_text(6)?,
        result_id: r.opt_text(7)?,
        created_at: r.time(8)?,
    })
}

/// A delivery read with [`DELIVERY_COLUMNS`].
pub(crate) fn delivery(r: &dyn Columns) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: r.int(0)?,
        delivery: NewDelivery {
            source: r.text(1)?,
            received_at: r.time(2)?,
            headers: r.json(3)?,
            body: r.bytes(4)?,
        },
    })
}

/// An exception read with [`EXCEPTION_COLUMNS`].
pub(crate) fn exception(r: &dyn Columns) -> Result<StoredException, StoreError> {
    Ok(StoredException {
        exception: NewException {
            key: r.text(0)?,
            kind: r.text(1)?,
            owner: r.text(2)?,
            severity: r.text(3)?,
            document: r.text(4)?,
            message: r.text(5)?,
            runbook: r.text(6)?,
            payload: r.json(7)?,
        },
        raised_at: r.time(8)?,
        resolved_at: r.opt_time(9)?,
        resolution_note: r.opt_text(10)?,
    })
}

/// An audit entry read with [`AUDIT_COLUMNS`].
pub(crate) fn audit(r: &dyn Columns) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: r.int(0)?,
        key: r.text(1)?,
        at: r.time(2)?,
        change: r.text(3)?,
        note: r.opt_text(4)?,
    })
}

/// A request read with [`REQUEST_COLUMNS`].
pub(crate) fn request(r: &dyn Columns) -> Result<ExceptionRequest, StoreError> {
    Ok(ExceptionRequest {
        seq: r.int(0)?,
        key: r.text(1)?,
        request: r.text(2)?,
        note: r.opt_text(3)?,
        requested_at: r.time(4)?,
        handled_at: r.opt_time(5)?,
        outcome: r.opt_text(6)?,
    })
}

/// A lease read with [`LEASE_COLUMNS`].
pub(crate) fn lease(r: &dyn Columns) -> Result<Lease, StoreError> {
    Ok(Lease {
        name: r.text(0)?,
        holder: r.text(1)?,
        expires_at: r.time(2)?,
        acquired_at: r.time(3)?,
    })
}

/// An instance read with [`INSTANCE_COLUMNS`].
pub(crate) fn instance(r: &dyn Columns) -> Result<InstanceRecord, StoreError> {
    Ok(InstanceRecord {
        id: r.text(0)?,
        started_at: r.time(1)?,
        last_seen: r.time(2)?,
    })
}

/// An event read with [`EVENT_COLUMNS`].
pub(crate) fn recorded_event(r: &dyn Columns) -> Result<RecordedEvent, StoreError> {
    Ok(RecordedEvent {
        event_key: r.text(0)?,
        document: r.text(1)?,
        event: r.json(2)?,
        planned_at: r.time(3)?,
    })
}

/// A drift row read with [`DRIFT_ROW_COLUMNS`].
pub(crate) fn drift_row(r: &dyn Columns) -> Result<StoredDriftRow, StoreError> {
    Ok(StoredDriftRow {
        run_id: r.int(0)?,
        at: r.time(1)?,
        position: r.text(2)?,
        class: r.text(3)?,
        row: r.json(4)?,
    })
}

/// A drift run read with [`DRIFT_RUN_COLUMNS`].
pub(crate) fn drift_run(r: &dyn Columns) -> Result<StoredDriftRun, StoreError> {
    Ok(StoredDriftRun {
        id: r.int(0)?,
        at: r.time(1)?,
        summary: r.json(2)?,
    })
}

/// An adapter state entry read with [`STATE_ENTRY_COLUMNS`].
pub(crate) fn state_entry(r: &dyn Columns) -> Result<StateEntry, StoreError> {
    Ok(StateEntry {
        value: r.text(0)?,
        version: r.int(1)?,
        updated_at: r.time(2)?,
    })
}

/// A snapshot read with [`SNAPSHOT_COLUMNS`]; a format beyond `u32` reads as 0 (unknown).
pub(crate) fn snapshot(r: &dyn Columns) -> Result<StateSnapshot, StoreError> {
    Ok(StateSnapshot {
        head: r.int(0)?,
        format: u32::try_from(r.int(1)?).unwrap_or(0),
        taken_at: r.time(2)?,
        state: r.text(3)?,
    })
}

/// A state log entry (`seq, change`).
pub(crate) fn state_change(r: &dyn Columns) -> Result<(i64, Value), StoreError> {
    Ok((r.int(0)?, r.json(1)?))
}
