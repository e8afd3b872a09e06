//! [`LedgerStore`] on SQLite: `events` and `state_log`, and the plan commit that writes the
//! outbox and the exception queue in the same transaction.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;

use super::exceptions::{insert_exception, resolve_exception_in};
use super::{Failure, SqliteStore, from_millis, json, millis, parse_json};
use crate::store::{CommitOutcome, LedgerStore, PlanCommit, RecordedEvent, StoreError};

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
            let mut stmt = c.prepare_cached("SELECT change FROM state_log ORDER BY seq")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for row in rows {
                out.push(parse_json(&row?)?);
            }
            Ok(out)
        })
        .await
    }
    async fn recorded_events(&self) -> Result<Vec<RecordedEvent>, StoreError> {
        self.run(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT event_key, document, event, planned_at FROM events
                 ORDER BY planned_at, rowid",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (event_key, document, event, planned_at) = row?;
                out.push(RecordedEvent {
                    event_key,
                    document,
                    event: parse_json(&event)?,
                    planned_at: from_millis(planned_at),
                });
            }
            Ok(out)
        })
        .await
    }
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
    if commit.mark_seen {
        tx.execute(
            "INSERT INTO events (event_key, document, event, planned_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![commit.event_key, commit.document, json(&commit.event)?, at],
        )?;
    }
    for change in &commit.changes {
        tx.execute(
            "INSERT INTO state_log (event_key, change) VALUES (?1, ?2)",
            params![commit.event_key, json(change)?],
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

/// The ledger head: the last position in the state log, 0 when it is empty.
pub(super) fn head_in(c: &Connection) -> Result<i64, Failure> {
    Ok(
        c.query_row("SELECT COALESCE(MAX(seq), 0) FROM state_log", [], |r| {
            r.get(0)
        })?,
    )
}
