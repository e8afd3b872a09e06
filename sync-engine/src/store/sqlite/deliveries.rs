//! [`DeliveryStore`] on SQLite: the `deliveries` table.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::{Failure, SqliteStore, from_millis, json, limit_param, millis, read_all};
use crate::store::rows::{DELIVERY_COLUMNS, delivery};
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
            // The first due ones of the index of waiting deliveries by id (migration 11).
            let sql = format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries INDEXED BY deliveries_waiting
                 WHERE processed_at IS NULL AND not_before <= ?1 ORDER BY id LIMIT ?2"
            );
            read_all(c, &sql, params![millis(now), limit_param(limit)], delivery)
        })
        .await
    }

    async fn mark_delivery_processed(
        &self,
        id: i64,
        note: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(move |c| settle(c, "processed_at", id, millis(at), note))
            .await
    }

    async fn defer_delivery(
        &self,
        id: i64,
        until: Timestamp,
        note: &str,
    ) -> Result<(), StoreError> {
        let note = Some(note.to_owned());
        self.run(move |c| settle(c, "not_before", id, millis(until), note))
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
            // The first due one in the order received (index `deliveries_waiting_source`).
            let oldest: Option<i64> = c
                .query_row(
                    "SELECT received_at FROM deliveries
                     WHERE processed_at IS NULL AND not_before <= ?1 AND source = ?2
                     ORDER BY received_at LIMIT 1",
                    params![millis(now), source],
                    |r| r.get(0),
                )
                .optional()?;
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
        let limit = limit_param(limit);
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

/// Sets `column` (`processed_at` or `not_before`) of delivery `id` to `at`, with `note`, and
/// ends its claim.
fn settle(
    c: &mut Connection,
    column: &str,
    id: i64,
    at: i64,
    note: Option<String>,
) -> Result<(), Failure> {
    let sql = format!(
        "UPDATE deliveries SET {column} = ?2, note = ?3, claimed_by = NULL, claim_until = NULL
         WHERE id = ?1"
    );
    c.execute(&sql, params![id, at, note])?;
    Ok(())
}
