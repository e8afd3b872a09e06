//! [`ClusterStore`] on SQLite: `leases`, `instances`, the claim columns of `deliveries` and
//! `actions`, and the ledger head. One SQLite database serves one instance, but it keeps the
//! semantics of every backend; the claims and the checked commit run in transactions that take
//! the write lock when they begin, so two connections on one file do not interleave them.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use rusqlite::{TransactionBehavior, params};
use serde_json::Value;

use super::ledger::{commit_in, head_in};
use super::outbox::{ACTION_COLUMNS, finish_action, read_action};
use super::{SqliteStore, from_millis, millis, parse_json};
use crate::store::cluster::expiry_millis;
use crate::store::{
    ClusterStore, CommitOutcome, Delivery, InstanceRecord, Lease, NewDelivery, OutboxAction,
    PlanCommit, StoreError, WAITING_FOR_BATCH,
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
            let mut stmt = c.prepare_cached(
                "SELECT name, holder, expires_at, acquired_at FROM leases
                 WHERE expires_at > ?1 ORDER BY name",
            )?;
            let rows = stmt.query_map([millis(now)], |r| {
                Ok(Lease {
                    name: r.get(0)?,
                    holder: r.get(1)?,
                    expires_at: from_millis(r.get(2)?),
                    acquired_at: from_millis(r.get(3)?),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
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
            let mut stmt = c.prepare_cached(
                "SELECT id, started_at, last_seen FROM instances WHERE last_seen >= ?1
                 ORDER BY id",
            )?;
            let rows = stmt.query_map([millis(since)], |r| {
                Ok(InstanceRecord {
                    id: r.get(0)?,
                    started_at: from_millis(r.get(1)?),
                    last_seen: from_millis(r.get(2)?),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
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
            let mut out = Vec::new();
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT id, source, received_at, headers, body FROM deliveries
                     WHERE processed_at IS NULL AND not_before <= ?1
                       AND (claimed_by IS NULL OR claimed_by = ?3 OR claim_until <= ?1)
                     ORDER BY id LIMIT ?2",
                )?;
                let rows =
                    stmt.query_map(params![millis(now), limit_param(limit), holder], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, Vec<u8>>(4)?,
                        ))
                    })?;
                for row in rows {
                    let (id, source, received_at, headers, body) = row?;
                    out.push(Delivery {
                        id,
                        delivery: NewDelivery {
                            source,
                            received_at: from_millis(received_at),
                            headers: parse_json(&headers)?,
                            body,
                        },
                    });
                }
                let mut claim = tx.prepare_cached(
                    "UPDATE deliveries SET claimed_by = ?2, claim_until = ?3 WHERE id = ?1",
                )?;
                for d in &out {
                    claim.execute(params![d.id, holder, millis(until)])?;
                }
            }
            tx.commit()?;
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
            let out = {
                // The lanes' heads as `due_actions` finds them, less those claimed by another
                // holder until after `now`: their whole document waits.
                let sql = format!(
                    "SELECT {ACTION_COLUMNS} FROM actions
                     WHERE seq IN (SELECT MIN(seq) FROM actions
                                   WHERE status IN ('pending', 'ambiguous') AND not_before < ?3
                                   GROUP BY document)
                       AND not_before <= ?1 AND next_attempt_at <= ?1
                       AND (claimed_by IS NULL OR claimed_by = ?4 OR claim_until <= ?1)
                     ORDER BY seq LIMIT ?2"
                );
                let mut stmt = tx.prepare_cached(&sql)?;
                let rows = stmt.query_map(
                    params![
                        millis(now),
                        limit_param(limit),
                        millis(WAITING_FOR_BATCH),
                        holder
                    ],
                    read_action,
                )?;
                let out = rows
                    .map(|r| finish_action(r?))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut claim = tx.prepare_cached(
                    "UPDATE actions SET claimed_by = ?2, claim_until = ?3 WHERE seq = ?1",
                )?;
                for a in &out {
                    claim.execute(params![a.seq, holder, millis(until)])?;
                }
                out
            };
            tx.commit()?;
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
            let mut stmt = c.prepare_cached(
                "SELECT seq, change FROM state_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after, limit_param(limit)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, change) = row?;
                out.push((seq, parse_json(&change)?));
            }
            Ok(out)
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

/// A `LIMIT` parameter: a limit beyond `i64` means no limit.
fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
