//! [`LedgerStore`] on PostgreSQL: `events` and `state_log`, and the plan commit that writes the
//! outbox and the exception queue in the same transaction; `state_snapshots` and the retention
//! they allow; `documents`, the lifecycle documents stuck detection reads.

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use super::exceptions::{insert_exception, resolve_exception_in};
use super::{
    PgStore, built, classify, fetch_all, from_millis, json, limit_param, millis, parse_json,
};
use crate::store::rows::{ACTION_RECORD_COLUMNS, EVENT_COLUMNS, action_record, recorded_event};
use crate::store::{
    ActionRecord, CommitOutcome, LedgerStore, PlanCommit, RecordedEvent, StateSnapshot, StoreError,
    WatchedDocument,
};

#[async_trait]
impl LedgerStore for PgStore {
    async fn commit_plan(&self, commit: PlanCommit) -> Result<CommitOutcome, StoreError> {
        commit_in(self.pool(), &commit, None).await
    }

    async fn event_seen(&self, event_key: &str) -> Result<bool, StoreError> {
        let mut conn = self.pool().acquire().await.map_err(classify)?;
        seen(&mut conn, event_key).await
    }

    async fn state_log(&self) -> Result<Vec<Value>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT change FROM state_log ORDER BY seq")
            .fetch_all(self.pool())
            .await
            .map_err(classify)?;
        rows.iter().map(|r| parse_json(r)).collect()
    }

    async fn recorded_events(&self) -> Result<Vec<RecordedEvent>, StoreError> {
        // `seq` (migration 2) stands for SQLite's rowid: events planned at the same millisecond
        // come back in the order they were recorded.
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY planned_at, seq");
        fetch_all(built(sql), self.pool(), recorded_event).await
    }

    async fn save_snapshot(&self, snapshot: StateSnapshot) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(classify)?;
        sqlx::query(
            "INSERT INTO state_snapshots (head, format, taken_at, state) VALUES ($1, $2, $3, $4)
             ON CONFLICT (head) DO UPDATE
             SET format = excluded.format, taken_at = excluded.taken_at, state = excluded.state",
        )
        .bind(snapshot.head)
        .bind(i32::try_from(snapshot.format).unwrap_or(i32::MAX))
        .bind(millis(snapshot.taken_at))
        .bind(&snapshot.state)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        sqlx::query(
            "DELETE FROM state_snapshots WHERE head < (
                 SELECT MIN(head) FROM (
                     SELECT head FROM state_snapshots ORDER BY head DESC LIMIT 2) newest)",
        )
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn latest_snapshot(&self) -> Result<Option<StateSnapshot>, StoreError> {
        let row: Option<(i64, i32, i64, String)> = sqlx::query_as(
            "SELECT head, format, taken_at, state FROM state_snapshots
             ORDER BY head DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await
        .map_err(classify)?;
        Ok(row.map(|(head, format, taken_at, state)| StateSnapshot {
            head,
            format: u32::try_from(format).unwrap_or(0),
            taken_at: from_millis(taken_at),
            state,
        }))
    }

    async fn snapshot_head(&self) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT MAX(head) FROM state_snapshots")
            .fetch_one(self.pool())
            .await
            .map_err(classify)
    }

    async fn state_log_horizon(&self) -> Result<i64, StoreError> {
        let through: Option<i64> =
            sqlx::query_scalar("SELECT through FROM state_log_horizon WHERE id = 1")
                .fetch_optional(self.pool())
                .await
                .map_err(classify)?;
        Ok(through.unwrap_or(0))
    }

    async fn prune_state_log(&self, before: Timestamp, limit: usize) -> Result<u64, StoreError> {
        let mut tx = self.pool().begin().await.map_err(classify)?;
        // Serialised with plan commits and other pruners: the prefix read is the one deleted.
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))")
            .bind(LEDGER_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let covered: Option<i64> = sqlx::query_scalar("SELECT MAX(head) FROM state_snapshots")
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        let Some(covered) = covered else {
            return Ok(0);
        };
        let rows: Vec<(i64, Option<i64>)> =
            sqlx::query_as("SELECT seq, recorded_at FROM state_log ORDER BY seq LIMIT $1")
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .fetch_all(&mut *tx)
                .await
                .map_err(classify)?;
        let prefix: Vec<i64> = rows
            .into_iter()
            .take_while(|(seq, at)| *seq <= covered && at.is_some_and(|at| at < millis(before)))
            .map(|(seq, _)| seq)
            .collect();
        let Some(&last) = prefix.last() else {
            return Ok(0);
        };
        sqlx::query("DELETE FROM state_log WHERE seq <= $1")
            .bind(last)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        sqlx::query(
            "INSERT INTO state_log_horizon (id, through) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE
             SET through = GREATEST(state_log_horizon.through, excluded.through)",
        )
        .bind(last)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(prefix.len() as u64)
    }

    async fn prune_events(&self, before: Timestamp, limit: usize) -> Result<u64, StoreError> {
        let mut tx = self.pool().begin().await.map_err(classify)?;
        let n = sqlx::query(
            "DELETE FROM events WHERE event_key IN (
                 SELECT e.event_key FROM events e
                 LEFT JOIN documents d ON d.key = e.owner
                 WHERE e.planned_at < $1 AND (e.owner = '' OR d.finished_at IS NOT NULL)
                 ORDER BY e.planned_at, e.seq LIMIT $2)",
        )
        .bind(millis(before))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected();
        sqlx::query(
            "DELETE FROM documents d WHERE d.finished_at IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM events e WHERE e.owner = d.key)",
        )
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(n)
    }

    async fn unfinished_documents(
        &self,
        seen_by: Timestamp,
        after: &str,
        limit: usize,
    ) -> Result<Vec<WatchedDocument>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT key, version FROM documents
             WHERE finished_at IS NULL AND key COLLATE \"C\" > $1 AND first_seen <= $2
             ORDER BY key COLLATE \"C\" LIMIT $3",
        )
        .bind(after)
        .bind(millis(seen_by))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|(key, version)| WatchedDocument { key, version })
            .collect())
    }

    async fn document_events(&self, owners: &[String]) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE owner = ANY($1) ORDER BY planned_at, seq"
        );
        let query = built(sql).bind(owners);
        fetch_all(query, self.pool(), recorded_event).await
    }

    async fn document_actions(
        &self,
        documents: &[String],
        event_keys: &[String],
    ) -> Result<Vec<ActionRecord>, StoreError> {
        let sql = format!(
            "SELECT {ACTION_RECORD_COLUMNS} FROM actions
             WHERE document = ANY($1) OR event_key = ANY($2) ORDER BY seq"
        );
        let query = built(sql);
        fetch_all(
            query.bind(documents).bind(event_keys),
            self.pool(),
            action_record,
        )
        .await
    }

    async fn finish_documents(
        &self,
        documents: &[WatchedDocument],
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        let keys: Vec<&str> = documents.iter().map(|d| d.key.as_str()).collect();
        let versions: Vec<i64> = documents.iter().map(|d| d.version).collect();
        Ok(sqlx::query(
            "UPDATE documents d SET finished_at = $3
             FROM UNNEST($1::TEXT[], $2::BIGINT[]) AS f(key, version)
             WHERE d.key = f.key AND d.version = f.version AND d.finished_at IS NULL",
        )
        .bind(&keys)
        .bind(&versions)
        .bind(millis(at))
        .execute(self.pool())
        .await
        .map_err(classify)?
        .rows_affected())
    }

    async fn events_without_owner(&self, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE owner IS NULL ORDER BY planned_at, seq LIMIT $1"
        );
        let query = built(sql).bind(limit_param(limit));
        fetch_all(query, self.pool(), recorded_event).await
    }

    async fn set_event_owners(
        &self,
        owners: &[(String, Option<String>)],
    ) -> Result<(), StoreError> {
        let keys: Vec<&str> = owners.iter().map(|(k, _)| k.as_str()).collect();
        let documents: Vec<&str> = owners
            .iter()
            .map(|(_, o)| o.as_deref().unwrap_or(""))
            .collect();
        let mut tx = self.pool().begin().await.map_err(classify)?;
        sqlx::query(
            "UPDATE events e SET owner = o.owner
             FROM UNNEST($1::TEXT[], $2::TEXT[]) AS o(event_key, owner)
             WHERE e.event_key = o.event_key",
        )
        .bind(&keys)
        .bind(&documents)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        sqlx::query(
            "INSERT INTO documents (key, first_seen, version)
             SELECT o.owner, MIN(e.planned_at), 1
             FROM UNNEST($1::TEXT[], $2::TEXT[]) AS o(event_key, owner)
             JOIN events e ON e.event_key = o.event_key
             WHERE o.owner <> ''
             GROUP BY o.owner
             ON CONFLICT (key) DO UPDATE
             SET first_seen = LEAST(documents.first_seen, excluded.first_seen)",
        )
        .bind(&keys)
        .bind(&documents)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }
}

/// Whether an event with this key is in the ledger.
async fn seen(conn: &mut PgConnection, event_key: &str) -> Result<bool, StoreError> {
    let row: Option<i32> = sqlx::query_scalar("SELECT 1 FROM events WHERE event_key = $1")
        .bind(event_key)
        .fetch_optional(conn)
        .await
        .map_err(classify)?;
    Ok(row.is_some())
}

/// The first key of the advisory lock that serialises plan commits (the second is the hash of
/// the schema, so that stores in different schemas of one database do not wait on each other).
const LEDGER_LOCK: i32 = 0x5359_4e43; // "SYNC"

/// Commits a plan in one transaction (see [`LedgerStore::commit_plan`]), serialised with every
/// other commit on the database by a transaction-level advisory lock; with `expected_head`, only
/// if the ledger head is still that position once the lock is held, else
/// [`CommitOutcome::Stale`] and nothing written.
pub(super) async fn commit_in(
    pool: &PgPool,
    commit: &PlanCommit,
    expected_head: Option<i64>,
) -> Result<CommitOutcome, StoreError> {
    let at = millis(commit.planned_at);
    // Serialise everything first: a payload that does not serialise fails before the
    // transaction starts.
    let event = json(&commit.event)?;
    let changes = commit
        .changes
        .iter()
        .map(json)
        .collect::<Result<Vec<_>, _>>()?;
    let payloads = commit
        .actions
        .iter()
        .map(|a| json(&a.payload))
        .collect::<Result<Vec<_>, _>>()?;

    let mut tx = pool.begin().await.map_err(classify)?;
    // Commits are serialised, cluster-wide: a state change's position is assigned when it is
    // inserted, not when it commits, so without the lock a later position could become
    // visible before an earlier one and a reader tailing the log would skip the earlier.
    // The lock is the transaction's, released when it commits or rolls back.
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))")
        .bind(LEDGER_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    if let Some(expected) = expected_head {
        let head = head_in(&mut tx).await?;
        if head != expected {
            return Ok(CommitOutcome::Stale { head });
        }
    }
    let owner = commit.owner.as_deref().unwrap_or("");
    if commit.mark_seen {
        // Marking the event seen is also the duplicate check: of two instances committing
        // the same event at once, the second waits on the first's key and inserts nothing.
        let inserted = sqlx::query(
            "INSERT INTO events (event_key, document, event, planned_at, owner)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_key) DO NOTHING",
        )
        .bind(&commit.event_key)
        .bind(&commit.document)
        .bind(&event)
        .bind(at)
        .bind(owner)
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected();
        if inserted == 0 {
            // Dropping the transaction rolls it back: nothing was written.
            return Ok(CommitOutcome::Duplicate);
        }
    } else if seen(&mut tx, &commit.event_key).await? {
        return Ok(CommitOutcome::Duplicate);
    }
    for change in &changes {
        sqlx::query("INSERT INTO state_log (event_key, change, recorded_at) VALUES ($1, $2, $3)")
            .bind(&commit.event_key)
            .bind(change)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
    }
    if !owner.is_empty() {
        sqlx::query(
            "INSERT INTO documents (key, first_seen, version) VALUES ($1, $2, 1)
             ON CONFLICT (key) DO UPDATE
             SET version = documents.version + 1, finished_at = NULL",
        )
        .bind(owner)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    }
    if !commit.actions.is_empty() {
        // The documents the actions are filed under are not finished any more.
        let filed: Vec<&str> = commit.actions.iter().map(|a| a.document.as_str()).collect();
        sqlx::query(
            "UPDATE documents SET version = version + 1, finished_at = NULL
             WHERE key = ANY($1)",
        )
        .bind(&filed)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    }
    for (a, payload) in commit.actions.iter().zip(&payloads) {
        // A key planned before (by an earlier event) is not enqueued twice.
        sqlx::query(
            "INSERT INTO actions (key, document, kind, payload, event_key, status,
             not_before, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6, $7, $7)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(&a.key)
        .bind(&a.document)
        .bind(&a.kind)
        .bind(payload)
        .bind(&commit.event_key)
        .bind(millis(a.not_before))
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    }
    for e in &commit.exceptions {
        insert_exception(&mut tx, e, at, false).await?;
    }
    for key in &commit.resolved_exceptions {
        resolve_exception_in(&mut tx, key, "resolved by a later event", at).await?;
    }
    tx.commit().await.map_err(classify)?;
    Ok(CommitOutcome::Committed)
}

/// The ledger head: the last position in the state log, or the last pruned from it when that
/// is later (the whole log pruned); 0 when nothing was ever written.
pub(super) async fn head_in(conn: &mut PgConnection) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "SELECT GREATEST(
             COALESCE((SELECT MAX(seq) FROM state_log), 0),
             COALESCE((SELECT through FROM state_log_horizon WHERE id = 1), 0))::BIGINT",
    )
    .fetch_one(conn)
    .await
    .map_err(classify)
}
