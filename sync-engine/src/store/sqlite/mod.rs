//! The embedded SQLite backend of [`Store`](crate::store::Store): one file, WAL, versioned
//! migrations. This module opens the database and migrates it, runs queries on the blocking
//! pool and classifies SQLite's errors; each role is implemented in its own module.
//!
//! rusqlite is synchronous, so every call runs on Tokio's blocking pool behind one connection.
//! One connection is enough: the engine's writes are small and SQLite serialises writers anyway.

mod adapter_state;
mod batches;
mod cluster;
mod deliveries;
mod drift;
mod exceptions;
mod ledger;
mod outbox;
mod watermarks;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, ErrorCode, Row};

use crate::store::StoreError;
use crate::store::rows::{Columns, impl_columns};

use crate::store::rows::{from_millis, json, limit_param, millis};

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
    // 6: several instances on one database (the same schema as PostgreSQL's migration 4):
    // leases (one leader per job), the instances' heartbeats, and claims on deliveries and
    // actions (who works on one, until when).
    "CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        acquired_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        started_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
    );
    CREATE INDEX instances_seen ON instances(last_seen);
    ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
    ALTER TABLE deliveries ADD COLUMN claim_until INTEGER;
    ALTER TABLE actions ADD COLUMN claimed_by TEXT;
    ALTER TABLE actions ADD COLUMN claim_until INTEGER;",
    // 7: adapter state per external record (the same schema as PostgreSQL's migration 5), with
    // a version for compare-and-set and the time of the last write for pruning. The per-record
    // entries the adapters kept as watermarks (`clarus.<resource>.<id>.<what>`) move here.
    "CREATE TABLE adapter_state (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        value TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (kind, id)
    );
    CREATE INDEX adapter_state_age ON adapter_state(kind, updated_at);
    INSERT INTO adapter_state (kind, id, value, version, updated_at)
        SELECT 'clarus.' || resource || '.' || substr(rest, instr(rest, '.') + 1),
               substr(rest, 1, instr(rest, '.') - 1), value, 1,
               CAST(strftime('%s', 'now') AS INTEGER) * 1000
        FROM (SELECT value,
                     substr(after, 1, instr(after, '.') - 1) AS resource,
                     substr(after, instr(after, '.') + 1) AS rest
              FROM (SELECT value, substr(name, 8) AS after FROM watermarks
                    WHERE name GLOB 'clarus.*.[0-9]*.*'))
        WHERE resource IN ('goods_out', 'goods_in', 'stock', 'stock_movement', 'product');
    DELETE FROM watermarks
        WHERE name GLOB 'clarus.*.[0-9]*.*'
          AND substr(name, 8, instr(substr(name, 8), '.') - 1)
              IN ('goods_out', 'goods_in', 'stock', 'stock_movement', 'product');",
    // 8: snapshots of the planner's state, retention of the state log and of recorded events,
    // and the lifecycle documents stuck detection reads (the same schema as PostgreSQL's
    // migration 6; see its comments).
    "CREATE TABLE state_snapshots (
        head INTEGER PRIMARY KEY,
        format INTEGER NOT NULL,
        taken_at INTEGER NOT NULL,
        state TEXT NOT NULL
    );
    CREATE TABLE state_log_horizon (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        through INTEGER NOT NULL
    );
    ALTER TABLE state_log ADD COLUMN recorded_at INTEGER;
    UPDATE state_log SET recorded_at = COALESCE(
        (SELECT e.planned_at FROM events e WHERE e.event_key = state_log.event_key),
        CAST(strftime('%s', 'now') AS INTEGER) * 1000);
    ALTER TABLE events ADD COLUMN owner TEXT;
    CREATE INDEX events_owner ON events(owner, planned_at);
    CREATE INDEX events_planned ON events(planned_at);
    CREATE INDEX events_without_owner ON events(planned_at) WHERE owner IS NULL;
    CREATE INDEX actions_event ON actions(event_key);
    CREATE TABLE documents (
        key TEXT PRIMARY KEY,
        first_seen INTEGER NOT NULL,
        version INTEGER NOT NULL,
        finished_at INTEGER
    );
    CREATE INDEX documents_unfinished ON documents(key) WHERE finished_at IS NULL;",
    // 9: an exception's audit trail is read by key (its page, its assignee, the queue's
    // assignees), as PostgreSQL's initial schema indexes it.
    "CREATE INDEX exception_audit_key ON exception_audit(key, seq);",
    // 10: the oldest waiting delivery of a source is found by the first entry of an index of
    // the waiting deliveries by source and time received, not by reading every waiting one.
    "CREATE INDEX deliveries_waiting_source ON deliveries(source, received_at)
        WHERE processed_at IS NULL;",
    // 11: the intake's claim and its first waiting delivery read the waiting deliveries in the
    // order received from the first entries of this index (named with `INDEXED BY`: without
    // statistics the planner would rather sort every due waiting one from
    // `deliveries_unprocessed`).
    "CREATE INDEX deliveries_waiting ON deliveries(id, not_before) WHERE processed_at IS NULL;",
];

/// [`Store`] on an embedded SQLite database.
///
/// It dereferences to `dyn Store`, so code holding a `SqliteStore` calls every role's methods
/// with only [`Store`] in scope, as it does on an `Arc<dyn Store>`.
///
/// [`Store`]: crate::store::Store
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

backend_store!(SqliteStore);

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
        let open = || -> Result<Self, Failure> {
            let conn = Connection::open(path)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            Self::with_connection(conn)
        };
        Ok(open()?)
    }

    /// A private in-memory database (tests, dry runs).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let open = || Self::with_connection(Connection::open_in_memory()?);
        Ok(open()?)
    }

    fn with_connection(mut conn: Connection) -> Result<Self, Failure> {
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
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Task("connection lock poisoned".into()))?;
            Ok(f(&mut guard)?)
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

/// The database file cannot be created, with the reason.
#[cfg(unix)]
fn cannot_create(path: &Path, e: &std::io::Error) -> StoreError {
    let transient = matches!(
        e.kind(),
        std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock
    );
    StoreError::backend(
        std::io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display())),
        false,
        transient,
    )
}

fn migrate(conn: &mut Connection) -> Result<(), Failure> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        }
        .into());
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// Every row `sql` returns for `params`, each read by `read` (one of [`crate::store::rows`]'s
/// readers).
fn read_all<T>(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    read: impl Fn(&dyn Columns) -> Result<T, StoreError>,
) -> Result<Vec<T>, Failure> {
    let mut stmt = c.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read(r)?);
    }
    Ok(out)
}

impl_columns!(Row<'_>, get, classify);

/// What went wrong inside this backend: SQLite's own error, or one of the store's. rusqlite's
/// errors convert into it with `?`; it becomes a [`StoreError`] when a call returns, SQLite's
/// errors classified on the way (see [`classify`]), so no rusqlite type leaves this module.
#[derive(Debug)]
enum Failure {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Sqlite(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Failure::Store(StoreError::Payload(e))
    }
}

impl From<Failure> for StoreError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Sqlite(e) => classify(e),
            Failure::Store(e) => e,
        }
    }
}

/// SQLite's error as a [`StoreError::Backend`]: busy or locked (another connection holds the
/// lock past the busy timeout) is transient; a constraint violation is a conflict; a WAL
/// snapshot that another writer made stale (`SQLITE_BUSY_SNAPSHOT`) is both, as a serialisation
/// failure is in other databases.
fn classify(e: rusqlite::Error) -> StoreError {
    let (conflict, transient) = match e.sqlite_error() {
        Some(f) if f.extended_code == rusqlite::ffi::SQLITE_BUSY_SNAPSHOT => (true, true),
        Some(f) => match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => (false, true),
            ErrorCode::ConstraintViolation => (true, false),
            _ => (false, false),
        },
        None => (false, false),
    };
    StoreError::backend(e, conflict, transient)
}

#[cfg(test)]
mod tests {
    use rusqlite::ffi;

    use super::*;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None)
    }

    fn kind(e: &StoreError) -> (bool, bool) {
        (e.is_conflict(), e.is_transient())
    }

    #[test]
    fn sqlite_errors_are_classified() {
        assert_eq!(kind(&classify(failure(ffi::SQLITE_BUSY))), (false, true));
        assert_eq!(kind(&classify(failure(ffi::SQLITE_LOCKED))), (false, true));
        assert_eq!(
            kind(&classify(failure(ffi::SQLITE_CONSTRAINT_UNIQUE))),
            (true, false)
        );
        assert_eq!(
            kind(&classify(failure(ffi::SQLITE_BUSY_SNAPSHOT))),
            (true, true)
        );
        assert_eq!(
            kind(&classify(failure(ffi::SQLITE_CORRUPT))),
            (false, false)
        );
        assert_eq!(
            kind(&classify(rusqlite::Error::QueryReturnedNoRows)),
            (false, false)
        );
        assert!(matches!(
            classify(failure(ffi::SQLITE_BUSY)),
            StoreError::Backend { .. }
        ));
    }

    #[test]
    fn per_record_watermarks_move_to_the_adapter_state() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        for (name, value) in [
            ("clarus.goods_in.12.stages", "{\"stages\":{}}"),
            ("clarus.stock.7.held_by_receipt", "{\"goods_in\":12}"),
            ("clarus.stock_movement.99.made_by_receipt", "receipt"),
            ("clarus.movement_sweep", "2026-11-01T00:00:00Z"),
            ("netsuite.salesOrder", "2026-11-01T00:00:00Z"),
        ] {
            conn.execute(
                "INSERT INTO watermarks (name, value) VALUES (?1, ?2)",
                [name, value],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let mut moved: Vec<(String, String, String, i64)> = conn
            .prepare("SELECT kind, id, value, version FROM adapter_state")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        moved.sort();
        let expected = [
            ("clarus.goods_in.stages", "12", "{\"stages\":{}}"),
            ("clarus.stock.held_by_receipt", "7", "{\"goods_in\":12}"),
            ("clarus.stock_movement.made_by_receipt", "99", "receipt"),
        ];
        assert_eq!(
            moved,
            expected
                .iter()
                .map(|(k, i, v)| (k.to_string(), i.to_string(), v.to_string(), 1))
                .collect::<Vec<_>>()
        );
        let mut left: Vec<String> = conn
            .prepare("SELECT name FROM watermarks")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        left.sort();
        assert_eq!(left, ["clarus.movement_sweep", "netsuite.salesOrder"]);
    }

    #[test]
    fn a_unique_key_written_twice_is_a_conflict() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY)")
            .unwrap();
        conn.execute("INSERT INTO t VALUES ('a')", []).unwrap();
        let e = StoreError::from(Failure::from(
            conn.execute("INSERT INTO t VALUES ('a')", []).unwrap_err(),
        ));
        assert!(e.is_conflict());
        assert!(!e.is_transient());
        // The backend's error is kept as the source, and named in the message.
        assert!(std::error::Error::source(&e).is_some());
        assert!(e.to_string().starts_with("database error: "), "{e}");
    }

    #[test]
    fn a_write_lock_held_by_another_connection_is_transient() {
        let dir = std::env::temp_dir().join(format!("store-busy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("busy.sqlite");
        let _ = std::fs::remove_file(&path);
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("CREATE TABLE t (k TEXT); BEGIN IMMEDIATE; INSERT INTO t VALUES ('a');")
            .unwrap();
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(std::time::Duration::ZERO).unwrap();
        let e = StoreError::from(Failure::from(
            other.execute("INSERT INTO t VALUES ('b')", []).unwrap_err(),
        ));
        assert!(e.is_transient(), "{e}");
        assert!(!e.is_conflict());
        drop(holder);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
