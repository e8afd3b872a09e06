//! [`DeliveryStore`] on PostgreSQL: the `deliveries` table.

use async_trait::async_trait;
use jiff::Timestamp;

use super::{PgStore, built, classify, exec, fetch_all, from_millis, json, limit_param, millis};
use crate::store::rows::{DELIVERY_COLUMNS, delivery};
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
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries
             WHERE processed_at IS NULL AND not_before <= $1 ORDER BY id LIMIT $2"
        );
        let query = built(sql);
        let query = query.bind(millis(now)).bind(limit_param(limit));
        fetch_all(query, self.pool(), delivery).await
    }

    async fn defer_delivery(
        &self,
        id: i64,
        until: Timestamp,
        note: &str,
    ) -> Result<(), StoreError> {
        self.settle("not_before", id, millis(until), Some(note))
            .await
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
        // The first due one in the order received (index `deliveries_waiting_source`).
        let oldest: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(received_at) FROM (SELECT received_at FROM deliveries
             WHERE processed_at IS NULL AND not_before <= $1 AND source = $2
             ORDER BY received_at LIMIT 1) AS first",
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
        self.settle("processed_at", id, millis(at), note.as_deref())
            .await
    }

    async fn wake_deferred_deliveries(&self, at: Timestamp) -> Result<u64, StoreError> {
        let query = sqlx::query(
            "UPDATE deliveries SET not_before = $1
             WHERE processed_at IS NULL AND not_before > $1",
        );
        exec(query.bind(millis(at)), self.pool()).await
    }

    async fn reprocess_delivery(&self, id: i64, at: Timestamp) -> Result<bool, StoreError> {
        let query =
            sqlx::query("UPDATE deliveries SET processed_at = NULL, not_before = $2 WHERE id = $1");
        Ok(exec(query.bind(id).bind(millis(at)), self.pool()).await? > 0)
    }

    async fn prune_deliveries(
        &self,
        processed_before: Timestamp,
        limit: usize,
    ) -> Result<u64, StoreError> {
        let query = sqlx::query(
            "DELETE FROM deliveries WHERE id IN (
                 SELECT id FROM deliveries
                 WHERE processed_at IS NOT NULL AND processed_at < $1
                 ORDER BY id LIMIT $2)",
        );
        let query = query
            .bind(millis(processed_before))
            .bind(limit_param(limit));
        exec(query, self.pool()).await
    }
}

impl PgStore {
    /// Sets `column` (`processed_at` or `not_before`) of delivery `id` to `at`, with `note`,
    /// and ends its claim.
    async fn settle(
        &self,
        column: &str,
        id: i64,
        at: i64,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE deliveries SET {column} = $2, note = $3, claimed_by = NULL,
             claim_until = NULL WHERE id = $1"
        );
        let query = built(sql);
        exec(query.bind(id).bind(at).bind(note), self.pool()).await?;
        Ok(())
    }
}
