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

use super::ledger::{commit_in, head_in};
use super::{PgStore, built, classify, exec, fetch_all, limit_param, millis};
use crate::store::cluster::expiry_millis;
use crate::store::rows::{
    ACTION_COLUMNS, DELIVERY_COLUMNS, INSTANCE_COLUMNS, LEASE_COLUMNS, action, delivery, instance,
    lease, state_change,
};
use crate::store::{
    ClusterStore, CommitOutcome, Delivery, InstanceRecord, Lease, OutboxAction, PlanCommit,
    StoreError, WAITING_FOR_BATCH,
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
        let query = sqlx::query(
            "INSERT INTO leases AS l (name, holder, acquired_at, expires_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET
                 acquired_at = CASE WHEN l.holder = excluded.holder AND l.expires_at > $3
                                    THEN l.acquired_at ELSE excluded.acquired_at END,
                 holder = excluded.holder,
                 expires_at = excluded.expires_at
             WHERE l.holder = excluded.holder OR l.expires_at <= $3",
        );
        let query = query.bind(name).bind(holder);
        let query = query.bind(millis(now)).bind(expiry_millis(now, ttl));
        Ok(exec(query, self.pool()).await? > 0)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool, StoreError> {
        let query = sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2");
        Ok(exec(query.bind(name).bind(holder), self.pool()).await? > 0)
    }

    async fn leases(&self, now: Timestamp) -> Result<Vec<Lease>, StoreError> {
        let sql = format!(
            "SELECT {LEASE_COLUMNS} FROM leases WHERE expires_at > $1 ORDER BY name COLLATE \"C\""
        );
        let query = built(sql).bind(millis(now));
        fetch_all(query, self.pool(), lease).await
    }

    async fn heartbeat(
        &self,
        instance: &str,
        started_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let query = sqlx::query(
            "INSERT INTO instances (id, started_at, last_seen) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at,
                 last_seen = excluded.last_seen",
        );
        let query = query
            .bind(instance)
            .bind(millis(started_at))
            .bind(millis(now));
        exec(query, self.pool()).await?;
        Ok(())
    }

    async fn live_instances(&self, since: Timestamp) -> Result<Vec<InstanceRecord>, StoreError> {
        let sql = format!(
            "SELECT {INSTANCE_COLUMNS} FROM instances WHERE last_seen >= $1
             ORDER BY id COLLATE \"C\""
        );
        let query = built(sql).bind(millis(since));
        fetch_all(query, self.pool(), instance).await
    }

    async fn forget_instances(&self, before: Timestamp) -> Result<u64, StoreError> {
        let query = sqlx::query("DELETE FROM instances WHERE last_seen < $1");
        exec(query.bind(millis(before)), self.pool()).await
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        limit: usize,
        holder: &str,
        until: Timestamp,
    ) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            "UPDATE deliveries SET claimed_by = $3, claim_until = $4
             WHERE id IN (SELECT id FROM deliveries
                          WHERE processed_at IS NULL AND not_before <= $1
                            AND (claimed_by IS NULL OR claimed_by = $3 OR claim_until <= $1)
                          ORDER BY id LIMIT $2
                          FOR UPDATE SKIP LOCKED)
             RETURNING {DELIVERY_COLUMNS}"
        );
        let query = built(sql).bind(millis(now));
        let query = query
            .bind(limit_param(limit))
            .bind(holder)
            .bind(millis(until));
        let mut deliveries = fetch_all(query, self.pool(), delivery).await?;
        // RETURNING lists rows in no particular order.
        deliveries.sort_by_key(|d| d.id);
        Ok(deliveries)
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
        let query = built(sql).bind(millis(now));
        let query = query
            .bind(limit_param(limit))
            .bind(millis(WAITING_FOR_BATCH));
        let mut actions =
            fetch_all(query.bind(holder).bind(millis(until)), self.pool(), action).await?;
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
        let query =
            sqlx::query("SELECT seq, change FROM state_log WHERE seq > $1 ORDER BY seq LIMIT $2");
        let query = query.bind(after).bind(limit_param(limit));
        fetch_all(query, self.pool(), state_change).await
    }

    async fn commit_plan_at(
        &self,
        commit: PlanCommit,
        expected_head: i64,
    ) -> Result<CommitOutcome, StoreError> {
        commit_in(self.pool(), &commit, Some(expected_head)).await
    }
}
