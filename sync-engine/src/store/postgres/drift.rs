//! [`DriftStore`] on PostgreSQL: `drift_runs` and `drift_rows`.

use async_trait::async_trait;
use jiff::Timestamp;

use super::{
    PgQuery, PgStore, built, classify, commit, exec, fetch_all, json, limit_param, millis,
};
use crate::store::rows::{DRIFT_ROW_COLUMNS, DRIFT_RUN_COLUMNS, drift_row, drift_run};
use crate::store::{DriftStore, NewDriftRun, StoreError, StoredDriftRow, StoredDriftRun};

/// The rows of drift runs, `drift_rows r JOIN drift_runs d`, that match `rest` (a `WHERE`
/// clause with its order and limit).
fn select_drift_rows(rest: &str) -> PgQuery<'static> {
    let sql = format!(
        "SELECT {DRIFT_ROW_COLUMNS} FROM drift_rows r JOIN drift_runs d ON d.id = r.run_id {rest}"
    );
    built(sql)
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
        let mut tx = self.begin().await?;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO drift_runs (at, summary) VALUES ($1, $2) RETURNING id")
                .bind(millis(run.at))
                .bind(summary)
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
        for (position, class, row) in rows {
            let query = sqlx::query(
                "INSERT INTO drift_rows (run_id, position, class, row) VALUES ($1, $2, $3, $4)",
            );
            exec(
                query.bind(id).bind(position).bind(class).bind(row),
                &mut *tx,
            )
            .await?;
        }
        commit(tx).await?;
        Ok(id)
    }

    async fn drift_runs(
        &self,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<StoredDriftRun>, StoreError> {
        let since = since.map_or(i64::MIN, millis);
        let sql = format!(
            "SELECT {DRIFT_RUN_COLUMNS} FROM drift_runs WHERE at >= $1
             ORDER BY at DESC, id DESC LIMIT $2"
        );
        let query = built(sql);
        fetch_all(
            query.bind(since).bind(limit_param(limit)),
            self.pool(),
            drift_run,
        )
        .await
    }

    async fn drift_run_rows(&self, run_id: i64) -> Result<Vec<StoredDriftRow>, StoreError> {
        // Positions in byte order, as SQLite compares them, whatever the database's collation.
        let query = select_drift_rows("WHERE r.run_id = $1 ORDER BY r.position COLLATE \"C\"");
        fetch_all(query.bind(run_id), self.pool(), drift_row).await
    }

    async fn drift_position_history(
        &self,
        position: &str,
        limit: usize,
    ) -> Result<Vec<StoredDriftRow>, StoreError> {
        let query =
            select_drift_rows("WHERE r.position = $1 ORDER BY d.at DESC, r.run_id DESC LIMIT $2");
        let query = query.bind(position).bind(limit_param(limit));
        fetch_all(query, self.pool(), drift_row).await
    }

    async fn prune_drift_runs(&self, before: Timestamp) -> Result<u64, StoreError> {
        // The foreign key cascades to the runs' rows.
        let query = sqlx::query("DELETE FROM drift_runs WHERE at < $1");
        exec(query.bind(millis(before)), self.pool()).await
    }
}
