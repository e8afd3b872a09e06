//! [`DriftStore`] on SQLite: `drift_runs` and `drift_rows`.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::params;

use super::{SqliteStore, json, limit_param, millis, read_all};
use crate::store::rows::{DRIFT_ROW_COLUMNS, DRIFT_RUN_COLUMNS, drift_row, drift_run};
use crate::store::{DriftStore, NewDriftRun, StoreError, StoredDriftRow, StoredDriftRun};

#[async_trait]
impl DriftStore for SqliteStore {
    async fn record_drift_run(&self, run: NewDriftRun) -> Result<i64, StoreError> {
        self.run(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO drift_runs (at, summary) VALUES (?1, ?2)",
                params![millis(run.at), json(&run.summary)?],
            )?;
            let id = tx.last_insert_rowid();
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO drift_rows (run_id, position, class, row) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for row in &run.rows {
                    insert.execute(params![id, row.position, row.class, json(&row.row)?])?;
                }
            }
            tx.commit()?;
            Ok(id)
        })
        .await
    }

    async fn drift_runs(
        &self,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<StoredDriftRun>, StoreError> {
        let since = since.map_or(i64::MIN, millis);
        self.run(move |c| {
            let sql = format!(
                "SELECT {DRIFT_RUN_COLUMNS} FROM drift_runs WHERE at >= ?1
                 ORDER BY at DESC, id DESC LIMIT ?2"
            );
            read_all(c, &sql, params![since, limit_param(limit)], drift_run)
        })
        .await
    }

    async fn drift_run_rows(&self, run_id: i64) -> Result<Vec<StoredDriftRow>, StoreError> {
        self.run(move |c| {
            let sql = format!(
                "SELECT {DRIFT_ROW_COLUMNS} FROM drift_rows r JOIN drift_runs d ON d.id = r.run_id
                 WHERE r.run_id = ?1 ORDER BY r.position"
            );
            read_all(c, &sql, [run_id], drift_row)
        })
        .await
    }

    async fn drift_position_history(
        &self,
        position: &str,
        limit: usize,
    ) -> Result<Vec<StoredDriftRow>, StoreError> {
        let position = position.to_owned();
        self.run(move |c| {
            let sql = format!(
                "SELECT {DRIFT_ROW_COLUMNS} FROM drift_rows r JOIN drift_runs d ON d.id = r.run_id
                 WHERE r.position = ?1 ORDER BY d.at DESC, r.run_id DESC LIMIT ?2"
            );
            read_all(c, &sql, params![position, limit_param(limit)], drift_row)
        })
        .await
    }

    async fn prune_drift_runs(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.run(move |c| {
            let tx = c.transaction()?;
            let before = millis(before);
            // Rows first: foreign keys are not enforced, so the cascade is done here.
            tx.execute(
                "DELETE FROM drift_rows WHERE run_id IN (SELECT id FROM drift_runs WHERE at < ?1)",
                params![before],
            )?;
            let runs = tx.execute("DELETE FROM drift_runs WHERE at < ?1", params![before])?;
            tx.commit()?;
            Ok(runs as u64)
        })
        .await
    }
}
