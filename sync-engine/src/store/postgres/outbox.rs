//! [`OutboxStore`] on PostgreSQL: the `actions` table.

use async_trait::async_trait;
use jiff::Timestamp;

use super::{PgStore, built, exec, fetch_all, fetch_optional, limit_param, millis};
use crate::store::rows::{
    ACTION_COLUMNS, ACTION_COUNTS, ACTION_RECORD_COLUMNS, action, action_count, action_record,
    found, status_after_failure,
};
use crate::store::{
    ActionCount, ActionFilter, ActionRecord, OutboxAction, OutboxStore, StoreError,
    WAITING_FOR_BATCH,
};

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
        let query = built(sql)
            .bind(millis(now))
            .bind(limit_param(limit))
            .bind(millis(WAITING_FOR_BATCH));
        fetch_all(query, self.pool(), action).await
    }

    async fn begin_attempt(&self, key: &str) -> Result<(), StoreError> {
        let sql = "UPDATE actions SET status = 'ambiguous' WHERE key = $1 AND status = 'pending'";
        exec(sqlx::query(sql).bind(key), self.pool()).await?;
        Ok(())
    }

    async fn complete_action(
        &self,
        key: &str,
        result_id: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let query = sqlx::query(
            "UPDATE actions SET status = 'done', result_id = $2, attempts = attempts + 1,
             updated_at = $3, last_error = NULL, claimed_by = NULL, claim_until = NULL
             WHERE key = $1",
        );
        let query = query.bind(key).bind(result_id).bind(millis(at));
        found(exec(query, self.pool()).await?, "action", key)
    }

    async fn fail_action(
        &self,
        key: &str,
        error: &str,
        ambiguous: bool,
        retry_at: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let status = status_after_failure(retry_at, ambiguous);
        let now = millis(at);
        let query = sqlx::query(
            "UPDATE actions SET status = $2, attempts = attempts + 1, last_error = $3,
             next_attempt_at = $4, updated_at = $5, claimed_by = NULL, claim_until = NULL
             WHERE key = $1",
        );
        let query = query.bind(key).bind(status.as_str()).bind(error);
        let query = query.bind(retry_at.map_or(now, millis)).bind(now);
        found(exec(query, self.pool()).await?, "action", key)
    }

    async fn retry_action(&self, key: &str, at: Timestamp) -> Result<bool, StoreError> {
        let query = sqlx::query(
            "UPDATE actions SET status = 'pending', attempts = 0, next_attempt_at = $2,
             updated_at = $2 WHERE key = $1 AND status = 'failed'",
        );
        Ok(exec(query.bind(key).bind(millis(at)), self.pool()).await? > 0)
    }

    async fn action(&self, key: &str) -> Result<Option<OutboxAction>, StoreError> {
        let sql = format!("SELECT {ACTION_COLUMNS} FROM actions WHERE key = $1");
        let query = built(sql).bind(key);
        fetch_optional(query, self.pool(), action).await
    }

    async fn action_counts(&self) -> Result<Vec<ActionCount>, StoreError> {
        fetch_all(sqlx::query(ACTION_COUNTS), self.pool(), action_count).await
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
        let mut query = built(sql).bind(after_seq).bind(limit_param(limit));
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
        fetch_all(query, self.pool(), action).await
    }

    async fn actions(&self) -> Result<Vec<OutboxAction>, StoreError> {
        let sql = format!("SELECT {ACTION_COLUMNS} FROM actions ORDER BY seq");
        fetch_all(built(sql), self.pool(), action).await
    }

    async fn action_records(&self) -> Result<Vec<ActionRecord>, StoreError> {
        let sql = format!("SELECT {ACTION_RECORD_COLUMNS} FROM actions ORDER BY seq");
        fetch_all(built(sql), self.pool(), action_record).await
    }
}
