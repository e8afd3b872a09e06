//! The embedded SQLite backend of [`Store`]: one file, WAL, versioned migrations.
//!
//! rusqlite is synchronous, so every call runs on Tokio's blocking pool behind one connection.
//! One connection is enough: the engine's writes are small and SQLite serialises writers anyway.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;

use super::{
    ActionCount, ActionRecord, ActionStatus, AuditEntry, BatchMember, CommitOutcome, Delivery,
    ExceptionRequest, NewAction, NewBatch, NewDelivery, NewDriftRun, NewException, OutboxAction,
    PlanCommit, RecordedEvent, Store, StoreError, StoredBatch, StoredDriftRow, StoredDriftRun,
    StoredException, WAITING_FOR_BATCH,
};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: ledger, outbox, exceptions, watermarks
    "CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        not_before INTEGER NOT NULL DEFAULT 0,
        processed_at INTEGER,
        note TEXT
    );
    CREATE INDEX deliveries_unprocessed ON deliveries(processed_at, not_before, id);
    CREATE TABLE events (
        event_key TEXT PRIMARY KEY,
        document TEXT NOT NULL,
        event TEXT NOT NULL,
        planned_at INTEGER NOT NULL
    );
    CREATE INDEX events_document ON events(document);
    CREATE TABLE state_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_key TEXT NOT NULL,
        change TEXT NOT NULL
    );
    CREATE TABLE actions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        document TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        event_key TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        result_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX actions_open ON actions(status, document, seq);
    CREATE TABLE exceptions (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        owner TEXT NOT NULL,
        severity TEXT NOT NULL,
        document TEXT NOT NULL,
        message TEXT NOT NULL,
        runbook TEXT NOT NULL,
        payload TEXT NOT NULL,
        raised_at INTEGER NOT NULL,
        resolved_at INTEGER,
        resolution_note TEXT
    );
    CREATE TABLE exception_audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        at INTEGER NOT NULL,
        change TEXT NOT NULL,
        note TEXT
    );
    CREATE TABLE watermarks (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
    // 2: batches of actions posted together (batched cadence). An action waiting for a batch
    // is `pending` with `not_before` = `WAITING_FOR_BATCH`; `batch_key` records the batch it
    // was put in, written before the batch is posted.
    "ALTER TABLE actions ADD COLUMN batch_key TEXT;
    CREATE INDEX actions_batch ON actions(batch_key, seq);
    CREATE INDEX actions_waiting ON actions(kind, not_before, seq) WHERE batch_key IS NULL;
    CREATE TABLE batches (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        grouping TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        result_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX batches_open ON batches(status, created_at);",
    // 3: drift history. One row per reconciliation run (its summary as JSON) and one row per
    // position that was not in step at that run (the row as JSON), so the trend of a position
    // and of the whole account can be shown without keeping every in-step position.
    "CREATE TABLE drift_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        summary TEXT NOT NULL
    );
    CREATE INDEX drift_runs_at ON drift_runs(at);
    CREATE TABLE drift_rows (
        run_id INTEGER NOT NULL REFERENCES drift_runs(id) ON DELETE CASCADE,
        position TEXT NOT NULL,
        class TEXT NOT NULL,
        row TEXT NOT NULL,
        PRIMARY KEY (run_id, position)
    );
    CREATE INDEX drift_rows_position ON drift_rows(position, run_id);",
    // 4: requests people make about exceptions (retry) from outside the running engine; the
    // engine handles them in order and records the outcome, the audit trail keeps both.
    "CREATE TABLE exception_requests (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        request TEXT NOT NULL,
        note TEXT,
        requested_at INTEGER NOT NULL,
        handled_at INTEGER,
        outcome TEXT
    );
    CREATE INDEX exception_requests_open ON exception_requests(handled_at, seq);",
    // 5: the open exceptions are read on every monitoring, alert and reconciliation pass.
    "CREATE INDEX exceptions_open ON exceptions(raised_at, key) WHERE resolved_at IS NULL;",
];

/// [`Store`] on an embedded SQLite database.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (or creates) the database file, turns on WAL with `synchronous=FULL` and runs
    /// pending migrations.
    ///
    /// The store holds business data and webhook bodies, so on Unix a new database file is
    /// created readable and writable by its owner only (0600) before SQLite opens it; SQLite
    /// gives the `-wal` and `-shm` files it creates the main file's permissions. An existing
    /// file keeps its permissions (a warning is logged when others can read it).
    ///
    /// `synchronous=FULL` makes every commit reach the disk before it returns, so a delivery
    /// recorded before a webhook is answered 202 survives a power loss (with `NORMAL` in WAL
    /// mode the last commits can be lost until the next checkpoint). The cost is measured in
    /// `docs/performance.md`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        create_private(path)?;
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Self::with_connection(conn)
    }

    /// A private in-memory database (tests, dry runs).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(mut conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Task("connection lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// Creates the database file with mode 0600 when it does not exist yet (Unix), so SQLite never
/// creates it with the process umask's default (usually world-readable 0644).
#[cfg(unix)]
fn create_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if let Ok(meta) = std::fs::metadata(path)
                && meta.permissions().mode() & 0o077 != 0
            {
                tracing::warn!(
                    path = %path.display(),
                    mode = format_args!("{:o}", meta.permissions().mode() & 0o777),
                    "the store file can be read by other users; `chmod 600` it and its -wal/-shm files"
                );
            }
            Ok(())
        }
        Err(e) => Err(cannot_create(path, &e)),
    }
}

/// Elsewhere SQLite creates the file itself, with the platform's default permissions.
#[cfg(not(unix))]
fn create_private(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// The error SQLite itself gives for a file it cannot open, with the reason.
#[cfg(unix)]
fn cannot_create(path: &Path, e: &std::io::Error) -> StoreError {
    StoreError::Database(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
        Some(format!("cannot create {}: {e}", path.display())),
    ))
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn from_millis(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn json(value: &Value) -> Result<String, StoreError> {
    Ok(serde_json::to_string(value)?)
}

fn parse_json(text: &str) -> Result<Value, StoreError> {
    Ok(serde_json::from_str(text)?)
}

const ACTION_COLUMNS: &str = "seq, key, document, kind, payload, status, attempts, not_before, \
                              last_error, result_id";

fn read_action(row: &Row<'_>) -> rusqlite::Result<(OutboxAction, String)> {
    let payload: String = row.get(4)?;
    let status: String = row.get(5)?;
    Ok((
        OutboxAction {
            seq: row.get(0)?,
            action: NewAction {
                key: row.get(1)?,
                document: row.get(2)?,
                kind: row.get(3)?,
                payload: Value::Null,
                not_before: from_millis(row.get(7)?),
            },
            status: ActionStatus::parse(&status).unwrap_or(ActionStatus::Failed),
            attempts: row.get(6)?,
            last_error: row.get(8)?,
            result_id: row.get(9)?,
        },
        payload,
    ))
}

fn finish_action(
    (mut action, payload): (OutboxAction, String),
) -> Result<OutboxAction, StoreError> {
    action.action.payload = parse_json(&payload)?;
    Ok(action)
}

/// Batches matching `filter` (a `WHERE` clause or nothing), oldest first, with their members.
fn read_batches(
    c: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<StoredBatch>, StoreError> {
    let sql = format!(
        "SELECT key, kind, grouping, status, attempts, next_attempt_at, last_error, result_id,
         created_at FROM batches {filter} ORDER BY created_at, rowid"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(args, |r| {
        let status: String = r.get(3)?;
        Ok(StoredBatch {
            batch: NewBatch {
                key: r.get(0)?,
                kind: r.get(1)?,
                grouping: r.get(2)?,
                members: Vec::new(),
            },
            status: ActionStatus::parse(&status).unwrap_or(ActionStatus::Failed),
            attempts: r.get(4)?,
            next_attempt_at: from_millis(r.get(5)?),
            last_error: r.get(6)?,
            result_id: r.get(7)?,
            created_at: from_millis(r.get(8)?),
        })
    })?;
    let mut batches = rows.collect::<Result<Vec<_>, _>>()?;
    let mut members =
        c.prepare_cached("SELECT key FROM actions WHERE batch_key = ?1 ORDER BY seq")?;
    for b in &mut batches {
        b.batch.members = members
            .query_map([&b.batch.key], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
    }
    Ok(batches)
}

fn insert_exception(
    tx: &rusqlite::Transaction<'_>,
    e: &NewException,
    at: i64,
    refresh: bool,
) -> Result<(), StoreError> {
    let open: Option<Option<i64>> = tx
        .query_row(
            "SELECT resolved_at FROM exceptions WHERE key = ?1",
            [&e.key],
            |r| r.get(0),
        )
        .optional()?;
    match open {
        // Already open: raising it again changes nothing, unless the caller refreshes it with
        // the newest details (a drift exception shows the figures of the latest reading).
        Some(None) if !refresh => return Ok(()),
        Some(None) => {
            let changed = tx.execute(
                "UPDATE exceptions SET message = ?2, payload = ?3
                 WHERE key = ?1 AND message <> ?2",
                params![e.key, e.message, json(&e.payload)?],
            )?;
            if changed > 0 {
                tx.execute(
                    "INSERT INTO exception_audit (key, at, change, note)
                     VALUES (?1, ?2, 'updated', ?3)",
                    params![e.key, at, e.message],
                )?;
            }
        }
        // Resolved before and raised again: reopen with the new details.
        Some(Some(_)) => {
            tx.execute(
                "UPDATE exceptions SET kind=?2, owner=?3, severity=?4, document=?5, message=?6,
                 runbook=?7, payload=?8, raised_at=?9, resolved_at=NULL, resolution_note=NULL
                 WHERE key=?1",
                params![
                    e.key,
                    e.kind,
                    e.owner,
                    e.severity,
                    e.document,
                    e.message,
                    e.runbook,
                    json(&e.payload)?,
                    at
                ],
            )?;
            tx.execute(
                "INSERT INTO exception_audit (key, at, change) VALUES (?1, ?2, 'reopened')",
                params![e.key, at],
            )?;
        }
        None => {
            tx.execute(
                "INSERT INTO exceptions (key, kind, owner, severity, document, message, runbook,
                 payload, raised_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    e.key,
                    e.kind,
                    e.owner,
                    e.severity,
                    e.document,
                    e.message,
                    e.runbook,
                    json(&e.payload)?,
                    at
                ],
            )?;
            tx.execute(
                "INSERT INTO exception_audit (key, at, change) VALUES (?1, ?2, 'raised')",
                params![e.key, at],
            )?;
        }
    }
    Ok(())
}

const EXCEPTION_COLUMNS: &str = "key, kind, owner, severity, document, message, runbook, \
                                 payload, raised_at, resolved_at, resolution_note";

type ExceptionRow = (NewException, String, i64, Option<i64>, Option<String>);

fn read_exception(r: &Row<'_>) -> rusqlite::Result<ExceptionRow> {
    Ok((
        NewException {
            key: r.get(0)?,
            kind: r.get(1)?,
            owner: r.get(2)?,
            severity: r.get(3)?,
            document: r.get(4)?,
            message: r.get(5)?,
            runbook: r.get(6)?,
            payload: Value::Null,
        },
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

fn finish_exception(row: ExceptionRow) -> Result<StoredException, StoreError> {
    let (mut exception, payload, raised_at, resolved_at, resolution_note) = row;
    exception.payload = parse_json(&payload)?;
    Ok(StoredException {
        exception,
        raised_at: from_millis(raised_at),
        resolved_at: resolved_at.map(from_millis),
        resolution_note,
    })
}

fn read_audit(r: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0)?,
        key: r.get(1)?,
        at: from_millis(r.get(2)?),
        change: r.get(3)?,
        note: r.get(4)?,
    })
}

fn read_request(r: &Row<'_>) -> rusqlite::Result<ExceptionRequest> {
    Ok(ExceptionRequest {
        seq: r.get(0)?,
        key: r.get(1)?,
        request: r.get(2)?,
        note: r.get(3)?,
        requested_at: from_millis(r.get(4)?),
        handled_at: r.get::<_, Option<i64>>(5)?.map(from_millis),
        outcome: r.get(6)?,
    })
}

fn resolve_exception_in(
    tx: &rusqlite::Transaction<'_>,
    key: &str,
    note: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let changed = tx.execute(
        "UPDATE exceptions SET resolved_at = ?2, resolution_note = ?3
         WHERE key = ?1 AND resolved_at IS NULL",
        params![key, at, note],
    )?;
    if changed > 0 {
        tx.execute(
            "INSERT INTO exception_audit (key, at, change, note) VALUES (?1, ?2, 'resolved', ?3)",
            params![key, at, note],
        )?;
    }
    Ok(changed > 0)
}

#[async_trait]
impl Store for SqliteStore {
    async fn record_delivery(&self, d: NewDelivery) -> Result<i64, StoreError> {
        self.run(move |c| {
            c.execute(
                "INSERT INTO deliveries (source, received_at, headers, body) VALUES (?1, ?2, ?3, ?4)",
                params![d.source, millis(d.received_at), json(&d.headers)?, d.body],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    async fn unprocessed_deliveries(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, source, received_at, headers, body FROM deliveries
                 WHERE processed_at IS NULL AND not_before <= ?1 ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![millis(now), limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, source, received_at, headers, body) = row?;
                out.push(Delivery {
                    id,
                    delivery: NewDelivery {
                        source,
                        received_at: from_millis(received_at),
                        headers: parse_json(&headers)?,
                        body,
                    },
                });
            }
            Ok(out)
        })
        .await
    }

    async fn mark_delivery_processed(
        &self,
        id: i64,
        note: Option<String>,
    ) -> Result<(), StoreError> {
        self.run(move |c| {
            c.execute(
                "UPDATE deliveries SET processed_at = ?2, note = ?3 WHERE id = ?1",
                params![id, millis(Timestamp::now()), note],
            )?;
            Ok(())
        })
        .await
    }

    async fn defer_delivery(
        &self,
        id: i64,
        until: Timestamp,
        note: &str,
    ) -> Result<(), StoreError> {
        let note = note.to_owned();
        self.run(move |c| {
            c.execute(
                "UPDATE deliveries SET not_before = ?2, note = ?3 WHERE id = ?1",
                params![id, millis(until), note],
            )?;
            Ok(())
        })
        .await
    }

    async fn unprocessed_count(&self) -> Result<u64, StoreError> {
        self.run(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM deliveries WHERE processed_at IS NULL",
                [],
                |r| r.get::<_, i64>(0),
            )? as u64)
        })
        .await
    }

    async fn commit_plan(&self, commit: PlanCommit) -> Result<CommitOutcome, StoreError> {
        self.run(move |c| {
            let tx = c.transaction()?;
            let at = millis(commit.planned_at);
            let seen = tx
                .query_row(
                    "SELECT 1 FROM events WHERE event_key = ?1",
                    [&commit.event_key],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if seen {
                return Ok(CommitOutcome::Duplicate);
            }
            if commit.mark_seen {
                tx.execute(
                    "INSERT INTO events (event_key, document, event, planned_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![commit.event_key, commit.document, json(&commit.event)?, at],
                )?;
            }
            for change in &commit.changes {
                tx.execute(
                    "INSERT INTO state_log (event_key, change) VALUES (?1, ?2)",
                    params![commit.event_key, json(change)?],
                )?;
            }
            for a in &commit.actions {
                // A key planned before (by an earlier event) is not enqueued twice.
                tx.execute(
                    "INSERT OR IGNORE INTO actions (key, document, kind, payload, event_key, status,
                     not_before, next_attempt_at, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6, ?7, ?7)",
                    params![
                        a.key,
                        a.document,
                        a.kind,
                        json(&a.payload)?,
                        commit.event_key,
                        millis(a.not_before),
                        at
                    ],
                )?;
            }
            for e in &commit.exceptions {
                insert_exception(&tx, e, at, false)?;
            }
            for key in &commit.resolved_exceptions {
                resolve_exception_in(&tx, key, "resolved by a later event", at)?;
            }
            tx.commit()?;
            Ok(CommitOutcome::Committed)
        })
        .await
    }

    async fn event_seen(&self, event_key: &str) -> Result<bool, StoreError> {
        let key = event_key.to_owned();
        self.run(move |c| {
            Ok(
                c.query_row("SELECT 1 FROM events WHERE event_key = ?1", [key], |_| {
                    Ok(())
                })
                .optional()?
                .is_some(),
            )
        })
        .await
    }

    async fn state_log(&self) -> Result<Vec<Value>, StoreError> {
        self.run(|c| {
            let mut stmt = c.prepare_cached("SELECT change FROM state_log ORDER BY seq")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for row in rows {
                out.push(parse_json(&row?)?);
            }
            Ok(out)
        })
        .await
    }

    async fn due_actions(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxAction>, StoreError> {
        self.run(move |c| {
            // Actions waiting for a batch are posted by the batcher, not the outbox: they are
            // left out of their lane so they do not hold up the actions behind them.
            let sql = format!(
                "SELECT {ACTION_COLUMNS} FROM actions
                 WHERE seq IN (SELECT MIN(seq) FROM actions
                               WHERE status IN ('pending', 'ambiguous') AND not_before < ?3
                               GROUP BY document)
                   AND not_before <= ?1 AND next_attempt_at <= ?1
                 ORDER BY seq LIMIT ?2"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![millis(now), limit as i64, millis(WAITING_FOR_BATCH)],
                read_action,
            )?;
            rows.map(|r| finish_action(r?)).collect()
        })
        .await
    }

    async fn begin_attempt(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            c.execute(
                "UPDATE actions SET status = 'ambiguous' WHERE key = ?1 AND status = 'pending'",
                [key],
            )?;
            Ok(())
        })
        .await
    }

    async fn complete_action(
        &self,
        key: &str,
        result_id: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let n = c.execute(
                "UPDATE actions SET status = 'done', result_id = ?2, attempts = attempts + 1,
                 updated_at = ?3, last_error = NULL WHERE key = ?1",
                params![key, result_id, millis(at)],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound {
                    what: "action",
                    key,
                });
            }
            Ok(())
        })
        .await
    }

    async fn fail_action(
        &self,
        key: &str,
        error: &str,
        ambiguous: bool,
        retry_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        let error = error.to_owned();
        self.run(move |c| {
            let status = match (retry_at, ambiguous) {
                (None, _) => ActionStatus::Failed,
                (Some(_), true) => ActionStatus::Ambiguous,
                (Some(_), false) => ActionStatus::Pending,
            };
            let now = millis(Timestamp::now());
            let n = c.execute(
                "UPDATE actions SET status = ?2, attempts = attempts + 1, last_error = ?3,
                 next_attempt_at = ?4, updated_at = ?5 WHERE key = ?1",
                params![
                    key,
                    status.as_str(),
                    error,
                    retry_at.map(millis).unwrap_or(now),
                    now
                ],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound {
                    what: "action",
                    key,
                });
            }
            Ok(())
        })
        .await
    }

    async fn action(&self, key: &str) -> Result<Option<OutboxAction>, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let sql = format!("SELECT {ACTION_COLUMNS} FROM actions WHERE key = ?1");
            let row = c.query_row(&sql, [key], read_action).optional()?;
            row.map(finish_action).transpose()
        })
        .await
    }

    async fn action_counts(&self) -> Result<Vec<ActionCount>, StoreError> {
        self.run(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT kind, status, COUNT(*) FROM actions GROUP BY kind, status ORDER BY kind, status",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (kind, status, count) = row?;
                out.push(ActionCount {
                    kind,
                    status: ActionStatus::parse(&status).unwrap_or(ActionStatus::Failed),
                    count: count as u64,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn actions(&self) -> Result<Vec<OutboxAction>, StoreError> {
        self.run(|c| {
            let sql = format!("SELECT {ACTION_COLUMNS} FROM actions ORDER BY seq");
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map([], read_action)?;
            rows.map(|r| finish_action(r?)).collect()
        })
        .await
    }

    async fn action_records(&self) -> Result<Vec<ActionRecord>, StoreError> {
        self.run(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT key, document, kind, status, event_key, created_at, updated_at
                 FROM actions ORDER BY seq",
            )?;
            let rows = stmt.query_map([], |r| {
                let status: String = r.get(3)?;
                Ok(ActionRecord {
                    key: r.get(0)?,
                    document: r.get(1)?,
                    kind: r.get(2)?,
                    status: ActionStatus::parse(&status).unwrap_or(ActionStatus::Failed),
                    event_key: r.get(4)?,
                    created_at: from_millis(r.get(5)?),
                    updated_at: from_millis(r.get(6)?),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn recorded_events(&self) -> Result<Vec<RecordedEvent>, StoreError> {
        self.run(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT event_key, document, event, planned_at FROM events
                 ORDER BY planned_at, rowid",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (event_key, document, event, planned_at) = row?;
                out.push(RecordedEvent {
                    event_key,
                    document,
                    event: parse_json(&event)?,
                    planned_at: from_millis(planned_at),
                });
            }
            Ok(out)
        })
        .await
    }

    async fn raise_exception(&self, e: NewException, at: Timestamp) -> Result<(), StoreError> {
        self.run(move |c| {
            let tx = c.transaction()?;
            insert_exception(&tx, &e, millis(at), false)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn refresh_exception(&self, e: NewException, at: Timestamp) -> Result<(), StoreError> {
        self.run(move |c| {
            let tx = c.transaction()?;
            insert_exception(&tx, &e, millis(at), true)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn resolve_exception(
        &self,
        key: &str,
        note: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        let note = note.to_owned();
        self.run(move |c| {
            let tx = c.transaction()?;
            let exists = tx
                .query_row(
                    "SELECT 1 FROM exceptions WHERE key = ?1",
                    [&key],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if !exists {
                return Err(StoreError::NotFound {
                    what: "exception",
                    key,
                });
            }
            resolve_exception_in(&tx, &key, &note, millis(at))?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn exceptions(&self) -> Result<Vec<StoredException>, StoreError> {
        self.run(|c| {
            let sql = format!(
                "SELECT {EXCEPTION_COLUMNS} FROM exceptions
                 ORDER BY resolved_at IS NOT NULL, raised_at, key"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map([], read_exception)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(finish_exception(row?)?);
            }
            Ok(out)
        })
        .await
    }

    async fn open_exceptions(&self) -> Result<Vec<StoredException>, StoreError> {
        self.run(|c| {
            let sql = format!(
                "SELECT {EXCEPTION_COLUMNS} FROM exceptions WHERE resolved_at IS NULL
                 ORDER BY raised_at, key"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map([], read_exception)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(finish_exception(row?)?);
            }
            Ok(out)
        })
        .await
    }

    async fn exception(&self, key: &str) -> Result<Option<StoredException>, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let sql = format!("SELECT {EXCEPTION_COLUMNS} FROM exceptions WHERE key = ?1");
            c.query_row(&sql, [&key], read_exception)
                .optional()?
                .map(finish_exception)
                .transpose()
        })
        .await
    }

    async fn exception_audit(&self, key: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, key, at, change, note FROM exception_audit
                 WHERE key = ?1 ORDER BY seq",
            )?;
            let rows = stmt.query_map([&key], read_audit)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn audit_since(&self, after_seq: i64) -> Result<Vec<AuditEntry>, StoreError> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, key, at, change, note FROM exception_audit
                 WHERE seq > ?1 ORDER BY seq",
            )?;
            let rows = stmt.query_map([after_seq], read_audit)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn request_retry(
        &self,
        key: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let key = key.to_owned();
        let note = note.map(str::to_owned);
        self.run(move |c| {
            let tx = c.transaction()?;
            let exists = tx
                .query_row(
                    "SELECT 1 FROM exceptions WHERE key = ?1",
                    [&key],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if !exists {
                return Err(StoreError::NotFound {
                    what: "exception",
                    key,
                });
            }
            tx.execute(
                "INSERT INTO exception_requests (key, request, note, requested_at)
                 VALUES (?1, 'retry', ?2, ?3)",
                params![key, note, millis(at)],
            )?;
            let seq = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO exception_audit (key, at, change, note)
                 VALUES (?1, ?2, 'retry-requested', ?3)",
                params![key, millis(at), note],
            )?;
            tx.commit()?;
            Ok(seq)
        })
        .await
    }

    async fn open_requests(&self) -> Result<Vec<ExceptionRequest>, StoreError> {
        self.run(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, key, request, note, requested_at, handled_at, outcome
                 FROM exception_requests WHERE handled_at IS NULL ORDER BY seq",
            )?;
            let rows = stmt.query_map([], read_request)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn requests_for(&self, key: &str) -> Result<Vec<ExceptionRequest>, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, key, request, note, requested_at, handled_at, outcome
                 FROM exception_requests WHERE key = ?1 ORDER BY seq",
            )?;
            let rows = stmt.query_map([&key], read_request)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn finish_request(
        &self,
        seq: i64,
        outcome: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let outcome = outcome.to_owned();
        self.run(move |c| {
            let tx = c.transaction()?;
            let key: Option<String> = tx
                .query_row(
                    "SELECT key FROM exception_requests WHERE seq = ?1 AND handled_at IS NULL",
                    [seq],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(key) = key else {
                return Err(StoreError::NotFound {
                    what: "open request",
                    key: seq.to_string(),
                });
            };
            tx.execute(
                "UPDATE exception_requests SET handled_at = ?2, outcome = ?3 WHERE seq = ?1",
                params![seq, millis(at), outcome],
            )?;
            tx.execute(
                "INSERT INTO exception_audit (key, at, change, note)
                 VALUES (?1, ?2, 'retried', ?3)",
                params![key, millis(at), outcome],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn retry_action(&self, key: &str, at: Timestamp) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let n = c.execute(
                "UPDATE actions SET status = 'pending', attempts = 0, next_attempt_at = ?2,
                 updated_at = ?2 WHERE key = ?1 AND status = 'failed'",
                params![key, millis(at)],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn retry_batch(&self, key: &str, at: Timestamp) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE batches SET status = 'pending', attempts = 0, next_attempt_at = ?2,
                 updated_at = ?2 WHERE key = ?1 AND status = 'failed'",
                params![key, millis(at)],
            )?;
            if n > 0 {
                tx.execute(
                    "UPDATE actions SET status = 'pending', attempts = 0, updated_at = ?2
                     WHERE batch_key = ?1 AND status = 'failed'",
                    params![key, millis(at)],
                )?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
        .await
    }

    async fn wake_deferred_deliveries(&self, at: Timestamp) -> Result<u64, StoreError> {
        self.run(move |c| {
            let n = c.execute(
                "UPDATE deliveries SET not_before = ?1
                 WHERE processed_at IS NULL AND not_before > ?1",
                [millis(at)],
            )?;
            Ok(n as u64)
        })
        .await
    }

    async fn reprocess_delivery(&self, id: i64, at: Timestamp) -> Result<bool, StoreError> {
        self.run(move |c| {
            let n = c.execute(
                "UPDATE deliveries SET processed_at = NULL, not_before = ?2 WHERE id = ?1",
                params![id, millis(at)],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn waiting_for_batch(
        &self,
        kind: &str,
        limit: usize,
    ) -> Result<Vec<OutboxAction>, StoreError> {
        let kind = kind.to_owned();
        self.run(move |c| {
            let sql = format!(
                "SELECT {ACTION_COLUMNS} FROM actions
                 WHERE kind = ?1 AND not_before = ?2 AND batch_key IS NULL AND status = 'pending'
                 ORDER BY seq LIMIT ?3"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![kind, millis(WAITING_FOR_BATCH), limit as i64],
                read_action,
            )?;
            rows.map(|r| finish_action(r?)).collect()
        })
        .await
    }

    async fn create_batch(&self, batch: NewBatch, at: Timestamp) -> Result<(), StoreError> {
        self.run(move |c| {
            let tx = c.transaction()?;
            let at = millis(at);
            tx.execute(
                "INSERT INTO batches (key, kind, grouping, status, next_attempt_at, created_at,
                 updated_at) VALUES (?1, ?2, ?3, 'pending', ?4, ?4, ?4)",
                params![batch.key, batch.kind, batch.grouping, at],
            )?;
            for member in &batch.members {
                let n = tx.execute(
                    "UPDATE actions SET batch_key = ?2, updated_at = ?3
                     WHERE key = ?1 AND kind = ?4 AND batch_key IS NULL AND status = 'pending'
                       AND not_before = ?5",
                    params![member, batch.key, at, batch.kind, millis(WAITING_FOR_BATCH)],
                )?;
                if n == 0 {
                    // Dropping the transaction rolls the batch back.
                    return Err(StoreError::BatchConflict {
                        batch: batch.key.clone(),
                        action: member.clone(),
                    });
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn open_batches(&self, kind: &str) -> Result<Vec<StoredBatch>, StoreError> {
        let kind = kind.to_owned();
        self.run(move |c| {
            read_batches(
                c,
                "WHERE kind = ?1 AND status IN ('pending', 'ambiguous')",
                params![kind],
            )
        })
        .await
    }

    async fn batch(&self, key: &str) -> Result<Option<StoredBatch>, StoreError> {
        let key = key.to_owned();
        self.run(move |c| Ok(read_batches(c, "WHERE key = ?1", params![key])?.pop()))
            .await
    }

    async fn batches(&self) -> Result<Vec<StoredBatch>, StoreError> {
        self.run(|c| read_batches(c, "", params![])).await
    }

    async fn batch_members(&self, key: &str) -> Result<Vec<BatchMember>, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let sql = format!(
                "SELECT {columns}, a.event_key, e.event FROM actions a
                 LEFT JOIN events e ON e.event_key = a.event_key
                 WHERE a.batch_key = ?1 ORDER BY a.seq",
                columns = ACTION_COLUMNS
                    .split(", ")
                    .map(|c| format!("a.{}", c.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map([key], |r| {
                Ok((
                    read_action(r)?,
                    r.get::<_, String>(10)?,
                    r.get::<_, Option<String>>(11)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (action, event_key, event) = row?;
                out.push(BatchMember {
                    action: finish_action(action)?,
                    event_key,
                    event: event.as_deref().map(parse_json).transpose()?,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn begin_batch_attempt(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let n = c.execute(
                "UPDATE batches SET status = 'ambiguous', updated_at = ?2
                 WHERE key = ?1 AND status IN ('pending', 'ambiguous')",
                params![key, millis(Timestamp::now())],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound {
                    what: "open batch",
                    key,
                });
            }
            Ok(())
        })
        .await
    }

    async fn complete_batch(
        &self,
        key: &str,
        result_id: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let tx = c.transaction()?;
            let at = millis(at);
            let n = tx.execute(
                "UPDATE batches SET status = 'done', result_id = ?2, attempts = attempts + 1,
                 last_error = NULL, updated_at = ?3 WHERE key = ?1",
                params![key, result_id, at],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound { what: "batch", key });
            }
            tx.execute(
                "UPDATE actions SET status = 'done', result_id = ?2, attempts = attempts + 1,
                 last_error = NULL, updated_at = ?3 WHERE batch_key = ?1",
                params![key, result_id, at],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn fail_batch(
        &self,
        key: &str,
        error: &str,
        ambiguous: bool,
        retry_at: Option<Timestamp>,
        exception: Option<NewException>,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        let error = error.to_owned();
        self.run(move |c| {
            let tx = c.transaction()?;
            let status = match (retry_at, ambiguous) {
                (None, _) => ActionStatus::Failed,
                (Some(_), true) => ActionStatus::Ambiguous,
                (Some(_), false) => ActionStatus::Pending,
            };
            let now = millis(Timestamp::now());
            let n = tx.execute(
                "UPDATE batches SET status = ?2, attempts = attempts + 1, last_error = ?3,
                 next_attempt_at = ?4, updated_at = ?5 WHERE key = ?1",
                params![
                    key,
                    status.as_str(),
                    error,
                    retry_at.map(millis).unwrap_or(now),
                    now
                ],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound { what: "batch", key });
            }
            if retry_at.is_none() {
                tx.execute(
                    "UPDATE actions SET status = 'failed', attempts = attempts + 1,
                     last_error = ?2, updated_at = ?3 WHERE batch_key = ?1",
                    params![key, format!("batch {key} failed: {error}"), now],
                )?;
                if let Some(e) = &exception {
                    insert_exception(&tx, e, now, false)?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn release_waiting(&self, kind: &str, now: Timestamp) -> Result<u64, StoreError> {
        let kind = kind.to_owned();
        self.run(move |c| {
            let n = c.execute(
                "UPDATE actions SET not_before = ?2, next_attempt_at = ?2, updated_at = ?2
                 WHERE kind = ?1 AND not_before = ?3 AND batch_key IS NULL
                   AND status = 'pending'",
                params![kind, millis(now), millis(WAITING_FOR_BATCH)],
            )?;
            Ok(n as u64)
        })
        .await
    }

    async fn watermark(&self, name: &str) -> Result<Option<String>, StoreError> {
        let name = name.to_owned();
        self.run(move |c| {
            Ok(c.query_row(
                "SELECT value FROM watermarks WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn set_watermark(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let name = name.to_owned();
        let value = value.to_owned();
        self.run(move |c| {
            c.execute(
                "INSERT INTO watermarks (name, value) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                params![name, value],
            )?;
            Ok(())
        })
        .await
    }

    // Drift history

    async fn record_drift_run(&self, run: NewDriftRun) -> Result<i64, StoreError> {
        self.run(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO drift_runs (at, summary) VALUES (?1, ?2)",
                params![millis(run.at), json(&run.summary)?],
            )?;
            let id = tx.last_insert_rowid();
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO drift_rows (run_id, position, class, row) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for row in &run.rows {
                    insert.execute(params![id, row.position, row.class, json(&row.row)?])?;
                }
            }
            tx.commit()?;
            Ok(id)
        })
        .await
    }

    async fn drift_runs(
        &self,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<StoredDriftRun>, StoreError> {
        let since = since.map_or(i64::MIN, millis);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, at, summary FROM drift_runs WHERE at >= ?1
                 ORDER BY at DESC, id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![since, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, at, summary) = row?;
                out.push(StoredDriftRun {
                    id,
                    at: from_millis(at),
                    summary: parse_json(&summary)?,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn drift_run_rows(&self, run_id: i64) -> Result<Vec<StoredDriftRow>, StoreError> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT r.run_id, d.at, r.position, r.class, r.row
                 FROM drift_rows r JOIN drift_runs d ON d.id = r.run_id
                 WHERE r.run_id = ?1 ORDER BY r.position",
            )?;
            read_drift_rows(stmt.query(params![run_id])?)
        })
        .await
    }

    async fn drift_position_history(
        &self,
        position: &str,
        limit: usize,
    ) -> Result<Vec<StoredDriftRow>, StoreError> {
        let position = position.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT r.run_id, d.at, r.position, r.class, r.row
                 FROM drift_rows r JOIN drift_runs d ON d.id = r.run_id
                 WHERE r.position = ?1 ORDER BY d.at DESC, r.run_id DESC LIMIT ?2",
            )?;
            read_drift_rows(stmt.query(params![position, limit])?)
        })
        .await
    }

    async fn prune_drift_runs(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.run(move |c| {
            let tx = c.transaction()?;
            let before = millis(before);
            // Rows first: foreign keys are not enforced, so the cascade is done here.
            tx.execute(
                "DELETE FROM drift_rows WHERE run_id IN (SELECT id FROM drift_runs WHERE at < ?1)",
                params![before],
            )?;
            let runs = tx.execute("DELETE FROM drift_runs WHERE at < ?1", params![before])?;
            tx.commit()?;
            Ok(runs as u64)
        })
        .await
    }
}

fn read_drift_rows(mut rows: rusqlite::Rows<'_>) -> Result<Vec<StoredDriftRow>, StoreError> {
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let row: String = r.get(4)?;
        out.push(StoredDriftRow {
            run_id: r.get(0)?,
            at: from_millis(r.get(1)?),
            position: r.get(2)?,
            class: r.get(3)?,
            row: parse_json(&row)?,
        });
    }
    Ok(out)
}
