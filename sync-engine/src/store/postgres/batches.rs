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
use super::{PgStore, classify, from_millis, millis, parse_json};
use crate::store::{
    ActionStatus, BatchMember, BatchStore, NewAction, NewBatch, NewException, OutboxAction,
    StoreError, StoredBatch, WAITING_FOR_BATCH,
};

/// The columns of an action, in [`ActionRow`]'s order, each prefixed with `$p`.
macro_rules! action_columns {
    ($p:literal) => {
        concat!(
            $p,
            "seq, ",
            $p,
            "key, ",
            $p,
            "document, ",
            $p,
            "kind, ",
            $p,
            "payload, ",
            $p,
            "status, ",
            $p,
            "attempts, ",
            $p,
            "not_before, ",
            $p,
            "last_error, ",
            $p,
            "result_id"
        )
    };
}

type ActionRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
);

fn finish_action(
    (seq, key, document, kind, payload, status, attempts, not_before, last_error, result_id): ActionRow,
) -> Result<OutboxAction, StoreError> {
    Ok(OutboxAction {
        seq,
        action: NewAction {
            key,
            document,
            kind,
            payload: parse_json(&payload)?,
            not_before: from_millis(not_before),
        },
        status: ActionStatus::parse(&status).unwrap_or(ActionStatus::Failed),
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_error,
        result_id,
    })
}

/// The columns of a batch, in [`BatchRow`]'s order.
macro_rules! batch_select {
    ($filter:literal) => {
        concat!(
            "SELECT key, kind, grouping, status, attempts, next_attempt_at, last_error, \
             result_id, created_at FROM batches ",
            $filter,
            " ORDER BY created_at, seq"
        )
    };
}

type BatchRow = (
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
    i64,
);

/// `limit` as a SQL `LIMIT`: SQLite reads `usize::MAX as i64` (-1) as no limit, PostgreSQL
/// refuses a negative one.
fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl PgStore {
    /// The batches read by a [`batch_select!`] query, with their members in line order.
    async fn finish_batches(&self, rows: Vec<BatchRow>) -> Result<Vec<StoredBatch>, StoreError> {
        let mut batches: Vec<StoredBatch> = rows
            .into_iter()
            .map(
                |(
                    key,
                    kind,
                    grouping,
                    status,
                    attempts,
                    next_attempt_at,
                    last_error,
                    result_id,
                    created_at,
                )| StoredBatch {
                    batch: NewBatch {
                        key,
                        kind,
                        grouping,
                        members: Vec::new(),
                    },
                    status: ActionStatus::parse(&status).unwrap_or(ActionStatus::Failed),
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    next_attempt_at: from_millis(next_attempt_at),
                    last_error,
                    result_id,
                    created_at: from_millis(created_at),
                },
            )
            .collect();
        if batches.is_empty() {
            return Ok(batches);
        }
        let keys: Vec<String> = batches.iter().map(|b| b.batch.key.clone()).collect();
        let members: Vec<(String, String)> = sqlx::query_as(
            "SELECT batch_key, key FROM actions WHERE batch_key = ANY($1) ORDER BY seq",
        )
        .bind(&keys)
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
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
        let rows: Vec<ActionRow> = sqlx::query_as(concat!(
            "SELECT ",
            action_columns!(""),
            " FROM actions
             WHERE kind = $1 AND not_before = $2 AND batch_key IS NULL AND status = 'pending'
             ORDER BY seq LIMIT $3"
        ))
        .bind(kind)
        .bind(millis(WAITING_FOR_BATCH))
        .bind(limit_param(limit))
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        rows.into_iter().map(finish_action).collect()
    }

    async fn release_waiting(&self, kind: &str, now: Timestamp) -> Result<u64, StoreError> {
        let n = sqlx::query(
            "UPDATE actions SET not_before = $2, next_attempt_at = $2, updated_at = $2
             WHERE kind = $1 AND not_before = $3 AND batch_key IS NULL AND status = 'pending'",
        )
        .bind(kind)
        .bind(millis(now))
        .bind(millis(WAITING_FOR_BATCH))
        .execute(self.pool())
        .await
        .map_err(classify)?
        .rows_affected();
        Ok(n)
    }

    async fn create_batch(&self, batch: NewBatch, at: Timestamp) -> Result<(), StoreError> {
        let at = millis(at);
        let mut tx = self.pool().begin().await.map_err(classify)?;
        sqlx::query(
            "INSERT INTO batches (key, kind, grouping, status, next_attempt_at, created_at,
             updated_at) VALUES ($1, $2, $3, 'pending', $4, $4, $4)",
        )
        .bind(&batch.key)
        .bind(&batch.kind)
        .bind(&batch.grouping)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        // Lock the members first, in outbox order: a concurrent batcher claiming some of them
        // waits here until this transaction ends, then finds them taken.
        sqlx::query("SELECT seq FROM actions WHERE key = ANY($1) ORDER BY seq FOR UPDATE")
            .bind(&batch.members)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        for member in &batch.members {
            let n = sqlx::query(
                "UPDATE actions SET batch_key = $2, updated_at = $3
                 WHERE key = $1 AND kind = $4 AND batch_key IS NULL AND status = 'pending'
                   AND not_before = $5",
            )
            .bind(member)
            .bind(&batch.key)
            .bind(at)
            .bind(&batch.kind)
            .bind(millis(WAITING_FOR_BATCH))
            .execute(&mut *tx)
            .await
            .map_err(classify)?
            .rows_affected();
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
        tx.commit().await.map_err(classify)
    }

    async fn open_batches(&self, kind: &str) -> Result<Vec<StoredBatch>, StoreError> {
        let rows: Vec<BatchRow> = sqlx::query_as(batch_select!(
            "WHERE kind = $1 AND status IN ('pending', 'ambiguous')"
        ))
        .bind(kind)
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        self.finish_batches(rows).await
    }

    async fn batch(&self, key: &str) -> Result<Option<StoredBatch>, StoreError> {
        let rows: Vec<BatchRow> = sqlx::query_as(batch_select!("WHERE key = $1"))
            .bind(key)
            .fetch_all(self.pool())
            .await
            .map_err(classify)?;
        Ok(self.finish_batches(rows).await?.pop())
    }

    async fn batches(&self) -> Result<Vec<StoredBatch>, StoreError> {
        let rows: Vec<BatchRow> = sqlx::query_as(batch_select!(""))
            .fetch_all(self.pool())
            .await
            .map_err(classify)?;
        self.finish_batches(rows).await
    }

    async fn batch_members(&self, key: &str) -> Result<Vec<BatchMember>, StoreError> {
        let rows: Vec<(
            i64,
            String,
            String,
            String,
            String,
            String,
            i64,
            i64,
            Option<String>,
            Option<String>,
            String,
            Option<String>,
        )> = sqlx::query_as(concat!(
            "SELECT ",
            action_columns!("a."),
            ", a.event_key, e.event FROM actions a
             LEFT JOIN events e ON e.event_key = a.event_key
             WHERE a.batch_key = $1 ORDER BY a.seq"
        ))
        .bind(key)
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        rows.into_iter()
            .map(
                |(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, event_key, event)| {
                    Ok(BatchMember {
                        action: finish_action((a0, a1, a2, a3, a4, a5, a6, a7, a8, a9))?,
                        event_key,
                        event: event.as_deref().map(parse_json).transpose()?,
                    })
                },
            )
            .collect()
    }

    async fn begin_batch_attempt(&self, key: &str, at: Timestamp) -> Result<(), StoreError> {
        let n = sqlx::query(
            "UPDATE batches SET status = 'ambiguous', updated_at = $2
             WHERE key = $1 AND status IN ('pending', 'ambiguous')",
        )
        .bind(key)
        .bind(millis(at))
        .execute(self.pool())
        .await
        .map_err(classify)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "open batch",
                key: key.to_owned(),
            });
        }
        Ok(())
    }

    async fn complete_batch(
        &self,
        key: &str,
        result_id: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let at = millis(at);
        let mut tx = self.pool().begin().await.map_err(classify)?;
        let n = sqlx::query(
            "UPDATE batches SET status = 'done', result_id = $2, attempts = attempts + 1,
             last_error = NULL, updated_at = $3 WHERE key = $1",
        )
        .bind(key)
        .bind(&result_id)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "batch",
                key: key.to_owned(),
            });
        }
        sqlx::query(
            "UPDATE actions SET status = 'done', result_id = $2, attempts = attempts + 1,
             last_error = NULL, updated_at = $3 WHERE batch_key = $1",
        )
        .bind(key)
        .bind(&result_id)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
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
        let status = match (retry_at, ambiguous) {
            (None, _) => ActionStatus::Failed,
            (Some(_), true) => ActionStatus::Ambiguous,
            (Some(_), false) => ActionStatus::Pending,
        };
        let now = millis(at);
        let mut tx = self.pool().begin().await.map_err(classify)?;
        let n = sqlx::query(
            "UPDATE batches SET status = $2, attempts = attempts + 1, last_error = $3,
             next_attempt_at = $4, updated_at = $5 WHERE key = $1",
        )
        .bind(key)
        .bind(status.as_str())
        .bind(error)
        .bind(retry_at.map(millis).unwrap_or(now))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "batch",
                key: key.to_owned(),
            });
        }
        if retry_at.is_none() {
            sqlx::query(
                "UPDATE actions SET status = 'failed', attempts = attempts + 1,
                 last_error = $2, updated_at = $3 WHERE batch_key = $1",
            )
            .bind(key)
            .bind(format!("batch {key} failed: {error}"))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
            if let Some(e) = &exception {
                insert_exception(&mut tx, e, now, false).await?;
            }
        }
        tx.commit().await.map_err(classify)
    }

    async fn retry_batch(&self, key: &str, at: Timestamp) -> Result<bool, StoreError> {
        let at = millis(at);
        let mut tx = self.pool().begin().await.map_err(classify)?;
        let n = sqlx::query(
            "UPDATE batches SET status = 'pending', attempts = 0, next_attempt_at = $2,
             updated_at = $2 WHERE key = $1 AND status = 'failed'",
        )
        .bind(key)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected();
        if n > 0 {
            sqlx::query(
                "UPDATE actions SET status = 'pending', attempts = 0, updated_at = $2
                 WHERE batch_key = $1 AND status = 'failed'",
            )
            .bind(key)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(n > 0)
    }
}
