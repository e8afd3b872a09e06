//! [`OutboxStore`] on SQLite: the `actions` table.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row, params};
use serde_json::Value;

use super::{Failure, SqliteStore, from_millis, millis, parse_json};
use crate::store::{
    ActionCount, ActionFilter, ActionRecord, ActionStatus, NewAction, OutboxAction, OutboxStore,
    StoreError, WAITING_FOR_BATCH,
};

pub(super) const ACTION_COLUMNS: &str = "seq, key, document, kind, payload, status, attempts, not_before, \
                              last_error, result_id";

pub(super) fn read_action(row: &Row<'_>) -> rusqlite::Result<(OutboxAction, String)> {
    let payload: String = row.get(4)?;
    let status: String = row.get(5)?;
    Ok((
        OutboxAction {
            seq: row.get(0)?,
            action: NewAction {
                key: row.get(1)?,
                document: row.get(2)?,
                kind: row.get(3)?,
                payload: Value::Null,
                not_before: from_millis(row.get(7)?),
            },
            status: ActionStatus::parse(&status).unwrap_or(ActionStatus::Failed),
            attempts: row.get(6)?,
            last_error: row.get(8)?,
            result_id: row.get(9)?,
        },
        payload,
    ))
}

pub(super) fn finish_action(
    (mut action, payload): (OutboxAction, String),
) -> Result<OutboxAction, Failure> {
    action.action.payload = parse_json(&payload)?;
    Ok(action)
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
            let sql = format!(
                "SELECT {ACTION_COLUMNS} FROM actions
                 WHERE seq IN (SELECT MIN(seq) FROM actions
                               WHERE status IN ('pending', 'ambiguous') AND not_before < ?3
                               GROUP BY document)
                   AND not_before <= ?1 AND next_attempt_at <= ?1
                 ORDER BY seq LIMIT ?2"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![millis(now), limit as i64, millis(WAITING_FOR_BATCH)],
                read_action,
            )?;
            rows.map(|r| finish_action(r?)).collect()
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
            if n == 0 {
                return Err(StoreError::NotFound {
                    what: "action",
                    key,
                }
                .into());
            }
            Ok(())
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
        self.run(move |c| {
            let status = match (retry_at, ambiguous) {
                (None, _) => ActionStatus::Failed,
                (Some(_), true) => ActionStatus::Ambiguous,
                (Some(_), false) => ActionStatus::Pending,
            };
            let now = millis(at);
            let n = c.execute(
                "UPDATE actions SET status = ?2, attempts = attempts + 1, last_error = ?3,
                 next_attempt_at = ?4, updated_at = ?5, claimed_by = NULL, claim_until = NULL
                 WHERE key = ?1",
                params![
                    key,
                    status.as_str(),
                    error,
                    retry_at.map(millis).unwrap_or(now),
                    now
                ],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound {
                    what: "action",
                    key,
                }
                .into());
            }
            Ok(())
        })
        .await
    }

    async fn action(&self, key: &str) -> Result<Option<OutboxAction>, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let sql = format!("SELECT {ACTION_COLUMNS} FROM actions WHERE key = ?1");
            let row = c.query_row(&sql, [key], read_action).optional()?;
            row.map(finish_action).transpose()
        })
        .await
    }

    async fn action_counts(&self) -> Result<Vec<ActionCount>, StoreError> {
        self.run(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT kind, status, COUNT(*) FROM actions GROUP BY kind, status ORDER BY kind, status",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (kind, status, count) = row?;
                out.push(ActionCount {
                    kind,
                    status: ActionStatus::parse(&status).unwrap_or(ActionStatus::Failed),
                    count: count as u64,
                });
            }
            Ok(out)
        })
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
            let mut args = vec![
                Arg::Integer(after_seq),
                Arg::Integer(i64::try_from(limit).unwrap_or(i64::MAX)),
            ];
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
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args), read_action)?;
            rows.map(|r| finish_action(r?)).collect()
        })
        .await
    }

    async fn actions(&self) -> Result<Vec<OutboxAction>, StoreError> {
        self.run(|c| {
            let sql = format!("SELECT {ACTION_COLUMNS} FROM actions ORDER BY seq");
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map([], read_action)?;
            rows.map(|r| finish_action(r?)).collect()
        })
        .await
    }

    async fn action_records(&self) -> Result<Vec<ActionRecord>, StoreError> {
        self.run(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT key, document, kind, status, event_key, created_at, updated_at
                 FROM actions ORDER BY seq",
            )?;
            let rows = stmt.query_map([], |r| {
                let status: String = r.get(3)?;
                Ok(ActionRecord {
                    key: r.get(0)?,
                    document: r.get(1)?,
                    kind: r.get(2)?,
                    status: ActionStatus::parse(&status).unwrap_or(ActionStatus::Failed),
                    event_key: r.get(4)?,
                    created_at: from_millis(r.get(5)?),
                    updated_at: from_millis(r.get(6)?),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
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
