//! [`LedgerStore`] on PostgreSQL: `events` and `state_log`, and the plan commit that writes the
//! outbox and the exception queue in the same transaction.

use async_trait::async_trait;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use super::exceptions::{insert_exception, resolve_exception_in};
use super::{PgStore, classify, from_millis, json, millis, parse_json};
use crate::store::{CommitOutcome, LedgerStore, PlanCommit, RecordedEvent, StoreError};

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
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT event_key, document, event, planned_at FROM events ORDER BY planned_at, seq",
        )
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        rows.into_iter()
            .map(|(event_key, document, event, planned_at)| {
                Ok(RecordedEvent {
                    event_key,
                    document,
                    event: parse_json(&event)?,
                    planned_at: from_millis(planned_at),
                })
            })
            .collect()
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
    if commit.mark_seen {
        // Marking the event seen is also the duplicate check: of two instances committing
        // the same event at once, the second waits on the first's key and inserts nothing.
        let inserted = sqlx::query(
            "INSERT INTO events (event_key, document, event, planned_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (event_key) DO NOTHING",
        )
        .bind(&commit.event_key)
        .bind(&commit.document)
        .bind(&event)
        .bind(at)
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
        sqlx::query("INSERT INTO state_log (event_key, change) VALUES ($1, $2)")
            .bind(&commit.event_key)
            .bind(change)
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

/// The ledger head: the last position in the state log, 0 when it is empty.
pub(super) async fn head_in(conn: &mut PgConnection) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM state_log")
        .fetch_one(conn)
        .await
        .map_err(classify)
}
