//! The backends the conformance suite runs on, and the fixtures its behaviours share.
//!
//! - SQLite: a private in-memory database per test, or a file in a temporary directory when the
//!   behaviour reopens the store.
//! - PostgreSQL (feature `postgres`): the database at `SYNC_TEST_DATABASE_URL` (default
//!   [`DEFAULT_DATABASE_URL`]), a fresh schema per test so that tests run in parallel, dropped
//!   when the test ends, passed or failed. When the database cannot be reached the PostgreSQL
//!   tests fail if `CI` is set and otherwise pass after one line on stderr saying they were
//!   skipped.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::BoxFuture;
use jiff::Timestamp;
use serde_json::json;
use sync_engine::store::{NewAction, NewException, OutboxAction, PlanCommit, SqliteStore, Store};

/// A time in the tests: `secs` after a fixed instant.
pub fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

/// An action of `document`, due at `not_before`.
pub fn action(key: &str, document: &str, not_before: Timestamp) -> NewAction {
    NewAction {
        key: key.into(),
        document: document.into(),
        kind: "fulfil_sales_order".into(),
        payload: json!({"key": key}),
        not_before,
    }
}

/// An exception of document `SO-1`.
pub fn exception(key: &str) -> NewException {
    NewException {
        key: key.into(),
        kind: "unknown_sku".into(),
        owner: "item_master".into(),
        severity: "error".into(),
        document: "SO-1".into(),
        message: "SKU X is not in NetSuite".into(),
        runbook: "operations.md#unknown-sku".into(),
        payload: json!({"sku": "X"}),
    }
}

/// The plan of event `event_key` on document `SO-1`, planned at `t(0)`, enqueueing `actions`.
pub fn commit(event_key: &str, actions: Vec<NewAction>) -> PlanCommit {
    PlanCommit {
        event_key: event_key.into(),
        mark_seen: true,
        document: "SO-1".into(),
        event: json!({"event": event_key}),
        planned_at: t(0),
        changes: vec![json!({"change": event_key})],
        actions,
        exceptions: vec![],
        resolved_exceptions: vec![],
        owner: None,
    }
}

/// The keys of `actions`, in order.
pub fn keys(actions: &[OutboxAction]) -> Vec<String> {
    actions.iter().map(|a| a.action.key.clone()).collect()
}

/// The kinds of the actions in `store`, in the order it lists them.
pub async fn action_kinds(store: &dyn Store) -> Vec<String> {
    let actions = store.actions().await.unwrap();
    actions.into_iter().map(|a| a.action.kind).collect()
}

/// The keys of the actions in `store`, in the order it lists them.
pub async fn action_keys(store: &dyn Store) -> Vec<String> {
    keys(&store.actions().await.unwrap())
}

/// The actions of `kind` in `store`, in the order it lists them.
pub async fn actions_of_kind(store: &dyn Store, kind: &str) -> Vec<OutboxAction> {
    let actions = store.actions().await.unwrap();
    actions
        .into_iter()
        .filter(|a| a.action.kind == kind)
        .collect()
}

/// Opens the same store again, as a restarted process would: for behaviours that must survive
/// a restart. Every store it returns sees the same data.
pub struct Reopen(Box<dyn Fn() -> BoxFuture<'static, Arc<dyn Store>> + Send + Sync>);

impl Reopen {
    /// A new handle on the store (drop the previous one first to model a restart).
    pub async fn open(&self) -> Arc<dyn Store> {
        (self.0)().await
    }
}

/// A fresh SQLite store: a private in-memory database.
pub fn sqlite() -> Arc<dyn Store> {
    Arc::new(SqliteStore::open_in_memory().expect("in-memory SQLite store"))
}

/// Runs `test` with a [`Reopen`] on a SQLite file in a new temporary directory, removed after.
pub async fn on_sqlite_file<F, Fut>(test: F)
where
    F: FnOnce(Reopen) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = temp_dir("store");
    let path = dir.join("state.sqlite");
    let reopen = Reopen(Box::new(move || {
        let path = path.clone();
        Box::pin(async move {
            Arc::new(SqliteStore::open(&path).expect("SQLite store file opens")) as Arc<dyn Store>
        })
    }));
    test(reopen).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A new, empty directory under the system's temporary directory.
pub fn temp_dir(what: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sync-engine-conformance-{what}-{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        Timestamp::now().as_nanosecond()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[cfg(feature = "postgres")]
pub use self::postgres::{on_postgres, on_postgres_reopen};

#[cfg(feature = "postgres")]
mod postgres {
    use std::io::Write;
    use std::panic::{AssertUnwindSafe, resume_unwind};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use futures_util::FutureExt;
    use sqlx::{Connection, Executor, PgConnection};
    use sync_engine::store::{PgOptions, PgStore, Store};
    use tokio::sync::OnceCell;

    use super::Reopen;

    /// The database the PostgreSQL tests use unless `SYNC_TEST_DATABASE_URL` names another.
    pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

    /// Prefix of the schemas the suite creates.
    const PREFIX: &str = "conf_";

    /// Leftover schemas of earlier runs (a test killed before its clean-up) older than this are
    /// dropped when the suite starts; younger ones may belong to a run going on right now.
    const STALE_AFTER: Duration = Duration::from_secs(3600);

    fn database_url() -> String {
        std::env::var("SYNC_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.into())
    }

    /// The URL without its password, for messages.
    fn shown(url: &str) -> String {
        match url::Url::parse(url) {
            Ok(mut u) => {
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                u.to_string()
            }
            Err(_) => "(unparsable SYNC_TEST_DATABASE_URL)".into(),
        }
    }

    fn now_nanos() -> u128 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    }

    /// Whether PostgreSQL answers, checked once per test binary; on the way, drops the stale
    /// schemas of earlier runs. `Err` carries why it could not be reached.
    async fn reachable(url: &str) -> &'static Result<(), String> {
        static PROBE: OnceCell<Result<(), String>> = OnceCell::const_new();
        PROBE
            .get_or_init(|| async {
                let connect =
                    tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(url)).await;
                let mut conn = match connect {
                    Ok(Ok(conn)) => conn,
                    Ok(Err(e)) => return Err(e.to_string()),
                    Err(_) => return Err("no answer within 10 s".into()),
                };
                drop_stale_schemas(&mut conn).await;
                let _ = conn.close().await;
                Ok(())
            })
            .await
    }

    async fn drop_stale_schemas(conn: &mut PgConnection) {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, 'conf_')",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_default();
        let cutoff = now_nanos().saturating_sub(STALE_AFTER.as_nanos());
        for name in names {
            let created = name
                .rsplit('_')
                .next()
                .and_then(|nanos| nanos.parse::<u128>().ok());
            if created.is_some_and(|created| created < cutoff) {
                let _ = conn
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS \"{name}\" CASCADE"
                    )))
                    .await;
            }
        }
    }

    /// The URL of a reachable database, or `None` when the test is to pass without running.
    async fn database() -> Option<String> {
        let url = database_url();
        match reachable(&url).await {
            Ok(()) => Some(url),
            Err(e) if std::env::var_os("CI").is_some() => panic!(
                "PostgreSQL is not reachable at {} ({e}), and CI is set: the store conformance \
                 suite must run against it. Start it with `.ci/run` (or `pg_ctlcluster \
                 --skip-systemctl-redirect $(ls /etc/postgresql) main start && createdb -h \
                 127.0.0.1 -U postgres test`), or point SYNC_TEST_DATABASE_URL at a database.",
                shown(&url)
            ),
            Err(e) => {
                static NOTED: std::sync::Once = std::sync::Once::new();
                NOTED.call_once(|| {
                    // Straight to stderr: the test harness captures `eprintln!`.
                    let _ = writeln!(
                        std::io::stderr(),
                        "store conformance: PostgreSQL not reachable at {} ({e}); the \
                         postgres:: tests pass without running (set CI to make them fail)",
                        shown(&url)
                    );
                });
                None
            }
        }
    }

    /// A schema name unique to this test: `conf_<pid>_<counter>_<nanos>`.
    fn fresh_schema() -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        format!(
            "{PREFIX}{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            now_nanos()
        )
    }

    async fn connect(url: &str, schema: &str) -> PgStore {
        let options = PgOptions {
            max_connections: 4,
            schema: Some(schema.to_owned()),
            ..PgOptions::default()
        };
        PgStore::connect(url, options)
            .await
            .unwrap_or_else(|e| panic!("PgStore::connect (schema {schema}): {e}"))
    }

    /// Runs `body` with a fresh schema, then drops the schema whatever happened, then lets a
    /// panic of `body` continue.
    async fn in_fresh_schema<F, Fut>(body: F)
    where
        F: FnOnce(String, String) -> Fut,
        Fut: Future<Output = ()>,
    {
        let Some(url) = database().await else {
            return;
        };
        let schema = fresh_schema();
        let outcome = AssertUnwindSafe(body(url.clone(), schema.clone()))
            .catch_unwind()
            .await;
        drop_schema(&url, &schema).await;
        if let Err(panic) = outcome {
            resume_unwind(panic);
        }
    }

    async fn drop_schema(url: &str, schema: &str) {
        let dropped = async {
            let mut conn = PgConnection::connect(url).await?;
            conn.execute(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
            )))
            .await?;
            conn.close().await
        };
        if let Err(e) = dropped.await {
            let _ = writeln!(
                std::io::stderr(),
                "store conformance: could not drop schema {schema}: {e}"
            );
        }
    }

    /// Runs `test` on a [`PgStore`] in a fresh schema.
    pub async fn on_postgres<F, Fut>(test: F)
    where
        F: FnOnce(Arc<dyn Store>) -> Fut,
        Fut: Future<Output = ()>,
    {
        in_fresh_schema(|url, schema| async move {
            let store = connect(&url, &schema).await;
            test(Arc::new(store.clone())).await;
            store.close().await;
        })
        .await;
    }

    /// Runs `test` with a [`Reopen`] that connects a new [`PgStore`] to one fresh schema.
    pub async fn on_postgres_reopen<F, Fut>(test: F)
    where
        F: FnOnce(Reopen) -> Fut,
        Fut: Future<Output = ()>,
    {
        in_fresh_schema(|url, schema| async move {
            let reopen = Reopen(Box::new(move || {
                let (url, schema) = (url.clone(), schema.clone());
                Box::pin(async move { Arc::new(connect(&url, &schema).await) as Arc<dyn Store> })
            }));
            test(reopen).await;
        })
        .await;
    }
}
