//! The PostgreSQL backend of [`Store`](crate::store::Store), behind the `postgres` feature: one
//! database shared by every instance of the engine, a connection pool, and `.sql` migrations
//! (`sync-engine/migrations/postgres/`) embedded in the binary and applied by sqlx's migrator,
//! which holds an advisory lock while it runs so that instances starting together migrate once.
//!
//! The schema is the SQLite backend's, table for table: times are Unix milliseconds (`BIGINT`),
//! payloads the JSON text the engine serialised, bodies raw bytes. This module connects,
//! migrates and classifies PostgreSQL's errors; each role is implemented in its own module.

mod adapter_state;
mod batches;
mod cluster;
mod deliveries;
mod drift;
mod exceptions;
mod ledger;
mod outbox;
mod watermarks;

use std::borrow::Cow;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor};

use crate::store::{Store, StoreError};

/// The migrations, in order. Each is applied once, in its own transaction, and recorded in
/// `_sqlx_migrations` with its checksum: a migration changed after it ran is refused.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial schema",
        include_str!("../../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "events seq",
        include_str!("../../../migrations/postgres/0002_events_seq.sql"),
    ),
    (
        3,
        "batches seq",
        include_str!("../../../migrations/postgres/0003_batches_seq.sql"),
    ),
    (
        4,
        "cluster",
        include_str!("../../../migrations/postgres/0004_cluster.sql"),
    ),
    (
        5,
        "adapter state",
        include_str!("../../../migrations/postgres/0005_adapter_state.sql"),
    ),
    (
        6,
        "history",
        include_str!("../../../migrations/postgres/0006_history.sql"),
    ),
];

/// How a [`PgStore`] connects.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections in the pool (default 8).
    pub max_connections: u32,
    /// How long a call waits for a free connection before it fails as transient (default 10 s).
    pub acquire_timeout: Duration,
    /// The schema the store's tables live in (default: the connection's `search_path`, usually
    /// `public`). Created when missing. Tests give each store its own.
    pub schema: Option<String>,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
            schema: None,
        }
    }
}

/// [`Store`] on PostgreSQL.
///
/// Cloning is cheap (the pool is shared). It dereferences to `dyn Store`, so code holding a
/// `PgStore` calls every role's methods with only [`Store`] in scope.
///
/// ```no_run
/// # async fn demo() -> Result<(), sync_engine::store::StoreError> {
/// use std::sync::Arc;
/// use sync_engine::store::{PgOptions, PgStore, Store};
///
/// let store: Arc<dyn Store> = Arc::new(
///     PgStore::connect("postgres://sync@db.internal/sync", PgOptions::default()).await?,
/// );
/// # drop(store); Ok(()) }
/// ```
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The pool's options hold the password: never print them.
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl std::ops::Deref for PgStore {
    type Target = dyn Store;

    fn deref(&self) -> &Self::Target {
        self
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`, with
    /// `?sslmode=require` or `verify-full` for a database across a network), creates the schema
    /// when one is named and missing, and applies pending migrations.
    pub async fn connect(url: &str, options: PgOptions) -> Result<Self, StoreError> {
        let connect: PgConnectOptions = url.parse().map_err(classify)?;
        if let Some(schema) = &options.schema {
            let mut conn = sqlx::PgConnection::connect_with(&connect)
                .await
                .map_err(classify)?;
            let create = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema));
            conn.execute(sqlx::AssertSqlSafe(create))
                .await
                .map_err(classify)?;
            conn.close().await.map_err(classify)?;
        }
        let connect = match &options.schema {
            Some(schema) => connect.options([("search_path", schema.as_str())]),
            None => connect,
        };
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(classify)?;
        migrator()
            .run(&pool)
            .await
            .map_err(|e| StoreError::backend(e, false, false))?;
        Ok(PgStore { pool })
    }

    /// The connection pool (for the backend's own modules and for tests).
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    sqlx::SqlStr::from_static(sql),
                    false,
                )
            })
            .collect(),
    )
}

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// A stored time read back. Times outside jiff's millisecond range are clamped to its ends:
/// [`WAITING_FOR_BATCH`](crate::store::WAITING_FOR_BATCH) (`Timestamp::MAX`, stored as its
/// milliseconds, which jiff does not take back) reads back as itself, never as the epoch.
fn from_millis(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms > 0 {
        Timestamp::MAX
    } else {
        Timestamp::MIN
    })
}

fn json(value: &Value) -> Result<String, StoreError> {
    Ok(serde_json::to_string(value)?)
}

fn parse_json(text: &str) -> Result<Value, StoreError> {
    Ok(serde_json::from_str(text)?)
}

/// PostgreSQL's error as a [`StoreError::Backend`].
///
/// - Conflict: integrity constraint violations (SQLSTATE class `23`: unique key, foreign key,
///   check, not null).
/// - Conflict and transient: serialisation failure (`40001`) and deadlock (`40P01`): the
///   transaction lost to a concurrent one and may be retried as a whole.
/// - Transient: connection failures (class `08`), the server shutting down or refusing more
///   connections (`57P01`–`57P03`, `53300`), lock timeouts (`55P03`), and the pool or socket
///   failing on our side (timeout waiting for a connection, I/O, a closed pool).
pub(crate) fn classify(e: sqlx::Error) -> StoreError {
    let (conflict, transient) = match &e {
        sqlx::Error::Database(db) => sqlstate_kind(db.code().as_deref().unwrap_or("")),
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => (false, true),
        _ => (false, false),
    };
    StoreError::backend(e, conflict, transient)
}

/// `(conflict, transient)` for an SQLSTATE code.
fn sqlstate_kind(code: &str) -> (bool, bool) {
    match code {
        "40001" | "40P01" => (true, true),
        "57P01" | "57P02" | "57P03" | "53300" | "55P03" => (false, true),
        c if c.starts_with("23") => (true, false),
        c if c.starts_with("08") => (false, true),
        _ => (false, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_are_classified() {
        for (code, expected) in [
            ("23505", (true, false)),
            ("23503", (true, false)),
            ("40001", (true, true)),
            ("40P01", (true, true)),
            ("08006", (false, true)),
            ("57P01", (false, true)),
            ("53300", (false, true)),
            ("55P03", (false, true)),
            ("42P01", (false, false)),
            ("", (false, false)),
        ] {
            assert_eq!(sqlstate_kind(code), expected, "{code}");
        }
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("sync"), "\"sync\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
