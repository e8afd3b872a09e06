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

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{
    PgArguments, PgConnectOptions, PgExecutor, PgPool, PgPoolOptions, PgRow, Postgres,
};
use sqlx::{Connection, Executor, Row};

use crate::store::StoreError;
use crate::store::rows::{Columns, impl_columns};

use crate::store::rows::{from_millis, json, limit_param, millis, parse_json};

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
    (
        7,
        "waiting deliveries by source",
        include_str!("../../../migrations/postgres/0007_waiting_deliveries.sql"),
    ),
    (
        8,
        "waiting deliveries by id",
        include_str!("../../../migrations/postgres/0008_waiting_deliveries_by_id.sql"),
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
///
/// [`Store`]: crate::store::Store
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

backend_store!(PgStore);

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

    /// A transaction on a connection of the pool.
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, Postgres>, StoreError> {
        self.pool.begin().await.map_err(classify)
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

/// A query with its parameters bound.
type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// A query whose text was built at run time, from this crate's own column lists and clauses
/// (never from input: every value is a bound parameter).
fn built(sql: String) -> PgQuery<'static> {
    sqlx::query(sqlx::AssertSqlSafe(sql))
}

/// Runs `query` on `on` (the pool or a transaction); returns how many rows it changed.
async fn exec<'c>(query: PgQuery<'_>, on: impl PgExecutor<'c>) -> Result<u64, StoreError> {
    Ok(query.execute(on).await.map_err(classify)?.rows_affected())
}

/// Every row `query` returns on `on`, each read by `read` (one of [`crate::store::rows`]'s
/// readers).
async fn fetch_all<'c, T>(
    query: PgQuery<'_>,
    on: impl PgExecutor<'c>,
    read: impl Fn(&dyn Columns) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let rows = query.fetch_all(on).await.map_err(classify)?;
    rows.iter().map(|r| read(r)).collect()
}

/// The row `query` (a query of at most one row) returns on `on`, read by `read`.
async fn fetch_optional<'c, T>(
    query: PgQuery<'_>,
    on: impl PgExecutor<'c>,
    read: impl Fn(&dyn Columns) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    Ok(fetch_all(query, on, read).await?.pop())
}

/// Commits `tx`.
async fn commit(tx: sqlx::Transaction<'_, Postgres>) -> Result<(), StoreError> {
    tx.commit().await.map_err(classify)
}

impl_columns!(PgRow, try_get, classify);

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
