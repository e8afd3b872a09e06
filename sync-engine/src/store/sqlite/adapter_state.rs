//! [`AdapterStateStore`] on SQLite: the `adapter_state` table.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, from_millis, millis};
use crate::store::{AdapterStateStore, StateEntry, StateKey, StoreError};

#[async_trait]
impl AdapterStateStore for SqliteStore {
    async fn adapter_state(&self, key: &StateKey) -> Result<Option<StateEntry>, StoreError> {
        let key = key.clone();
        self.run(move |c| {
            Ok(c.query_row(
                "SELECT value, version, updated_at FROM adapter_state WHERE kind = ?1 AND id = ?2",
                params![key.kind, key.id],
                |r| {
                    Ok(StateEntry {
                        value: r.get(0)?,
                        version: r.get(1)?,
                        updated_at: from_millis(r.get(2)?),
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn put_adapter_state(
        &self,
        key: &StateKey,
        value: &str,
        expected: Option<i64>,
        now: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        let key = key.clone();
        let value = value.to_owned();
        let at = millis(now);
        self.run(move |c| {
            let changed = match expected {
                None => c.execute(
                    "INSERT INTO adapter_state (kind, id, value, version, updated_at)
                     VALUES (?1, ?2, ?3, 1, ?4)
                     ON CONFLICT (kind, id) DO NOTHING",
                    params![key.kind, key.id, value, at],
                )?,
                Some(version) => c.execute(
                    "UPDATE adapter_state SET value = ?3, version = version + 1, updated_at = ?4
                     WHERE kind = ?1 AND id = ?2 AND version = ?5",
                    params![key.kind, key.id, value, at, version],
                )?,
            };
            Ok((changed == 1).then(|| expected.map_or(1, |v| v + 1)))
        })
        .await
    }

    async fn prune_adapter_state(
        &self,
        kind: &str,
        before: Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let kind = kind.to_owned();
        let before = millis(before);
        self.run(move |c| {
            let n = c.execute(
                "DELETE FROM adapter_state WHERE rowid IN (
                     SELECT rowid FROM adapter_state
                     WHERE kind = ?1 AND updated_at < ?2
                     ORDER BY updated_at LIMIT ?3)",
                params![kind, before, limit],
            )?;
            Ok(n as u64)
        })
        .await
    }
}
