//! [`DeliveryStore`] on PostgreSQL: the `deliveries` table.

use async_trait::async_trait;
use jiff::Timestamp;

use super::{PgStore, classify, from_millis, json, millis, parse_json};
use crate::store::{Delivery, DeliveryStore, NewDelivery, StoreError};

#[async_trait]
impl DeliveryStore for PgStore {
    async fn record_delivery(&self, d: NewDelivery) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO deliveries (source, received_at, headers, body) VALUES ($1, $2, $3, $4)
             RETURNING id",
        )
        .bind(&d.source)
        .bind(millis(d.received_at))
        .bind(json(&d.headers)?)
        .bind(&d.body)
        .fetch_one(self.pool())
        .await
        .map_err(classify)
    }

    async fn unprocessed_deliveries(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<(i64, String, i64, String, Vec<u8>)> = sqlx::query_as(
            "SELECT id, source, received_at, headers, body FROM deliveries
             WHERE processed_at IS NULL AND not_before <= $1 ORDER BY id LIMIT $2",
        )
        .bind(millis(now))
        .bind(limit_param(limit))
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
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

    async fn defer_delivery(
        &self,
        id: i64,
        until: Timestamp,
        note: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE deliveries SET not_before = $2, note = $3, claimed_by = NULL,
             claim_until = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(millis(until))
        .bind(note)
        .execute(self.pool())
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn unprocessed_count(&self) -> Result<u64, StoreError> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE processed_at IS NULL")
                .fetch_one(self.pool())
                .await
                .map_err(classify)?;
        Ok(n as u64)
    }

    async fn oldest_due_delivery(
        &self,
        source: &str,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let oldest: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(received_at) FROM deliveries
             WHERE processed_at IS NULL AND not_before <= $1 AND source = $2",
        )
        .bind(millis(now))
        .bind(source)
        .fetch_one(self.pool())
        .await
        .map_err(classify)?;
        Ok(oldest.map(from_millis))
    }

    async fn mark_delivery_processed(
        &self,
        id: i64,
        note: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE deliveries SET processed_at = $2, note = $3, claimed_by = NULL,
             claim_until = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(millis(at))
        .bind(note)
        .execute(self.pool())
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn wake_deferred_deliveries(&self, at: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE deliveries SET not_before = $1
             WHERE processed_at IS NULL AND not_before > $1",
        )
        .bind(millis(at))
        .execute(self.pool())
        .await
        .map_err(classify)?;
        Ok(done.rows_affected())
    }

    async fn reprocess_delivery(&self, id: i64, at: Timestamp) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE deliveries SET processed_at = NULL, not_before = $2 WHERE id = $1")
                .bind(id)
                .bind(millis(at))
                .execute(self.pool())
                .await
                .map_err(classify)?;
        Ok(done.rows_affected() > 0)
    }

    async fn prune_deliveries(
        &self,
        processed_before: Timestamp,
        limit: usize,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM deliveries WHERE id IN (
                 SELECT id FROM deliveries
                 WHERE processed_at IS NOT NULL AND processed_at < $1
                 ORDER BY id LIMIT $2)",
        )
        .bind(millis(processed_before))
        .bind(limit_param(limit))
        .execute(self.pool())
        .await
        .map_err(classify)?;
        Ok(done.rows_affected())
    }
}

/// A `LIMIT` parameter: PostgreSQL takes a `BIGINT`; a limit beyond it means no limit.
pub(super) fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
