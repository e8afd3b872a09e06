//! [`AdapterStateStore`] on SQLite: the `adapter_state` table.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::params;

use super::{SqliteStore, millis, read_all};
use crate::store::rows::{STATE_ENTRY_COLUMNS, state_entry};
use crate::store::{AdapterStateStore, StateEntry, StateKey, StoreError};

#[async_trait]
impl AdapterStateStore for SqliteStore {
    async fn adapter_state(&self, key: &StateKey) -> Result<Option<StateEntry>, StoreError> {
        let key = key.clone();
        self.run(move |c| {
            let sql = format!(
                "SELECT {STATE_ENTRY_COLUMNS} FROM adapter_state WHERE kind = ?1 AND id = ?2"
            );
            Ok(read_all(c, &sql, params![key.kind, key.id], state_entry)?.pop())
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
