//! [`OutboxStore`] on PostgreSQL: the `actions` table.

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::deliveries::limit_param;
use super::{PgStore, classify, from_millis, millis, parse_json};
use crate::store::{
    ActionCount, ActionFilter, ActionRecord, ActionStatus, NewAction, OutboxAction, OutboxStore,
    StoreError, WAITING_FOR_BATCH,
};

/// The columns [`read_action`] reads, in its order.
pub(super) const ACTION_COLUMNS: &str =
    "seq, key, document, kind, payload, status, attempts, not_before, last_error, result_id";

pub(super) fn read_action(row: &PgRow) -> Result<OutboxAction, StoreError> {
    let payload: String = row.try_get(4).map_err(classify)?;
    let status: String = row.try_get(5).map_err(classify)?;
    let attempts: i64 = row.try_get(6).map_err(classify)?;
    Ok(OutboxAction {
        seq: row.try_get(0).map_err(classify)?,
        action: NewAction {
            key: row.try_get(1).map_err(classify)?,
            document: row.try_get(2).map_err(classify)?,
            kind: row.try_get(3).map_err(classify)?,
            payload: parse_json(&payload)?,
            not_before: from_millis(row.try_get(7).map_err(classify)?),
        },
        status: parse_status(&status),
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_error: row.try_get(8).map_err(classify)?,
        result_id: row.try_get(9).map_err(classify)?,
    })
}

/// A stored status; an unknown name reads as failed, as in the SQLite backend.
fn parse_status(status: &str) -> ActionStatus {
    ActionStatus::parse(status).unwrap_or(ActionStatus::Failed)
}

fn not_found(key: &str) -> StoreError {
    StoreError::NotFound {
        what: "action",
        key: key.to_owned(),
    }
}

#[async_trait]
impl OutboxStore for PgStore {
    async fn due_actions(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxAction>, StoreError> {
        // The head of each document's lane is its first action not yet done or failed; it runs
        // when it is due. Actions waiting for a batch are posted by the batcher, not the outbox:
        // they are left out of their lane so they do not hold up the actions behind them.
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM actions
             WHERE seq IN (SELECT MIN(seq) FROM actions
                           WHERE status IN ('pending', 'ambiguous') AND not_before < $3
                           GROUP BY document)
               AND not_before <= $1 AND next_attempt_at <= $1
             ORDER BY seq LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(millis(now))
            .bind(limit_param(limit))
            .bind(millis(WAITING_FOR_BATCH))
            .fetch_all(self.pool())
            .await
            .map_err(classify)?;
        rows.iter().map(read_action).collect()
    }

    async fn begin_attempt(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE actions SET status = 'ambiguous' WHERE key = $1 AND status = 'pending'",
        )
        .bind(key)
        .execute(self.pool())
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn complete_action(
        &self,
        key: &str,
        result_id: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let n = sqlx::query(
            "UPDATE actions SET status = 'done', result_id = $2, attempts = attempts + 1,
             updated_at = $3, last_error = NULL, claimed_by = NULL, claim_until = NULL
             WHERE key = $1",
        )
        .bind(key)
        .bind(result_id)
        .bind(millis(at))
        .execute(self.pool())
        .await
        .map_err(classify)?
        .rows_affected();
        if n == 0 {
            return Err(not_found(key));
        }
        Ok(())
    }

    async fn fail_action(
        &self,
        key: &str,
        error: &str,
        ambiguous: bool,
        retry_at: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let status = match (retry_at, ambiguous) {
            (None, _) => ActionStatus::Failed,
            (Some(_), true) => ActionStatus::Ambiguous,
            (Some(_), false) => ActionStatus::Pending,
        };
        let now = millis(at);
        let n = sqlx::query(
            "UPDATE actions SET status = $2, attempts = attempts + 1, last_error = $3,
             next_attempt_at = $4, updated_at = $5, claimed_by = NULL, claim_until = NULL
             WHERE key = $1",
        )
        .bind(key)
        .bind(status.as_str())
        .bind(error)
        .bind(retry_at.map(millis).unwrap_or(now))
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(classify)?
        .rows_affected();
        if n == 0 {
            return Err(not_found(key));
        }
        Ok(())
    }

    async fn retry_action(&self, key: &str, at: Timestamp) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE actions SET status = 'pending', attempts = 0, next_attempt_at = $2,
             updated_at = $2 WHERE key = $1 AND status = 'failed'",
        )
        .bind(key)
        .bind(millis(at))
        .execute(self.pool())
        .await
        .map_err(classify)?
        .rows_affected();
        Ok(n > 0)
    }

    async fn action(&self, key: &str) -> Result<Option<OutboxAction>, StoreError> {
        let sql = format!("SELECT {ACTION_COLUMNS} FROM actions WHERE key = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(self.pool())
            .await
            .map_err(classify)?;
        row.as_ref().map(read_action).transpose()
    }

    async fn action_counts(&self) -> Result<Vec<ActionCount>, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT kind, status, COUNT(*) FROM actions GROUP BY kind, status
             ORDER BY kind, status",
        )
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|(kind, status, count)| ActionCount {
                kind,
                status: parse_status(&status),
                count: count as u64,
            })
            .collect())
    }

    async fn actions_page(
        &self,
        filter: &ActionFilter,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<OutboxAction>, StoreError> {
        let mut clauses = vec!["seq > $1".to_owned()];
        let mut n = 2;
        if !filter.statuses.is_empty() {
            n += 1;
            clauses.push(format!("status = ANY(${n})"));
        }
        if !filter.kinds.is_empty() {
            n += 1;
            clauses.push(format!("kind = ANY(${n})"));
        }
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM actions WHERE {} ORDER BY seq LIMIT $2",
            clauses.join(" AND ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after_seq)
            .bind(limit_param(limit));
        if !filter.statuses.is_empty() {
            let names: Vec<String> = filter
                .statuses
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect();
            query = query.bind(names);
        }
        if !filter.kinds.is_empty() {
            query = query.bind(filter.kinds.clone());
        }
        let rows = query.fetch_all(self.pool()).await.map_err(classify)?;
        rows.iter().map(read_action).collect()
    }

    async fn actions(&self) -> Result<Vec<OutboxAction>, StoreError> {
        let sql = format!("SELECT {ACTION_COLUMNS} FROM actions ORDER BY seq");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await
            .map_err(classify)?;
        rows.iter().map(read_action).collect()
    }

    async fn action_records(&self) -> Result<Vec<ActionRecord>, StoreError> {
        type RecordRow = (String, String, String, String, String, i64, i64);
        let rows: Vec<RecordRow> = sqlx::query_as(
            "SELECT key, document, kind, status, event_key, created_at, updated_at
             FROM actions ORDER BY seq",
        )
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(
                |(key, document, kind, status, event_key, created_at, updated_at)| ActionRecord {
                    key,
                    document,
                    kind,
                    status: parse_status(&status),
                    event_key,
                    created_at: from_millis(created_at),
                    updated_at: from_millis(updated_at),
                },
            )
            .collect())
    }
}
