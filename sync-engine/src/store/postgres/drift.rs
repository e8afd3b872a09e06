//! [`DriftStore`] on PostgreSQL: `drift_runs` and `drift_rows`.

use async_trait::async_trait;
use jiff::Timestamp;

use super::{PgStore, classify, from_millis, json, millis, parse_json};
use crate::store::{DriftStore, NewDriftRun, StoreError, StoredDriftRow, StoredDriftRun};

type DriftRow = (i64, i64, String, String, String);

fn finish_rows(rows: Vec<DriftRow>) -> Result<Vec<StoredDriftRow>, StoreError> {
    rows.into_iter()
        .map(|(run_id, at, position, class, row)| {
            Ok(StoredDriftRow {
                run_id,
                at: from_millis(at),
                position,
                class,
                row: parse_json(&row)?,
            })
        })
        .collect()
}

#[async_trait]
impl DriftStore for PgStore {
    async fn record_drift_run(&self, run: NewDriftRun) -> Result<i64, StoreError> {
        let summary = json(&run.summary)?;
        let rows = run
            .rows
            .iter()
            .map(|r| Ok((r.position.as_str(), r.class.as_str(), json(&r.row)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut tx = self.pool().begin().await.map_err(classify)?;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO drift_runs (at, summary) VALUES ($1, $2) RETURNING id")
                .bind(millis(run.at))
                .bind(summary)
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
        for (position, class, row) in rows {
            sqlx::query(
                "INSERT INTO drift_rows (run_id, position, class, row) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(position)
            .bind(class)
            .bind(row)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(id)
    }

    async fn drift_runs(
        &self,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<StoredDriftRun>, StoreError> {
        let since = since.map_or(i64::MIN, millis);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT id, at, summary FROM drift_runs WHERE at >= $1
             ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(since)
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        rows.into_iter()
            .map(|(id, at, summary)| {
                Ok(StoredDriftRun {
                    id,
                    at: from_millis(at),
                    summary: parse_json(&summary)?,
                })
            })
            .collect()
    }

    async fn drift_run_rows(&self, run_id: i64) -> Result<Vec<StoredDriftRow>, StoreError> {
        // Positions in byte order, as SQLite compares them, whatever the database's collation.
        let rows: Vec<DriftRow> = sqlx::query_as(
            "SELECT r.run_id, d.at, r.position, r.class, r.row
             FROM drift_rows r JOIN drift_runs d ON d.id = r.run_id
             WHERE r.run_id = $1 ORDER BY r.position COLLATE \"C\"",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        finish_rows(rows)
    }

    async fn drift_position_history(
        &self,
        position: &str,
        limit: usize,
    ) -> Result<Vec<StoredDriftRow>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<DriftRow> = sqlx::query_as(
            "SELECT r.run_id, d.at, r.position, r.class, r.row
             FROM drift_rows r JOIN drift_runs d ON d.id = r.run_id
             WHERE r.position = $1 ORDER BY d.at DESC, r.run_id DESC LIMIT $2",
        )
        .bind(position)
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        finish_rows(rows)
    }

    async fn prune_drift_runs(&self, before: Timestamp) -> Result<u64, StoreError> {
        // The foreign key cascades to the runs' rows.
        let runs = sqlx::query("DELETE FROM drift_runs WHERE at < $1")
            .bind(millis(before))
            .execute(self.pool())
            .await
            .map_err(classify)?
            .rows_affected();
        Ok(runs)
    }
}
