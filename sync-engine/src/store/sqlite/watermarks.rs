//! [`WatermarkStore`] on SQLite: the `watermarks` table.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::{StoreError, WatermarkStore};

#[async_trait]
impl WatermarkStore for SqliteStore {
    async fn watermark(&self, name: &str) -> Result<Option<String>, StoreError> {
        let name = name.to_owned();
        self.run(move |c| {
            Ok(c.query_row(
                "SELECT value FROM watermarks WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn set_watermark(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let name = name.to_owned();
        let value = value.to_owned();
        self.run(move |c| {
            c.execute(
                "INSERT INTO watermarks (name, value) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                params![name, value],
            )?;
            Ok(())
        })
        .await
    }
}
