//! [`OutboxStore`] on SQLite: the `actions` table.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::params;

use super::{SqliteStore, limit_param, millis, read_all};
use crate::store::rows::{
    ACTION_COLUMNS, ACTION_COUNTS, ACTION_RECORD_COLUMNS, action, action_count, action_record,
    found, status_after_failure,
};
use crate::store::{
    ActionCount, ActionFilter, ActionRecord, OutboxAction, OutboxStore, StoreError,
    WAITING_FOR_BATCH,
};

/// The heads of the lanes due at `?1`, at most `?2`, oldest first, the query's own clause
/// `filter` added: each document's first action not yet done or failed, less the actions
/// waiting for a batch (`not_before` = `?3`).
pub(super) fn due_heads(filter: &str) -> String {
    format!(
        "SELECT {ACTION_COLUMNS} FROM actions
         WHERE seq IN (SELECT MIN(seq) FROM actions
                       WHERE status IN ('pending', 'ambiguous') AND not_before < ?3
                       GROUP BY document)
           AND not_before <= ?1 AND next_attempt_at <= ?1 {filter}
         ORDER BY seq LIMIT ?2"
    )
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn due_actions(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxAction>, StoreError> {
        self.run(move |c| {
            // Actions waiting for a batch are posted by the batcher, not the outbox: they are
            // left out of their lane so they do not hold up the actions behind them.
            let sql = due_heads("");
            let args = params![millis(now), limit as i64, millis(WAITING_FOR_BATCH)];
            read_all(c, &sql, args, action)
        })
        .await
    }

    async fn begin_attempt(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            c.execute(
                "UPDATE actions SET status = 'ambiguous' WHERE key = ?1 AND status = 'pending'",
                [key],
            )?;
            Ok(())
        })
        .await
    }

    async fn complete_action(
        &self,
        key: &str,
        result_id: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let n = c.execute(
                "UPDATE actions SET status = 'done', result_id = ?2, attempts = attempts + 1,
                 updated_at = ?3, last_error = NULL, claimed_by = NULL, claim_until = NULL
                 WHERE key = ?1",
                params![key, result_id, millis(at)],
            )?;
            Ok(found(n as u64, "action", &key)?)
        })
        .await
    }

    async fn fail_action(
        &self,
        key: &str,
        error: &str,
        ambiguous: bool,
        retry_at: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        let error = error.to_owned();
        let status = status_after_failure(retry_at, ambiguous);
        let now = millis(at);
        let next = retry_at.map_or(now, millis);
        self.run(move |c| {
            let n = c.execute(
                "UPDATE actions SET status = ?2, attempts = attempts + 1, last_error = ?3,
                 next_attempt_at = ?4, updated_at = ?5, claimed_by = NULL, claim_until = NULL
                 WHERE key = ?1",
                params![key, status.as_str(), error, next, now],
            )?;
            Ok(found(n as u64, "action", &key)?)
        })
        .await
    }

    async fn action(&self, key: &str) -> Result<Option<OutboxAction>, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let sql = format!("SELECT {ACTION_COLUMNS} FROM actions WHERE key = ?1");
            Ok(read_all(c, &sql, [key], action)?.pop())
        })
        .await
    }

    async fn action_counts(&self) -> Result<Vec<ActionCount>, StoreError> {
        self.run(|c| read_all(c, ACTION_COUNTS, [], action_count))
            .await
    }

    async fn actions_page(
        &self,
        filter: &ActionFilter,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<OutboxAction>, StoreError> {
        use rusqlite::types::Value as Arg;
        let filter = filter.clone();
        self.run(move |c| {
            let mut clauses = vec!["seq > ?1".to_owned()];
            let mut args = vec![Arg::Integer(after_seq), Arg::Integer(limit_param(limit))];
            if !filter.statuses.is_empty() {
                let names: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
                args.push(Arg::Text(serde_json::to_string(&names)?));
                clauses.push(format!(
                    "status IN (SELECT value FROM json_each(?{}))",
                    args.len()
                ));
            }
            if !filter.kinds.is_empty() {
                args.push(Arg::Text(serde_json::to_string(&filter.kinds)?));
                clauses.push(format!(
                    "kind IN (SELECT value FROM json_each(?{}))",
                    args.len()
                ));
            }
            let sql = format!(
                "SELECT {ACTION_COLUMNS} FROM actions WHERE {} ORDER BY seq LIMIT ?2",
                clauses.join(" AND ")
            );
            read_all(c, &sql, rusqlite::params_from_iter(args), action)
        })
        .await
    }

    async fn actions(&self) -> Result<Vec<OutboxAction>, StoreError> {
        self.run(|c| {
            let sql = format!("SELECT {ACTION_COLUMNS} FROM actions ORDER BY seq");
            read_all(c, &sql, [], action)
        })
        .await
    }

    async fn action_records(&self) -> Result<Vec<ActionRecord>, StoreError> {
        self.run(|c| {
            let sql = format!("SELECT {ACTION_RECORD_COLUMNS} FROM actions ORDER BY seq");
            read_all(c, &sql, [], action_record)
        })
        .await
    }

    async fn retry_action(&self, key: &str, at: Timestamp) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let n = c.execute(
                "UPDATE actions SET status = 'pending', attempts = 0, next_attempt_at = ?2,
                 updated_at = ?2 WHERE key = ?1 AND status = 'failed'",
                params![key, millis(at)],
            )?;
            Ok(n > 0)
        })
        .await
    }
}
