//! [`ExceptionStore`] on PostgreSQL: `exceptions`, `exception_audit` and `exception_requests`.
//!
//! Behaves as the SQLite backend does, audit entries included. Several instances may write at
//! once, so the rows a write depends on are locked (`FOR UPDATE`) before they are read: an
//! exception raised by two instances together is inserted once and audited once, and a request
//! is finished once.

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::PgConnection;

use super::{
    PgQuery, PgStore, built, classify, commit, exec, fetch_all, fetch_optional, json, limit_param,
    millis,
};
use crate::store::exceptions::recordable;
use crate::store::rows::{
    AUDIT_COLUMNS, EXCEPTION_COLUMNS, REQUEST_COLUMNS, audit, exception, not_found, request,
};
use crate::store::{
    AuditEntry, ExceptionCursor, ExceptionQuery, ExceptionRequest, ExceptionStore, NewException,
    StoreError, StoredException,
};

/// Raises `e` at `at` (Unix ms) inside the caller's transaction, with its audit entry, as the
/// SQLite backend does: a new exception is inserted (`raised`); a resolved one is reopened with
/// the new details (`reopened`); an open one is left alone, unless `refresh` is set, in which
/// case its message and payload are replaced when the message changed (`updated`, noting the
/// new message).
///
/// Call it with a transaction (`&mut *tx`): it locks the exception's row until the caller
/// commits.
pub(super) async fn insert_exception(
    conn: &mut PgConnection,
    e: &NewException,
    at: i64,
    refresh: bool,
) -> Result<(), StoreError> {
    let payload = json(&e.payload)?;
    // Every column of the exception, `$1` to `$9`, for the insert and the reopening update.
    let fields = |query: PgQuery<'static>| {
        let query = query
            .bind(e.key.clone())
            .bind(e.kind.clone())
            .bind(e.owner.clone());
        let query = query.bind(e.severity.clone()).bind(e.document.clone());
        let query = query.bind(e.message.clone()).bind(e.runbook.clone());
        query.bind(payload.clone()).bind(at)
    };
    loop {
        let open: Option<Option<i64>> =
            sqlx::query_scalar("SELECT resolved_at FROM exceptions WHERE key = $1 FOR UPDATE")
                .bind(&e.key)
                .fetch_optional(&mut *conn)
                .await
                .map_err(classify)?;
        match open {
            // Already open: raising it again changes nothing, unless the caller refreshes it
            // with the newest details (a drift exception shows the figures of the latest
            // reading).
            Some(None) if !refresh => return Ok(()),
            Some(None) => {
                let query = sqlx::query(
                    "UPDATE exceptions SET message = $2, payload = $3
                     WHERE key = $1 AND message <> $2",
                );
                let query = query.bind(&e.key).bind(&e.message).bind(&payload);
                if exec(query, &mut *conn).await? > 0 {
                    append_audit(conn, &e.key, at, "updated", Some(&e.message)).await?;
                }
                return Ok(());
            }
            // Resolved before and raised again: reopen with the new details.
            Some(Some(_)) => {
                let query = sqlx::query(
                    "UPDATE exceptions SET kind = $2, owner = $3, severity = $4, document = $5,
                     message = $6, runbook = $7, payload = $8, raised_at = $9,
                     resolved_at = NULL, resolution_note = NULL
                     WHERE key = $1",
                );
                exec(fields(query), &mut *conn).await?;
                append_audit(conn, &e.key, at, "reopened", None).await?;
                return Ok(());
            }
            None => {
                // Another instance may insert the same key between the read and the insert:
                // then nothing is inserted here and the loop reads (and locks) its row.
                let query = sqlx::query(
                    "INSERT INTO exceptions (key, kind, owner, severity, document, message,
                     runbook, payload, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (key) DO NOTHING",
                );
                if exec(fields(query), &mut *conn).await? == 0 {
                    continue;
                }
                append_audit(conn, &e.key, at, "raised", None).await?;
                return Ok(());
            }
        }
    }
}

/// Appends `change` with `note` to the audit trail of exception `key` inside the caller's
/// transaction; returns its position.
async fn append_audit(
    conn: &mut PgConnection,
    key: &str,
    at: i64,
    change: &str,
    note: Option<&str>,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO exception_audit (key, at, change, note) VALUES ($1, $2, $3, $4)
         RETURNING seq",
    )
    .bind(key)
    .bind(at)
    .bind(change)
    .bind(note)
    .fetch_one(conn)
    .await
    .map_err(classify)
}

/// Resolves the open exception `key` at `at` (Unix ms) with `note` inside the caller's
/// transaction, with a `resolved` audit entry noting it. Returns whether it was open (resolving
/// a resolved or unknown exception changes nothing).
pub(super) async fn resolve_exception_in(
    conn: &mut PgConnection,
    key: &str,
    note: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let query = sqlx::query(
        "UPDATE exceptions SET resolved_at = $2, resolution_note = $3
         WHERE key = $1 AND resolved_at IS NULL",
    );
    let changed = exec(query.bind(key).bind(at).bind(note), &mut *conn).await?;
    if changed > 0 {
        append_audit(conn, key, at, "resolved", Some(note)).await?;
    }
    Ok(changed > 0)
}

/// A query of the exceptions: `SELECT` with their columns, then `rest`.
fn select_exceptions(rest: &str) -> PgQuery<'static> {
    let sql = format!("SELECT {EXCEPTION_COLUMNS} FROM exceptions {rest}");
    built(sql)
}

/// A query of the audit trail: `SELECT` with its columns, then `rest`.
fn select_audit(rest: &str) -> PgQuery<'static> {
    let sql = format!("SELECT {AUDIT_COLUMNS} FROM exception_audit {rest}");
    built(sql)
}

/// A query of the requests: `SELECT` with their columns, then `rest`.
fn select_requests(rest: &str) -> PgQuery<'static> {
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM exception_requests {rest}");
    built(sql)
}

/// Fails with [`StoreError::NotFound`] unless the exception `key` exists.
async fn must_exist(conn: &mut PgConnection, key: &str) -> Result<(), StoreError> {
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM exceptions WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(classify)?;
    match exists {
        Some(_) => Ok(()),
        None => Err(not_found("exception", key)),
    }
}

#[async_trait]
impl ExceptionStore for PgStore {
    async fn raise_exception(&self, e: NewException, at: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        insert_exception(&mut tx, &e, millis(at), false).await?;
        commit(tx).await
    }

    async fn refresh_exception(&self, e: NewException, at: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        insert_exception(&mut tx, &e, millis(at), true).await?;
        commit(tx).await
    }

    async fn resolve_exception(
        &self,
        key: &str,
        note: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        must_exist(&mut tx, key).await?;
        resolve_exception_in(&mut tx, key, note, millis(at)).await?;
        commit(tx).await
    }

    async fn exceptions(&self) -> Result<Vec<StoredException>, StoreError> {
        // Keys in byte order, as SQLite compares them, whatever the database's collation.
        let query =
            select_exceptions("ORDER BY resolved_at IS NOT NULL, raised_at, key COLLATE \"C\"");
        fetch_all(query, self.pool(), exception).await
    }

    async fn open_exceptions(&self) -> Result<Vec<StoredException>, StoreError> {
        let query =
            select_exceptions("WHERE resolved_at IS NULL ORDER BY raised_at, key COLLATE \"C\"");
        fetch_all(query, self.pool(), exception).await
    }

    async fn exceptions_page(
        &self,
        filter: &ExceptionQuery,
        after: Option<&ExceptionCursor>,
        limit: usize,
    ) -> Result<Vec<StoredException>, StoreError> {
        // Only the clauses the filter needs, so the open ones are read through their partial
        // index; keys compared in byte order, as SQLite compares them.
        let mut clauses: Vec<String> = Vec::new();
        let mut n = 1;
        let mut next = || {
            n += 1;
            n
        };
        match filter.open {
            Some(true) => clauses.push("resolved_at IS NULL".into()),
            Some(false) => clauses.push("resolved_at IS NOT NULL".into()),
            None => {}
        }
        if !filter.kinds.is_empty() {
            clauses.push(format!("kind = ANY(${})", next()));
        }
        if filter.key_prefix.is_some() {
            clauses.push(format!("starts_with(key, ${})", next()));
        }
        if !filter.keys.is_empty() {
            clauses.push(format!("key = ANY(${})", next()));
        }
        if after.is_some() {
            let (at, key) = (next(), next());
            clauses.push(format!(
                "(raised_at > ${at} OR (raised_at = ${at} AND key COLLATE \"C\" > ${key}))"
            ));
        }
        let filter_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let mut query = select_exceptions(&format!(
            "{filter_sql} ORDER BY raised_at, key COLLATE \"C\" LIMIT $1"
        ))
        .bind(limit_param(limit));
        if !filter.kinds.is_empty() {
            query = query.bind(filter.kinds.clone());
        }
        if let Some(prefix) = &filter.key_prefix {
            query = query.bind(prefix.clone());
        }
        if !filter.keys.is_empty() {
            query = query.bind(filter.keys.clone());
        }
        if let Some(after) = after {
            query = query.bind(millis(after.raised_at)).bind(after.key.clone());
        }
        fetch_all(query, self.pool(), exception).await
    }

    async fn exception(&self, key: &str) -> Result<Option<StoredException>, StoreError> {
        let query = select_exceptions("WHERE key = $1").bind(key);
        fetch_optional(query, self.pool(), exception).await
    }

    async fn exception_audit(&self, key: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let query = select_audit("WHERE key = $1 ORDER BY seq").bind(key);
        fetch_all(query, self.pool(), audit).await
    }

    async fn audit_since(&self, after_seq: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let query = select_audit("WHERE seq > $1 ORDER BY seq").bind(after_seq);
        fetch_all(query, self.pool(), audit).await
    }

    async fn audit_head(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM exception_audit")
            .fetch_one(self.pool())
            .await
            .map_err(classify)
    }

    async fn record_audit(
        &self,
        key: &str,
        change: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        recordable(change)?;
        let mut tx = self.begin().await?;
        must_exist(&mut tx, key).await?;
        let seq = append_audit(&mut tx, key, millis(at), change, note).await?;
        commit(tx).await?;
        Ok(seq)
    }

    async fn latest_audit(
        &self,
        change: &str,
        keys: &[String],
    ) -> Result<Vec<AuditEntry>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM (
                 SELECT DISTINCT ON (key) {AUDIT_COLUMNS} FROM exception_audit
                 WHERE change = $1 AND key = ANY($2) ORDER BY key, seq DESC
             ) latest ORDER BY seq"
        );
        let query = built(sql).bind(change).bind(keys);
        fetch_all(query, self.pool(), audit).await
    }

    async fn request_retry(
        &self,
        key: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let at = millis(at);
        let mut tx = self.begin().await?;
        must_exist(&mut tx, key).await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO exception_requests (key, request, note, requested_at)
             VALUES ($1, 'retry', $2, $3) RETURNING seq",
        )
        .bind(key)
        .bind(note)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        append_audit(&mut tx, key, at, "retry-requested", note).await?;
        commit(tx).await?;
        Ok(seq)
    }

    async fn open_requests(&self) -> Result<Vec<ExceptionRequest>, StoreError> {
        let query = select_requests("WHERE handled_at IS NULL ORDER BY seq");
        fetch_all(query, self.pool(), request).await
    }

    async fn requests_for(&self, key: &str) -> Result<Vec<ExceptionRequest>, StoreError> {
        let query = select_requests("WHERE key = $1 ORDER BY seq").bind(key);
        fetch_all(query, self.pool(), request).await
    }

    async fn finish_request(
        &self,
        seq: i64,
        outcome: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let at = millis(at);
        let mut tx = self.begin().await?;
        // Locked, so that two instances handling the same request finish it once: the second
        // finds it handled.
        let key: Option<String> = sqlx::query_scalar(
            "SELECT key FROM exception_requests WHERE seq = $1 AND handled_at IS NULL
             FOR UPDATE",
        )
        .bind(seq)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let Some(key) = key else {
            return Err(not_found("open request", seq.to_string()));
        };
        let query = sqlx::query(
            "UPDATE exception_requests SET handled_at = $2, outcome = $3 WHERE seq = $1",
        );
        exec(query.bind(seq).bind(at).bind(outcome), &mut *tx).await?;
        append_audit(&mut tx, &key, at, "retried", Some(outcome)).await?;
        commit(tx).await
    }
}
