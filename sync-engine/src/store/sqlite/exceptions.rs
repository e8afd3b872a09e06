//! [`ExceptionStore`] on SQLite: `exceptions`, `exception_audit` and `exception_requests`.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{OptionalExtension, ToSql, params};
use serde_json::Value;

use super::{Failure, SqliteStore, json, millis, read_all};
use crate::store::exceptions::recordable;
use crate::store::rows::{
    AUDIT_COLUMNS, EXCEPTION_COLUMNS, REQUEST_COLUMNS, audit, exception, not_found, request,
};
use crate::store::{
    AuditEntry, ExceptionCursor, ExceptionQuery, ExceptionRequest, ExceptionStore, NewException,
    StoreError, StoredException,
};

/// Raises `e` at `at` (Unix ms) inside the caller's transaction, with its audit entry: a new
/// exception is inserted (`raised`); a resolved one is reopened with the new details
/// (`reopened`); an open one is left alone, unless `refresh` is set, in which case its message
/// and payload are replaced when the message changed (`updated`, noting the new message).
pub(super) fn insert_exception(
    tx: &rusqlite::Transaction<'_>,
    e: &NewException,
    at: i64,
    refresh: bool,
) -> Result<(), Failure> {
    let open: Option<Option<i64>> = tx
        .query_row(
            "SELECT resolved_at FROM exceptions WHERE key = ?1",
            [&e.key],
            |r| r.get(0),
        )
        .optional()?;
    let payload = json(&e.payload)?;
    let fields: [&dyn ToSql; 9] = [
        &e.key,
        &e.kind,
        &e.owner,
        &e.severity,
        &e.document,
        &e.message,
        &e.runbook,
        &payload,
        &at,
    ];
    match open {
        // Already open: raising it again changes nothing, unless the caller refreshes it with
        // the newest details (a drift exception shows the figures of the latest reading).
        Some(None) if !refresh => {}
        Some(None) => {
            let changed = tx.execute(
                "UPDATE exceptions SET message = ?2, payload = ?3
                 WHERE key = ?1 AND message <> ?2",
                params![e.key, e.message, payload],
            )?;
            if changed > 0 {
                append_audit(tx, &e.key, at, "updated", Some(&e.message))?;
            }
        }
        // Resolved before and raised again: reopen with the new details.
        Some(Some(_)) => {
            tx.execute(
                "UPDATE exceptions SET kind=?2, owner=?3, severity=?4, document=?5, message=?6,
                 runbook=?7, payload=?8, raised_at=?9, resolved_at=NULL, resolution_note=NULL
                 WHERE key=?1",
                fields,
            )?;
            append_audit(tx, &e.key, at, "reopened", None)?;
        }
        None => {
            tx.execute(
                "INSERT INTO exceptions (key, kind, owner, severity, document, message, runbook,
                 payload, raised_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                fields,
            )?;
            append_audit(tx, &e.key, at, "raised", None)?;
        }
    }
    Ok(())
}

/// Appends `change` with `note` to the audit trail of exception `key`; returns its position.
fn append_audit(
    tx: &rusqlite::Transaction<'_>,
    key: &str,
    at: i64,
    change: &str,
    note: Option<&str>,
) -> Result<i64, Failure> {
    tx.execute(
        "INSERT INTO exception_audit (key, at, change, note) VALUES (?1, ?2, ?3, ?4)",
        params![key, at, change, note],
    )?;
    Ok(tx.last_insert_rowid())
}

pub(super) fn resolve_exception_in(
    tx: &rusqlite::Transaction<'_>,
    key: &str,
    note: &str,
    at: i64,
) -> Result<bool, Failure> {
    let changed = tx.execute(
        "UPDATE exceptions SET resolved_at = ?2, resolution_note = ?3
         WHERE key = ?1 AND resolved_at IS NULL",
        params![key, at, note],
    )?;
    if changed > 0 {
        append_audit(tx, key, at, "resolved", Some(note))?;
    }
    Ok(changed > 0)
}

/// Fails with [`StoreError::NotFound`] unless the exception `key` exists.
fn must_exist(tx: &rusqlite::Transaction<'_>, key: &str) -> Result<(), Failure> {
    let exists = tx
        .query_row("SELECT 1 FROM exceptions WHERE key = ?1", [key], |_| Ok(()))
        .optional()?
        .is_some();
    match exists {
        true => Ok(()),
        false => Err(not_found("exception", key).into()),
    }
}

#[async_trait]
impl ExceptionStore for SqliteStore {
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
            must_exist(&tx, &key)?;
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
            read_all(c, &sql, [], exception)
        })
        .await
    }

    async fn open_exceptions(&self) -> Result<Vec<StoredException>, StoreError> {
        self.run(|c| {
            let sql = format!(
                "SELECT {EXCEPTION_COLUMNS} FROM exceptions WHERE resolved_at IS NULL
                 ORDER BY raised_at, key"
            );
            read_all(c, &sql, [], exception)
        })
        .await
    }

    async fn exceptions_page(
        &self,
        filter: &ExceptionQuery,
        after: Option<&ExceptionCursor>,
        limit: usize,
    ) -> Result<Vec<StoredException>, StoreError> {
        use rusqlite::types::Value as Arg;
        let filter = filter.clone();
        let after = after.cloned();
        self.run(move |c| {
            let mut clauses: Vec<String> = Vec::new();
            let mut args: Vec<Arg> = Vec::new();
            match filter.open {
                Some(true) => clauses.push("resolved_at IS NULL".into()),
                Some(false) => clauses.push("resolved_at IS NOT NULL".into()),
                None => {}
            }
            if !filter.kinds.is_empty() {
                args.push(Arg::Text(json(&Value::from(filter.kinds.clone()))?));
                clauses.push(format!(
                    "kind IN (SELECT value FROM json_each(?{}))",
                    args.len()
                ));
            }
            if let Some(prefix) = &filter.key_prefix {
                args.push(Arg::Text(prefix.clone()));
                let n = args.len();
                clauses.push(format!("substr(key, 1, length(?{n})) = ?{n}"));
            }
            if !filter.keys.is_empty() {
                args.push(Arg::Text(json(&Value::from(filter.keys.clone()))?));
                clauses.push(format!(
                    "key IN (SELECT value FROM json_each(?{}))",
                    args.len()
                ));
            }
            if let Some(after) = &after {
                args.push(Arg::Integer(millis(after.raised_at)));
                args.push(Arg::Text(after.key.clone()));
                let (at, key) = (args.len() - 1, args.len());
                clauses.push(format!(
                    "(raised_at > ?{at} OR (raised_at = ?{at} AND key > ?{key}))"
                ));
            }
            args.push(Arg::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
            let filter = if clauses.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", clauses.join(" AND "))
            };
            let sql = format!(
                "SELECT {EXCEPTION_COLUMNS} FROM exceptions {filter}
                 ORDER BY raised_at, key LIMIT ?{}",
                args.len()
            );
            read_all(c, &sql, rusqlite::params_from_iter(args), exception)
        })
        .await
    }

    async fn exception(&self, key: &str) -> Result<Option<StoredException>, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let sql = format!("SELECT {EXCEPTION_COLUMNS} FROM exceptions WHERE key = ?1");
            Ok(read_all(c, &sql, [&key], exception)?.pop())
        })
        .await
    }

    async fn exception_audit(&self, key: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let sql =
                format!("SELECT {AUDIT_COLUMNS} FROM exception_audit WHERE key = ?1 ORDER BY seq");
            read_all(c, &sql, [&key], audit)
        })
        .await
    }

    async fn audit_since(&self, after_seq: i64) -> Result<Vec<AuditEntry>, StoreError> {
        self.run(move |c| {
            let sql =
                format!("SELECT {AUDIT_COLUMNS} FROM exception_audit WHERE seq > ?1 ORDER BY seq");
            read_all(c, &sql, [after_seq], audit)
        })
        .await
    }

    async fn audit_head(&self) -> Result<i64, StoreError> {
        self.run(|c| {
            Ok(c.query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM exception_audit",
                [],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn record_audit(
        &self,
        key: &str,
        change: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        recordable(change)?;
        let key = key.to_owned();
        let change = change.to_owned();
        let note = note.map(str::to_owned);
        self.run(move |c| {
            let tx = c.transaction()?;
            must_exist(&tx, &key)?;
            let seq = append_audit(&tx, &key, millis(at), &change, note.as_deref())?;
            tx.commit()?;
            Ok(seq)
        })
        .await
    }

    async fn latest_audit(
        &self,
        change: &str,
        keys: &[String],
    ) -> Result<Vec<AuditEntry>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let change = change.to_owned();
        let keys = json(&Value::from(keys.to_vec()))?;
        self.run(move |c| {
            let sql = format!(
                "SELECT {AUDIT_COLUMNS} FROM exception_audit WHERE seq IN
                 (SELECT MAX(seq) FROM exception_audit
                  WHERE change = ?1 AND key IN (SELECT value FROM json_each(?2)) GROUP BY key)
                 ORDER BY seq"
            );
            read_all(c, &sql, params![change, keys], audit)
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
            must_exist(&tx, &key)?;
            tx.execute(
                "INSERT INTO exception_requests (key, request, note, requested_at)
                 VALUES (?1, 'retry', ?2, ?3)",
                params![key, note, millis(at)],
            )?;
            let seq = tx.last_insert_rowid();
            append_audit(&tx, &key, millis(at), "retry-requested", note.as_deref())?;
            tx.commit()?;
            Ok(seq)
        })
        .await
    }

    async fn open_requests(&self) -> Result<Vec<ExceptionRequest>, StoreError> {
        self.run(|c| {
            let sql = format!(
                "SELECT {REQUEST_COLUMNS} FROM exception_requests
                 WHERE handled_at IS NULL ORDER BY seq"
            );
            read_all(c, &sql, [], request)
        })
        .await
    }

    async fn requests_for(&self, key: &str) -> Result<Vec<ExceptionRequest>, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let sql = format!(
                "SELECT {REQUEST_COLUMNS} FROM exception_requests WHERE key = ?1 ORDER BY seq"
            );
            read_all(c, &sql, [&key], request)
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
                return Err(not_found("open request", seq.to_string()).into());
            };
            tx.execute(
                "UPDATE exception_requests SET handled_at = ?2, outcome = ?3 WHERE seq = ?1",
                params![seq, millis(at), outcome],
            )?;
            append_audit(&tx, &key, millis(at), "retried", Some(&outcome))?;
            tx.commit()?;
            Ok(())
        })
        .await
    }
}
