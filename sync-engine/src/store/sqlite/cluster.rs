//! [`ClusterStore`] on SQLite: `leases`, `instances`, the claim columns of `deliveries` and
//! `actions`, and the ledger head. One SQLite database serves one instance, but it keeps the
//! semantics of every backend; the claims and the checked commit run in transactions that take
//! the write lock when they begin, so two connections on one file do not interleave them.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use rusqlite::{Transaction, TransactionBehavior, params};
use serde_json::Value;

use super::ledger::{commit_in, head_in};
use super::outbox::due_heads;
use super::{Failure, SqliteStore, limit_param, millis, read_all};
use crate::store::cluster::expiry_millis;
use crate::store::rows::{
    DELIVERY_COLUMNS, INSTANCE_COLUMNS, LEASE_COLUMNS, action, delivery, instance, lease,
    state_change,
};
use crate::store::{
    ClusterStore, CommitOutcome, Delivery, InstanceRecord, Lease, OutboxAction, PlanCommit,
    StoreError, WAITING_FOR_BATCH,
};

#[async_trait]
impl ClusterStore for SqliteStore {
    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: SignedDuration,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        let expires = expiry_millis(now, ttl);
        self.run(move |c| {
            // The upsert's WHERE leaves a lease held by another, unexpired, untouched: no row
            // changes, and the lease is refused.
            let n = c.execute(
                "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET
                     acquired_at = CASE WHEN leases.holder = excluded.holder
                                         AND leases.expires_at > ?3
                                        THEN leases.acquired_at ELSE excluded.acquired_at END,
                     holder = excluded.holder,
                     expires_at = excluded.expires_at
                 WHERE leases.holder = excluded.holder OR leases.expires_at <= ?3",
                params![name, holder, millis(now), expires],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.run(move |c| {
            let n = c.execute(
                "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
                params![name, holder],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn leases(&self, now: Timestamp) -> Result<Vec<Lease>, StoreError> {
        self.run(move |c| {
            let sql =
                format!("SELECT {LEASE_COLUMNS} FROM leases WHERE expires_at > ?1 ORDER BY name");
            read_all(c, &sql, [millis(now)], lease)
        })
        .await
    }

    async fn heartbeat(
        &self,
        instance: &str,
        started_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let instance = instance.to_owned();
        self.run(move |c| {
            c.execute(
                "INSERT INTO instances (id, started_at, last_seen) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at,
                     last_seen = excluded.last_seen",
                params![instance, millis(started_at), millis(now)],
            )?;
            Ok(())
        })
        .await
    }

    async fn live_instances(&self, since: Timestamp) -> Result<Vec<InstanceRecord>, StoreError> {
        self.run(move |c| {
            let sql = format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances WHERE last_seen >= ?1 ORDER BY id"
            );
            read_all(c, &sql, [millis(since)], instance)
        })
        .await
    }

    async fn forget_instances(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.run(move |c| {
            let n = c.execute(
                "DELETE FROM instances WHERE last_seen < ?1",
                [millis(before)],
            )?;
            Ok(n as u64)
        })
        .await
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        limit: usize,
        holder: &str,
        until: Timestamp,
    ) -> Result<Vec<Delivery>, StoreError> {
        let holder = holder.to_owned();
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // The first free due ones of the index of waiting deliveries by id (migration 11).
            let sql = format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries INDEXED BY deliveries_waiting
                 WHERE processed_at IS NULL AND not_before <= ?1
                   AND (claimed_by IS NULL OR claimed_by = ?3 OR claim_until <= ?1)
                 ORDER BY id LIMIT ?2"
            );
            let args = params![millis(now), limit_param(limit), holder];
            let out = read_all(&tx, &sql, args, delivery)?;
            let claim = "UPDATE deliveries SET claimed_by = ?2, claim_until = ?3 WHERE id = ?1";
            claim_and_commit(tx, claim, out.iter().map(|d| d.id), &holder, until)?;
            Ok(out)
        })
        .await
    }

    async fn claim_due_actions(
        &self,
        now: Timestamp,
        limit: usize,
        holder: &str,
        until: Timestamp,
    ) -> Result<Vec<OutboxAction>, StoreError> {
        let holder = holder.to_owned();
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // The lanes' heads as `due_actions` finds them, less those claimed by another holder
            // until after `now`: their whole document waits.
            let sql = due_heads("AND (claimed_by IS NULL OR claimed_by = ?4 OR claim_until <= ?1)");
            let waiting = millis(WAITING_FOR_BATCH);
            let args = params![millis(now), limit_param(limit), waiting, holder];
            let out = read_all(&tx, &sql, args, action)?;
            let claim = "UPDATE actions SET claimed_by = ?2, claim_until = ?3 WHERE seq = ?1";
            claim_and_commit(tx, claim, out.iter().map(|a| a.seq), &holder, until)?;
            Ok(out)
        })
        .await
    }

    async fn ledger_head(&self) -> Result<i64, StoreError> {
        self.run(|c| head_in(c)).await
    }

    async fn state_log_since(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Value)>, StoreError> {
        self.run(move |c| {
            read_all(
                c,
                "SELECT seq, change FROM state_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                params![after, limit_param(limit)],
                state_change,
            )
        })
        .await
    }

    async fn commit_plan_at(
        &self,
        commit: PlanCommit,
        expected_head: i64,
    ) -> Result<CommitOutcome, StoreError> {
        self.run(move |c| commit_in(c, &commit, Some(expected_head)))
            .await
    }
}

/// Claims the rows `keys` for `holder` until `until` with `claim` (an `UPDATE` of the row whose
/// key is `?1`, setting the holder `?2` and the time `?3`), then commits `tx`.
fn claim_and_commit(
    tx: Transaction<'_>,
    claim: &str,
    keys: impl Iterator<Item = i64>,
    holder: &str,
    until: Timestamp,
) -> Result<(), Failure> {
    {
        let mut claim = tx.prepare_cached(claim)?;
        for key in keys {
            claim.execute(params![key, holder, millis(until)])?;
        }
    }
    tx.commit()?;
    Ok(())
}
