//! [`ClusterStore`] on PostgreSQL: `leases`, `instances`, the claim columns of `deliveries` and
//! `actions`, and the ledger head, for several instances sharing the database.
//!
//! Each operation is one statement (or one transaction), atomic against the other instances:
//! a lease is one upsert whose `WHERE` refuses another holder's unexpired lease; a claim is one
//! `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING ...`, so two instances
//! claiming at once never take the same row (the second skips rows the first has locked, and
//! re-checks the claim of a row the first claimed and committed in between); the checked
//! commit holds the ledger's advisory lock (see `ledger.rs`).

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::deliveries::limit_param;
use super::ledger::{commit_in, head_in};
use super::outbox::{ACTION_COLUMNS, read_action};
use super::{PgStore, classify, from_millis, millis, parse_json};
use crate::store::cluster::expiry_millis;
use crate::store::{
    ClusterStore, CommitOutcome, Delivery, InstanceRecord, Lease, NewDelivery, OutboxAction,
    PlanCommit, StoreError, WAITING_FOR_BATCH,
};

#[async_trait]
impl ClusterStore for PgStore {
    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: SignedDuration,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        // Two instances upserting at once: the second waits on the first's row, then re-checks
        // the WHERE against it, finds another holder with time left, and changes nothing.
        let n = sqlx::query(
            "INSERT INTO leases AS l (name, holder, acquired_at, expires_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET
                 acquired_at = CASE WHEN l.holder = excluded.holder AND l.expires_at > $3
                                    THEN l.acquired_at ELSE excluded.acquired_at END,
                 holder = excluded.holder,
                 expires_at = excluded.expires_at
             WHERE l.holder = excluded.holder OR l.expires_at <= $3",
        )
        .bind(name)
        .bind(holder)
        .bind(millis(now))
        .bind(expiry_millis(now, ttl))
        .execute(self.pool())
        .await
        .map_err(classify)?
        .rows_affected();
        Ok(n > 0)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(self.pool())
            .await
            .map_err(classify)?
            .rows_affected();
        Ok(n > 0)
    }

    async fn leases(&self, now: Timestamp) -> Result<Vec<Lease>, StoreError> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT name, holder, expires_at, acquired_at FROM leases
             WHERE expires_at > $1 ORDER BY name COLLATE \"C\"",
        )
        .bind(millis(now))
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|(name, holder, expires_at, acquired_at)| Lease {
                name,
                holder,
                expires_at: from_millis(expires_at),
                acquired_at: from_millis(acquired_at),
            })
            .collect())
    }

    async fn heartbeat(
        &self,
        instance: &str,
        started_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO instances (id, started_at, last_seen) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at,
                 last_seen = excluded.last_seen",
        )
        .bind(instance)
        .bind(millis(started_at))
        .bind(millis(now))
        .execute(self.pool())
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn live_instances(&self, since: Timestamp) -> Result<Vec<InstanceRecord>, StoreError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT id, started_at, last_seen FROM instances WHERE last_seen >= $1
             ORDER BY id COLLATE \"C\"",
        )
        .bind(millis(since))
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|(id, started_at, last_seen)| InstanceRecord {
                id,
                started_at: from_millis(started_at),
                last_seen: from_millis(last_seen),
            })
            .collect())
    }

    async fn forget_instances(&self, before: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM instances WHERE last_seen < $1")
            .bind(millis(before))
            .execute(self.pool())
            .await
            .map_err(classify)?;
        Ok(done.rows_affected())
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        limit: usize,
        holder: &str,
        until: Timestamp,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut rows: Vec<(i64, String, i64, String, Vec<u8>)> = sqlx::query_as(
            "UPDATE deliveries SET claimed_by = $3, claim_until = $4
             WHERE id IN (SELECT id FROM deliveries
                          WHERE processed_at IS NULL AND not_before <= $1
                            AND (claimed_by IS NULL OR claimed_by = $3 OR claim_until <= $1)
                          ORDER BY id LIMIT $2
                          FOR UPDATE SKIP LOCKED)
             RETURNING id, source, received_at, headers, body",
        )
        .bind(millis(now))
        .bind(limit_param(limit))
        .bind(holder)
        .bind(millis(until))
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        // RETURNING lists rows in no particular order.
        rows.sort_by_key(|row| row.0);
        rows.into_iter()
            .map(|(id, source, received_at, headers, body)| {
                Ok(Delivery {
                    id,
                    delivery: NewDelivery {
                        source,
                        received_at: from_millis(received_at),
                        headers: parse_json(&headers)?,
                        body,
                    },
                })
            })
            .collect()
    }

    async fn claim_due_actions(
        &self,
        now: Timestamp,
        limit: usize,
        holder: &str,
        until: Timestamp,
    ) -> Result<Vec<OutboxAction>, StoreError> {
        // The lanes' heads as `due_actions` finds them, less those another holder claimed until
        // after `now` (their whole document waits). The status is checked again on the locked
        // row: a head another instance completed since this statement's snapshot (its claim
        // cleared) would otherwise be re-evaluated as free and handed out twice.
        let sql = format!(
            "UPDATE actions SET claimed_by = $4, claim_until = $5
             WHERE seq IN (
                 SELECT seq FROM actions
                 WHERE seq IN (SELECT MIN(seq) FROM actions
                               WHERE status IN ('pending', 'ambiguous') AND not_before < $3
                               GROUP BY document)
                   AND status IN ('pending', 'ambiguous')
                   AND not_before <= $1 AND next_attempt_at <= $1
                   AND (claimed_by IS NULL OR claimed_by = $4 OR claim_until <= $1)
                 ORDER BY seq LIMIT $2
                 FOR UPDATE SKIP LOCKED)
             RETURNING {ACTION_COLUMNS}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(millis(now))
            .bind(limit_param(limit))
            .bind(millis(WAITING_FOR_BATCH))
            .bind(holder)
            .bind(millis(until))
            .fetch_all(self.pool())
            .await
            .map_err(classify)?;
        let mut actions = rows
            .iter()
            .map(read_action)
            .collect::<Result<Vec<_>, _>>()?;
        actions.sort_by_key(|a| a.seq);
        Ok(actions)
    }

    async fn ledger_head(&self) -> Result<i64, StoreError> {
        let mut conn = self.pool().acquire().await.map_err(classify)?;
        head_in(&mut conn).await
    }

    async fn state_log_since(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Value)>, StoreError> {
        // Commits hold the ledger's advisory lock, so positions become visible in order: a
        // reader that saw position n never later finds a new position below n.
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, change FROM state_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit_param(limit))
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        rows.into_iter()
            .map(|(seq, change)| Ok((seq, parse_json(&change)?)))
            .collect()
    }

    async fn commit_plan_at(
        &self,
        commit: PlanCommit,
        expected_head: i64,
    ) -> Result<CommitOutcome, StoreError> {
        commit_in(self.pool(), &commit, Some(expected_head)).await
    }
}
