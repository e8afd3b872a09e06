//! [`ExceptionStore`] on SQLite: `exceptions`, `exception_audit` and `exception_requests`.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row, params};
use serde_json::Value;

use super::{Failure, SqliteStore, from_millis, json, millis, parse_json};
use crate::store::exceptions::recordable;
use crate::store::{
    AuditEntry, ExceptionCursor, ExceptionQuery, ExceptionRequest, ExceptionStore, NewException,
    StoreError, StoredException,
};

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

fn finish_exception(row: ExceptionRow) -> Result<StoredException, Failure> {
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
        tx.execute(
            "INSERT INTO exception_audit (key, at, change, note) VALUES (?1, ?2, 'resolved', ?3)",
            params![key, at, note],
        )?;
    }
    Ok(changed > 0)
}

/// Fails with [`StoreError::NotFound`] unless the exception `key` exists.
fn must_exist(tx: &rusqlite::Transaction<'_>, key: &str) -> Result<(), Failure> {
    let exists = tx
        .query_row("SELECT 1 FROM exceptions WHERE key = ?1", [key], |_| Ok(()))
        .optional()?
        .is_some();
    if exists {
        Ok(())
    } else {
        Err(StoreError::NotFound {
            what: "exception",
            key: key.to_owned(),
        }
        .into())
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
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args), read_exception)?;
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
            tx.execute(
                "INSERT INTO exception_audit (key, at, change, note) VALUES (?1, ?2, ?3, ?4)",
                params![key, millis(at), change, note],
            )?;
            let seq = tx.last_insert_rowid();
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
            let mut stmt = c.prepare_cached(
                "SELECT seq, key, at, change, note FROM exception_audit WHERE seq IN
                 (SELECT MAX(seq) FROM exception_audit
                  WHERE change = ?1 AND key IN (SELECT value FROM json_each(?2)) GROUP BY key)
                 ORDER BY seq",
            )?;
            let rows = stmt.query_map(params![change, keys], read_audit)?;
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
            must_exist(&tx, &key)?;
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
                }
                .into());
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
}
