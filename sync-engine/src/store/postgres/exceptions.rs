//! [`ExceptionStore`] on PostgreSQL: `exceptions`, `exception_audit` and `exception_requests`.
//!
//! Behaves as the SQLite backend does, audit entries included. Several instances may write at
//! once, so the rows a write depends on are locked (`FOR UPDATE`) before they are read: an
//! exception raised by two instances together is inserted once and audited once, and a request
//! is finished once.

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::PgConnection;

use super::{PgStore, classify, from_millis, json, millis, parse_json};
use crate::store::exceptions::recordable;
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
                let changed = sqlx::query(
                    "UPDATE exceptions SET message = $2, payload = $3
                     WHERE key = $1 AND message <> $2",
                )
                .bind(&e.key)
                .bind(&e.message)
                .bind(&payload)
                .execute(&mut *conn)
                .await
                .map_err(classify)?
                .rows_affected();
                if changed > 0 {
                    sqlx::query(
                        "INSERT INTO exception_audit (key, at, change, note)
                         VALUES ($1, $2, 'updated', $3)",
                    )
                    .bind(&e.key)
                    .bind(at)
                    .bind(&e.message)
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?;
                }
                return Ok(());
            }
            // Resolved before and raised again: reopen with the new details.
            Some(Some(_)) => {
                sqlx::query(
                    "UPDATE exceptions SET kind = $2, owner = $3, severity = $4, document = $5,
                     message = $6, runbook = $7, payload = $8, raised_at = $9,
                     resolved_at = NULL, resolution_note = NULL
                     WHERE key = $1",
                )
                .bind(&e.key)
                .bind(&e.kind)
                .bind(&e.owner)
                .bind(&e.severity)
                .bind(&e.document)
                .bind(&e.message)
                .bind(&e.runbook)
                .bind(&payload)
                .bind(at)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
                sqlx::query(
                    "INSERT INTO exception_audit (key, at, change) VALUES ($1, $2, 'reopened')",
                )
                .bind(&e.key)
                .bind(at)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
                return Ok(());
            }
            None => {
                // Another instance may insert the same key between the read and the insert:
                // then nothing is inserted here and the loop reads (and locks) its row.
                let inserted = sqlx::query(
                    "INSERT INTO exceptions (key, kind, owner, severity, document, message,
                     runbook, payload, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (key) DO NOTHING",
                )
                .bind(&e.key)
                .bind(&e.kind)
                .bind(&e.owner)
                .bind(&e.severity)
                .bind(&e.document)
                .bind(&e.message)
                .bind(&e.runbook)
                .bind(&payload)
                .bind(at)
                .execute(&mut *conn)
                .await
                .map_err(classify)?
                .rows_affected();
                if inserted == 0 {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO exception_audit (key, at, change) VALUES ($1, $2, 'raised')",
                )
                .bind(&e.key)
                .bind(at)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
                return Ok(());
            }
        }
    }
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
    let changed = sqlx::query(
        "UPDATE exceptions SET resolved_at = $2, resolution_note = $3
         WHERE key = $1 AND resolved_at IS NULL",
    )
    .bind(key)
    .bind(at)
    .bind(note)
    .execute(&mut *conn)
    .await
    .map_err(classify)?
    .rows_affected();
    if changed > 0 {
        sqlx::query(
            "INSERT INTO exception_audit (key, at, change, note) VALUES ($1, $2, 'resolved', $3)",
        )
        .bind(key)
        .bind(at)
        .bind(note)
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
    }
    Ok(changed > 0)
}

/// The columns of an exception, in [`ExceptionRow`]'s order.
macro_rules! exception_columns {
    () => {
        "key, kind, owner, severity, document, message, runbook, payload, raised_at, \
         resolved_at, resolution_note"
    };
}

type ExceptionRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

fn finish_exception(row: ExceptionRow) -> Result<StoredException, StoreError> {
    let (
        key,
        kind,
        owner,
        severity,
        document,
        message,
        runbook,
        payload,
        raised_at,
        resolved_at,
        resolution_note,
    ) = row;
    Ok(StoredException {
        exception: NewException {
            key,
            kind,
            owner,
            severity,
            document,
            message,
            runbook,
            payload: parse_json(&payload)?,
        },
        raised_at: from_millis(raised_at),
        resolved_at: resolved_at.map(from_millis),
        resolution_note,
    })
}

type AuditRow = (i64, String, i64, String, Option<String>);

fn finish_audit((seq, key, at, change, note): AuditRow) -> AuditEntry {
    AuditEntry {
        seq,
        key,
        at: from_millis(at),
        change,
        note,
    }
}

type RequestRow = (
    i64,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<String>,
);

fn finish_request(
    (seq, key, request, note, requested_at, handled_at, outcome): RequestRow,
) -> ExceptionRequest {
    ExceptionRequest {
        seq,
        key,
        request,
        note,
        requested_at: from_millis(requested_at),
        handled_at: handled_at.map(from_millis),
        outcome,
    }
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
        None => Err(StoreError::NotFound {
            what: "exception",
            key: key.to_owned(),
        }),
    }
}

#[async_trait]
impl ExceptionStore for PgStore {
    async fn raise_exception(&self, e: NewException, at: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(classify)?;
        insert_exception(&mut tx, &e, millis(at), false).await?;
        tx.commit().await.map_err(classify)
    }

    async fn refresh_exception(&self, e: NewException, at: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(classify)?;
        insert_exception(&mut tx, &e, millis(at), true).await?;
        tx.commit().await.map_err(classify)
    }

    async fn resolve_exception(
        &self,
        key: &str,
        note: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(classify)?;
        must_exist(&mut tx, key).await?;
        resolve_exception_in(&mut tx, key, note, millis(at)).await?;
        tx.commit().await.map_err(classify)
    }

    async fn exceptions(&self) -> Result<Vec<StoredException>, StoreError> {
        // Keys in byte order, as SQLite compares them, whatever the database's collation.
        let rows: Vec<ExceptionRow> = sqlx::query_as(concat!(
            "SELECT ",
            exception_columns!(),
            " FROM exceptions ORDER BY resolved_at IS NOT NULL, raised_at, key COLLATE \"C\""
        ))
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        rows.into_iter().map(finish_exception).collect()
    }

    async fn open_exceptions(&self) -> Result<Vec<StoredException>, StoreError> {
        let rows: Vec<ExceptionRow> = sqlx::query_as(concat!(
            "SELECT ",
            exception_columns!(),
            " FROM exceptions WHERE resolved_at IS NULL ORDER BY raised_at, key COLLATE \"C\""
        ))
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        rows.into_iter().map(finish_exception).collect()
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
        let sql = format!(
            "SELECT {} FROM exceptions {filter_sql} ORDER BY raised_at, key COLLATE \"C\" LIMIT $1",
            exception_columns!()
        );
        let mut query = sqlx::query_as::<_, ExceptionRow>(sqlx::AssertSqlSafe(sql))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX));
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
        let rows = query.fetch_all(self.pool()).await.map_err(classify)?;
        rows.into_iter().map(finish_exception).collect()
    }

    async fn exception(&self, key: &str) -> Result<Option<StoredException>, StoreError> {
        let row: Option<ExceptionRow> = sqlx::query_as(concat!(
            "SELECT ",
            exception_columns!(),
            " FROM exceptions WHERE key = $1"
        ))
        .bind(key)
        .fetch_optional(self.pool())
        .await
        .map_err(classify)?;
        row.map(finish_exception).transpose()
    }

    async fn exception_audit(&self, key: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT seq, key, at, change, note FROM exception_audit WHERE key = $1 ORDER BY seq",
        )
        .bind(key)
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        Ok(rows.into_iter().map(finish_audit).collect())
    }

    async fn audit_since(&self, after_seq: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT seq, key, at, change, note FROM exception_audit WHERE seq > $1 ORDER BY seq",
        )
        .bind(after_seq)
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        Ok(rows.into_iter().map(finish_audit).collect())
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
        let mut tx = self.pool().begin().await.map_err(classify)?;
        must_exist(&mut tx, key).await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO exception_audit (key, at, change, note) VALUES ($1, $2, $3, $4)
             RETURNING seq",
        )
        .bind(key)
        .bind(millis(at))
        .bind(change)
        .bind(note)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
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
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT seq, key, at, change, note FROM (
                 SELECT DISTINCT ON (key) seq, key, at, change, note FROM exception_audit
                 WHERE change = $1 AND key = ANY($2) ORDER BY key, seq DESC
             ) latest ORDER BY seq",
        )
        .bind(change)
        .bind(keys)
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        Ok(rows.into_iter().map(finish_audit).collect())
    }

    async fn request_retry(
        &self,
        key: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let at = millis(at);
        let mut tx = self.pool().begin().await.map_err(classify)?;
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
        sqlx::query(
            "INSERT INTO exception_audit (key, at, change, note)
             VALUES ($1, $2, 'retry-requested', $3)",
        )
        .bind(key)
        .bind(at)
        .bind(note)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(seq)
    }

    async fn open_requests(&self) -> Result<Vec<ExceptionRequest>, StoreError> {
        let rows: Vec<RequestRow> = sqlx::query_as(
            "SELECT seq, key, request, note, requested_at, handled_at, outcome
             FROM exception_requests WHERE handled_at IS NULL ORDER BY seq",
        )
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        Ok(rows.into_iter().map(finish_request).collect())
    }

    async fn requests_for(&self, key: &str) -> Result<Vec<ExceptionRequest>, StoreError> {
        let rows: Vec<RequestRow> = sqlx::query_as(
            "SELECT seq, key, request, note, requested_at, handled_at, outcome
             FROM exception_requests WHERE key = $1 ORDER BY seq",
        )
        .bind(key)
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        Ok(rows.into_iter().map(finish_request).collect())
    }

    async fn finish_request(
        &self,
        seq: i64,
        outcome: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let at = millis(at);
        let mut tx = self.pool().begin().await.map_err(classify)?;
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
            return Err(StoreError::NotFound {
                what: "open request",
                key: seq.to_string(),
            });
        };
        sqlx::query("UPDATE exception_requests SET handled_at = $2, outcome = $3 WHERE seq = $1")
            .bind(seq)
            .bind(at)
            .bind(outcome)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        sqlx::query(
            "INSERT INTO exception_audit (key, at, change, note) VALUES ($1, $2, 'retried', $3)",
        )
        .bind(&key)
        .bind(at)
        .bind(outcome)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }
}
