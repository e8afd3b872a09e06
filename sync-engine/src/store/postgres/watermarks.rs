//! [`WatermarkStore`] on PostgreSQL: the `watermarks` table.

use async_trait::async_trait;

use super::{PgStore, classify};
use crate::store::{StoreError, WatermarkStore};

#[async_trait]
impl WatermarkStore for PgStore {
    async fn watermark(&self, name: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM watermarks WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await
            .map_err(classify)
    }

    async fn set_watermark(&self, name: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO watermarks (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(self.pool())
        .await
        .map_err(classify)?;
        Ok(())
    }
}
