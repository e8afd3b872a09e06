//! [`DriftStore`] on SQLite: `drift_runs` and `drift_rows`.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::params;

use super::{Failure, SqliteStore, from_millis, json, millis, parse_json};
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
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, at, summary FROM drift_runs WHERE at >= ?1
                 ORDER BY at DESC, id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![since, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, at, summary) = row?;
                out.push(StoredDriftRun {
                    id,
                    at: from_millis(at),
                    summary: parse_json(&summary)?,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn drift_run_rows(&self, run_id: i64) -> Result<Vec<StoredDriftRow>, StoreError> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT r.run_id, d.at, r.position, r.class, r.row
                 FROM drift_rows r JOIN drift_runs d ON d.id = r.run_id
                 WHERE r.run_id = ?1 ORDER BY r.position",
            )?;
            read_drift_rows(stmt.query(params![run_id])?)
        })
        .await
    }

    async fn drift_position_history(
        &self,
        position: &str,
        limit: usize,
    ) -> Result<Vec<StoredDriftRow>, StoreError> {
        let position = position.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT r.run_id, d.at, r.position, r.class, r.row
                 FROM drift_rows r JOIN drift_runs d ON d.id = r.run_id
                 WHERE r.position = ?1 ORDER BY d.at DESC, r.run_id DESC LIMIT ?2",
            )?;
            read_drift_rows(stmt.query(params![position, limit])?)
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

fn read_drift_rows(mut rows: rusqlite::Rows<'_>) -> Result<Vec<StoredDriftRow>, Failure> {
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let row: String = r.get(4)?;
        out.push(StoredDriftRow {
            run_id: r.get(0)?,
            at: from_millis(r.get(1)?),
            position: r.get(2)?,
            class: r.get(3)?,
            row: parse_json(&row)?,
        });
    }
    Ok(out)
}
