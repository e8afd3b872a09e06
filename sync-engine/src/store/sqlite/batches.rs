//! [`BatchStore`] on SQLite: the `batches` table and the `batch_key` of actions.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{Connection, params};

use super::exceptions::insert_exception;
use super::{Failure, SqliteStore, limit_param, millis, read_all};
use crate::store::rows::{
    ACTION_COLUMNS, BATCH_COLUMNS, action, batch, batch_member, found, prefixed,
    status_after_failure,
};
use crate::store::{
    BatchMember, BatchStore, NewBatch, NewException, OutboxAction, StoreError, StoredBatch,
    WAITING_FOR_BATCH,
};

/// Batches matching `filter` (a `WHERE` clause or nothing), oldest first, with their members.
fn read_batches(
    c: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<StoredBatch>, Failure> {
    let sql = format!("SELECT {BATCH_COLUMNS} FROM batches {filter} ORDER BY created_at, rowid");
    let mut batches = read_all(c, &sql, args, batch)?;
    let mut members =
        c.prepare_cached("SELECT key FROM actions WHERE batch_key = ?1 ORDER BY seq")?;
    for b in &mut batches {
        b.batch.members = members
            .query_map([&b.batch.key], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
    }
    Ok(batches)
}

#[async_trait]
impl BatchStore for SqliteStore {
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
            let args = params![kind, millis(WAITING_FOR_BATCH), limit_param(limit)];
            read_all(c, &sql, args, action)
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
                    }
                    .into());
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
                "SELECT {}, a.event_key, e.event FROM actions a
                 LEFT JOIN events e ON e.event_key = a.event_key
                 WHERE a.batch_key = ?1 ORDER BY a.seq",
                prefixed(ACTION_COLUMNS, "a.")
            );
            read_all(c, &sql, [key], batch_member)
        })
        .await
    }

    async fn begin_batch_attempt(&self, key: &str, at: Timestamp) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let n = c.execute(
                "UPDATE batches SET status = 'ambiguous', updated_at = ?2
                 WHERE key = ?1 AND status IN ('pending', 'ambiguous')",
                params![key, millis(at)],
            )?;
            Ok(found(n as u64, "open batch", &key)?)
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
            found(n as u64, "batch", &key)?;
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
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        let error = error.to_owned();
        self.run(move |c| {
            let tx = c.transaction()?;
            let status = status_after_failure(retry_at, ambiguous);
            let now = millis(at);
            let next = retry_at.map_or(now, millis);
            let n = tx.execute(
                "UPDATE batches SET status = ?2, attempts = attempts + 1, last_error = ?3,
                 next_attempt_at = ?4, updated_at = ?5 WHERE key = ?1",
                params![key, status.as_str(), error, next, now],
            )?;
            found(n as u64, "batch", &key)?;
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
}
