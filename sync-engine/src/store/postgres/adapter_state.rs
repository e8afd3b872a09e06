//! [`AdapterStateStore`] on PostgreSQL: the `adapter_state` table.

use async_trait::async_trait;
use jiff::Timestamp;

use super::{PgStore, built, classify, exec, fetch_optional, millis};
use crate::store::rows::{STATE_ENTRY_COLUMNS, state_entry};
use crate::store::{AdapterStateStore, StateEntry, StateKey, StoreError};

#[async_trait]
impl AdapterStateStore for PgStore {
    async fn adapter_state(&self, key: &StateKey) -> Result<Option<StateEntry>, StoreError> {
        let sql =
            format!("SELECT {STATE_ENTRY_COLUMNS} FROM adapter_state WHERE kind = $1 AND id = $2");
        let query = built(sql).bind(&key.kind).bind(&key.id);
        fetch_optional(query, self.pool(), state_entry).await
    }

    async fn put_adapter_state(
        &self,
        key: &StateKey,
        value: &str,
        expected: Option<i64>,
        now: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        let written: Option<i64> = match expected {
            // A concurrent insert of the same key makes this one do nothing: it lost the race.
            None => sqlx::query_scalar(
                "INSERT INTO adapter_state (kind, id, value, version, updated_at)
                 VALUES ($1, $2, $3, 1, $4)
                 ON CONFLICT (kind, id) DO NOTHING
                 RETURNING version",
            )
            .bind(&key.kind)
            .bind(&key.id)
            .bind(value)
            .bind(millis(now))
            .fetch_optional(self.pool())
            .await
            .map_err(classify)?,
            Some(version) => sqlx::query_scalar(
                "UPDATE adapter_state SET value = $3, version = version + 1, updated_at = $4
                 WHERE kind = $1 AND id = $2 AND version = $5
                 RETURNING version",
            )
            .bind(&key.kind)
            .bind(&key.id)
            .bind(value)
            .bind(millis(now))
            .bind(version)
            .fetch_optional(self.pool())
            .await
            .map_err(classify)?,
        };
        Ok(written)
    }

    async fn prune_adapter_state(
        &self,
        kind: &str,
        before: Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let query = sqlx::query(
            "DELETE FROM adapter_state WHERE (kind, id) IN (
                 SELECT kind, id FROM adapter_state
                 WHERE kind = $1 AND updated_at < $2
                 ORDER BY updated_at LIMIT $3)",
        );
        let query = query.bind(kind).bind(millis(before)).bind(i64::from(limit));
        exec(query, self.pool()).await
    }
}
