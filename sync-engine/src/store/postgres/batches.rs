//! [`BatchStore`] on PostgreSQL: the `batches` table and the `batch_key` of actions.
//!
//! Behaves as the SQLite backend does. Several instances may form batches at once: forming one
//! locks its member actions (`FOR UPDATE`, in outbox order so that two batchers cannot
//! deadlock) before it claims them, so an action is never put in two batches; the second
//! batcher fails with [`StoreError::BatchConflict`] and writes nothing.

use std::collections::HashMap;

use async_trait::async_trait;
use jiff::Timestamp;

use super::exceptions::insert_exception;
use super::{PgQuery, PgStore, built, commit, exec, fetch_all, limit_param, millis};
use crate::store::rows::{
    ACTION_COLUMNS, BATCH_COLUMNS, action, batch, batch_member, found, prefixed,
    status_after_failure,
};
use crate::store::{
    BatchMember, BatchStore, NewBatch, NewException, OutboxAction, StoreError, StoredBatch,
    WAITING_FOR_BATCH,
};

/// The batches whose rows match `filter` (a `WHERE` clause with its parameters from `$1`, or
/// nothing), oldest first, as a query to bind them to.
fn batch_query(filter: &str) -> PgQuery<'static> {
    let sql = format!("SELECT {BATCH_COLUMNS} FROM batches {filter} ORDER BY created_at, seq");
    built(sql)
}

impl PgStore {
    /// The batches `query` (a [`batch_query`]) reads, with their members in line order.
    async fn read_batches(&self, query: PgQuery<'_>) -> Result<Vec<StoredBatch>, StoreError> {
        let mut batches = fetch_all(query, self.pool(), batch).await?;
        if batches.is_empty() {
            return Ok(batches);
        }
        let keys: Vec<String> = batches.iter().map(|b| b.batch.key.clone()).collect();
        let query = sqlx::query(
            "SELECT batch_key, key FROM actions WHERE batch_key = ANY($1) ORDER BY seq",
        );
        let members = fetch_all(query.bind(&keys), self.pool(), |r| {
            Ok((r.text(0)?, r.text(1)?))
        })
        .await?;
        let mut by_batch: HashMap<String, Vec<String>> = HashMap::new();
        for (batch, action) in members {
            by_batch.entry(batch).or_default().push(action);
        }
        for b in &mut batches {
            b.batch.members = by_batch.remove(&b.batch.key).unwrap_or_default();
        }
        Ok(batches)
    }
}

#[async_trait]
impl BatchStore for PgStore {
    async fn waiting_for_batch(
        &self,
        kind: &str,
        limit: usize,
    ) -> Result<Vec<OutboxAction>, StoreError> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM actions
             WHERE kind = $1 AND not_before = $2 AND batch_key IS NULL AND status = 'pending'
             ORDER BY seq LIMIT $3"
        );
        let query = built(sql).bind(kind);
        let query = query
            .bind(millis(WAITING_FOR_BATCH))
            .bind(limit_param(limit));
        fetch_all(query, self.pool(), action).await
    }

    async fn release_waiting(&self, kind: &str, now: Timestamp) -> Result<u64, StoreError> {
        let query = sqlx::query(
            "UPDATE actions SET not_before = $2, next_attempt_at = $2, updated_at = $2
             WHERE kind = $1 AND not_before = $3 AND batch_key IS NULL AND status = 'pending'",
        );
        let query = query
            .bind(kind)
            .bind(millis(now))
            .bind(millis(WAITING_FOR_BATCH));
        exec(query, self.pool()).await
    }

    async fn create_batch(&self, batch: NewBatch, at: Timestamp) -> Result<(), StoreError> {
        let at = millis(at);
        let mut tx = self.begin().await?;
        let query = sqlx::query(
            "INSERT INTO batches (key, kind, grouping, status, next_attempt_at, created_at,
             updated_at) VALUES ($1, $2, $3, 'pending', $4, $4, $4)",
        );
        let query = query
            .bind(&batch.key)
            .bind(&batch.kind)
            .bind(&batch.grouping);
        exec(query.bind(at), &mut *tx).await?;
        // Lock the members first, in outbox order: a concurrent batcher claiming some of them
        // waits here until this transaction ends, then finds them taken.
        let lock =
            sqlx::query("SELECT seq FROM actions WHERE key = ANY($1) ORDER BY seq FOR UPDATE");
        exec(lock.bind(&batch.members), &mut *tx).await?;
        for member in &batch.members {
            let query = sqlx::query(
                "UPDATE actions SET batch_key = $2, updated_at = $3
                 WHERE key = $1 AND kind = $4 AND batch_key IS NULL AND status = 'pending'
                   AND not_before = $5",
            );
            let query = query
                .bind(member)
                .bind(&batch.key)
                .bind(at)
                .bind(&batch.kind);
            let n = exec(query.bind(millis(WAITING_FOR_BATCH)), &mut *tx).await?;
            if n == 0 {
                // Nothing of the batch is kept (dropping the transaction would roll it back
                // too, but later: release the locks now).
                let _ = tx.rollback().await;
                return Err(StoreError::BatchConflict {
                    batch: batch.key.clone(),
                    action: member.clone(),
                });
            }
        }
        commit(tx).await
    }

    async fn open_batches(&self, kind: &str) -> Result<Vec<StoredBatch>, StoreError> {
        let query = batch_query("WHERE kind = $1 AND status IN ('pending', 'ambiguous')");
        self.read_batches(query.bind(kind)).await
    }

    async fn batch(&self, key: &str) -> Result<Option<StoredBatch>, StoreError> {
        let query = batch_query("WHERE key = $1").bind(key);
        Ok(self.read_batches(query).await?.pop())
    }

    async fn batches(&self) -> Result<Vec<StoredBatch>, StoreError> {
        self.read_batches(batch_query("")).await
    }

    async fn batch_members(&self, key: &str) -> Result<Vec<BatchMember>, StoreError> {
        let sql = format!(
            "SELECT {}, a.event_key, e.event FROM actions a
             LEFT JOIN events e ON e.event_key = a.event_key
             WHERE a.batch_key = $1 ORDER BY a.seq",
            prefixed(ACTION_COLUMNS, "a.")
        );
        let query = built(sql).bind(key);
        fetch_all(query, self.pool(), batch_member).await
    }

    async fn begin_batch_attempt(&self, key: &str, at: Timestamp) -> Result<(), StoreError> {
        let query = sqlx::query(
            "UPDATE batches SET status = 'ambiguous', updated_at = $2
             WHERE key = $1 AND status IN ('pending', 'ambiguous')",
        );
        let n = exec(query.bind(key).bind(millis(at)), self.pool()).await?;
        found(n, "open batch", key)
    }

    async fn complete_batch(
        &self,
        key: &str,
        result_id: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let at = millis(at);
        let mut tx = self.begin().await?;
        let query = sqlx::query(
            "UPDATE batches SET status = 'done', result_id = $2, attempts = attempts + 1,
             last_error = NULL, updated_at = $3 WHERE key = $1",
        );
        let n = exec(query.bind(key).bind(&result_id).bind(at), &mut *tx).await?;
        found(n, "batch", key)?;
        let members = sqlx::query(
            "UPDATE actions SET status = 'done', result_id = $2, attempts = attempts + 1,
             last_error = NULL, updated_at = $3 WHERE batch_key = $1",
        );
        exec(members.bind(key).bind(&result_id).bind(at), &mut *tx).await?;
        commit(tx).await
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
        let status = status_after_failure(retry_at, ambiguous);
        let now = millis(at);
        let mut tx = self.begin().await?;
        let query = sqlx::query(
            "UPDATE batches SET status = $2, attempts = attempts + 1, last_error = $3,
             next_attempt_at = $4, updated_at = $5 WHERE key = $1",
        );
        let query = query.bind(key).bind(status.as_str()).bind(error);
        let n = exec(query.bind(retry_at.map_or(now, millis)).bind(now), &mut *tx).await?;
        found(n, "batch", key)?;
        if retry_at.is_none() {
            let members = sqlx::query(
                "UPDATE actions SET status = 'failed', attempts = attempts + 1,
                 last_error = $2, updated_at = $3 WHERE batch_key = $1",
            );
            let members = members
                .bind(key)
                .bind(format!("batch {key} failed: {error}"));
            exec(members.bind(now), &mut *tx).await?;
            if let Some(e) = &exception {
                insert_exception(&mut tx, e, now, false).await?;
            }
        }
        commit(tx).await
    }

    async fn retry_batch(&self, key: &str, at: Timestamp) -> Result<bool, StoreError> {
        let at = millis(at);
        let mut tx = self.begin().await?;
        let query = sqlx::query(
            "UPDATE batches SET status = 'pending', attempts = 0, next_attempt_at = $2,
             updated_at = $2 WHERE key = $1 AND status = 'failed'",
        );
        let n = exec(query.bind(key).bind(at), &mut *tx).await?;
        if n > 0 {
            let members = sqlx::query(
                "UPDATE actions SET status = 'pending', attempts = 0, updated_at = $2
                 WHERE batch_key = $1 AND status = 'failed'",
            );
            exec(members.bind(key).bind(at), &mut *tx).await?;
        }
        commit(tx).await?;
        Ok(n > 0)
    }
}
