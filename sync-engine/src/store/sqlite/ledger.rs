//! [`LedgerStore`] on SQLite: `events` and `state_log`, and the plan commit that writes the
//! outbox and the exception queue in the same transaction; `state_snapshots` and the retention
//! they allow; `documents`, the lifecycle documents stuck detection reads.
//!
//! Lists of keys are passed as one JSON array parameter and read with `json_each`.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;

use super::exceptions::{insert_exception, resolve_exception_in};
use super::{Failure, SqliteStore, json, limit_param, millis, read_all};
use crate::store::rows::{
    ACTION_RECORD_COLUMNS, EVENT_COLUMNS, SNAPSHOT_COLUMNS, action_record, recorded_event, snapshot,
};
use crate::store::{
    ActionRecord, CommitOutcome, LedgerStore, PlanCommit, RecordedEvent, StateSnapshot, StoreError,
    WatchedDocument,
};

#[async_trait]
impl LedgerStore for SqliteStore {
    async fn commit_plan(&self, commit: PlanCommit) -> Result<CommitOutcome, StoreError> {
        self.run(move |c| commit_in(c, &commit, None)).await
    }

    async fn event_seen(&self, event_key: &str) -> Result<bool, StoreError> {
        let key = event_key.to_owned();
        self.run(move |c| {
            Ok(
                c.query_row("SELECT 1 FROM events WHERE event_key = ?1", [key], |_| {
                    Ok(())
                })
                .optional()?
                .is_some(),
            )
        })
        .await
    }

    async fn state_log(&self) -> Result<Vec<Value>, StoreError> {
        self.run(|c| {
            read_all(c, "SELECT change FROM state_log ORDER BY seq", [], |r| {
                r.json(0)
            })
        })
        .await
    }

    async fn recorded_events(&self) -> Result<Vec<RecordedEvent>, StoreError> {
        self.run(|c| {
            let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY planned_at, rowid");
            read_all(c, &sql, [], recorded_event)
        })
        .await
    }

    async fn save_snapshot(&self, snapshot: StateSnapshot) -> Result<(), StoreError> {
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT OR REPLACE INTO state_snapshots (head, format, taken_at, state)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    snapshot.head,
                    snapshot.format,
                    millis(snapshot.taken_at),
                    snapshot.state
                ],
            )?;
            tx.execute(
                "DELETE FROM state_snapshots WHERE head < (
                     SELECT MIN(head) FROM (
                         SELECT head FROM state_snapshots ORDER BY head DESC LIMIT 2))",
                [],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn latest_snapshot(&self) -> Result<Option<StateSnapshot>, StoreError> {
        self.run(|c| {
            let sql = format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM state_snapshots ORDER BY head DESC LIMIT 1"
            );
            Ok(read_all(c, &sql, [], snapshot)?.pop())
        })
        .await
    }

    async fn snapshot_head(&self) -> Result<Option<i64>, StoreError> {
        self.run(|c| Ok(c.query_row("SELECT MAX(head) FROM state_snapshots", [], |r| r.get(0))?))
            .await
    }

    async fn state_log_horizon(&self) -> Result<i64, StoreError> {
        self.run(|c| horizon_in(c)).await
    }

    async fn prune_state_log(&self, before: Timestamp, limit: usize) -> Result<u64, StoreError> {
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(covered) = tx.query_row("SELECT MAX(head) FROM state_snapshots", [], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            else {
                return Ok(0);
            };
            // The prefix to delete: entries from the oldest, while covered and old enough.
            let mut last = None;
            let mut count = 0u64;
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT seq, recorded_at FROM state_log ORDER BY seq LIMIT ?1",
                )?;
                let mut rows = stmt.query([limit as i64])?;
                while let Some(row) = rows.next()? {
                    let seq: i64 = row.get(0)?;
                    let at: Option<i64> = row.get(1)?;
                    if seq > covered || at.is_none_or(|at| at >= millis(before)) {
                        break;
                    }
                    last = Some(seq);
                    count += 1;
                }
            }
            let Some(last) = last else {
                return Ok(0);
            };
            tx.execute("DELETE FROM state_log WHERE seq <= ?1", [last])?;
            tx.execute(
                "INSERT INTO state_log_horizon (id, through) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET through = MAX(through, excluded.through)",
                [last],
            )?;
            tx.commit()?;
            Ok(count)
        })
        .await
    }

    async fn prune_events(&self, before: Timestamp, limit: usize) -> Result<u64, StoreError> {
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "DELETE FROM events WHERE event_key IN (
                     SELECT e.event_key FROM events e
                     LEFT JOIN documents d ON d.key = e.owner
                     WHERE e.planned_at < ?1
                       AND (e.owner = '' OR d.finished_at IS NOT NULL)
                     ORDER BY e.planned_at LIMIT ?2)",
                params![millis(before), limit as i64],
            )?;
            tx.execute(
                "DELETE FROM documents WHERE finished_at IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM events e WHERE e.owner = documents.key)",
                [],
            )?;
            tx.commit()?;
            Ok(n as u64)
        })
        .await
    }

    async fn unfinished_documents(
        &self,
        seen_by: Timestamp,
        after: &str,
        limit: usize,
    ) -> Result<Vec<WatchedDocument>, StoreError> {
        let after = after.to_owned();
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT key, version FROM documents
                 WHERE finished_at IS NULL AND key > ?1 AND first_seen <= ?2
                 ORDER BY key LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![after, millis(seen_by), limit as i64], |r| {
                Ok(WatchedDocument {
                    key: r.get(0)?,
                    version: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn document_events(&self, owners: &[String]) -> Result<Vec<RecordedEvent>, StoreError> {
        let owners = json(&Value::from(owners.to_vec()))?;
        self.run(move |c| {
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events
                 WHERE owner IN (SELECT value FROM json_each(?1)) ORDER BY planned_at, rowid"
            );
            read_all(c, &sql, [owners], recorded_event)
        })
        .await
    }

    async fn document_actions(
        &self,
        documents: &[String],
        event_keys: &[String],
    ) -> Result<Vec<ActionRecord>, StoreError> {
        let documents = json(&Value::from(documents.to_vec()))?;
        let event_keys = json(&Value::from(event_keys.to_vec()))?;
        self.run(move |c| {
            let sql = format!(
                "SELECT {ACTION_RECORD_COLUMNS} FROM actions
                 WHERE document IN (SELECT value FROM json_each(?1))
                    OR event_key IN (SELECT value FROM json_each(?2))
                 ORDER BY seq"
            );
            read_all(c, &sql, [documents, event_keys], action_record)
        })
        .await
    }

    async fn finish_documents(
        &self,
        documents: &[WatchedDocument],
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        let documents = documents.to_vec();
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut n = 0;
            {
                let mut stmt = tx.prepare_cached(
                    "UPDATE documents SET finished_at = ?3
                     WHERE key = ?1 AND version = ?2 AND finished_at IS NULL",
                )?;
                for d in &documents {
                    n += stmt.execute(params![d.key, d.version, millis(at)])? as u64;
                }
            }
            tx.commit()?;
            Ok(n)
        })
        .await
    }

    async fn events_without_owner(&self, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.run(move |c| {
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events
                 WHERE owner IS NULL ORDER BY planned_at, rowid LIMIT ?1"
            );
            read_all(c, &sql, [limit_param(limit)], recorded_event)
        })
        .await
    }

    async fn set_event_owners(
        &self,
        owners: &[(String, Option<String>)],
    ) -> Result<(), StoreError> {
        let owners = owners.to_vec();
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (event_key, owner) in &owners {
                let owner = owner.as_deref().unwrap_or("");
                tx.execute(
                    "UPDATE events SET owner = ?2 WHERE event_key = ?1",
                    params![event_key, owner],
                )?;
                if !owner.is_empty() {
                    tx.execute(
                        "INSERT INTO documents (key, first_seen, version)
                         SELECT ?1, planned_at, 1 FROM events WHERE event_key = ?2
                         ON CONFLICT (key) DO UPDATE
                         SET first_seen = MIN(first_seen, excluded.first_seen)",
                        params![owner, event_key],
                    )?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }
}

/// The highest position pruned from the state log, 0 when nothing was.
pub(super) fn horizon_in(c: &Connection) -> Result<i64, Failure> {
    Ok(c.query_row(
        "SELECT through FROM state_log_horizon WHERE id = 1",
        [],
        |r| r.get(0),
    )
    .optional()?
    .unwrap_or(0))
}

/// Commits a plan in one transaction (see [`LedgerStore::commit_plan`]); with `expected_head`,
/// only if the ledger head is still that position, else [`CommitOutcome::Stale`] and nothing
/// written. The transaction takes the write lock when it begins, so the head it checks cannot
/// move before it commits, even with another connection on the same file.
pub(super) fn commit_in(
    c: &mut Connection,
    commit: &PlanCommit,
    expected_head: Option<i64>,
) -> Result<CommitOutcome, Failure> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(expected) = expected_head {
        let head = head_in(&tx)?;
        if head != expected {
            return Ok(CommitOutcome::Stale { head });
        }
    }
    let at = millis(commit.planned_at);
    let seen = tx
        .query_row(
            "SELECT 1 FROM events WHERE event_key = ?1",
            [&commit.event_key],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if seen {
        return Ok(CommitOutcome::Duplicate);
    }
    let owner = commit.owner.as_deref().unwrap_or("");
    if commit.mark_seen {
        tx.execute(
            "INSERT INTO events (event_key, document, event, planned_at, owner)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                commit.event_key,
                commit.document,
                json(&commit.event)?,
                at,
                owner
            ],
        )?;
    }
    for change in &commit.changes {
        tx.execute(
            "INSERT INTO state_log (event_key, change, recorded_at) VALUES (?1, ?2, ?3)",
            params![commit.event_key, json(change)?, at],
        )?;
    }
    if !owner.is_empty() {
        tx.execute(
            "INSERT INTO documents (key, first_seen, version) VALUES (?1, ?2, 1)
             ON CONFLICT (key) DO UPDATE SET version = version + 1, finished_at = NULL",
            params![owner, at],
        )?;
    }
    for a in &commit.actions {
        // A document the action is filed under is not finished any more.
        tx.execute(
            "UPDATE documents SET version = version + 1, finished_at = NULL WHERE key = ?1",
            [&a.document],
        )?;
    }
    for a in &commit.actions {
        // A key planned before (by an earlier event) is not enqueued twice.
        tx.execute(
            "INSERT OR IGNORE INTO actions (key, document, kind, payload, event_key, status,
             not_before, next_attempt_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6, ?7, ?7)",
            params![
                a.key,
                a.document,
                a.kind,
                json(&a.payload)?,
                commit.event_key,
                millis(a.not_before),
                at
            ],
        )?;
    }
    for e in &commit.exceptions {
        insert_exception(&tx, e, at, false)?;
    }
    for key in &commit.resolved_exceptions {
        resolve_exception_in(&tx, key, "resolved by a later event", at)?;
    }
    tx.commit()?;
    Ok(CommitOutcome::Committed)
}

/// The ledger head: the last position in the state log, or the last pruned from it when that
/// is later (the whole log pruned); 0 when nothing was ever written.
pub(super) fn head_in(c: &Connection) -> Result<i64, Failure> {
    Ok(c.query_row(
        "SELECT MAX(COALESCE((SELECT MAX(seq) FROM state_log), 0),
                    COALESCE((SELECT through FROM state_log_horizon WHERE id = 1), 0))",
        [],
        |r| r.get(0),
    )?)
}
