//! The drift history: runs and their rows round-trip, newest first, by position, and pruning
//! removes old runs with their rows.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::json;
use sync_engine::store::{NewDriftRow, NewDriftRun, Store};

use crate::support::store::t;

conformance!(
    runs_and_rows_round_trip_newest_first,
    a_run_with_a_repeated_position_is_not_recorded_at_all,
    pruning_removes_old_runs_and_their_rows,
);

/// A row of position `position`.
pub fn row(position: &str, class: &str, unexplained: i64) -> NewDriftRow {
    NewDriftRow {
        position: position.into(),
        class: class.into(),
        row: json!({"position": position, "unexplained": unexplained}),
    }
}

/// A run at `at` with `rows`.
pub fn run(at: Timestamp, drift: u64, rows: Vec<NewDriftRow>) -> NewDriftRun {
    NewDriftRun {
        at,
        summary: json!({"drift": drift}),
        rows,
    }
}

async fn runs_and_rows_round_trip_newest_first(store: Arc<dyn Store>) {
    let first = store
        .record_drift_run(run(t(0), 1, vec![row("B", "drift", 3)]))
        .await
        .unwrap();
    let second = store
        .record_drift_run(run(
            t(60),
            1,
            vec![row("B", "drift", 2), row("A", "explained_by_in_flight", 0)],
        ))
        .await
        .unwrap();
    let third = store
        .record_drift_run(run(t(120), 0, vec![]))
        .await
        .unwrap();
    assert!(first < second && second < third);

    let runs = store.drift_runs(None, 10).await.unwrap();
    let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![third, second, first]);
    assert_eq!(runs[1].at, t(60));
    assert_eq!(runs[1].summary, json!({"drift": 1}));

    // Limit and since.
    let latest = store.drift_runs(None, 1).await.unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].id, third);
    let recent = store.drift_runs(Some(t(60)), 10).await.unwrap();
    assert_eq!(
        recent.iter().map(|r| r.id).collect::<Vec<_>>(),
        [third, second]
    );

    // Rows of a run, by position, carrying the run's time.
    let rows = store.drift_run_rows(second).await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.position.as_str(), r.class.as_str()))
            .collect::<Vec<_>>(),
        [("A", "explained_by_in_flight"), ("B", "drift")]
    );
    assert!(rows.iter().all(|r| r.run_id == second && r.at == t(60)));
    assert_eq!(rows[1].row, json!({"position": "B", "unexplained": 2}));
    assert!(store.drift_run_rows(third).await.unwrap().is_empty());
    assert!(store.drift_run_rows(9999).await.unwrap().is_empty());

    // History of one position: newest first, only the runs where it was not in step.
    let history = store.drift_position_history("B", 10).await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|r| (r.run_id, r.row["unexplained"].as_i64().unwrap()))
            .collect::<Vec<_>>(),
        [(second, 2), (first, 3)]
    );
    assert_eq!(store.drift_position_history("B", 1).await.unwrap().len(), 1);
    let history = store.drift_position_history("nowhere", 10).await.unwrap();
    assert!(history.is_empty());
}

async fn a_run_with_a_repeated_position_is_not_recorded_at_all(store: Arc<dyn Store>) {
    let err = store
        .record_drift_run(run(
            t(0),
            2,
            vec![row("A", "drift", 1), row("A", "drift", 2)],
        ))
        .await
        .expect_err("a position twice in one run must be refused");
    assert!(
        err.is_conflict(),
        "a repeated position is a conflict: {err}"
    );
    assert!(!err.is_transient(), "{err}");
    assert!(store.drift_runs(None, 10).await.unwrap().is_empty());
    let history = store.drift_position_history("A", 10).await.unwrap();
    assert!(history.is_empty());
}

async fn pruning_removes_old_runs_and_their_rows(store: Arc<dyn Store>) {
    let old = store
        .record_drift_run(run(t(0), 1, vec![row("A", "drift", 1)]))
        .await
        .unwrap();
    let kept = store
        .record_drift_run(run(t(100), 1, vec![row("A", "drift", 4)]))
        .await
        .unwrap();
    assert_eq!(store.prune_drift_runs(t(100)).await.unwrap(), 1);
    let runs = store.drift_runs(None, 10).await.unwrap();
    assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [kept]);
    assert!(store.drift_run_rows(old).await.unwrap().is_empty());
    let history = store.drift_position_history("A", 10).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].run_id, kept);
    // Nothing older left: pruning again removes nothing.
    assert_eq!(store.prune_drift_runs(t(100)).await.unwrap(), 0);
}
