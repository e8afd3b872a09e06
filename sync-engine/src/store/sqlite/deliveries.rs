//! [`DeliveryStore`] on SQLite: the `deliveries` table.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::params;

use super::{SqliteStore, from_millis, json, millis, parse_json};
use crate::store::{Delivery, DeliveryStore, NewDelivery, StoreError};

#[async_trait]
impl DeliveryStore for SqliteStore {
    async fn record_delivery(&self, d: NewDelivery) -> Result<i64, StoreError> {
        self.run(move |c| {
            c.execute(
                "INSERT INTO deliveries (source, received_at, headers, body) VALUES (?1, ?2, ?3, ?4)",
                params![d.source, millis(d.received_at), json(&d.headers)?, d.body],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    async fn unprocessed_deliveries(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, source, received_at, headers, body FROM deliveries
                 WHERE processed_at IS NULL AND not_before <= ?1 ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![millis(now), limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                ))
            })?;
            let mut out = Vec::new();
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
            Ok(out)
        })
        .await
    }

    async fn mark_delivery_processed(
        &self,
        id: i64,
        note: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(move |c| {
            c.execute(
                "UPDATE deliveries SET processed_at = ?2, note = ?3, claimed_by = NULL, claim_until = NULL
                 WHERE id = ?1",
                params![id, millis(at), note],
            )?;
            Ok(())
        })
        .await
    }

    async fn defer_delivery(
        &self,
        id: i64,
        until: Timestamp,
        note: &str,
    ) -> Result<(), StoreError> {
        let note = note.to_owned();
        self.run(move |c| {
            c.execute(
                "UPDATE deliveries SET not_before = ?2, note = ?3, claimed_by = NULL, claim_until = NULL
                 WHERE id = ?1",
                params![id, millis(until), note],
            )?;
            Ok(())
        })
        .await
    }

    async fn unprocessed_count(&self) -> Result<u64, StoreError> {
        self.run(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM deliveries WHERE processed_at IS NULL",
                [],
                |r| r.get::<_, i64>(0),
            )? as u64)
        })
        .await
    }
    async fn oldest_due_delivery(
        &self,
        source: &str,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let source = source.to_owned();
        self.run(move |c| {
            let oldest: Option<i64> = c.query_row(
                "SELECT MIN(received_at) FROM deliveries
                 WHERE processed_at IS NULL AND not_before <= ?1 AND source = ?2",
                params![millis(now), source],
                |r| r.get(0),
            )?;
            Ok(oldest.map(from_millis))
        })
        .await
    }
    async fn wake_deferred_deliveries(&self, at: Timestamp) -> Result<u64, StoreError> {
        self.run(move |c| {
            let n = c.execute(
                "UPDATE deliveries SET not_before = ?1
                 WHERE processed_at IS NULL AND not_before > ?1",
                [millis(at)],
            )?;
            Ok(n as u64)
        })
        .await
    }

    async fn reprocess_delivery(&self, id: i64, at: Timestamp) -> Result<bool, StoreError> {
        self.run(move |c| {
            let n = c.execute(
                "UPDATE deliveries SET processed_at = NULL, not_before = ?2 WHERE id = ?1",
                params![id, millis(at)],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn prune_deliveries(
        &self,
        processed_before: Timestamp,
        limit: usize,
    ) -> Result<u64, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |c| {
            let n = c.execute(
                "DELETE FROM deliveries WHERE id IN (
                     SELECT id FROM deliveries
                     WHERE processed_at IS NOT NULL AND processed_at < ?1
                     ORDER BY id LIMIT ?2)",
                params![millis(processed_before), limit],
            )?;
            Ok(n as u64)
        })
        .await
    }
}
